// Turning what a finished suite left behind into its SuiteReport: the JUnit files named by its
// `junit:` pattern (kept inside the workspace), the exit status and the log's tail. Every
// text that came from the step is masked before it is kept.
#pragma once

#include <filesystem>
#include <string>

#include "base/secret_masker.h"
#include "ci/run_report.h"
#include "ci/test_job.h"

namespace slipway {

SuiteReport collect_suite_report(const PlannedStep& suite, const StepResult& result,
                                 const std::filesystem::path& workspace,
                                 const std::deque<std::string>& log_tail, const SecretMasker& masker);

// Reads the Markdown a step appended to its $SLIPWAY_SUMMARY file, if any: a regular file inside
// the workspace (a symlink is refused), at most 1 MiB, masked and made valid UTF-8.
std::string read_step_summary(const std::filesystem::path& summary_file,
                              const std::filesystem::path& workspace, const SecretMasker& masker);

}  // namespace slipway
