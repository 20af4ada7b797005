#include "server/status_badge.h"

#include <fmt/core.h>

#include "base/strings.h"

namespace slipway {
namespace {

// Verdana 11px averages about 6.5 px a character; the 10 px are the text's padding.
int text_width(std::string_view text) { return static_cast<int>(text.size() * 13 / 2) + 10; }

}  // namespace

std::string status_badge_svg(std::string_view label, BadgeState state) {
  std::string_view message = state == BadgeState::passing ? "passing" : state == BadgeState::failing ? "failing" : "unknown";
  std::string_view colour = state == BadgeState::passing ? "#4c1" : state == BadgeState::failing ? "#e05d44" : "#9f9f9f";
  std::string left = html_escape(label), right = html_escape(message);
  int left_width = text_width(label), right_width = text_width(message), width = left_width + right_width;
  return fmt::format(
      R"svg(<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="20" role="img" aria-label="{l}: {r}">)svg"
      R"svg(<title>{l}: {r}</title>)svg"
      R"svg(<linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" stop-opacity=".1"/>)svg"
      R"svg(<stop offset="1" stop-opacity=".1"/></linearGradient>)svg"
      R"svg(<clipPath id="r"><rect width="{w}" height="20" rx="3" fill="#fff"/></clipPath>)svg"
      R"svg(<g clip-path="url(#r)"><rect width="{lw}" height="20" fill="#555"/>)svg"
      R"svg(<rect x="{lw}" width="{rw}" height="20" fill="{c}"/><rect width="{w}" height="20" fill="url(#s)"/></g>)svg"
      R"svg(<g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" font-size="11">)svg"
      R"svg(<text x="{lx}" y="14">{l}</text><text x="{rx}" y="14">{r}</text></g></svg>)svg",
      fmt::arg("w", width), fmt::arg("lw", left_width), fmt::arg("rw", right_width), fmt::arg("c", colour),
      fmt::arg("l", left), fmt::arg("r", right), fmt::arg("lx", left_width / 2), fmt::arg("rx", left_width + right_width / 2));
}

}  // namespace slipway
