// The log target: a step printing 1 GB in 100-byte lines with 100 secrets registered
// must be logged at 200 MB/s or more, with the process's peak RSS at most 64 MB.
//
// Output arrives the way a pipe delivers it, in 64 KiB pieces that cut lines (and now and then
// secrets) anywhere. Lines are varied: build-log words, numbers, a little UTF-8, and one line
// in 40 carries a secret or its base64. Afterwards a sample of the chunk files (first, middle,
// last) is checked for every form of every secret.
//
// SLIPWAY_LOG_BENCH_BYTES sets the volume (default 1000000000); the disk needs about 1.3× that.
#include <sys/resource.h>

#include <chrono>
#include <cstdlib>
#include <random>

#include <benchmark/benchmark.h>
#include <fmt/core.h>

#include "base/files.h"
#include "base/mask_automaton.h"
#include "base/secret_forms.h"
#include "ci/log_format.h"
#include "ci/step_log.h"

namespace slipway {
namespace {

constexpr size_t kLineBytes = 100;           // 99 characters and '\n'
constexpr size_t kPoolLines = 40'000;        // 4 MB of distinct lines, cycled
constexpr size_t kPipeBytes = 64 * 1024;
constexpr size_t kSecrets = 100;

uint64_t bench_bytes() {
  const char* text = std::getenv("SLIPWAY_LOG_BENCH_BYTES");
  return text ? std::strtoull(text, nullptr, 10) : 1'000'000'000ull;
}

double peak_rss_mb() {
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB on Linux
}

std::vector<std::string> make_secrets(std::mt19937& random) {
  static const std::string alphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_/+=";
  std::vector<std::string> secrets;
  for (size_t i = 0; i < kSecrets; ++i) {
    std::string secret(16 + random() % 25, ' ');
    for (char& c : secret) c = alphabet[random() % alphabet.size()];
    secrets.push_back(secret);
  }
  return secrets;
}

std::string make_line(std::mt19937& random, const std::vector<std::string>& secrets, size_t index) {
  static const std::vector<std::string> words = {
      "[INFO]", "[WARN]", "compiling", "src/server/http_api.cpp", "linking", "test", "passed", "ok",
      "ms", "PASS", "FAIL", "-", "=>", "Downloading", "crate", "npm", "warn", "deprecated", "café",
      "✓", "step", "{\"level\":\"debug\"}", "0x7ffd", "GET /health 200", "retrying", "cache hit"};
  std::string line;
  if (index % 40 == 7) {
    const auto& secret = secrets[random() % secrets.size()];
    line = random() % 2 ? "token=" + secret + " " : "auth: Basic " + base64_forms(secret)[0] + " ";
  }
  while (line.size() < kLineBytes - 1) {
    line += random() % 3 == 0 ? std::to_string(random() % 100000) : words[random() % words.size()];
    line += ' ';
  }
  // Trim to 99 bytes without splitting a UTF-8 character, padding with spaces.
  size_t cut = kLineBytes - 1;
  while ((static_cast<unsigned char>(line[cut]) & 0xC0) == 0x80) --cut;
  line.resize(cut);
  line.resize(kLineBytes - 1, ' ');
  return line + '\n';
}

std::string make_pool(const std::vector<std::string>& secrets) {
  std::mt19937 random(2024);
  std::string pool;
  pool.reserve(kPoolLines * kLineBytes);
  for (size_t i = 0; i < kPoolLines; ++i) pool += make_line(random, secrets, i);
  return pool;
}

// Feeds `total` bytes from the pool in pipe-sized pieces, wrapping around its end.
void feed(StepLog& log, std::string_view pool, uint64_t total) {
  size_t at = 0;
  for (uint64_t sent = 0; sent < total;) {
    size_t size = std::min<uint64_t>({kPipeBytes, pool.size() - at, total - sent});
    log.on_output(OutputStream::out, pool.substr(at, size));
    sent += size;
    at = (at + size) % pool.size();
  }
}

// True when no form of any secret appears in the first, middle and last chunk: running the
// same masker over the written text must find nothing left to mask.
bool sample_is_clean(const std::filesystem::path& directory, const SecretMasker& masker, std::string& problem) {
  auto chunks = list_log_chunks(directory);
  if (!chunks || chunks->empty()) {
    problem = "no chunk files written";
    return false;
  }
  for (size_t index : {size_t{0}, chunks->size() / 2, chunks->size() - 1}) {
    auto content = read_file((*chunks)[index].path);
    if (!content) {
      problem = content.error().message;
      return false;
    }
    if (masker.mask(*content) != *content) {
      problem = fmt::format("{}: a secret survived masking", (*chunks)[index].path.string());
      return false;
    }
    if (content->find("***") == std::string::npos) {
      problem = fmt::format("{}: no masked secret found at all", (*chunks)[index].path.string());
      return false;
    }
  }
  return true;
}

void BM_StepLogThroughput(benchmark::State& state) {
  std::mt19937 random(1);
  auto secrets = make_secrets(random);
  auto build_start = std::chrono::steady_clock::now();
  auto masker = std::make_shared<const SecretMasker>(secrets);
  double build_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - build_start).count();
  std::string pool = make_pool(secrets);
  uint64_t total = bench_bytes();
  TemporaryDirectory directory("slipway-log-bench");
  double seconds = 0;
  uint64_t lines = 0;

  for (auto _ : state) {
    auto start = std::chrono::steady_clock::now();
    auto log = StepLog::create(directory.path(), masker, nullptr);
    if (!log) {
      state.SkipWithError(log.error().message.c_str());
      return;
    }
    feed(**log, pool, total);
    if (auto closed = (*log)->close(); !closed) {
      state.SkipWithError(closed.error().message.c_str());
      return;
    }
    seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    lines = (*log)->line_count();
  }

  double mb_per_s = static_cast<double>(total) / 1e6 / seconds;
  double rss = peak_rss_mb();
  state.SetBytesProcessed(static_cast<int64_t>(total));
  state.counters["MB_per_s"] = mb_per_s;
  state.counters["peak_rss_MB"] = rss;
  state.counters["lines"] = static_cast<double>(lines);
  fmt::print("log throughput: {:.0f} MB in {:.2f} s = {:.1f} MB/s, peak RSS {:.1f} MB, {} lines, "
             "masker: {} states, built in {:.0f} ms\n",
             static_cast<double>(total) / 1e6, seconds, mb_per_s, rss, lines,
             masker->automaton().state_count(), build_ms);
  std::string problem;
  if (!sample_is_clean(directory.path(), *masker, problem)) state.SkipWithError(problem.c_str());
}

BENCHMARK(BM_StepLogThroughput)->Iterations(1)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace slipway

BENCHMARK_MAIN();
