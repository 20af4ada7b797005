#include "cli/task_text.h"

#include <algorithm>

#include <fmt/core.h>

#include "base/strings.h"
#include "base/time.h"
#include "cli/terminal.h"

namespace slipway {
namespace {

Style run_style(TaskRunStatus status) {
  if (status == TaskRunStatus::succeeded) return Style::green;
  if (status == TaskRunStatus::failed || status == TaskRunStatus::timed_out) return Style::red;
  if (status == TaskRunStatus::interrupted) return Style::yellow;
  return Style::cyan;  // queued, running
}

Style revision_style(const std::string& status) {
  if (status == "active") return Style::green;
  if (status == "deregistered") return Style::dim;
  return Style::plain;
}

// Padded before styling: escape codes would count towards the width.
std::string padded(const std::string& text, size_t width, Style style, bool colour) {
  return styled(fmt::format("{:<{}}", text, width), style, colour);
}

std::string when(int64_t ms) { return ms ? format_timestamp(ms).substr(0, 19) : "-"; }

std::string digest_label(const std::string& digest) {
  std::string shortened = short_digest(digest);
  return shortened.empty() ? "(no image yet)" : shortened;
}

std::string took(const TaskRunRecord& run) {
  int64_t start = run.started_ms ? run.started_ms : run.created_ms;
  if (start == 0) return "-";
  int64_t end = run.finished_ms ? run.finished_ms : now_ms();
  return format_duration(Milliseconds(std::max<int64_t>(0, end - start)));
}

std::string exit_label(const TaskRunRecord& run) { return run.exit_code < 0 ? "-" : std::to_string(run.exit_code); }

std::string megabytes(int64_t bytes) { return fmt::format("{} MiB", bytes / (1024 * 1024)); }

}  // namespace

std::string tasks_table(const std::vector<TaskRevisionRecord>& tasks) {
  std::string text = fmt::format("{:<14} {:<24} {:>8}  {:<14} {:<20} {}\n", "ENVIRONMENT", "TASK", "REVISION",
                                 "DIGEST", "CREATED", "IMAGE");
  for (const auto& task : tasks) {
    text += fmt::format("{:<14} {:<24} {:>8}  {:<14} {:<20} {}\n", task.environment, task.task, task.revision,
                        digest_label(task.digest), when(task.created_ms), task.image);
  }
  return text;
}

std::string revisions_table(const std::vector<TaskRevisionRecord>& revisions, bool colour) {
  std::string text = fmt::format("{:>8}  {:<13} {:<14} {:<20} {}\n", "REVISION", "STATUS", "DIGEST", "CREATED", "REASON");
  for (const auto& revision : revisions) {
    text += fmt::format("{:>8}  {} {:<14} {:<20} {}\n", revision.revision,
                        padded(revision.status, 13, revision_style(revision.status), colour),
                        digest_label(revision.digest), when(revision.created_ms), revision.reason);
  }
  return text;
}

std::string task_runs_table(const std::vector<TaskRunRecord>& runs, bool colour) {
  std::string text = fmt::format("{:>6}  {:>8}  {:<9} {:<12} {:>4}  {:>8}  {:<20} {}\n", "ID", "REVISION", "TRIGGER",
                                 "STATUS", "EXIT", "TOOK", "STARTED", "REASON");
  for (const auto& run : runs) {
    text += fmt::format("{:>6}  {:>8}  {:<9} {} {:>4}  {:>8}  {:<20} {}\n", run.id, run.revision, run.trigger,
                        padded(std::string(to_text(run.status)), 12, run_style(run.status), colour), exit_label(run), took(run),
                        when(run.created_ms), run.reason);
  }
  return text;
}

std::string task_text(const TaskRevisionRecord& task, const std::vector<TaskRunRecord>& runs,
                      const std::vector<TaskScheduleRecord>& schedules, bool colour) {
  std::string text = fmt::format("Task {} in {}  revision {}  ({})\n", styled(task.task, Style::bold, colour),
                                 task.environment, task.revision, task.repository);
  text += fmt::format("  image        {}\n", task.pinned_image());
  text += fmt::format("  command      {}\n", task.command.empty() ? "(the image's)" : join(task.command, " "));
  for (const auto& [name, value] : task.env) text += fmt::format("  env          {}={}\n", name, value);
  if (!task.secrets.empty()) text += fmt::format("  secrets      {}\n", join(task.secrets, ", "));
  std::vector<std::string> limits;
  if (task.cpus > 0) limits.push_back(fmt::format("{} CPUs", task.cpus));
  if (task.memory_bytes > 0) limits.push_back(megabytes(task.memory_bytes));
  if (task.timeout_ms > 0) limits.push_back("timeout " + format_duration(Milliseconds(task.timeout_ms)));
  if (!limits.empty()) text += fmt::format("  limits       {}\n", join(limits, ", "));
  text += fmt::format("  created      {}\n", when(task.created_ms));
  if (!task.reason.empty()) text += fmt::format("  reason       {}\n", task.reason);
  for (const auto& schedule : schedules) {
    text += fmt::format("  schedule     {} \"{}\"{}\n", schedule.name, schedule.cron,
                        schedule.revision ? fmt::format(" (revision {})", schedule.revision) : "");
  }
  text += "\n";
  text += runs.empty() ? "(no runs yet)\n" : task_runs_table(runs, colour);
  return text;
}

std::string run_outcome_line(const TaskRunRecord& run, bool colour) {
  std::string exit = run.exit_code >= 0 ? fmt::format(" (exit {})", run.exit_code) : "";
  std::string reason = run.reason.empty() || run.status == TaskRunStatus::succeeded ? "" : ": " + run.reason;
  return fmt::format("Task run #{} {}{} in {}{}\n", run.id, styled(to_text(run.status), run_style(run.status), colour), exit,
                     took(run), reason);
}

std::string log_line_text(const std::string& stream, const std::string& text, bool colour) {
  return (stream == "stderr" ? styled(text, Style::red, colour) : text) + "\n";
}

}  // namespace slipway
