// The client half of bench/peers.sh: triggers no-op runs on Laminar or on `slipway serve` and
// times them from inside one process, so that neither figure includes starting a client program
// (laminarc or curl). bench/peers.sh compiles it against Cap'n Proto and Laminar's own schema
// (generated from the source snapshot in ../shared/peers/, never copied into this repository);
// it is not part of the CMake build, which has no Cap'n Proto.
//
//   peers_client laminar ADDRESS JOB latency N   N runs one after another: each RPC `run`
//                                                 (queue, start, wait for the result) timed;
//                                                 prints one line per run: "MS"
//   peers_client laminar ADDRESS JOB batch N     N RPC `run`s sent at once on one connection;
//                                                 prints "SECONDS" from the first send to the
//                                                 last result
//   peers_client slipway URL TOKEN REPO latency N   N manual runs one after another: POST
//                                                 /api/v1/repositories/REPO/trigger, then GET
//                                                 /api/v1/runs/ID every POLL_US µs (default 500)
//                                                 until it has finished; prints "MS SERVER_MS",
//                                                 SERVER_MS being the run's finished_ms − created_ms
//   peers_client slipway URL TOKEN REPO batch N  N triggers sent one after another on one
//                                                 keep-alive connection, then the runs polled
//                                                 until all have finished; prints "SECONDS"
//
// A run that does not succeed, or an answer that is not understood, ends the program with a
// message and exit status 1. Every wait is bounded (PEERS_CLIENT_TIMEOUT_S, default 120 s).
#include <curl/curl.h>

#include <capnp/ez-rpc.h>
#include <kj/async.h>
#include <kj/vector.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "laminar.capnp.h"

namespace {

using Clock = std::chrono::steady_clock;
using Json = nlohmann::json;

double milliseconds_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

Clock::time_point deadline_from_now() {
  const char* seconds = std::getenv("PEERS_CLIENT_TIMEOUT_S");
  return Clock::now() + std::chrono::seconds(seconds ? std::atoi(seconds) : 120);
}

// --- Laminar: its Cap'n Proto RPC, as laminarc speaks it ------------------------------------

void laminar_latency(const char* address, const char* job, int count) {
  capnp::EzRpcClient client(address);
  LaminarCi::Client laminar = client.getMain<LaminarCi>();
  for (int i = 0; i < count; ++i) {
    auto start = Clock::now();
    auto request = laminar.runRequest();
    request.setJobName(job);
    auto answer = request.send().wait(client.getWaitScope());
    double elapsed = milliseconds_since(start);
    if (answer.getResult() != LaminarCi::JobResult::SUCCESS) {
      throw std::runtime_error("laminar: run " + std::to_string(answer.getBuildNum()) + " of '" + job + "' did not succeed");
    }
    std::printf("%.3f\n", elapsed);
  }
}

void laminar_batch(const char* address, const char* job, int count) {
  capnp::EzRpcClient client(address);
  LaminarCi::Client laminar = client.getMain<LaminarCi>();
  int succeeded = 0;
  auto start = Clock::now();
  kj::Vector<kj::Promise<void>> results;
  for (int i = 0; i < count; ++i) {
    auto request = laminar.runRequest();
    request.setJobName(job);
    results.add(request.send().then([&succeeded](capnp::Response<LaminarCi::RunResults> answer) {
      if (answer.getResult() == LaminarCi::JobResult::SUCCESS) ++succeeded;
    }));
  }
  kj::joinPromises(results.releaseAsArray()).wait(client.getWaitScope());
  double elapsed = milliseconds_since(start) / 1000;
  if (succeeded != count) {
    throw std::runtime_error("laminar: " + std::to_string(count - succeeded) + " of " + std::to_string(count) + " runs did not succeed");
  }
  std::printf("%.4f\n", elapsed);
}

// --- Slipway: its HTTP API on one keep-alive connection --------------------------------------

size_t collect(char* data, size_t size, size_t count, void* into) {
  static_cast<std::string*>(into)->append(data, size * count);
  return size * count;
}

class SlipwayApi {
 public:
  SlipwayApi(std::string url, const std::string& token) : url_(std::move(url)), curl_(curl_easy_init()) {
    headers_ = curl_slist_append(headers_, ("Authorization: Bearer " + token).c_str());
    headers_ = curl_slist_append(headers_, "Content-Type: application/json");
    curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, headers_);
    curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(curl_, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(curl_, CURLOPT_TIMEOUT, 30L);
  }
  ~SlipwayApi() {
    curl_slist_free_all(headers_);
    curl_easy_cleanup(curl_);
  }

