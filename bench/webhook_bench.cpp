// The two webhook figures, measured against a real `slipway serve` on 127.0.0.1:
//
//  1. latency: webhook received → first step started, on an idle server. Deliveries are sent one
//     at a time, each to its own branch (so nothing is superseded); after each, the run is
//     followed through the API until it has finished, so the next delivery meets an idle server.
//     The figure is jobs[0].steps[0].started_ms (the server's epoch-ms clock) minus the epoch-ms
//     time the client began sending. Targets: p50 ≤ 50 ms, p99 ≤ 200 ms. The run's own
//     timestamps split it into: answer (HTTP, signature, delivery transaction, `git rev-parse`,
//     run transaction), worker wake-up, checkout (clone + checkout + .slipway.yml), step start.
//
//  2. intake: 200 deliveries a second for 30 s from several keep-alive client threads, paced on a
//     shared schedule; every 100th is a redelivery of an id already acknowledged. After the
//     deliveries the server is stopped (queued runs need not finish: the claim is about intake),
//     and its SQLite file is opened read-only to check that every delivery id is recorded exactly
//     once, linked to the run its answer named, that runs created == accepted new deliveries, and
//     that the redeliveries created no run.
//
// The benchmark starts the server itself (a temporary data directory, one repository whose Test
// is one suite running `true`, polling off, the HMAC key a server secret set before it starts)
// and always stops it by PID: SIGTERM, then SIGKILL. Only 127.0.0.1 traffic.
//
//   webhook_bench [--only latency|intake] [--slipway PATH]
// Environment (defaults in brackets):
//   SLIPWAY_WEBHOOK_BENCH_DELIVERIES    latency: deliveries measured [200] (after 5 warm-up ones)
//   SLIPWAY_WEBHOOK_BENCH_RATE          intake: deliveries per second [200]
//   SLIPWAY_WEBHOOK_BENCH_SECONDS       intake: seconds [30]
//   SLIPWAY_WEBHOOK_BENCH_THREADS       intake: client threads, one keep-alive connection each [8]
//   SLIPWAY_WEBHOOK_BENCH_EXECUTOR      host | sandbox [host]
//   SLIPWAY_WEBHOOK_BENCH_CONCURRENCY   the server's `concurrency` [0 = cores for latency, 1 for intake]
// The slipway binary: --slipway, else $SLIPWAY_BIN, else ../slipway next to this program.
//
// Exit status: 0 when every check held and every target was met, 1 otherwise, 2 on a setup error.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "base/files.h"
#include "base/run_command.h"
#include "base/strings.h"
#include "base/time.h"
#include "server/webhook_signature.h"

namespace slipway {
namespace {

namespace fs = std::filesystem;
using SteadyClock = std::chrono::steady_clock;
using Json = nlohmann::json;

constexpr const char* kSecretName = "SLIPWAY_BENCH_WEBHOOK_SECRET";
constexpr const char* kSecretValue = "bench-secret-3f9a1c0e7b5d";
constexpr const char* kAdminToken = "5b1e0c7d9a3f4e2b8c6d0a1f3e5b7c9d2a4f6e8b0c1d3e5f7a9b2c4d6e8f0a1b";
constexpr const char* kRepository = "bench";

std::string setting(const char* name, const char* fallback) {
  const char* value = std::getenv(name);
  return value && *value ? value : fallback;
}

int int_setting(const char* name, int fallback) {
  return std::stoi(setting(name, std::to_string(fallback).c_str()));
}

double micros_since(SteadyClock::time_point start) {
  return std::chrono::duration<double, std::micro>(SteadyClock::now() - start).count();
}

// The q-quantile (nearest rank) of `values`; 0 when there are none.
double percentile(std::vector<double> values, double q) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  size_t rank = static_cast<size_t>(std::ceil(q * static_cast<double>(values.size())));
  return values[std::clamp<size_t>(rank, 1, values.size()) - 1];
}

// ---------------------------------------------------------------------------------------------
// A minimal blocking HTTP/1.1 client with keep-alive, enough for the server's Content-Length
// answers. One per thread.

struct HttpAnswer {
  int status = 0;  // 0: no answer (connection error or timeout)
  std::string body;
  std::string error;
};

class HttpClient {
 public:
  explicit HttpClient(int port) : port_(port) {}
  ~HttpClient() { disconnect(); }
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Sends one request on the kept-alive connection (connecting first when needed). A request
  // that fails on a connection the server may have closed while idle is retried once on a new
  // one — only when nothing of the answer was read, so no request is ever sent twice on purpose
  // after the server began answering.
  HttpAnswer request(const std::string& method, const std::string& path,
                     const std::vector<std::pair<std::string, std::string>>& headers, const std::string& body) {
    std::string text = fmt::format("{} {} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: keep-alive\r\n", method,
                                   path, port_);
    for (const auto& [name, value] : headers) text += fmt::format("{}: {}\r\n", name, value);
    if (!body.empty() || method == "POST") text += fmt::format("Content-Length: {}\r\n", body.size());
    text += "\r\n";
    text += body;
    for (int attempt = 0; attempt < 2; ++attempt) {
      bool reused = fd_ >= 0;
      if (fd_ < 0) {
        if (std::string failed = connect_now(); !failed.empty()) return {0, "", failed};
      }
      bool got_any = false;
      HttpAnswer answer = exchange(text, got_any);
      if (answer.status != 0) return answer;
      disconnect();
      if (!reused || got_any) return answer;
    }
    return {0, "", "connection lost"};
  }

