// RepositorySpec: the typed form of a repository's .slipway.yml, for all three kinds.
// parse_repository_spec() never throws and never crashes on input: every problem becomes a
// Diagnostic with file:line:col, and a spec is returned only when there are none.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/time.h"
#include "spec/job_limits.h"

namespace slipway {

enum class Kind { application, data_task, library };
std::string_view kind_name(Kind kind);  // "application", "data-task", "library"

// A service is either a command (`run:`, started in the job's sandbox) or a container (`image:`,
// started by Slipway through the Docker Engine in the job's network namespace): exactly one.
struct ServiceSpec {
  std::string name;
  std::string run;                       // started in the background before the suites
  std::string ready;                     // polled until it exits 0; empty: ready at once
  Milliseconds ready_timeout{60'000};    // `ready_timeout:`, default 60s
  std::string image;                     // NAME[:TAG|@DIGEST], a local image or a loopback registry's
  std::map<std::string, std::string> env;  // image services only: the container's environment
};

struct SuiteSpec {
  std::string name;
  std::string run;
  std::string junit;                     // path or glob relative to the workspace; may be empty
  std::optional<Milliseconds> timeout;   // per-suite; falls back to the test timeout
};

struct TestSpec {
  std::string setup;                     // optional, runs first
  std::map<std::string, std::string> env;
  std::vector<ServiceSpec> services;     // in file order
  std::vector<SuiteSpec> suites;         // in file order; at least one
  Milliseconds timeout{30 * 60'000};     // the whole test job
  bool network_none = false;             // `network: none`: loopback only (default: outbound)
  JobLimits limits;                      // `limits:`, lower than the server's; 0: the server's
};

struct ImageSpec {
  std::string dockerfile = "Dockerfile";
  std::string target;                    // optional build stage
  std::string repository;                // image name within each environment's registry
  std::string context = ".";
};

struct DagsSpec {
  std::string from;                      // folder in the repository
  std::string prefix;                    // key prefix in the environment's bucket
};

struct FunctionSpec {
  std::string name;
  std::string from;                      // folder zipped deterministically
};

struct TagSpec {
  std::string bump;                      // "major" | "minor" | "patch" (when version_file empty)
  std::string version_file;              // file holding X.Y.Z, instead of bump
};

struct PublishSpec {
  std::optional<ImageSpec> image;        // application and data-task
  std::optional<DagsSpec> dags;          // data-task only
  std::vector<FunctionSpec> functions;   // data-task only
  std::optional<TagSpec> tag;            // library only
  std::vector<std::string> secrets;      // environment secrets the publish job may read
};

struct HealthSpec {
  std::string path = "/health";
  Milliseconds interval{1000};
  Milliseconds timeout{2000};
  int healthy = 3;                       // consecutive successes before traffic may move
  int unhealthy = 2;                     // consecutive failures that fail the deployment
};

struct DeploySpec {                      // application only
  HealthSpec health;
  Milliseconds bake{30'000};
  Milliseconds drain{10'000};
  int retain = 1;
  std::string verify;                    // optional command run against the test listener
  std::vector<std::string> secrets;
};

struct TaskSpec {                        // data-task only
  std::string name;
  std::vector<std::string> command;
  std::map<std::string, std::string> env;
  std::vector<std::string> secrets;
  std::string image;                     // defaults to publish.image.repository
  double cpus = 0;                       // 0: no limit
  int64_t memory_bytes = 0;              // 0: no limit ("512m", "1g" in the file)
  std::optional<Milliseconds> timeout;
};

struct RepositorySpec {
  Kind kind = Kind::application;
  TestSpec test;
  std::optional<PublishSpec> publish;
  std::optional<DeploySpec> deploy;
  std::vector<TaskSpec> tasks;           // in file order
};

struct Diagnostic {
  std::string file;
  int line = 0;                          // 1-based; 0 when unknown
  int column = 0;                        // 1-based; 0 when unknown
  std::string message;                   // includes "did you mean 'x'?" where one fits
  std::string to_string() const;         // "file:line:col: message"
};

struct ParsedSpec {
  std::optional<RepositorySpec> spec;    // set only when diagnostics is empty
  std::vector<Diagnostic> diagnostics;
  bool ok() const { return spec.has_value(); }
};

// `file_name` is used in diagnostics only (e.g. ".slipway.yml").
ParsedSpec parse_repository_spec(std::string_view yaml_text, std::string_view file_name);

}  // namespace slipway
