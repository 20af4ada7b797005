#include "cd/haproxy_router.h"

#include <signal.h>

#include <chrono>
#include <cstdlib>
#include <thread>

#include <fmt/format.h>

#include "base/files.h"
#include "base/run_command.h"
#include "base/strings.h"

namespace slipway {

namespace {

using namespace std::chrono_literals;

// A zombie still answers kill(pid, 0), so "alive" also means its /proc state is not Z.
bool process_alive(pid_t pid) {
  if (pid <= 0 || ::kill(pid, 0) != 0) return false;
  auto stat = read_file(fmt::format("/proc/{}/stat", pid));
  if (!stat) return false;
  size_t close = stat->rfind(')');
  return close == std::string::npos || close + 2 >= stat->size() || (*stat)[close + 2] != 'Z';
}

// True when `pid` runs HAProxy with this config file, so a reused PID is never signalled.
bool runs_config(pid_t pid, const std::filesystem::path& config) {
  auto cmdline = read_file(fmt::format("/proc/{}/cmdline", pid));
  if (!cmdline) return false;
  std::vector<std::string> argv = split(*cmdline, '\0');
  bool haproxy = !argv.empty() && argv[0].find("haproxy") != std::string::npos;
  for (size_t i = 0; haproxy && i + 1 < argv.size(); ++i) {
    if (argv[i] == "-f" && argv[i + 1] == config.string()) return true;
  }
  return false;
}

// HAProxy's [ALERT] lines (its NOTICE lines only repeat its version), or all it printed.
std::string haproxy_complaint(const CommandOutput& output) {
  std::vector<std::string> alerts;
  for (const std::string& line : split(output.err + output.out, '\n')) {
    if (line.find("[ALERT]") != std::string::npos) alerts.push_back(std::string(trim(line)));
  }
  return alerts.empty() ? std::string(trim(output.err + output.out)) : join(alerts, "; ");
}

bool wait_until_gone(pid_t pid, std::chrono::milliseconds limit) {
  for (auto waited = 0ms; waited < limit; waited += 20ms) {
    if (!process_alive(pid)) return true;
    std::this_thread::sleep_for(20ms);
  }
  return !process_alive(pid);
}

}  // namespace

HaproxyRouter::HaproxyRouter(HaproxyRouterSettings settings)
    : settings_(std::move(settings)), runtime_(haproxy_socket_path(settings_)) {}

Status HaproxyRouter::write_config() {
  for (const std::string* listen : {&settings_.listen, &settings_.test_listen}) {
    // A listen address is one word: whitespace would let it add directives to the config.
    if (listen->find_first_of(" \t\r\n#") != std::string::npos) {
      return make_error(fmt::format("listen address '{}' contains spaces or '#'; write it as HOST:PORT", *listen));
    }
  }
  if (settings_.listen.empty()) return make_error("the router needs a listen address (HOST:PORT) for production traffic");
  if (Status made = make_directories(settings_.directory); !made) return made;
  std::filesystem::path config = haproxy_config_path(settings_);
  if (Status written = write_file_atomically(config, generate_haproxy_config(settings_)); !written) return written;
  auto check = run_command({settings_.executable, "-c", "-f", config.string()});
  if (!check) return make_error(fmt::format("cannot run {} to check {}: {}", settings_.executable, config.string(), check.error().message));
  if (check->exit_code != 0) {
    return make_error(fmt::format("HAProxy rejects the generated config {}: {}", config.string(),
                                  haproxy_complaint(*check)));
  }
  return {};
}

pid_t HaproxyRouter::pid() const {
  auto text = read_file(haproxy_pid_path(settings_));
  if (!text) return 0;
  pid_t pid = std::atoi(std::string(trim(*text)).c_str());
  if (!process_alive(pid) || !runs_config(pid, haproxy_config_path(settings_))) return 0;
  return pid;
}

Status HaproxyRouter::start() {
  if (pid() > 0) return wait_for_runtime_api();  // adopted: its slots hold the live routing
  if (Status written = write_config(); !written) return written;
  std::filesystem::path config = haproxy_config_path(settings_);
  auto started = run_command({settings_.executable, "-f", config.string(), "-D"});
  if (!started) return make_error(fmt::format("cannot run {}: {}", settings_.executable, started.error().message));
  if (started->exit_code != 0) {
    return make_error(fmt::format("HAProxy did not start from {}: {}", config.string(), haproxy_complaint(*started)));
  }
  return wait_for_runtime_api();
}

Status HaproxyRouter::wait_for_runtime_api() {
  Error last = make_error("no answer yet");
  for (auto waited = 0ms; waited < 5000ms; waited += 20ms) {
    auto answer = runtime_.send("show info");
    if (answer && answer->find("Pid:") != std::string::npos) return {};
    if (!answer) last = answer.error();
    std::this_thread::sleep_for(20ms);
  }
  return make_error(fmt::format("HAProxy started but its runtime API did not answer within 5 s: {}", last.message));
}

Status HaproxyRouter::stop() {
  pid_t running = pid();
  if (running == 0) return {};
  ::kill(running, SIGTERM);
  if (wait_until_gone(running, 5000ms)) return {};
  ::kill(running, SIGKILL);
  if (wait_until_gone(running, 2000ms)) return {};
  return make_error(fmt::format("HAProxy (PID {}) is still running after SIGKILL", running));
}

Status HaproxyRouter::set_slot(std::string_view backend, std::string_view slot, int port) {
  return runtime_.set_address(backend, slot, port);
}

Status HaproxyRouter::set_state(std::string_view backend, std::string_view slot, SlotAdminState state) {
  return runtime_.set_state(backend, slot, state);
}

Status HaproxyRouter::switch_to(std::string_view backend, std::string_view slot) {
  std::string_view old_slot = other_slot(slot);
  if (old_slot.empty()) return make_error(fmt::format("unknown slot '{}': a router slot is blue or green", slot));
  if (Status ready = runtime_.set_state(backend, slot, SlotAdminState::ready); !ready) return ready;
  return runtime_.set_state(backend, old_slot, SlotAdminState::drain);
}

Result<int> HaproxyRouter::open_sessions(std::string_view backend, std::string_view slot) {
  return runtime_.current_sessions(backend, slot);
}

Result<std::vector<ServerSlotState>> HaproxyRouter::servers(std::string_view backend) {
  return runtime_.servers(backend);
}

}  // namespace slipway
