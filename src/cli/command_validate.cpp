// `slipway validate [FILE]`: checks a .slipway.yml of any kind without running anything.
#include <iostream>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/terminal.h"
#include "spec/repository_spec.h"
#include "spec/spec_file.h"

namespace slipway {

namespace {

struct ValidateOptions {
  std::string file = ".slipway.yml";
  bool json = false;
};

int validate(const ValidateOptions& options) {
  auto text = read_spec_file(options.file);  // a regular file of at most 256 KiB, as the server reads
  if (!text) return command_failed("validate", text.error().message);
  ParsedSpec parsed = parse_repository_spec(*text, options.file);
  if (options.json) {
    nlohmann::json answer = {{"file", options.file}, {"valid", parsed.ok()}, {"diagnostics", nlohmann::json::array()}};
    for (const auto& d : parsed.diagnostics) {
      answer["diagnostics"].push_back({{"line", d.line}, {"column", d.column}, {"message", d.message}});
    }
    if (parsed.ok()) answer["kind"] = kind_name(parsed.spec->kind);
    std::cout << answer.dump(2) << "\n";
    return parsed.ok() ? kExitSuccess : kExitFailed;
  }
  bool colour = stream_is_terminal(stderr);
  for (const auto& diagnostic : parsed.diagnostics) {
    std::cerr << styled(diagnostic.to_string(), Style::red, colour) << "\n";
  }
  if (!parsed.ok()) {
    std::cerr << fmt::format("{}: {} problem{}; see docs/slipway-yml.md\n", options.file, parsed.diagnostics.size(),
                             parsed.diagnostics.size() == 1 ? "" : "s");
    return kExitFailed;
  }
  const RepositorySpec& spec = *parsed.spec;
  std::cout << fmt::format("{}: valid {} ({} suite{}, {} service{}{}{})\n", options.file, kind_name(spec.kind),
                           spec.test.suites.size(), spec.test.suites.size() == 1 ? "" : "s", spec.test.services.size(),
                           spec.test.services.size() == 1 ? "" : "s", spec.publish ? ", publish" : "",
                           spec.deploy ? ", deploy" : "");
  return kExitSuccess;
}

}  // namespace

void add_validate_command(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<ValidateOptions>();
  CLI::App* command = app.add_subcommand("validate", "Check a .slipway.yml (any kind) without running it");
  command->add_option("file", options->file, "The file to check")->capture_default_str();
  command->add_flag("--json", options->json, "Print the result as JSON");
  command->callback([options, &exit_code] { exit_code = validate(*options); });
}

}  // namespace slipway