 private:
  std::string connect_now() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) return fmt::format("socket: {}", std::strerror(errno));
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    timeval timeout{10, 0};  // every wait is bounded
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port_));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
      std::string failed = fmt::format("connect: {}", std::strerror(errno));
      disconnect();
      return failed;
    }
    buffer_.clear();
    return "";
  }

  void disconnect() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    buffer_.clear();
  }

  HttpAnswer exchange(const std::string& text, bool& got_any) {
    size_t sent = 0;
    while (sent < text.size()) {
      ssize_t n = ::send(fd_, text.data() + sent, text.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return {0, "", fmt::format("send: {}", n < 0 ? std::strerror(errno) : "closed")};
      sent += static_cast<size_t>(n);
    }
    size_t header_end = std::string::npos;
    while ((header_end = buffer_.find("\r\n\r\n")) == std::string::npos) {
      if (std::string failed = receive_more(got_any); !failed.empty()) return {0, "", failed};
    }
    std::string head = buffer_.substr(0, header_end);
    HttpAnswer answer;
    if (head.size() < 12 || !head.starts_with("HTTP/1.1 ")) return {0, "", "malformed status line"};
    answer.status = std::atoi(head.c_str() + 9);
    size_t length = 0;
    bool close_after = false;
    std::string lower = head;
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    if (size_t at = lower.find("\r\ncontent-length:"); at != std::string::npos) {
      length = std::strtoull(lower.c_str() + at + 17, nullptr, 10);
    }
    if (lower.find("\r\nconnection: close") != std::string::npos) close_after = true;
    size_t body_start = header_end + 4;
    while (buffer_.size() < body_start + length) {
      if (std::string failed = receive_more(got_any); !failed.empty()) return {0, "", failed};
    }
    answer.body = buffer_.substr(body_start, length);
    buffer_.erase(0, body_start + length);
    if (close_after) disconnect();
    return answer;
  }

  std::string receive_more(bool& got_any) {
    char chunk[16384];
    ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n == 0) return "connection closed by the server";
    if (n < 0) return fmt::format("recv: {}", std::strerror(errno));
    got_any = true;
    buffer_.append(chunk, static_cast<size_t>(n));
    return "";
  }

  int port_;
  int fd_ = -1;
  std::string buffer_;
};

// ---------------------------------------------------------------------------------------------
// The repository, the server process and the deliveries.

std::string git(const fs::path& folder, std::vector<std::string> arguments) {
  arguments.insert(arguments.begin(), {"git", "-C", folder.string(), "-c", "user.name=Bench", "-c",
                                       "user.email=bench@slipway.invalid"});
  auto output = run_command_checked(arguments);
  if (!output) throw std::runtime_error(output.error().message);
  return std::string(trim(*output));
}

// A one-commit repository whose Test is one suite running `true`. Returns the commit's sha.
std::string make_noop_repository(const fs::path& folder) {
  fs::create_directories(folder);
  git(folder, {"init", "--quiet", "--initial-branch=main"});
  if (!write_file_atomically(folder / ".slipway.yml",
                             "kind: library\ntest:\n  suites:\n    unit: { run: \"true\" }\n")) {
    throw std::runtime_error("cannot write .slipway.yml");
  }
  git(folder, {"add", "-A"});
  git(folder, {"commit", "--quiet", "-m", "no-op"});
  return git(folder, {"rev-parse", "HEAD"});
}

// A port that was free a moment ago (the configuration refuses port 0).
int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t size = sizeof address;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size) != 0) {
    if (fd >= 0) ::close(fd);
    throw std::runtime_error(fmt::format("cannot find a free port: {}", std::strerror(errno)));
  }
  ::close(fd);
  return ntohs(address.sin_port);
}

