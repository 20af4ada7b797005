// `slipway notify status`: what the server still has to tell the outside (forge commit
// statuses, chat notices), per channel — pending, delivered, given up — and the latest deliveries it gave up
// on with their error. Exit 1 when anything was given up, so a script can alert on it.
#include <iostream>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "base/time.h"
#include "cli/api_client.h"
#include "cli/commands.h"

namespace slipway {
namespace {

struct NotifyOptions {
  std::string server;
  bool json = false;
};

int notify_status(const NotifyOptions& options) {
  ApiClient client(server_from_environment(options.server));
  auto answer = client.get("/api/v1/outbox");
  if (!answer) return command_failed("notify status", answer.error().message);
  bool gave_up = !(*answer)["failed"].empty();
  if (options.json) {
    std::cout << answer->dump(2) << "\n";
    return gave_up ? kExitFailed : kExitSuccess;
  }
  std::cout << fmt::format("{:<32} {:>8} {:>10} {:>7}  {}\n", "CHANNEL", "PENDING", "DELIVERED", "FAILED", "OLDEST PENDING");
  for (const auto& channel : (*answer)["channels"]) {
    int64_t oldest = channel.value("oldest_pending_ms", int64_t{0});
    std::cout << fmt::format("{:<32} {:>8} {:>10} {:>7}  {}\n", channel.value("channel", ""), channel.value("pending", 0),
                             channel.value("delivered", 0), channel.value("failed", 0),
                             oldest ? format_timestamp(oldest).substr(0, 19) : "-");
  }
  if ((*answer)["channels"].empty()) std::cout << "(nothing sent yet: no repository has `status:` and no environment `notify:`, or nothing happened)\n";
  for (const auto& item : (*answer)["failed"]) {
    std::cout << fmt::format("gave up: #{} {} after {} attempts: {}\n", item.value("id", 0), item.value("channel", ""),
                             item.value("attempts", 0), item.value("error", ""));
  }
  return gave_up ? kExitFailed : kExitSuccess;
}

}  // namespace

void add_notify_command(CLI::App& app, int& exit_code) {
  CLI::App* notify = app.add_subcommand("notify", "What the server tells the outside: forge commit statuses and chat notices");
  notify->require_subcommand(1);
  auto options = std::make_shared<NotifyOptions>();
  CLI::App* status = notify->add_subcommand(
      "status", "Deliveries per channel: pending, delivered, given up (exit 1 when any was given up)");
  status->add_option("--server", options->server, "The server's URL (default: $SLIPWAY_SERVER, else http://127.0.0.1:7700)");
  status->add_flag("--json", options->json, "Print the server's answer as JSON");
  status->callback([options, &exit_code] { exit_code = notify_status(*options); });
}

}  // namespace slipway