  // Queues a manual run of REPO's main branch; its id.
  long trigger(const std::string& repository) {
    Json answer = request("/api/v1/repositories/" + repository + "/trigger", "{}", 201);
    return answer.at("id").get<long>();
  }
  Json run(long id) { return request("/api/v1/runs/" + std::to_string(id), nullptr, 200); }
  Json runs(const std::string& repository, int limit) {
    return request("/api/v1/runs?repository=" + repository + "&limit=" + std::to_string(limit), nullptr, 200);
  }

 private:
  Json request(const std::string& path, const char* post_body, long expected) {
    std::string body;
    std::string target = url_ + path;
    curl_easy_setopt(curl_, CURLOPT_URL, target.c_str());
    curl_easy_setopt(curl_, CURLOPT_WRITEDATA, &body);
    if (post_body) {
      curl_easy_setopt(curl_, CURLOPT_POSTFIELDS, post_body);
    } else {
      curl_easy_setopt(curl_, CURLOPT_HTTPGET, 1L);
    }
    CURLcode code = curl_easy_perform(curl_);
    if (code != CURLE_OK) throw std::runtime_error("slipway: " + target + ": " + curl_easy_strerror(code));
    long status = 0;
    curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &status);
    if (status != expected) throw std::runtime_error("slipway: " + target + " answered " + std::to_string(status) + ": " + body);
    return Json::parse(body);
  }

  std::string url_;
  CURL* curl_;
  curl_slist* headers_ = nullptr;
};

bool finished(const Json& run) {
  const std::string status = run.at("status").get<std::string>();
  if (status == "queued" || status == "running") return false;
  if (status != "passed") {
    throw std::runtime_error("slipway: run " + std::to_string(run.at("id").get<long>()) + " " + status + ": " + run.value("reason", ""));
  }
  return true;
}

std::chrono::microseconds poll_interval() {
  const char* micros = std::getenv("POLL_US");
  return std::chrono::microseconds(micros ? std::atoi(micros) : 500);
}

void slipway_latency(SlipwayApi& api, const std::string& repository, int count) {
  for (int i = 0; i < count; ++i) {
    auto start = Clock::now();
    auto deadline = deadline_from_now();
    long id = api.trigger(repository);
    Json run = api.run(id);
    while (!finished(run)) {
      if (Clock::now() > deadline) throw std::runtime_error("slipway: run " + std::to_string(id) + " did not finish in time");
      std::this_thread::sleep_for(poll_interval());
      run = api.run(id);
    }
    double elapsed = milliseconds_since(start);
    std::printf("%.3f %ld\n", elapsed, run.at("finished_ms").get<long>() - run.at("created_ms").get<long>());
  }
}

void slipway_batch(SlipwayApi& api, const std::string& repository, int count) {
  auto start = Clock::now();
  auto deadline = deadline_from_now();
  std::vector<long> ids;
  for (int i = 0; i < count; ++i) ids.push_back(api.trigger(repository));
  // Runs start first in, first out, so the last one queued is among the last to finish; then
  // one listing confirms that every run of the batch has.
  auto all_finished = [&] {
    if (!finished(api.run(ids.back()))) return false;
    Json listed = api.runs(repository, count);
    int done = 0;
    for (const Json& run : listed.at("runs")) {
      long id = run.at("id").get<long>();
      if (id >= ids.front() && id <= ids.back() && finished(run)) ++done;
    }
    return done == count;
  };
  while (!all_finished()) {
    if (Clock::now() > deadline) throw std::runtime_error("slipway: the batch did not finish in time");
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  std::printf("%.4f\n", milliseconds_since(start) / 1000);
}

int usage() {
  std::fprintf(stderr,
               "usage: peers_client laminar ADDRESS JOB latency|batch N\n"
               "       peers_client slipway URL TOKEN REPO latency|batch N\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) try {
  std::string server = argc > 1 ? argv[1] : "";
  if (server == "laminar" && argc == 6) {
    std::string mode = argv[4];
    int count = std::atoi(argv[5]);
    if (mode == "latency") laminar_latency(argv[2], argv[3], count);
    else if (mode == "batch") laminar_batch(argv[2], argv[3], count);
    else return usage();
    return 0;
  }
  if (server == "slipway" && argc == 7) {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    SlipwayApi api(argv[2], argv[3]);
    std::string mode = argv[5];
    int count = std::atoi(argv[6]);
    if (mode == "latency") slipway_latency(api, argv[4], count);
    else if (mode == "batch") slipway_batch(api, argv[4], count);
    else return usage();
    return 0;
  }
  return usage();
} catch (const std::exception& error) {
  std::fprintf(stderr, "peers_client: %s\n", error.what());
  return 1;
} catch (const kj::Exception& error) {
  std::fprintf(stderr, "peers_client: laminar: %s\n", error.getDescription().cStr());
  return 1;
}
