// Git object ids as text. Every place that takes a commit's name from outside (a webhook, a
// post-receive notice, a ref file, a publish request) checks it with this one rule.
#pragma once

#include <string_view>

namespace slipway {

// True when `text` is an object's full name in hex: 40 digits (SHA-1) or 64 (SHA-256). Either
// case, as git itself reads them; git prints lower case.
inline bool is_full_object_id(std::string_view text) {
  if (text.size() != 40 && text.size() != 64) return false;
  return text.find_first_not_of("0123456789abcdefABCDEF") == std::string_view::npos;
}

}  // namespace slipway
