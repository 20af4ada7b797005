// status_badge_svg: each state's words and colour, and text that cannot break out of the SVG.
#include <gtest/gtest.h>

#include "server/status_badge.h"

namespace slipway {
namespace {

TEST(StatusBadge, SaysTheStateInWordsAndColour) {
  std::string passing = status_badge_svg("web", BadgeState::passing);
  EXPECT_NE(passing.find("aria-label=\"web: passing\""), std::string::npos) << passing;
  EXPECT_NE(passing.find("#4c1"), std::string::npos);
  EXPECT_NE(status_badge_svg("web", BadgeState::failing).find(">failing</text>"), std::string::npos);
  EXPECT_NE(status_badge_svg("web", BadgeState::failing).find("#e05d44"), std::string::npos);
  EXPECT_NE(status_badge_svg("web", BadgeState::unknown).find(">unknown</text>"), std::string::npos);
  EXPECT_EQ(passing.rfind("<svg ", 0), 0u);
  EXPECT_TRUE(passing.ends_with("</svg>"));
}

TEST(StatusBadge, TextIsEscaped) {
  std::string svg = status_badge_svg("a<b>&\"c'", BadgeState::passing);
  EXPECT_EQ(svg.find("a<b>"), std::string::npos) << svg;
  EXPECT_NE(svg.find("a&lt;b&gt;&amp;&quot;c&#39;"), std::string::npos) << svg;
}

}  // namespace
}  // namespace slipway
