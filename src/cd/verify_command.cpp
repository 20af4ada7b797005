#include "cd/verify_command.h"

#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <optional>
#include <stdexcept>
#include <thread>

#include <fmt/core.h>

#include "base/child_process.h"
#include "base/files.h"
#include "base/masked_tail.h"
#include "base/secret_masker.h"
#include "base/step_environment.h"
#include "base/strings.h"
#include "ci/proc_table.h"

namespace slipway {

namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr size_t kTailBytes = 2048;

// Reads what `fd` holds now (it is non-blocking) into the tail; closes it at end of file.
void drain(UniqueFd& fd, MaskedTail& tail) {
  char buffer[4096];
  while (fd.valid()) {
    ssize_t got = ::read(fd.get(), buffer, sizeof buffer);
    if (got > 0) {
      tail.add(std::string_view(buffer, static_cast<size_t>(got)));
    } else if (got == 0 || (errno != EINTR && errno != EAGAIN)) {
      fd.reset();
    } else if (errno == EAGAIN) {
      return;
    }
  }
}

// The whole process group: the shell and whatever it started that stayed in its group. The
// child is not reaped yet, so its pid (the group's id) cannot have been reused.
void kill_group(const ChildProcess& child) { ::kill(-child.pid(), SIGKILL); }

// SIGKILL is delivered asynchronously: a member may still be running for a moment after kill()
// returns, and on a loaded machine long enough to do something. The outcome promises the group is
// gone, so wait until no member is alive (zombies awaiting their reaper are dead). Bounded, for a
// process stuck in the kernel.
void wait_until_group_ended(const ChildProcess& child) {
  const auto give_up_at = SteadyClock::now() + std::chrono::seconds(5);
  while (SteadyClock::now() < give_up_at) {
    std::vector<ProcEntry> table = read_process_table();
    bool alive = std::any_of(table.begin(), table.end(), [&](const ProcEntry& entry) {
      return entry.pgid == child.pid() && !entry.zombie();
    });
    if (!alive) return;
    ::kill(-child.pid(), SIGKILL);
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

// Reads the output until the shell exits, killing the group when the deadline passes first.
bool watch(ChildProcess& child, MaskedTail& tail, Milliseconds timeout) {
  const auto deadline = SteadyClock::now() + timeout;
  bool timed_out = false;
  while (!child.has_exited()) {
    pollfd entries[3] = {{child.exit_fd(), POLLIN, 0},
                         {child.stdout_fd().get(), POLLIN, 0},
                         {child.stderr_fd().get(), POLLIN, 0}};  // -1 once closed: poll skips it
    auto left = std::chrono::duration_cast<Milliseconds>(deadline - SteadyClock::now());
    if (!timed_out && left.count() <= 0) {
      timed_out = true;
      kill_group(child);
    }
    int wait_ms = timed_out ? -1 : static_cast<int>(std::min<int64_t>(left.count() + 1, 60'000));
    if (::poll(entries, 3, wait_ms) < 0 && errno != EINTR) break;
    drain(child.stdout_fd(), tail);
    drain(child.stderr_fd(), tail);
  }
  return timed_out;
}

}  // namespace

std::vector<std::string> verify_argv(const VerifyRequest& request) {
  std::vector<std::string> argv = request.launch_prefix;
  for (const char* word : {"/bin/sh", "-c"}) argv.emplace_back(word);
  argv.push_back(request.command);
  return argv;
}

Result<VerifyOutcome> run_verify_command(const VerifyRequest& request) {
  std::optional<TemporaryDirectory> home;
  try {
    home.emplace("slipway-verify");
  } catch (const std::runtime_error& error) {
    return make_error(fmt::format("deploy.verify: no private HOME: {}", error.what()));
  }
  std::map<std::string, std::string> variables = request.variables;
  for (const auto& [name, value] : request.secrets) variables[name] = value;
  std::unique_ptr<VerifySandbox> sandbox;
  std::vector<std::string> argv = verify_argv(request);
  ProcessEntry entry;
  if (request.sandbox) {
    auto opened = request.sandbox(home->path(), request.test_listen);
    if (!opened) return make_error("deploy.verify: cannot open its sandbox: " + opened.error().message);
    sandbox = std::move(*opened);
    std::vector<std::string> prefix = sandbox->launch_prefix();
    argv.insert(argv.begin() + static_cast<std::ptrdiff_t>(request.launch_prefix.size()), prefix.begin(), prefix.end());
    entry = sandbox->entry();
    variables["SLIPWAY_TEST_URL"] = sandbox->test_url();
  }
  auto environment = step_environment(variables, home->path());
  if (!environment) return make_error("deploy.verify: " + environment.error().message);
  SpawnRequest spawn{argv, std::move(*environment), home->path()};
  spawn.enter = std::move(entry);
  auto child = ChildProcess::spawn(spawn);
  if (!child) return make_error("deploy.verify: " + child.error().message);

  MaskedTail tail(make_masker(request.secrets), kTailBytes);
  VerifyOutcome outcome;
  outcome.timed_out = watch(*child, tail, request.timeout);
  // What the group wrote before it went; a grandchild still holding a pipe goes with it.
  kill_group(*child);
  wait_until_group_ended(*child);
  drain(child->stdout_fd(), tail);
  drain(child->stderr_fd(), tail);
  ExitStatus status = child->reap();
  outcome.output_tail = sanitize_utf8(tail.text());  // the cut may have split a character
  outcome.exit_code = status.exit_code;
  outcome.passed = !outcome.timed_out && outcome.exit_code == 0;
  return outcome;
}

}  // namespace slipway
