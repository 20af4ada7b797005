#include "base/secret_forms.h"

#include <sodium.h>

#include <set>

namespace slipway {

namespace {

std::string base64(std::string_view bytes, int variant) {
  std::string out(sodium_base64_encoded_len(bytes.size(), variant), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                    bytes.size(), variant);
  out.resize(out.size() - 1);  // the encoded length counts the terminating NUL
  return out;
}

// The part of base64(prefix + value) that depends on `value` alone, where prefix is `offset`
// (0, 1 or 2) unknown bytes: that is how the value looks when it sits at any position of a
// larger encoded blob. The leading characters mixing prefix bits and the trailing one mixing
// the bits of whatever follows are dropped.
std::string aligned_base64(std::string_view value, size_t offset) {
  static constexpr size_t kLeadingMixed[] = {0, 2, 3};
  std::string shifted(offset, '\0');
  shifted.append(value);
  std::string encoded = base64(shifted, sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
  size_t drop_front = kLeadingMixed[offset];
  size_t drop_back = shifted.size() % 3 != 0 ? 1 : 0;
  if (encoded.size() <= drop_front + drop_back) return {};
  return encoded.substr(drop_front, encoded.size() - drop_front - drop_back);
}

bool is_unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.' || c == '~';
}

// The values to encode: the whole secret and, for a multi-line one, each line on its own (a
// program may print only part of a certificate or key).
std::vector<std::string_view> values_of(std::string_view secret) {
  std::vector<std::string_view> values{secret};
  if (secret.find('\n') == std::string_view::npos) return values;
  size_t start = 0;
  while (start <= secret.size()) {
    size_t end = secret.find('\n', start);
    if (end == std::string_view::npos) end = secret.size();
    std::string_view line = secret.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.size() >= kMinSecretBytes) values.push_back(line);
    start = end + 1;
  }
  return values;
}

}  // namespace

std::vector<std::string> base64_forms(std::string_view value) {
  std::vector<std::string> forms{base64(value, sodium_base64_VARIANT_ORIGINAL)};
  for (size_t offset = 0; offset < 3; ++offset) forms.push_back(aligned_base64(value, offset));
  return forms;
}

std::string url_encode(std::string_view value, bool space_as_plus, bool lower_case_hex) {
  const char* digits = lower_case_hex ? "0123456789abcdef" : "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : value) {
    if (is_unreserved(c)) {
      out.push_back(static_cast<char>(c));
    } else if (c == ' ' && space_as_plus) {
      out.push_back('+');
    } else {
      out.push_back('%');
      out.push_back(digits[c >> 4]);
      out.push_back(digits[c & 0xF]);
    }
  }
  return out;
}

std::string json_escape(std::string_view value) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : value) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out.push_back(kHex[c >> 4]);
          out.push_back(kHex[c & 0xF]);
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  return out;
}

std::vector<std::string> secret_forms(std::string_view secret) {
  if (secret.size() < kMinSecretBytes) return {};
  std::set<std::string> forms;
  for (std::string_view value : values_of(secret)) {
    forms.emplace(value);
    for (auto& form : base64_forms(value)) forms.insert(std::move(form));
    forms.insert(url_encode(value, false, false));
    forms.insert(url_encode(value, true, false));
    forms.insert(url_encode(value, false, true));
    forms.insert(json_escape(value));
  }
  std::vector<std::string> result;
  for (const auto& form : forms) {
    if (form.size() >= kMinSecretBytes) result.push_back(form);
  }
  return result;
}

}  // namespace slipway
