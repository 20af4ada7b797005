#include "ci/log_format.h"

#include <algorithm>
#include <system_error>

#include <fmt/core.h>

#include "base/time.h"

namespace slipway {

namespace fs = std::filesystem;

std::string_view TimestampCache::format(int64_t epoch_ms) {
  if (epoch_ms != epoch_ms_) {
    text_ = format_timestamp(epoch_ms);
    epoch_ms_ = epoch_ms;
  }
  return text_;
}

void append_record(std::string& out, std::string_view timestamp, char stream, std::string_view text) {
  out.append(timestamp);
  out.push_back(' ');
  out.push_back(stream);
  out.push_back(' ');
  out.append(text);
  out.push_back('\n');
}

namespace {

std::optional<int> digits(std::string_view text, size_t at, size_t count) {
  int value = 0;
  for (size_t i = at; i < at + count; ++i) {
    if (text[i] < '0' || text[i] > '9') return std::nullopt;
    value = value * 10 + (text[i] - '0');
  }
  return value;
}

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
int64_t days_from_civil(int64_t year, int month, int day) {
  year -= month <= 2;
  int64_t era = (year >= 0 ? year : year - 399) / 400;
  int64_t year_of_era = year - era * 400;
  int64_t day_of_year = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
  int64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return era * 146097 + day_of_era - 719468;
}

bool is_stream_letter(char c) { return c == 'o' || c == 'e' || c == 's' || c == 'O' || c == 'E'; }

}  // namespace

std::optional<int64_t> parse_timestamp(std::string_view text) {
  // YYYY-MM-DDTHH:MM:SS.mmmZ
  if (text.size() != kTimestampChars || text[4] != '-' || text[7] != '-' || text[10] != 'T' ||
      text[13] != ':' || text[16] != ':' || text[19] != '.' || text[23] != 'Z') {
    return std::nullopt;
  }
  auto year = digits(text, 0, 4), month = digits(text, 5, 2), day = digits(text, 8, 2);
  auto hour = digits(text, 11, 2), minute = digits(text, 14, 2), second = digits(text, 17, 2);
  auto milli = digits(text, 20, 3);
  if (!year || !month || !day || !hour || !minute || !second || !milli) return std::nullopt;
  if (*month < 1 || *month > 12 || *day < 1 || *day > 31 || *hour > 23 || *minute > 59 || *second > 60) {
    return std::nullopt;
  }
  int64_t days = days_from_civil(*year, *month, *day);
  int64_t seconds = ((days * 24 + *hour) * 60 + *minute) * 60 + *second;
  return seconds * 1000 + *milli;
}

std::optional<LogLine> parse_record(std::string_view record) {
  if (record.size() < kRecordOverhead - 1 || record[kTimestampChars] != ' ' ||
      !is_stream_letter(record[kTimestampChars + 1]) || record[kTimestampChars + 2] != ' ') {
    return std::nullopt;
  }
  auto timestamp = parse_timestamp(record.substr(0, kTimestampChars));
  if (!timestamp) return std::nullopt;
  return LogLine{*timestamp, record[kTimestampChars + 1], record.substr(kTimestampChars + 3)};
}

std::string chunk_file_name(uint64_t number) { return fmt::format("{:06}.log", number); }

std::string compressed_chunk_file_name(uint64_t number, uint64_t plain_size) {
  return fmt::format("{:06}.{}.log.zst", number, plain_size);
}

namespace {

std::optional<uint64_t> decimal(std::string_view text) {
  if (text.empty() || text.size() > 18) return std::nullopt;
  if (!std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) return std::nullopt;
  return std::stoull(std::string(text));
}

// "000001.log" or "000001.8388608.log.zst"; nullopt for any other name.
std::optional<LogChunk> chunk_named(const fs::path& path) {
  std::string name = path.filename().string();
  if (name.ends_with(".log.zst")) {
    std::string_view stem(name.data(), name.size() - 8);
    size_t dot = stem.find('.');
    if (dot == std::string_view::npos || dot < 6) return std::nullopt;
    auto number = decimal(stem.substr(0, dot));
    auto size = decimal(stem.substr(dot + 1));
    if (!number || !size) return std::nullopt;
    return LogChunk{*number, path, true, *size};
  }
  if (!name.ends_with(".log") || name.size() < 10) return std::nullopt;
  auto number = decimal(std::string_view(name.data(), name.size() - 4));
  if (!number) return std::nullopt;
  return LogChunk{*number, path, false, 0};
}

}  // namespace

Result<std::vector<LogChunk>> list_log_chunks(const fs::path& directory) {
  std::vector<LogChunk> chunks;
  std::error_code error;
  fs::directory_iterator entries(directory, error);
  if (error) {
    return make_error(fmt::format("{}: cannot list the log directory: {}", directory.string(), error.message()));
  }
  for (; !error && entries != fs::directory_iterator(); entries.increment(error)) {
    if (auto chunk = chunk_named(entries->path())) chunks.push_back(std::move(*chunk));
  }
  if (error) {
    return make_error(fmt::format("{}: cannot list the log directory: {}", directory.string(), error.message()));
  }
  // By number, the compressed form first, so that the plain twin it replaces can be dropped.
  std::sort(chunks.begin(), chunks.end(), [](const LogChunk& a, const LogChunk& b) {
    return a.number != b.number ? a.number < b.number : a.compressed > b.compressed;
  });
  chunks.erase(std::unique(chunks.begin(), chunks.end(),
                           [](const LogChunk& a, const LogChunk& b) { return a.number == b.number; }),
               chunks.end());
  return chunks;
}

}  // namespace slipway
