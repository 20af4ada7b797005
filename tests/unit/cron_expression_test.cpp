// CronExpression: every syntax the server configuration accepts, each mistake with the message a
// user sees, and next_after across day, month and year ends, leap days and the Vixie day rule.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "base/time.h"
#include "spec/cron_expression.h"

namespace slipway {
namespace {

// Unix ms of a UTC civil time, through <chrono> so the test does not share the code's arithmetic.
int64_t at(int year, unsigned month, unsigned day, int hour = 0, int minute = 0, int second = 0) {
  using namespace std::chrono;
  auto time = sys_days(std::chrono::year(year) / month / day) + hours(hour) + minutes(minute) + seconds(second);
  return duration_cast<milliseconds>(time.time_since_epoch()).count();
}

CronExpression cron(std::string_view text) {
  auto parsed = CronExpression::parse(text);
  EXPECT_TRUE(parsed.ok()) << text << ": " << (parsed.ok() ? "" : parsed.error().message);
  return parsed.ok() ? *parsed : *CronExpression::parse("* * * * *");
}

// The next `count` times after `after_ms`, as RFC 3339 text ("never" for 0), for readable failures.
std::vector<std::string> next_times(std::string_view text, int64_t after_ms, int count = 1) {
  CronExpression expression = cron(text);
  std::vector<std::string> times;
  for (int i = 0; i < count; ++i) {
    after_ms = expression.next_after(after_ms);
    if (after_ms == 0) {
      times.push_back("never");
      break;
    }
    times.push_back(format_timestamp(after_ms));
  }
  return times;
}

std::string next_time(std::string_view text, int64_t after_ms) { return next_times(text, after_ms).front(); }

std::string error_of(std::string_view text) {
  auto parsed = CronExpression::parse(text);
  return parsed.ok() ? "(accepted)" : parsed.error().message;
}

using Times = std::vector<std::string>;

TEST(CronExpression, EveryMinuteIsStrictlyAfterAndToTheMinute) {
  EXPECT_EQ(next_time("* * * * *", at(2025, 3, 1, 10, 0)), "2025-03-01T10:01:00.000Z");
  EXPECT_EQ(next_time("* * * * *", at(2025, 3, 1, 10, 0, 59) + 999), "2025-03-01T10:01:00.000Z");
  EXPECT_EQ(next_time("* * * * *", at(2025, 12, 31, 23, 59, 30)), "2026-01-01T00:00:00.000Z");
  // Before 1970 too: the minute is floored, not truncated toward zero.
  EXPECT_EQ(next_time("* * * * *", at(1969, 12, 31, 23, 58, 30)), "1969-12-31T23:59:00.000Z");
}

TEST(CronExpression, StepsRangesAndLists) {
  EXPECT_EQ(next_times("*/15 * * * *", at(2025, 3, 1, 10, 7), 4),
            (Times{"2025-03-01T10:15:00.000Z", "2025-03-01T10:30:00.000Z", "2025-03-01T10:45:00.000Z",
                   "2025-03-01T11:00:00.000Z"}));
  EXPECT_EQ(next_times("0 9-11 * * *", at(2025, 3, 1, 10, 30), 3),
            (Times{"2025-03-01T11:00:00.000Z", "2025-03-02T09:00:00.000Z", "2025-03-02T10:00:00.000Z"}));
  EXPECT_EQ(next_times("10-30/10 * * * *", at(2025, 3, 1, 10, 25), 3),
            (Times{"2025-03-01T10:30:00.000Z", "2025-03-01T11:10:00.000Z", "2025-03-01T11:20:00.000Z"}));
  EXPECT_EQ(next_times("5,35,50-51 1 * * *", at(2025, 3, 1, 1, 5), 4),
            (Times{"2025-03-01T01:35:00.000Z", "2025-03-01T01:50:00.000Z", "2025-03-01T01:51:00.000Z",
                   "2025-03-02T01:05:00.000Z"}));
  // Fields may be separated by several spaces or tabs; the text is kept as written (trimmed).
  EXPECT_EQ(cron("  0\t2  * * *  ").text(), "0\t2  * * *");
}

TEST(CronExpression, DailyAcrossTheDayBoundary) {
  EXPECT_EQ(next_times("0 2 * * *", at(2025, 3, 1, 1, 59), 2),
            (Times{"2025-03-01T02:00:00.000Z", "2025-03-02T02:00:00.000Z"}));
  EXPECT_EQ(next_time("0 2 * * *", at(2025, 3, 1, 2, 0)), "2025-03-02T02:00:00.000Z");
  EXPECT_EQ(next_time("0 2 * * *", at(2025, 3, 31, 23, 0)), "2025-04-01T02:00:00.000Z");
  EXPECT_EQ(next_time("0 2 * * *", at(2025, 12, 31, 2, 0)), "2026-01-01T02:00:00.000Z");
}

TEST(CronExpression, MonthEnds) {
  // The 31st only exists in seven months.
  EXPECT_EQ(next_times("0 0 31 * *", at(2025, 1, 31, 12, 0), 3),
            (Times{"2025-03-31T00:00:00.000Z", "2025-05-31T00:00:00.000Z", "2025-07-31T00:00:00.000Z"}));
  EXPECT_EQ(next_time("0 0 31 * *", at(2025, 7, 31, 0, 0)), "2025-08-31T00:00:00.000Z");
  EXPECT_EQ(next_time("59 23 30 4 *", at(2025, 4, 30, 23, 58)), "2025-04-30T23:59:00.000Z");
  EXPECT_EQ(next_time("0 0 1 * *", at(2025, 2, 28, 23, 59)), "2025-03-01T00:00:00.000Z");
}

TEST(CronExpression, LeapDays) {
  EXPECT_EQ(next_times("0 0 29 2 *", at(2023, 3, 1), 2),
            (Times{"2024-02-29T00:00:00.000Z", "2028-02-29T00:00:00.000Z"}));
  // 2100 is not a leap year; the next 29 February after 2096 is in 2104, eight years on.
  EXPECT_EQ(next_time("0 0 29 2 *", at(2096, 3, 1)), "2104-02-29T00:00:00.000Z");
  EXPECT_EQ(next_time("0 0 29 2 *", at(1999, 3, 1)), "2000-02-29T00:00:00.000Z");
  // The day after 28 February: 29 February in a leap year, 1 March otherwise.
  EXPECT_EQ(next_time("0 12 * * *", at(2024, 2, 28, 13, 0)), "2024-02-29T12:00:00.000Z");
  EXPECT_EQ(next_time("0 12 * * *", at(2025, 2, 28, 13, 0)), "2025-03-01T12:00:00.000Z");
}

TEST(CronExpression, ScheduleThatNeverFiresIsZero) {
  EXPECT_EQ(cron("0 0 30 2 *").next_after(at(2025, 1, 1)), 0);
  EXPECT_EQ(cron("0 0 31 4,6,9,11 *").next_after(at(2025, 1, 1)), 0);
  EXPECT_EQ(cron("0 0 31 * *").next_after(at(10000, 1, 1)), 0);  // beyond the civil calendar we trust
}

TEST(CronExpression, VixieRuleEitherDayFieldMatches) {
  // 13 June 2025 is a Friday; the others are Fridays or 13ths, not both.
  EXPECT_EQ(next_times("0 0 13 * 5", at(2025, 6, 1), 5),
            (Times{"2025-06-06T00:00:00.000Z", "2025-06-13T00:00:00.000Z", "2025-06-20T00:00:00.000Z",
                   "2025-06-27T00:00:00.000Z", "2025-07-04T00:00:00.000Z"}));
  EXPECT_EQ(next_time("0 0 13 * 5", at(2025, 7, 11)), "2025-07-13T00:00:00.000Z");  // a Sunday the 13th
  // With one day field '*', the other alone decides.
  EXPECT_EQ(next_time("0 0 13 * *", at(2025, 6, 1)), "2025-06-13T00:00:00.000Z");
  EXPECT_EQ(next_time("0 0 * * 5", at(2025, 6, 7)), "2025-06-13T00:00:00.000Z");
  // A field starting with '*' counts as unrestricted, as in Vixie cron: both must match.
  EXPECT_EQ(next_time("0 0 */2 * 5", at(2025, 6, 1)), "2025-06-13T00:00:00.000Z");
}

TEST(CronExpression, WeekdaysAndSundayAsZeroOrSeven) {
  int64_t saturday = at(2025, 6, 7, 12, 0);
  for (const char* text : {"0 0 * * 0", "0 0 * * 7", "0 0 * * SUN", "0 0 * * sun", "0 0 * * Sun"}) {
    EXPECT_EQ(next_time(text, saturday), "2025-06-08T00:00:00.000Z") << text;
  }
  EXPECT_EQ(next_times("0 0 * * 5-7", at(2025, 6, 5), 4),
            (Times{"2025-06-06T00:00:00.000Z", "2025-06-07T00:00:00.000Z", "2025-06-08T00:00:00.000Z",
                   "2025-06-13T00:00:00.000Z"}));
  EXPECT_EQ(next_times("30 8 * * MON-FRI", saturday, 2),
            (Times{"2025-06-09T08:30:00.000Z", "2025-06-10T08:30:00.000Z"}));
  EXPECT_EQ(next_time("0 0 * * mon,Wed", at(2025, 6, 9, 1, 0)), "2025-06-11T00:00:00.000Z");
}

TEST(CronExpression, MonthNames) {
  EXPECT_EQ(next_time("0 0 1 JAN,jul *", at(2025, 2, 1)), "2025-07-01T00:00:00.000Z");
  EXPECT_EQ(next_times("0 0 1 oct-Dec/2 *", at(2025, 1, 1), 3),
            (Times{"2025-10-01T00:00:00.000Z", "2025-12-01T00:00:00.000Z", "2026-10-01T00:00:00.000Z"}));
}

TEST(CronExpression, Shortcuts) {
  int64_t after = at(2025, 6, 11, 10, 30);  // a Wednesday
  EXPECT_EQ(next_time("@hourly", after), "2025-06-11T11:00:00.000Z");
  EXPECT_EQ(next_time("@daily", after), "2025-06-12T00:00:00.000Z");
  EXPECT_EQ(next_time("@midnight", after), "2025-06-12T00:00:00.000Z");
  EXPECT_EQ(next_time("@weekly", after), "2025-06-15T00:00:00.000Z");
  EXPECT_EQ(next_time("@monthly", after), "2025-07-01T00:00:00.000Z");
  EXPECT_EQ(next_time("@yearly", after), "2026-01-01T00:00:00.000Z");
  EXPECT_EQ(next_time("@ANNUALLY", after), "2026-01-01T00:00:00.000Z");
  EXPECT_EQ(cron("@daily").text(), "@daily");
}

TEST(CronExpression, WrongNumberOfFields) {
  EXPECT_EQ(error_of("0 2 * *"), "'0 2 * *' has 4 fields; cron needs 5: minute hour day month weekday");
  EXPECT_EQ(error_of("0 0 2 * * *"), "'0 0 2 * * *' has 6 fields; cron needs 5: minute hour day month weekday");
  EXPECT_EQ(error_of(""), "'' has 0 fields; cron needs 5: minute hour day month weekday");
  EXPECT_EQ(error_of("@often"),
            "unknown cron shortcut '@often'; use @hourly, @daily, @midnight, @weekly, @monthly, @yearly or @annually");
}

TEST(CronExpression, ValuesOutOfRange) {
  EXPECT_EQ(error_of("60 * * * *"), "minute 60 is out of range 0-59");
  EXPECT_EQ(error_of("0 24 * * *"), "hour 24 is out of range 0-23");
  EXPECT_EQ(error_of("0 0 0 * *"), "day of month 0 is out of range 1-31");
  EXPECT_EQ(error_of("0 0 32 * *"), "day of month 32 is out of range 1-31");
  EXPECT_EQ(error_of("0 0 * 13 *"), "month 13 is out of range 1-12 or JAN-DEC");
  EXPECT_EQ(error_of("0 0 * 0 *"), "month 0 is out of range 1-12 or JAN-DEC");
  EXPECT_EQ(error_of("0 0 * * 8"), "day of week 8 is out of range 0-7 (0 and 7 are Sunday) or SUN-SAT");
  EXPECT_EQ(error_of("0 1-99999999999 * * *"), "hour 99999999999 is out of range 0-23");
  EXPECT_EQ(error_of("0 0-24 * * *"), "hour 24 is out of range 0-23");
}

TEST(CronExpression, MalformedItems) {
  EXPECT_EQ(error_of("*/0 * * * *"), "minute step in '*/0' must be a whole number of at least 1, e.g. */15");
  EXPECT_EQ(error_of("* */x * * *"), "hour step in '*/x' must be a whole number of at least 1, e.g. */15");
  EXPECT_EQ(error_of("* */-1 * * *"), "hour step in '*/-1' must be a whole number of at least 1, e.g. */15");
  EXPECT_EQ(error_of("5/10 * * * *"), "minute '5/10': a step needs * or a range before it, e.g. */10 or 5-59/10");
  EXPECT_EQ(error_of("* a- * * *"), "hour 'a-' is missing a value; write N, N-M, */N or N-M/N (allowed: 0-23)");
  EXPECT_EQ(error_of("* 1- * * *"), "hour '1-' is missing a value; write N, N-M, */N or N-M/N (allowed: 0-23)");
  EXPECT_EQ(error_of("* -3 * * *"), "hour '-3' is missing a value; write N, N-M, */N or N-M/N (allowed: 0-23)");
  EXPECT_EQ(error_of("1,,2 * * * *"),
            "minute '1,,2' has an empty list item; separate values with single commas, e.g. 1,15");
  EXPECT_EQ(error_of("1, * * * *"),
            "minute '1,' has an empty list item; separate values with single commas, e.g. 1,15");
  EXPECT_EQ(error_of("0 0 1 * 5-1"), "day of week range '5-1' runs backwards; write the smaller value first");
  EXPECT_EQ(error_of("a * * * *"), "minute 'a' is not a number (allowed: 0-59)");
  EXPECT_EQ(error_of("0 0 * * 1.5"), "day of week '1.5' is not a number or a day name (allowed: 0-7 (0 and 7 are "
                                     "Sunday) or SUN-SAT)");
}

TEST(CronExpression, UnknownNames) {
  EXPECT_EQ(error_of("0 0 1 JNU *"), "month 'JNU' is not a number or a month name (allowed: 1-12 or JAN-DEC)");
  EXPECT_EQ(error_of("0 0 * * FUN"),
            "day of week 'FUN' is not a number or a day name (allowed: 0-7 (0 and 7 are Sunday) or SUN-SAT)");
  EXPECT_EQ(error_of("0 0 * * MONDAY"),
            "day of week 'MONDAY' is not a number or a day name (allowed: 0-7 (0 and 7 are Sunday) or SUN-SAT)");
  // Names belong to their own field only.
  EXPECT_EQ(error_of("0 0 * MON *"), "month 'MON' is not a number or a month name (allowed: 1-12 or JAN-DEC)");
  EXPECT_EQ(error_of("0 JAN * * *"), "hour 'JAN' is not a number (allowed: 0-23)");
}

}  // namespace
}  // namespace slipway
