#include "cli/live_printer.h"

#include <fmt/core.h>

#include "base/time.h"
#include "cli/terminal.h"

namespace slipway {

class LivePrinter::StepLines : public LogListener {
 public:
  StepLines(LivePrinter& printer, std::string prefix) : printer_(printer), prefix_(std::move(prefix)) {}

  void on_line(const LogLine& line) override {
    bool is_error = line.stream == 'e' || line.stream == 'E';
    std::string text(line.text);
    if (line.stream == 's') text = styled(text, Style::bold, printer_.colour_);
    else if (is_error) text = styled(text, Style::yellow, printer_.colour_);
    printer_.print_buffered(prefix_ + text);
  }

  void on_batch_end() override { printer_.flush(); }

 private:
  LivePrinter& printer_;
  std::string prefix_;
};

LivePrinter::LivePrinter(FILE* stream, bool colour) : stream_(stream), colour_(colour) {}
LivePrinter::~LivePrinter() = default;

void LivePrinter::print(const std::string& text) {
  std::lock_guard lock(mutex_);
  std::fputs(text.c_str(), stream_);
  std::fputc('\n', stream_);
  std::fflush(stream_);
}

// A step that prints a gigabyte must not cost a write(2) per line: log lines wait in stdio's
// buffer until the end of the read they came from, which keeps the view live.
void LivePrinter::print_buffered(const std::string& text) {
  std::lock_guard lock(mutex_);
  std::fwrite(text.data(), 1, text.size(), stream_);
  std::fputc('\n', stream_);
}

void LivePrinter::flush() {
  std::lock_guard lock(mutex_);
  std::fflush(stream_);
}

void LivePrinter::run_started(const RunRecord& run, const PlannedJob& job) {
  for (const auto& step : job.steps) name_width_ = std::max(name_width_, step.name.size());
  std::string branch = run.branch.empty() ? "" : fmt::format(" on {}", run.branch);
  print(styled(fmt::format("Run #{}: {} at {}{} — {} step{}", run.id, run.repository, run.commit.substr(0, 12), branch,
                           job.steps.size(), job.steps.size() == 1 ? "" : "s"),
               Style::bold, colour_));
}

LogListener* LivePrinter::step_listener(size_t, const PlannedStep& step) {
  std::string name = fmt::format("{:<{}}", step.name, name_width_);
  std::string prefix = colour_ ? styled(name, Style::cyan, true) + " │ " : fmt::format("[{}] ", step.name);
  std::lock_guard lock(mutex_);
  listeners_.push_back(std::make_unique<StepLines>(*this, prefix));
  return listeners_.back().get();
}

void LivePrinter::step_started(size_t, const PlannedStep& step) {
  std::string what = step.command.empty() ? step.name : step.command;
  print(colour_ ? styled("▶ " + step.name, Style::bold, true) + styled("  " + what, Style::dim, true)
                : fmt::format("==> {}: {}", step.name, what));
}

void LivePrinter::step_finished(size_t, const PlannedStep& step, const StepResult& result) {
  std::string took = format_duration(Milliseconds(result.finished_ms - result.started_ms));
  std::string detail = result.reason.empty() ? "" : ": " + result.reason;
  if (!colour_) {
    print(fmt::format("<== {}: {}{} ({})", step.name, to_text(result.status), detail, took));
    return;
  }
  const char* mark = result.status == RunStatus::passed ? "✔" : result.status == RunStatus::failed ? "✘" : "−";
  print(styled(fmt::format("{} {} {}", mark, step.name, to_text(result.status)), status_style(result.status), true) +
        styled(fmt::format("{} ({})", detail, took), Style::dim, true));
}

}  // namespace slipway
