// The status badge of a repository's branch (`GET /badge/NAME.svg?branch=main`): an SVG in the
// flat style READMEs show (shields.io's layout), saying what the branch's last finished run
// says — passing, failing — or "unknown" when it has none. The label and message are escaped:
// a repository name is configuration, but nothing here trusts it.
#pragma once

#include <string>
#include <string_view>

namespace slipway {

enum class BadgeState { passing, failing, unknown };

std::string status_badge_svg(std::string_view label, BadgeState state);

}  // namespace slipway
