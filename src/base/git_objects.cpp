#include "base/git_objects.h"

#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <map>
#include <sstream>
#include <vector>

#include <fmt/core.h>

#include "base/crypto.h"
#include "base/files.h"
#include "base/helper_processes.h"
#include "base/pipe_write.h"
#include "base/process_environment.h"
#include "base/step_environment.h"
#include "base/strings.h"

namespace slipway {

namespace fs = std::filesystem;

namespace {

constexpr auto kAnswerDeadline = std::chrono::seconds(30);
constexpr auto kIdleStop = std::chrono::seconds(60);

bool is_one_printable_line(std::string_view text) {
  if (text.empty()) return false;
  for (unsigned char c : text) {
    if (c < 0x20 || c == 0x7f) return false;
  }
  return true;
}

struct Registry {
  std::mutex mutex;
  struct Slot {
    std::shared_ptr<GitObjects> objects;
    std::chrono::steady_clock::time_point used;
  };
  std::map<fs::path, Slot> slots;
};

Registry& registry() {
  static Registry* instance = new Registry();  // never destroyed: used until exit from any thread
  return *instance;
}

}  // namespace

std::shared_ptr<GitObjects> GitObjects::of(const fs::path& given) {
  // One instance per folder however it is spelled ("." or "/src/app/", relative or not).
  std::error_code error;
  fs::path repository = fs::absolute(given, error).lexically_normal();
  if (error) repository = given;
  if (!repository.has_filename() && repository.has_parent_path()) repository = repository.parent_path();
  Registry& shared = registry();
  std::lock_guard<std::mutex> lock(shared.mutex);
  auto now = std::chrono::steady_clock::now();
  // Unused for a minute: dropped (its process stops once the last user lets go).
  for (auto it = shared.slots.begin(); it != shared.slots.end();) {
    it = now - it->second.used > kIdleStop && it->first != repository ? shared.slots.erase(it) : std::next(it);
  }
  auto& slot = shared.slots[repository];
  if (!slot.objects) slot.objects = std::make_shared<GitObjects>(repository);
  slot.used = now;
  return slot.objects;
}

GitObjects::~GitObjects() { stop(); }

void GitObjects::start_early() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!git_) static_cast<void>(start());
}

Status GitObjects::start() {
  fs::path git = find_program("git");
  if (git.empty()) return make_error("git is not installed");
  auto started = ChildProcess::spawn(
      {{git.string(), "-C", repository_.string(), "cat-file", "--batch-command"}, helper_environment(), "/", true});
  if (!started) return make_error(fmt::format("cannot read the objects of {}: {}", repository_.string(), started.error().message));
  git_ = std::make_unique<ChildProcess>(std::move(*started));
  register_helper_process(git_->pid());
  pending_.clear();
  return {};
}

void GitObjects::stop() {
  if (!git_) return;
  git_->stdin_fd().reset();  // end of input: git exits by itself
  ::kill(git_->pid(), SIGKILL);
  unregister_helper_process(git_->pid());  // before the reap frees its pid for reuse
  git_->reap();
  git_.reset();
  pending_.clear();
}

std::string GitObjects::words_on_stderr() {
  char said[512];
  ssize_t n = git_ ? ::read(git_->stderr_fd().get(), said, sizeof said) : -1;
  return n > 0 ? std::string(trim(std::string_view(said, static_cast<size_t>(n)))) : "";
}

Status GitObjects::read_more(std::chrono::steady_clock::time_point deadline) {
  char buffer[65536];
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return make_error("git did not answer within 30 s");
    pollfd ready{git_->stdout_fd().get(), POLLIN, 0};
    int polled = ::poll(&ready, 1, static_cast<int>(left.count()));
    if (polled <= 0) continue;  // EINTR, or the deadline (checked above)
    ssize_t got = ::read(ready.fd, buffer, sizeof buffer);
    if (got > 0) {
      pending_.append(buffer, static_cast<size_t>(got));
      return {};
    }
    if (got == 0) {
      std::string words = words_on_stderr();
      return make_error(words.empty() ? std::string("git ended unexpectedly") : "git said: " + words);
    }
    if (errno != EAGAIN && errno != EINTR) return make_error(fmt::format("cannot read git's answer: {}", errno_text(errno)));
  }
}

Status GitObjects::read_exactly(std::string& into, size_t bytes) {
  auto deadline = std::chrono::steady_clock::now() + kAnswerDeadline;
  while (pending_.size() < bytes) {
    if (Status more = read_more(deadline); !more) return more;
  }
  into = pending_.substr(0, bytes);
  pending_.erase(0, bytes);
  return {};
}

Result<std::string> GitObjects::read_line() {
  auto deadline = std::chrono::steady_clock::now() + kAnswerDeadline;
  size_t newline;
  while ((newline = pending_.find('\n')) == std::string::npos) {
    if (Status more = read_more(deadline); !more) return more.error();
  }
  std::string line = pending_.substr(0, newline);
  pending_.erase(0, newline + 1);
  return line;
}

