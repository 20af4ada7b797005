// The request target's pieces: percent-decoding and the query string. Hostile input (a bad
// "%zz" escape, a NUL byte) is refused with nullopt so the server can answer 400.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace slipway {

// "%41b+c" → "Ab c" when `plus_is_space` (query strings), "Ab+c" otherwise (paths). nullopt on a
// malformed escape or a decoded NUL.
std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space);

// "a=1&b=x%20y&flag" → {a: "1", b: "x y", flag: ""}; the last of repeated names wins.
std::optional<std::map<std::string, std::string>> parse_query(std::string_view query);

}  // namespace slipway