class ServerProcess {
 public:
  ServerProcess(const fs::path& slipway, const fs::path& folder, const fs::path& repository, const std::string& executor,
                int concurrency)
      : data_(folder / "data"), log_(folder / "server.log") {
    fs::create_directories(folder);
    port_ = free_port();
    fs::path config = folder / "slipway.yml";
    std::string text = fmt::format(
        "listen: 127.0.0.1:{}\nexecutor: {}\nconcurrency: {}\nrepositories:\n"
        "  - name: {}\n    url: {}\n    main: main\n    poll_interval: 0s\n    webhook_secret: {}\n",
        port_, executor, concurrency, kRepository, repository.string(), kSecretName);
    if (!write_file_atomically(config, text)) throw std::runtime_error("cannot write the server configuration");
    // The webhook's key is a server secret, set before the server starts (value on stdin).
    fs::create_directories(data_);
    auto set = run_command({"sh", "-c",
                            "printf %s \"$0\" | SLIPWAY_SERVER= \"$1\" secret set --server-only \"$2\" --data-dir \"$3\"",
                            kSecretValue, slipway.string(), kSecretName, data_.string()});
    if (!set || set->exit_code != 0) {
      throw std::runtime_error("cannot set the webhook secret: " + (set ? set->err : set.error().message));
    }

    std::fflush(stdout);  // or the child would print what is still buffered here
    std::fflush(stderr);
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error(fmt::format("fork: {}", std::strerror(errno)));
    if (pid_ == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive the benchmark, even if it crashes
      FILE* out = std::freopen(log_.c_str(), "w", stdout);
      if (!out || ::dup2(STDOUT_FILENO, STDERR_FILENO) < 0) ::_exit(127);
      ::setenv("SLIPWAY_ADMIN_TOKEN", kAdminToken, 1);
      std::string program = slipway.string(), data = data_.string(), config_path = config.string();
      std::vector<char*> argv = {program.data(), const_cast<char*>("serve"), const_cast<char*>("--config"),
                                 config_path.data(), const_cast<char*>("--data-dir"), data.data(),
                                 const_cast<char*>("--log-level"), const_cast<char*>("warn"), nullptr};
      ::execv(program.c_str(), argv.data());
      ::_exit(127);
    }
    // The server prints its address once it listens; wait for it, at most 20 s.
    auto deadline = SteadyClock::now() + std::chrono::seconds(20);
    while (SteadyClock::now() < deadline) {
      auto log = read_file(log_);
      if (log) {
        if (log->find("serving on http://") != std::string::npos) return;
      }
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        throw std::runtime_error("slipway serve exited at start:\n" + (log ? *log : std::string()));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    stop();
    throw std::runtime_error("slipway serve did not report its address within 20 s");
  }

  ~ServerProcess() { stop(); }
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  // SIGTERM, up to 15 s for a graceful stop, then SIGKILL. Returns how it ended.
  std::string stop() {
    if (pid_ <= 0) return "not running";
    ::kill(pid_, SIGTERM);
    auto deadline = SteadyClock::now() + std::chrono::seconds(15);
    int status = 0;
    std::string how;
    while (true) {
      pid_t done = ::waitpid(pid_, &status, WNOHANG);
      if (done == pid_) {
        how = WIFEXITED(status) ? fmt::format("exited {}", WEXITSTATUS(status))
                                : fmt::format("signal {}", WTERMSIG(status));
        break;
      }
      if (SteadyClock::now() > deadline) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
        how = "killed (SIGKILL) after 15 s";
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    pid_ = -1;
    return how;
  }

  int port() const { return port_; }
  fs::path database() const { return data_ / "slipway.db"; }

 private:
  fs::path data_;
  fs::path log_;
  pid_t pid_ = -1;
  int port_ = 0;
};

// A push payload shaped like GitHub's (the server reads ref, before and after).
std::string push_body(const std::string& branch, const std::string& commit, int serial) {
  Json commit_json = {{"id", commit},
                      {"message", fmt::format("bench commit {}", serial)},
                      {"timestamp", "2025-01-01T00:00:00Z"},
                      {"author", {{"name", "Bench"}, {"email", "bench@slipway.invalid"}}},
                      {"added", Json::array()},
                      {"removed", Json::array()},
                      {"modified", {".slipway.yml"}}};
  Json payload = {{"ref", "refs/heads/" + branch},
                  {"before", std::string(40, '0')},
                  {"after", commit},
                  {"created", true},
                  {"deleted", false},
                  {"forced", false},
                  {"compare", "http://127.0.0.1/bench/compare"},
                  {"commits", Json::array({commit_json})},
                  {"head_commit", commit_json},
                  {"repository",
                   {{"id", 1}, {"name", kRepository}, {"full_name", "slipway/bench"}, {"private", true},
                    {"default_branch", "main"}, {"clone_url", "http://127.0.0.1/slipway/bench.git"}}},
                  {"pusher", {{"name", "bench"}, {"email", "bench@slipway.invalid"}}},
                  {"sender", {{"login", "bench"}, {"id", 1}}}};
  return payload.dump();
}

struct Delivery {
  std::string id;
  std::string branch;
  std::string body;
  std::string signature;
};

Delivery make_delivery(const std::string& id, const std::string& branch, const std::string& commit, int serial) {
  Delivery delivery{id, branch, push_body(branch, commit, serial), ""};
  delivery.signature = "sha256=" + hmac_sha256_hex(kSecretValue, delivery.body);
  return delivery;
}

HttpAnswer deliver(HttpClient& client, const Delivery& delivery) {
  return client.request("POST", std::string("/api/v1/webhooks/git/") + kRepository,
                        {{"Content-Type", "application/json"},
                         {"User-Agent", "GitHub-Hookshot/slipway-bench"},
                         {"X-GitHub-Event", "push"},
                         {"X-GitHub-Delivery", delivery.id},
                         {"X-Hub-Signature-256", delivery.signature}},
                        delivery.body);
}

std::string delivery_uuid(const std::string& tag, int serial) {
  return fmt::format("{:08x}-5b1e-4c7d-9a3f-{}{:08d}", static_cast<unsigned>(now_ms() & 0xffffffff), tag, serial);
}

// ---------------------------------------------------------------------------------------------
// 1. Webhook received → first step started.

struct LatencyTimes {
  double total = 0;     // send → first step started
  double answer = 0;    // send → run created (created_ms)
  double wake = 0;      // run created → run started
  double checkout = 0;  // run started → job started (clone, checkout, .slipway.yml, plan)
  double step = 0;      // job started → first step started
  double http_ms = 0;   // the webhook answer's round trip, client-side (µs precision)
};

bool run_latency(const fs::path& slipway, const fs::path& scratch, const fs::path& repository,
                 const std::string& commit) {
  const int measured = int_setting("SLIPWAY_WEBHOOK_BENCH_DELIVERIES", 200);
  const int warmup = 5;
  const std::string executor = setting("SLIPWAY_WEBHOOK_BENCH_EXECUTOR", "host");
  const int concurrency = int_setting("SLIPWAY_WEBHOOK_BENCH_CONCURRENCY", 0);
  ServerProcess server(slipway, scratch / "latency", repository, executor, concurrency);
  HttpClient hooks(server.port());
  HttpClient api(server.port());
  const std::vector<std::pair<std::string, std::string>> auth = {{"Authorization", std::string("Bearer ") + kAdminToken}};

  std::vector<LatencyTimes> times;
  int failures = 0;
  std::string first_failure;
  auto fail = [&](std::string why) {
    ++failures;
    if (first_failure.empty()) first_failure = std::move(why);
  };
  const auto overall_deadline = SteadyClock::now() + std::chrono::seconds(10 + 2 * (measured + warmup));
  for (int i = 0; i < warmup + measured && SteadyClock::now() < overall_deadline; ++i) {
    Delivery delivery = make_delivery(delivery_uuid("a", i), fmt::format("latency/{}", i), commit, i);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // idle: the previous run ended before this
    const int64_t sent_ms = now_ms();
    const auto sent = SteadyClock::now();
    HttpAnswer answer = deliver(hooks, delivery);
    const double http_us = micros_since(sent);
    if (answer.status != 202) {
      fail(fmt::format("delivery {}: {} {}{}", i, answer.status, answer.body, answer.error));
      continue;
    }
    int64_t run_id = Json::parse(answer.body, nullptr, false).value("run", int64_t{0});
    // Follow the run until it has finished (at most 30 s), remembering when its first step began.
    Json run;
    auto deadline = SteadyClock::now() + std::chrono::seconds(30);
    bool finished = false;
    while (SteadyClock::now() < deadline) {
      HttpAnswer shown = api.request("GET", fmt::format("/api/v1/runs/{}", run_id), auth, "");
      if (shown.status == 200) {
        run = Json::parse(shown.body, nullptr, false);
        std::string status = run.value("status", "");
        if (status != "queued" && status != "running") {
          finished = true;
          break;
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    if (!finished) {
      fail(fmt::format("run #{} did not finish within 30 s", run_id));
      continue;
    }
    if (run.value("status", "") != "passed" || run["jobs"].empty() || run["jobs"][0]["steps"].empty()) {
      fail(fmt::format("run #{} ended {}: {}", run_id, run.value("status", ""), run.value("reason", "")));
      continue;
    }
    const Json& job = run["jobs"][0];
    int64_t step_ms = job["steps"][0].value("started_ms", int64_t{0});
    LatencyTimes t;
    t.total = static_cast<double>(step_ms - sent_ms);
    t.answer = static_cast<double>(run.value("created_ms", int64_t{0}) - sent_ms);
    t.wake = static_cast<double>(run.value("started_ms", int64_t{0}) - run.value("created_ms", int64_t{0}));
    t.checkout = static_cast<double>(job.value("started_ms", int64_t{0}) - run.value("started_ms", int64_t{0}));
    t.step = static_cast<double>(step_ms - job.value("started_ms", int64_t{0}));
    t.http_ms = http_us / 1000.0;
    if (i >= warmup) times.push_back(t);
  }
  std::string stopped = server.stop();

  auto column = [&](double LatencyTimes::*field) {
    std::vector<double> values;
    for (const auto& t : times) values.push_back(t.*field);
    return values;
  };
  auto line = [&](const char* name, double LatencyTimes::*field) {
    auto values = column(field);
    fmt::print("  {:<54} p50 {:7.1f} ms   p99 {:7.1f} ms   max {:7.1f} ms\n", name, percentile(values, 0.5),
               percentile(values, 0.99), percentile(values, 1.0));
  };
  double p50 = percentile(column(&LatencyTimes::total), 0.5);
  double p99 = percentile(column(&LatencyTimes::total), 0.99);
  fmt::print("\n== 1. webhook received -> first step started (idle server, {} executor, {} deliveries one at a "
             "time after {} warm-up, each on its own branch) ==\n",
             executor, times.size(), warmup);
  line("webhook received -> first step started", &LatencyTimes::total);
  fmt::print("  breakdown (server timestamps, ms resolution):\n");
  line("  send -> run created (HTTP, HMAC, store, rev-parse)", &LatencyTimes::answer);
  line("  run created -> run started (worker wake-up)", &LatencyTimes::wake);
  line("  run started -> job started (checkout, .slipway.yml)", &LatencyTimes::checkout);
  line("  job started -> first step started", &LatencyTimes::step);
  line("  webhook answer round trip (client, µs clock)", &LatencyTimes::http_ms);
  bool met = failures == 0 && static_cast<int>(times.size()) == measured && p50 <= 50 && p99 <= 200;
  fmt::print("  target p50 <= 50 ms and p99 <= 200 ms: {} (p50 {:.0f} ms, p99 {:.0f} ms); failures: {}{}\n",
             met ? "MET" : "MISSED", p50, p99, failures, first_failure.empty() ? "" : " (first: " + first_failure + ")");
  fmt::print("  server stop: {}\n", stopped);
  return met;
}

// ---------------------------------------------------------------------------------------------
// 2. 200 deliveries a second for 30 s.

struct Sent {
  std::string id;
  std::string branch;
  bool redelivery = false;
  int status = 0;
  int64_t run = 0;
  bool duplicate_flag = false;
  double latency_us = 0;
  double lag_us = 0;  // how late it left, against its slot in the schedule
  std::string error;
};

struct DatabaseFacts {
  std::map<std::string, int64_t> delivery_runs;  // delivery id -> run id
  int64_t delivery_rows = 0;
  std::map<int64_t, std::string> push_runs;  // run id -> branch, trigger = push
  int64_t all_runs = 0;
  std::map<std::string, int> statuses;  // of all runs
  int64_t push_events = 0;
  std::string error;
};

DatabaseFacts read_database(const fs::path& file) {
  DatabaseFacts facts;
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    facts.error = fmt::format("cannot open {} read-only: {}", file.string(), db ? sqlite3_errmsg(db) : "?");
    sqlite3_close(db);
    return facts;
  }
  auto each = [&](const char* sql, auto&& on_row) {
    sqlite3_stmt* statement = nullptr;
    if (sqlite3_prepare_v2(db, sql, -1, &statement, nullptr) != SQLITE_OK) {
      facts.error = sqlite3_errmsg(db);
      return;
    }
    int code = 0;
    while ((code = sqlite3_step(statement)) == SQLITE_ROW) on_row(statement);
    if (code != SQLITE_DONE) facts.error = sqlite3_errmsg(db);
    sqlite3_finalize(statement);
  };
  auto text = [](sqlite3_stmt* s, int column) {
    const unsigned char* value = sqlite3_column_text(s, column);
    return value ? std::string(reinterpret_cast<const char*>(value)) : std::string();
  };
  each("SELECT delivery_id, IFNULL(run_id, 0) FROM webhook_deliveries", [&](sqlite3_stmt* s) {
    ++facts.delivery_rows;
    facts.delivery_runs[text(s, 0)] = sqlite3_column_int64(s, 1);
  });
  each("SELECT id, branch, triggered_by, status FROM runs", [&](sqlite3_stmt* s) {
    ++facts.all_runs;
    ++facts.statuses[text(s, 3)];
    if (text(s, 2) == "push") facts.push_runs[sqlite3_column_int64(s, 0)] = text(s, 1);
  });
  each("SELECT COUNT(*) FROM events WHERE kind = 'push.received'",
       [&](sqlite3_stmt* s) { facts.push_events = sqlite3_column_int64(s, 0); });
  sqlite3_close(db);
  return facts;
}

bool run_intake(const fs::path& slipway, const fs::path& scratch, const fs::path& repository,
                const std::string& commit) {
  const int rate = int_setting("SLIPWAY_WEBHOOK_BENCH_RATE", 200);
  const int seconds = int_setting("SLIPWAY_WEBHOOK_BENCH_SECONDS", 30);
  const int thread_count = std::max(1, int_setting("SLIPWAY_WEBHOOK_BENCH_THREADS", 8));
  const std::string executor = setting("SLIPWAY_WEBHOOK_BENCH_EXECUTOR", "host");
  const int concurrency = int_setting("SLIPWAY_WEBHOOK_BENCH_CONCURRENCY", 1);
  const int total = rate * seconds;
  constexpr int kRedeliveryEvery = 100;  // 1%: a redelivery of an id this thread already had answered

  // Everything is built (and signed) before the clock starts, so the pacing measures the server.
  // Slot k goes to thread k % threads; a redelivery repeats the same thread's delivery 3 slots
  // back (an id whose first copy was answered already), with the same body and signature.
  std::vector<Delivery> deliveries(static_cast<size_t>(total));
  std::vector<Sent> sent(static_cast<size_t>(total));
  for (int k = 0; k < total; ++k) {
    bool redelivery = k % kRedeliveryEvery == kRedeliveryEvery - 1 && k >= 3 * thread_count;
    if (redelivery) {
      int original = k - 3 * thread_count;
      while (sent[static_cast<size_t>(original)].redelivery) original -= thread_count;
      deliveries[static_cast<size_t>(k)] = deliveries[static_cast<size_t>(original)];
    } else {
      deliveries[static_cast<size_t>(k)] =
          make_delivery(delivery_uuid("b", k), fmt::format("intake/{}", k), commit, k);
    }
    sent[static_cast<size_t>(k)].id = deliveries[static_cast<size_t>(k)].id;
    sent[static_cast<size_t>(k)].branch = deliveries[static_cast<size_t>(k)].branch;
    sent[static_cast<size_t>(k)].redelivery = redelivery;
  }

  ServerProcess server(slipway, scratch / "intake", repository, executor, concurrency);
  const auto interval = std::chrono::nanoseconds(1'000'000'000LL / rate);
  const auto start = SteadyClock::now() + std::chrono::milliseconds(100);
  const auto hard_deadline = start + std::chrono::seconds(seconds + 60);  // bounded whatever happens
  std::atomic<bool> out_of_time{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < thread_count; ++t) {
    threads.emplace_back([&, t] {
      HttpClient client(server.port());
      for (int k = t; k < total; k += thread_count) {
        auto slot = start + interval * k;
        std::this_thread::sleep_until(slot);
        if (SteadyClock::now() > hard_deadline) {
          out_of_time = true;
          return;
        }
        Sent& record = sent[static_cast<size_t>(k)];
        auto began = SteadyClock::now();
        record.lag_us = std::chrono::duration<double, std::micro>(began - slot).count();
        HttpAnswer answer = deliver(client, deliveries[static_cast<size_t>(k)]);
        record.latency_us = micros_since(began);
        record.status = answer.status;
        record.error = answer.error.empty() && answer.status != 202 && answer.status != 200 ? answer.body : answer.error;
        Json body = Json::parse(answer.body, nullptr, false);
        if (body.is_object()) {
          record.run = body.value("run", int64_t{0});
          record.duplicate_flag = body.value("duplicate", false);
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  const auto finished = SteadyClock::now();
  std::string stopped = server.stop();
  DatabaseFacts facts = read_database(server.database());

  // The client's view.
  int accepted_new = 0, answered_duplicate = 0, errors = 0, unexpected = 0;
  std::vector<double> latencies, lags;
  std::map<std::string, int64_t> run_of_delivery;  // first copies' answers
  std::map<int64_t, int> deliveries_per_run;
  std::string first_error;
  for (const Sent& record : sent) {
    if (record.status == 0 || record.status >= 400) {
      ++errors;
      if (first_error.empty()) first_error = fmt::format("{} {}", record.status, record.error);
      continue;
    }
    latencies.push_back(record.latency_us / 1000.0);
    lags.push_back(record.lag_us / 1000.0);
    if (record.status == 202 && !record.redelivery && record.run > 0) {
      ++accepted_new;
      run_of_delivery[record.id] = record.run;
      ++deliveries_per_run[record.run];
    } else if (record.status == 200 && record.redelivery && record.duplicate_flag) {
      ++answered_duplicate;
    } else {
      ++unexpected;
      if (first_error.empty()) first_error = fmt::format("unexpected {} for {}", record.status, record.id);
    }
  }
  int unique_sent = 0, redeliveries_sent = 0;
  for (const Sent& record : sent) (record.redelivery ? redeliveries_sent : unique_sent)++;
  double elapsed = std::chrono::duration<double>(finished - start).count();

  // The store's view.
  int missing = 0, wrong_link = 0, extra_rows = 0, runs_without_delivery = 0, wrong_branch = 0;
  int redelivery_wrong_run = 0;
  std::set<std::string> unique_ids;
  for (const Sent& record : sent) {
    if (record.redelivery) continue;
    unique_ids.insert(record.id);
    auto row = facts.delivery_runs.find(record.id);
    if (row == facts.delivery_runs.end()) {
      ++missing;
      continue;
    }
    auto answered = run_of_delivery.find(record.id);
    if (answered != run_of_delivery.end() && row->second != answered->second) ++wrong_link;
    auto run = facts.push_runs.find(row->second);
    if (run == facts.push_runs.end() || run->second != record.branch) ++wrong_branch;
  }
  for (const auto& [id, run] : facts.delivery_runs) {
    if (!unique_ids.count(id)) ++extra_rows;
  }
  std::set<int64_t> linked_runs;
  for (const auto& [id, run] : facts.delivery_runs) linked_runs.insert(run);
  for (const auto& [run, branch] : facts.push_runs) {
    if (!linked_runs.count(run)) ++runs_without_delivery;
  }
  for (const Sent& record : sent) {
    if (!record.redelivery || record.status != 200) continue;
    auto first = run_of_delivery.find(record.id);
    if (first == run_of_delivery.end() || first->second != record.run) ++redelivery_wrong_run;
  }
  int runs_shared = 0;
  for (const auto& [run, count] : deliveries_per_run) runs_shared += count > 1;

  fmt::print("\n== 2. {} webhook deliveries a second for {} s ({} client threads, keep-alive; {} executor, "
             "concurrency {}) ==\n",
             rate, seconds, thread_count, executor, concurrency);
  size_t attempted = 0;
  for (const Sent& record : sent) attempted += record.latency_us > 0;
  fmt::print("  sent {} deliveries in {:.2f} s = {:.1f}/s ({} new ids, {} redeliveries of answered ids){}\n",
             attempted, elapsed, static_cast<double>(attempted) / elapsed,
             unique_sent, redeliveries_sent, out_of_time ? " — STOPPED at the time limit" : "");
  fmt::print("  answers: {} accepted (202 with a run), {} duplicates (200 duplicate:true), {} errors, {} unexpected{}\n",
             accepted_new, answered_duplicate, errors, unexpected,
             first_error.empty() ? "" : " (first: " + first_error + ")");
  fmt::print("  webhook answer latency: p50 {:.2f} ms   p90 {:.2f} ms   p99 {:.2f} ms   max {:.2f} ms\n",
             percentile(latencies, 0.5), percentile(latencies, 0.9), percentile(latencies, 0.99),
             percentile(latencies, 1.0));
  fmt::print("  send lag behind the schedule: p50 {:.2f} ms   p99 {:.2f} ms   max {:.2f} ms\n", percentile(lags, 0.5),
             percentile(lags, 0.99), percentile(lags, 1.0));
  fmt::print("  server stop: {}\n", stopped);
  if (!facts.error.empty()) fmt::print("  store read failed: {}\n", facts.error);
  std::string statuses;
  for (const auto& [status, count] : facts.statuses) statuses += fmt::format("{}{} {}", statuses.empty() ? "" : ", ", count, status);
  fmt::print("  runs in the store after the stop: {} ({})\n", facts.all_runs, statuses);
  struct Check {
    std::string what;
    bool held;
  };
  std::vector<Check> checks = {
      {fmt::format("every delivery answered 202/200: {} of {}", accepted_new + answered_duplicate, total),
       accepted_new + answered_duplicate == total},
      {fmt::format("delivery rows == new ids sent: {} == {}", facts.delivery_rows, unique_sent),
       facts.delivery_rows == unique_sent},
      {fmt::format("no delivery id lost: {} missing", missing), missing == 0},
      {fmt::format("no unknown delivery rows: {} extra", extra_rows), extra_rows == 0},
      {fmt::format("push runs created == accepted new deliveries: {} == {}", facts.push_runs.size(), accepted_new),
       static_cast<int>(facts.push_runs.size()) == accepted_new},
      {fmt::format("each accepted delivery got its own run: {} runs named twice", runs_shared), runs_shared == 0},
      {fmt::format("each delivery row linked to the run its answer named: {} wrong", wrong_link), wrong_link == 0},
      {fmt::format("each run is on its delivery's branch: {} wrong", wrong_branch), wrong_branch == 0},
      {fmt::format("no run without a delivery: {} (runs of any trigger: {})", runs_without_delivery, facts.all_runs),
       runs_without_delivery == 0 && facts.all_runs == static_cast<int64_t>(facts.push_runs.size())},
      {fmt::format("push.received events == new ids: {} == {}", facts.push_events, unique_sent),
       facts.push_events == unique_sent},
      {fmt::format("redeliveries answered 200 duplicate, naming the first run: {} of {} ({} wrong run)",
                   answered_duplicate, redeliveries_sent, redelivery_wrong_run),
       answered_duplicate == redeliveries_sent && redelivery_wrong_run == 0},
      {fmt::format("achieved rate >= 99% of {}/s: {:.1f}/s", rate, static_cast<double>(attempted) / elapsed),
       static_cast<double>(attempted) / elapsed >= 0.99 * rate && attempted == sent.size() && !out_of_time},
  };
  bool all = facts.error.empty();
  for (const Check& check : checks) {
    fmt::print("  [{}] {}\n", check.held ? "ok" : "FAILED", check.what);
    all = all && check.held;
  }
  fmt::print("  all accepted, none lost, none duplicated: {}\n", all ? "YES" : "NO");
  return all;
}

fs::path find_slipway(const std::string& given) {
  if (!given.empty()) return fs::absolute(given);
  if (const char* bin = std::getenv("SLIPWAY_BIN"); bin && *bin) return fs::absolute(bin);
  return fs::canonical("/proc/self/exe").parent_path().parent_path() / "slipway";
}

}  // namespace
}  // namespace slipway

int main(int argc, char** argv) {
  using namespace slipway;
  std::string only, slipway_arg;
  for (int i = 1; i < argc; ++i) {
    std::string argument = argv[i];
    if (argument == "--only" && i + 1 < argc) {
      only = argv[++i];
    } else if (argument == "--slipway" && i + 1 < argc) {
      slipway_arg = argv[++i];
    } else {
      fmt::print(stderr, "usage: webhook_bench [--only latency|intake] [--slipway PATH]\n");
      return 2;
    }
  }
  if (!only.empty() && only != "latency" && only != "intake") {
    fmt::print(stderr, "--only takes latency or intake\n");
    return 2;
  }
  ::signal(SIGPIPE, SIG_IGN);
  try {
    fs::path slipway = find_slipway(slipway_arg);
    if (!fs::exists(slipway)) {
      fmt::print(stderr, "no slipway binary at {}: build it, or pass --slipway PATH\n", slipway.string());
      return 2;
    }
    TemporaryDirectory scratch("slipway-webhook-bench");
    std::string commit = make_noop_repository(scratch.path() / "repo");
    fmt::print("slipway: {}\nrepository: one commit, Test = one suite running `true`\n", slipway.string());
    bool ok = true;
    if (only.empty() || only == "latency") ok = run_latency(slipway, scratch.path(), scratch.path() / "repo", commit) && ok;
    if (only.empty() || only == "intake") ok = run_intake(slipway, scratch.path(), scratch.path() / "repo", commit) && ok;
    return ok ? 0 : 1;
  } catch (const std::exception& error) {
    fmt::print(stderr, "webhook_bench: {}\n", error.what());
    return 2;
  }
}
