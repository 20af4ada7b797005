// CronExpression: fields parsed into bitsets, and next_after walking days with <chrono>'s civil
// calendar (year_month_day, weekday), so month lengths and leap years are the library's, not ours.
#include "spec/cron_expression.h"

#include <cctype>
#include <charconv>
#include <chrono>
#include <optional>
#include <vector>

#include <fmt/core.h>

#include "base/strings.h"

namespace slipway {
namespace {

// One of the five fields: what it is called in messages, the values it accepts, and the names
// that may stand for them (JAN = 1, SUN = 0).
struct FieldRule {
  const char* noun;
  int minimum;
  int maximum;
  std::vector<std::string> names;  // names[i] stands for minimum + i
  const char* allowed;             // for messages: "0-59", "1-12 or JAN-DEC"
};

const FieldRule kMinute{"minute", 0, 59, {}, "0-59"};
const FieldRule kHour{"hour", 0, 23, {}, "0-23"};
const FieldRule kDay{"day of month", 1, 31, {}, "1-31"};
const FieldRule kMonth{"month",   1, 12,
                       {"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"},
                       "1-12 or JAN-DEC"};
const FieldRule kWeekday{"day of week", 0, 7, {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"},
                         "0-7 (0 and 7 are Sunday) or SUN-SAT"};

// What the @ shortcuts stand for, as in Vixie cron.
std::optional<std::string_view> expand_shortcut(std::string_view name) {
  std::string lower;
  for (char c : name) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "@hourly") return "0 * * * *";
  if (lower == "@daily" || lower == "@midnight") return "0 0 * * *";
  if (lower == "@weekly") return "0 0 * * 0";
  if (lower == "@monthly") return "0 0 1 * *";
  if (lower == "@yearly" || lower == "@annually") return "0 0 1 1 *";
  return std::nullopt;
}

std::vector<std::string> split_whitespace(std::string_view text) {
  std::vector<std::string> words;
  std::string word;
  for (char c : text) {
    if (c == ' ' || c == '\t') {
      if (!word.empty()) words.push_back(std::move(word));
      word.clear();
    } else {
      word += c;
    }
  }
  if (!word.empty()) words.push_back(std::move(word));
  return words;
}

bool all_digits(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::toupper(static_cast<unsigned char>(a[i])) != std::toupper(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

// One value of a field: a number in range or one of its names.
Result<int> parse_value(std::string_view text, const FieldRule& rule) {
  if (all_digits(text)) {
    int value = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error == std::errc() && value >= rule.minimum && value <= rule.maximum) return value;
    return make_error(fmt::format("{} {} is out of range {}", rule.noun, text, rule.allowed));
  }
  for (size_t i = 0; i < rule.names.size(); ++i) {
    if (equals_ignoring_case(text, rule.names[i])) return rule.minimum + static_cast<int>(i);
  }
  const char* kind = rule.names.empty() ? "a number" : &rule == &kMonth ? "a number or a month name"
                                                                                : "a number or a day name";
  return make_error(fmt::format("{} '{}' is not {} (allowed: {})", rule.noun, text, kind, rule.allowed));
}

// One list item: `*`, `a`, `a-b`, `*/n` or `a-b/n`. Sets its values in `bits`.
Status parse_item(std::string_view item, const FieldRule& rule, uint64_t& bits) {
  std::string_view range = item;
  int step = 1;
  if (size_t slash = item.find('/'); slash != std::string_view::npos) {
    range = item.substr(0, slash);
    std::string_view step_text = item.substr(slash + 1);
    auto [end, error] = std::from_chars(step_text.data(), step_text.data() + step_text.size(), step);
    if (!all_digits(step_text) || error != std::errc() || step < 1) {
      return make_error(fmt::format("{} step in '{}' must be a whole number of at least 1, e.g. */15",
                                    rule.noun, item));
    }
    if (range != "*" && range.find('-') == std::string_view::npos) {
      std::string start = range.empty() ? std::to_string(rule.minimum) : std::string(range);
      return make_error(fmt::format("{} '{}': a step needs * or a range before it, e.g. */{} or {}-{}/{}",
                                    rule.noun, item, step, start, rule.maximum, step));
    }
  }
  int low = rule.minimum;
  int high = rule.maximum;
  if (range != "*") {
    size_t dash = range.find('-');
    if (range.empty() || dash == 0 || dash + 1 == range.size()) {
      return make_error(fmt::format("{} '{}' is missing a value; write N, N-M, */N or N-M/N (allowed: {})",
                                    rule.noun, item, rule.allowed));
    }
    auto first = parse_value(range.substr(0, dash), rule);
    if (!first) return first.error();
    low = high = *first;
    if (dash != std::string_view::npos) {
      auto last = parse_value(range.substr(dash + 1), rule);
      if (!last) return last.error();
      high = *last;
      if (high < low) {
        return make_error(fmt::format("{} range '{}' runs backwards; write the smaller value first", rule.noun, range));
      }
    }
  }
  for (int value = low; value <= high; value += step) bits |= uint64_t{1} << value;
  return {};
}

// A whole field: a comma list of items. Bit i set means value i matches.
Result<uint64_t> parse_field(std::string_view text, const FieldRule& rule) {
  uint64_t bits = 0;
  for (const auto& item : split(text, ',')) {
    if (item.empty()) {
      return make_error(fmt::format("{} '{}' has an empty list item; separate values with single commas, e.g. 1,15",
                                    rule.noun, text));
    }
    if (auto status = parse_item(item, rule, bits); !status) return status.error();
  }
  return bits;
}

// Vixie cron treats a day field as unrestricted when it starts with '*' (so "*/2" too): only
// then do the two day fields combine with AND instead of OR.
bool is_restricted(std::string_view field) { return field.empty() || field.front() != '*'; }

// Long enough to reach the next 29 February from anywhere: leap years can be 8 years apart
// (2096, 2104). A schedule that matches nothing in that span never matches at all.
constexpr int kSearchDays = 8 * 366 + 1;

}  // namespace

Result<CronExpression> CronExpression::parse(std::string_view text) {
  std::string_view trimmed = trim(text);
  std::string_view expanded = trimmed;
  if (!trimmed.empty() && trimmed.front() == '@') {
    auto shortcut = expand_shortcut(trimmed);
    if (!shortcut) {
      return make_error(fmt::format("unknown cron shortcut '{}'; use @hourly, @daily, @midnight, @weekly, "
                                    "@monthly, @yearly or @annually", trimmed));
    }
    expanded = *shortcut;
  }
  std::vector<std::string> fields = split_whitespace(expanded);
  if (fields.size() != 5) {
    return make_error(fmt::format("'{}' has {} field{}; cron needs 5: minute hour day month weekday", trimmed,
                                  fields.size(), fields.size() == 1 ? "" : "s"));
  }
  const FieldRule* rules[] = {&kMinute, &kHour, &kDay, &kMonth, &kWeekday};
  uint64_t bits[5] = {};
  for (size_t i = 0; i < 5; ++i) {
    auto parsed = parse_field(fields[i], *rules[i]);
    if (!parsed) return parsed.error();
    bits[i] = *parsed;
  }
  CronExpression cron;
  cron.text_ = std::string(trimmed);
  cron.minutes_ = std::bitset<60>(bits[0]);
  cron.hours_ = std::bitset<24>(bits[1]);
  cron.days_ = std::bitset<32>(bits[2]);
  cron.months_ = std::bitset<13>(bits[3]);
  cron.weekdays_ = std::bitset<7>((bits[4] | (bits[4] >> 7)) & 0x7f);  // 7 is Sunday, bit 0
  cron.days_restricted_ = is_restricted(fields[2]);
  cron.weekdays_restricted_ = is_restricted(fields[4]);
  return cron;
}

int64_t CronExpression::next_after(int64_t after_ms) const {
  using namespace std::chrono;
  // Outside years 1-9999 the civil calendar is not worth trusting; no schedule lives there.
  constexpr int64_t kEarliest = -62'135'596'800'000;  // 0001-01-01
  constexpr int64_t kLatest = 253'370'764'800'000;    // 9999-01-01
  if (after_ms < kEarliest || after_ms > kLatest) return 0;

  // The first whole minute strictly after `after_ms` (floor, also before 1970).
  auto start = floor<minutes>(sys_time<milliseconds>(milliseconds(after_ms))) + minutes(1);
  sys_days day = floor<days>(start);
  auto minute_of_day = static_cast<int>((start - day).count());
  for (int i = 0; i < kSearchDays; ++i, day += days(1), minute_of_day = 0) {
    year_month_day date(day);
    if (!months_.test(static_cast<unsigned>(date.month()))) continue;
    bool day_match = days_.test(static_cast<unsigned>(date.day()));
    bool weekday_match = weekdays_.test(weekday(day).c_encoding());
    bool matches = days_restricted_ && weekdays_restricted_ ? day_match || weekday_match : day_match && weekday_match;
    if (!matches) continue;
    for (int minute = minute_of_day; minute < 24 * 60; ++minute) {
      if (hours_.test(minute / 60) && minutes_.test(minute % 60)) {
        return duration_cast<milliseconds>((day + minutes(minute)).time_since_epoch()).count();
      }
    }
  }
  return 0;
}

}  // namespace slipway
