// Wall-clock timestamps and the duration syntax of .slipway.yml ("90s", "30m", "1h30m", "500ms").
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.h"

namespace slipway {

using Clock = std::chrono::system_clock;
using Milliseconds = std::chrono::milliseconds;

// Milliseconds since the Unix epoch, the unit every stored timestamp uses.
int64_t now_ms();

// RFC 3339 in UTC with milliseconds, e.g. "2026-11-26T05:01:02.345Z".
std::string format_timestamp(int64_t epoch_ms);

// Parses "1h30m", "45s", "250ms", "2m", "90d" (days, for retention). A bare number is rejected: units are required so that
// "timeout: 30" is never silently 30 seconds or 30 minutes.
Result<Milliseconds> parse_duration(std::string_view text);

// "1.23s", "2m05s", "312ms": compact, for tables.
std::string format_duration(Milliseconds duration);

}  // namespace slipway
