#include "base/time.h"

#include <cctype>
#include <ctime>

#include <fmt/core.h>

namespace slipway {

int64_t now_ms() {
  return std::chrono::duration_cast<Milliseconds>(Clock::now().time_since_epoch()).count();
}

std::string format_timestamp(int64_t epoch_ms) {
  time_t seconds = static_cast<time_t>(epoch_ms / 1000);
  struct tm utc;
  gmtime_r(&seconds, &utc);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", utc.tm_year + 1900, utc.tm_mon + 1,
                     utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, epoch_ms % 1000);
}

Result<Milliseconds> parse_duration(std::string_view text) {
  auto invalid = [&] {
    return make_error(fmt::format("invalid duration '{}': use a number with a unit, e.g. 500ms, 30s, 10m, 1h30m, 90d",
                                  text));
  };
  if (text.empty()) return invalid();
  int64_t total = 0;
  size_t i = 0;
  while (i < text.size()) {
    if (!std::isdigit(static_cast<unsigned char>(text[i]))) return invalid();
    int64_t number = 0;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
      number = number * 10 + (text[i] - '0');
      if (number > 1'000'000'000) return invalid();
      ++i;
    }
    std::string_view rest = text.substr(i);
    if (rest.starts_with("ms")) total += number, i += 2;
    else if (rest.starts_with("s")) total += number * 1000, i += 1;
    else if (rest.starts_with("m")) total += number * 60'000, i += 1;
    else if (rest.starts_with("h")) total += number * 3'600'000, i += 1;
    else if (rest.starts_with("d")) total += number * 86'400'000, i += 1;
    else return invalid();
    if (total > 1'000'000LL * 86'400'000) return invalid();  // a million days: no overflow, however many parts
  }
  return Milliseconds(total);
}

std::string format_duration(Milliseconds duration) {
  int64_t ms = duration.count();
  if (ms < 1000) return fmt::format("{}ms", ms);
  if (ms < 60'000) return fmt::format("{:.2f}s", ms / 1000.0);
  int64_t seconds = ms / 1000;
  if (seconds < 3600) return fmt::format("{}m{:02}s", seconds / 60, seconds % 60);
  return fmt::format("{}h{:02}m", seconds / 3600, (seconds % 3600) / 60);
}

}  // namespace slipway
