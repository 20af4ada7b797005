// EnumText: the one table that names an enum's values, for the vocabularies that are enums
// inside the program and text only at its edges (the store, events, the JSON API, the CLI's
// output). A table lists every value once; text() of a value not in it is a programming error
// and answers the table's first name rather than crash, parse() answers nullopt for a name it
// does not know (a row written by a newer version, a typo in a query) and the caller decides.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace slipway {

template <typename Enum, std::size_t N>
struct EnumText {
  std::array<std::pair<Enum, std::string_view>, N> names;

  constexpr std::string_view text(Enum value) const {
    for (const auto& [candidate, name] : names) {
      if (candidate == value) return name;
    }
    return names[0].second;
  }

  constexpr std::optional<Enum> parse(std::string_view text) const {
    for (const auto& [candidate, name] : names) {
      if (name == text) return candidate;
    }
    return std::nullopt;
  }

  // "queued, running, passed": for messages that list what is accepted.
  std::string list() const {
    std::string joined;
    for (const auto& entry : names) {
      if (!joined.empty()) joined += ", ";
      joined += entry.second;
    }
    return joined;
  }
};

}  // namespace slipway
