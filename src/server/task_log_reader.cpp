#include "server/task_log_reader.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <fstream>
#include <system_error>

#include <fmt/core.h>

#include "base/files.h"
#include "base/strings.h"
#include "server/log_range.h"

namespace slipway {

TaskLogLine parse_task_log_line(std::string_view record) {
  TaskLogLine line;
  size_t space = record.find(' ');
  int64_t at_ms = 0;
  bool stamped = space != std::string_view::npos && space > 0 &&
                 std::from_chars(record.data(), record.data() + space, at_ms).ptr == record.data() + space;
  // "<ms> o " or "<ms> o" (an empty line) after the timestamp.
  std::string_view rest = stamped ? record.substr(space + 1) : std::string_view();
  if (!stamped || rest.empty() || (rest[0] != 'o' && rest[0] != 'e') || (rest.size() > 1 && rest[1] != ' ')) {
    line.text = sanitize_utf8(record);
    return line;
  }
  line.at_ms = at_ms;
  line.stream = rest[0] == 'o' ? "stdout" : "stderr";
  line.text = sanitize_utf8(rest.size() > 2 ? rest.substr(2) : std::string_view());
  return line;
}

namespace {

// A folder of chunks: the steps' range reader, its records as the API's lines.
Result<TaskLogPage> read_chunked_task_log(const std::filesystem::path& directory, uint64_t offset, uint64_t limit) {
  auto range = read_log_range(directory, offset, limit);
  if (!range) return range.error();
  TaskLogPage page;
  page.next_offset = range->next_offset;
  page.size = range->size;
  for (LogRecord& record : range->records) {
    char stream = static_cast<char>(std::tolower(static_cast<unsigned char>(record.stream)));
    page.lines.push_back({record.timestamp_ms, stream == 'e' ? "stderr" : stream == 's' ? "system" : "stdout",
                          std::move(record.text)});
  }
  return page;
}

}  // namespace

Result<TaskLogPage> read_task_log(const std::filesystem::path& file, uint64_t offset, uint64_t limit) {
  std::error_code not_a_folder;
  if (!file.empty() && std::filesystem::is_directory(file, not_a_folder)) {
    return read_chunked_task_log(file, offset, limit);
  }
  TaskLogPage page;
  page.next_offset = offset;
  std::error_code missing;
  uint64_t size = file.empty() ? 0 : std::filesystem::file_size(file, missing);
  if (file.empty() || missing) return page;
  page.size = size;
  if (offset >= size) {
    page.next_offset = size;
    return page;
  }
  std::ifstream input(file, std::ios::binary);
  if (!input) return make_error(fmt::format("cannot open the run's log {}: {}", file.string(), errno_text(errno)));
  std::string bytes(std::min<uint64_t>(size - offset, limit), '\0');
  input.seekg(static_cast<std::streamoff>(offset));
  input.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  bytes.resize(static_cast<size_t>(input.gcount()));
  size_t end = bytes.rfind('\n');
  if (end == std::string::npos) {
    // No whole line: a line still being written, or one longer than a page.
    if (bytes.size() < limit) return page;
    page.lines.push_back(parse_task_log_line(bytes));
    page.next_offset = offset + bytes.size();
    return page;
  }
  std::string_view whole(bytes.data(), end + 1);
  for (size_t start = 0; start < whole.size();) {
    size_t newline = whole.find('\n', start);
    page.lines.push_back(parse_task_log_line(whole.substr(start, newline - start)));
    start = newline + 1;
  }
  page.next_offset = offset + whole.size();
  return page;
}

}  // namespace slipway
