// Markdown → HTML for text that tests wrote ($SLIPWAY_SUMMARY), which is untrusted: raw HTML is
// shown as escaped text, never passed through, unsafe link schemes (javascript:, data:…) are
// dropped, and images become links so that opening the page fetches nothing from outside.
#pragma once

#include <string>
#include <string_view>

namespace slipway {

std::string render_markdown_safely(std::string_view markdown);

}  // namespace slipway
