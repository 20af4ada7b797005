// The bounds of the server's slipway.yml: how much a server takes on (connections, live log
// follows, request bodies, each step's log), how often it polls, and how long it keeps finished
// runs (retention). Kept apart from server_config.cpp, which reads the file's structure; each
// reader here reports a value out of its range at the value's file:line:col, with the range.
#pragma once

#include <cstdint>
#include <optional>

#include "spec/yaml_reader.h"

namespace slipway {

struct RetentionConfig;

// The largest max_body_bytes: a request body is held in memory whole, per request in flight.
// GitHub's webhook payloads stop at 25 MB; nothing Slipway receives needs more.
inline constexpr int64_t kMaxBodyBytesLimit = int64_t{64} << 20;
// The smallest max_log_bytes: room for a few lines and the marker that says the rest was dropped.
inline constexpr int64_t kMinLogBytes = 1024;
// Polling a git remote or a registry more often than this costs them more than a lost webhook.
inline constexpr int64_t kMinPollIntervalMs = 1000;

// A whole number in [minimum, maximum].
std::optional<int> read_bounded_integer(SpecReader& reader, const Field& field, int minimum, int maximum);
// A memory size (512m, 1g) in [minimum, maximum].
std::optional<int64_t> read_bounded_size(SpecReader& reader, const Field& field, int64_t minimum, int64_t maximum);
// 0 (no polling) or at least kMinPollIntervalMs.
std::optional<Milliseconds> read_poll_interval(SpecReader& reader, const Field& field);
// `{ max_age: 90d, keep_last: 200 }`; keys left out keep `base`'s values (the server's default
// for a repository's section).
std::optional<RetentionConfig> read_retention(SpecReader& reader, const Field& field, const RetentionConfig& base);

}  // namespace slipway
