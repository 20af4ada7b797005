#include "spec/server_limits.h"

#include <fmt/core.h>

#include "base/strings.h"
#include "spec/server_config.h"

namespace slipway {

std::optional<int> read_bounded_integer(SpecReader& reader, const Field& field, int minimum, int maximum) {
  auto value = reader.integer(field, minimum);
  if (!value || *value <= maximum) return value;
  reader.report(field.value, fmt::format("'{}' must be between {} and {}, found {}", field.path, minimum, maximum,
                                         *value));
  return std::nullopt;
}

std::optional<int64_t> read_bounded_size(SpecReader& reader, const Field& field, int64_t minimum, int64_t maximum) {
  auto value = reader.memory_size(field);
  if (!value || (*value >= minimum && *value <= maximum)) return value;
  reader.report(field.value, fmt::format("'{}' must be between {} and {}, found {}", field.path,
                                         format_byte_size(static_cast<uint64_t>(minimum)),
                                         format_byte_size(static_cast<uint64_t>(maximum)), describe_value(field.value)));
  return std::nullopt;
}

std::optional<Milliseconds> read_poll_interval(SpecReader& reader, const Field& field) {
  auto value = reader.duration_or_zero(field);
  if (!value || value->count() == 0 || value->count() >= kMinPollIntervalMs) return value;
  reader.report(field.value, fmt::format("'{}' must be 0s (no polling) or at least 1s, found {}: polling more "
                                         "often loads the remote without finding pushes sooner than a webhook",
                                         field.path, describe_value(field.value)));
  return std::nullopt;
}

std::optional<RetentionConfig> read_retention(SpecReader& reader, const Field& field, const RetentionConfig& base) {
  auto mapping = reader.mapping(field, {"max_age", "keep_last"});
  if (!mapping) return std::nullopt;
  RetentionConfig retention = base;
  size_t problems = reader.problem_count();
  if (auto* age = mapping->find("max_age")) assign(retention.max_age, reader.duration_or_zero(*age));
  if (auto* keep = mapping->find("keep_last")) assign(retention.keep_last, reader.integer(*keep, 0));
  if (reader.problem_count() != problems) return std::nullopt;
  return retention;
}

}  // namespace slipway
