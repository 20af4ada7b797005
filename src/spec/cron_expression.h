// CronExpression: the five-field cron schedule of the server configuration's `schedules:`
// ("minute hour day-of-month month day-of-week", with *, lists, ranges, steps, month and day
// names, and @hourly/@daily/@weekly/@monthly/@yearly), evaluated in UTC. Parsing never throws: a
// bad expression is an Error naming the field and what is wrong with it.
#pragma once

#include <bitset>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.h"

namespace slipway {

class CronExpression {
 public:
  // Errors: not five fields ("'0 2 * *' has 4 fields; cron needs 5: minute hour day month
  // weekday"), a value out of range ("hour 24 is out of range 0-23"), a bad step, an empty list
  // item, an unknown name.
  static Result<CronExpression> parse(std::string_view text);

  // The first time strictly after `after_ms` (Unix ms, UTC) that matches, to the minute. Like
  // Vixie cron, when both day fields are restricted a day matches if either does. A schedule
  // that can never fire (30 February) returns 0.
  int64_t next_after(int64_t after_ms) const;

  const std::string& text() const { return text_; }

 private:
  std::string text_;
  std::bitset<60> minutes_;
  std::bitset<24> hours_;
  std::bitset<32> days_;       // 1-31
  std::bitset<13> months_;     // 1-12
  std::bitset<7> weekdays_;    // 0-6, Sunday 0 (7 is accepted as Sunday)
  bool days_restricted_ = false;
  bool weekdays_restricted_ = false;
};

}  // namespace slipway
