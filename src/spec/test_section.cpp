// The `test:` section: setup, env, services, suites, timeout, network.
#include <fmt/core.h>

#include "spec/image_reference.h"
#include "spec/spec_sections.h"

namespace slipway {
namespace {

// A suite or service is named by its key, and may be written as a plain command: `unit: make
// test` means `unit: { run: make test }`. Names `spec` and, for the short form, reads its `run`;
// true when that was the whole entry.
template <typename Spec>
bool read_short_form(SpecReader& reader, const Field& field, Spec& spec) {
  spec.name = field.name;
  if (!field.value.IsScalar()) return false;
  assign(spec.run, reader.non_empty_string(field));
  return true;
}

SuiteSpec read_suite(SpecReader& reader, const Field& field) {
  SuiteSpec suite;
  if (read_short_form(reader, field, suite)) return suite;
  auto mapping = reader.mapping(field, {"run", "junit", "timeout"});
  if (!mapping) return suite;
  if (auto* run = reader.require(*mapping, "run", "the command that runs the suite")) {
    assign(suite.run, reader.non_empty_string(*run));
  }
  if (auto* junit = mapping->find("junit")) assign(suite.junit, reader.workspace_path(*junit));
  if (auto* timeout = mapping->find("timeout")) {
    if (auto value = reader.duration(*timeout)) suite.timeout = *value;
  }
  return suite;
}

// `image:` is checked here, not when the job starts: a typo is a file:line:col diagnostic.
void read_service_image(SpecReader& reader, const Field& image, ServiceSpec& service) {
  auto text = reader.non_empty_string(image);
  if (!text) return;
  if (auto reference = parse_image_name(*text); !reference) {
    reader.report(image.value, fmt::format("'{}': {}", image.path, reference.error().message));
    return;
  }
  service.image = std::move(*text);
}

ServiceSpec read_service(SpecReader& reader, const Field& field) {
  ServiceSpec service;
  if (read_short_form(reader, field, service)) return service;
  auto mapping = reader.mapping(field, {"run", "image", "env", "ready", "ready_timeout"});
  if (!mapping) return service;
  const Field* run = mapping->find("run");
  const Field* image = mapping->find("image");
  if (run && image) {
    reader.report_key(*image, fmt::format("'{}' has both 'run' and 'image': a service is either a command "
                                          "(run) or a container (image), not both",
                                          field.path));
  } else if (!run && !image) {
    reader.report_key(field, fmt::format("'{}' is missing 'run' or 'image': 'run' is a command started in the "
                                         "job's sandbox, 'image' a container (e.g. 'image: postgres:13')",
                                         field.path));
  }
  if (run) assign(service.run, reader.non_empty_string(*run));
  if (image) read_service_image(reader, *image, service);
  if (auto* env = mapping->find("env")) {
    if (!image) {
      reader.report_key(*env, fmt::format("'{}' is for image services: a 'run' service gets the test's env",
                                          env->path));
    }
    assign(service.env, reader.variables(*env));
  }
  if (auto* ready = mapping->find("ready")) assign(service.ready, reader.string(*ready));
  if (auto* timeout = mapping->find("ready_timeout")) assign(service.ready_timeout, reader.duration(*timeout));
  return service;
}

std::vector<SuiteSpec> read_suites(SpecReader& reader, const Mapping& test) {
  const Field* field = reader.require(test, "suites", "add at least one suite, e.g. 'suites: { unit: make test }'");
  if (!field) return {};
  auto suites = reader.named_mapping(*field, "suite", NameRule::job_name);
  if (!suites) return {};
  if (field->value.size() == 0) {  // not when every suite was dropped for a bad name
    reader.report_key(*field, "'test.suites' is empty: add at least one suite, e.g. 'unit: make test'");
  }
  std::vector<SuiteSpec> result;
  for (const auto& entry : suites->entries) result.push_back(read_suite(reader, entry));
  return result;
}

std::vector<ServiceSpec> read_services(SpecReader& reader, const Field& field) {
  std::vector<ServiceSpec> result;
  if (auto services = reader.named_mapping(field, "service", NameRule::job_name)) {
    for (const auto& entry : services->entries) result.push_back(read_service(reader, entry));
  }
  return result;
}

}  // namespace

TestSpec read_test_section(SpecReader& reader, const Field& field) {
  TestSpec test;
  auto mapping = reader.mapping(field, {"setup", "env", "services", "suites", "timeout", "network", "limits"});
  if (!mapping) return test;
  if (auto* setup = mapping->find("setup")) assign(test.setup, reader.non_empty_string(*setup));
  if (auto* env = mapping->find("env")) assign(test.env, reader.variables(*env));
  if (auto* services = mapping->find("services")) test.services = read_services(reader, *services);
  test.suites = read_suites(reader, *mapping);
  if (auto* timeout = mapping->find("timeout")) assign(test.timeout, reader.duration(*timeout));
  if (auto* network = mapping->find("network")) {
    // "host", the earlier name of outbound, is still read as outbound: steps never share the
    // host's network any more.
    bool earlier_name = network->value.IsScalar() && network->value.Scalar() == "host";
    if (auto mode = earlier_name ? std::optional<std::string>("outbound") : reader.choice(*network, "network", {"outbound", "none"})) {
      test.network_none = *mode == "none";
    }
  }
  if (auto* limits = mapping->find("limits")) test.limits = read_job_limits(reader, *limits);
  return test;
}

JobLimits read_job_limits(SpecReader& reader, const Field& field) {
  JobLimits limits;
  auto mapping = reader.mapping(field, {"memory", "pids", "tmp", "cpus"});
  if (!mapping) return limits;
  if (auto* memory = mapping->find("memory")) assign(limits.memory_bytes, reader.memory_size(*memory));
  if (auto* pids = mapping->find("pids")) {
    if (auto count = reader.integer(*pids, 1)) limits.pids = *count;
  }
  if (auto* tmp = mapping->find("tmp")) assign(limits.tmp_bytes, reader.memory_size(*tmp));
  if (auto* cpus = mapping->find("cpus")) assign(limits.cpus, reader.positive_number(*cpus));
  return limits;
}

}  // namespace slipway
