// The byte strings under which one secret can appear in a process's output: the exact value, its
// base64 (padded, and the three alignments it takes inside a larger base64 blob), its URL
// encodings and its JSON-escaped form. A multi-line secret also yields each of its lines. The
// masker registers all of them; nothing shorter than kMinSecretBytes is ever returned.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace slipway {

// Shorter values would blank out ordinary words ("on", "yes") all over a log.
inline constexpr size_t kMinSecretBytes = 4;

// The distinct forms of `secret`, each at least kMinSecretBytes long; empty when the secret
// itself is shorter than that.
std::vector<std::string> secret_forms(std::string_view secret);

// Exposed for tests: the individual encodings.
std::vector<std::string> base64_forms(std::string_view value);
std::string url_encode(std::string_view value, bool space_as_plus, bool lower_case_hex);
std::string json_escape(std::string_view value);

}  // namespace slipway