Result<GitObjects::Answer> GitObjects::ask(std::string_view command, std::string_view revision, uint64_t max_bytes,
                                           Missing missing) {
  if (!is_one_printable_line(revision)) {
    return make_error("a revision must be one line of printable characters");
  }
  std::lock_guard<std::mutex> lock(mutex_);
  auto fail = [&](const Error& error) {
    stop();  // the conversation is out of step: the next question starts a new git
    return make_error(fmt::format("cannot read {} in {}: {}", revision, repository_.string(), error.message));
  };
  std::string said;  // by a git that stopped before it read the question
  for (int attempt = 0; attempt < 2; ++attempt) {
    const bool fresh = !git_;
    if (fresh) {
      if (Status started = start(); !started) return started.error();
    }
    std::string request = fmt::format("{} {}\n", command, revision);
    if (!write_all_to_pipe(git_->stdin_fd().get(), request)) {
      pollfd exited{git_->exit_fd(), POLLIN, 0};
      ::poll(&exited, 1, 1000);  // once it has exited, what it said is all in the pipe
      said = words_on_stderr();
      stop();  // a git stopped since (idle, or gone): once more with a new one
      continue;
    }
    auto header = read_line();
    if (!header) return fail(header.error());
    Answer answer;
    std::istringstream fields(*header);
    GitObjectInfo object;
    std::string last;
    if (!(fields >> object.id >> object.type >> object.size) || (fields >> last)) {
      if (ends_with(*header, " missing") || ends_with(*header, " ambiguous")) {
        // Asked again of a new git: this one may still be in a folder that was removed and made
        // again at the same path (a repository created anew), where everything is missing.
        if (!fresh && missing == Missing::ask_a_new_git) {
          stop();
          continue;
        }
        return answer;
      }
      return fail(Error{fmt::format("git answered '{}'", *header)});
    }
    if (command == "contents") {
      if (object.size > max_bytes) return fail(Error{fmt::format("the object is {} bytes, more than expected", object.size)});
      std::string newline;
      if (Status read = read_exactly(answer.bytes, object.size); !read) return fail(read.error());
      if (Status read = read_exactly(newline, 1); !read || newline != "\n") return fail(Error{"git's answer was cut"});
    }
    answer.object = std::move(object);
    return answer;
  }
  return make_error(fmt::format("cannot read {} in {}: {}", revision, repository_.string(),
                                said.empty() ? std::string("git stopped answering") : "git said: " + said));
}

Result<std::optional<GitObjectInfo>> GitObjects::info(std::string_view revision) {
  auto answer = ask("info", revision, 0);
  if (!answer) return answer.error();
  return std::move(answer->object);
}

Result<std::optional<GitObjectInfo>> GitObjects::info_or_missing(std::string_view revision) {
  auto answer = ask("info", revision, 0, Missing::believe);
  if (!answer) return answer.error();
  return std::move(answer->object);
}

Result<std::optional<GitTreeEntry>> GitObjects::root_entry(std::string_view commit, std::string_view name) {
  auto entries = tree_entries(fmt::format("{}^{{tree}}", commit));
  if (!entries) return entries.error();
  for (GitTreeEntry& entry : *entries) {
    if (entry.name == name) return std::optional<GitTreeEntry>(std::move(entry));
  }
  return std::optional<GitTreeEntry>();
}

Result<std::vector<GitTreeEntry>> GitObjects::tree_entries(std::string_view revision) {
  auto tree = info(revision);
  if (!tree) return tree.error();
  if (!*tree || (*tree)->type != "tree") {
    return make_error(fmt::format("{}: no such tree in {}", revision, repository_.string()));
  }
  auto answer = ask("contents", (*tree)->id, (*tree)->size);
  if (!answer) return answer.error();
  // A tree is a list of "MODE NAME\0" followed by the entry's binary id (20 bytes with SHA-1,
  // 32 with SHA-256: the length of the tree's own hex id, halved).
  const std::string& bytes = answer->bytes;
  const size_t id_bytes = (*tree)->id.size() / 2;
  std::vector<GitTreeEntry> entries;
  size_t at = 0;
  while (at < bytes.size()) {
    size_t space = bytes.find(' ', at);
    size_t nul = bytes.find('\0', at);
    if (space == std::string::npos || nul == std::string::npos || space > nul || nul + 1 + id_bytes > bytes.size()) {
      return make_error(fmt::format("{}: git gave a tree that cannot be read", revision));
    }
    entries.push_back(GitTreeEntry{bytes.substr(at, space - at), to_hex(std::string_view(bytes).substr(nul + 1, id_bytes)),
                                   bytes.substr(space + 1, nul - space - 1)});
    at = nul + 1 + id_bytes;
  }
  return entries;
}

Result<std::string> GitObjects::contents(std::string_view id, uint64_t expected_size) {
  auto answer = ask("contents", id, expected_size);
  if (!answer) return answer.error();
  if (!answer->object) return make_error(fmt::format("{}: no such object in {}", id, repository_.string()));
  if (answer->object->size != expected_size) return make_error(fmt::format("{}: not of the expected size", id));
  return std::move(answer->bytes);
}

}  // namespace slipway
