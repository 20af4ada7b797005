#include "server/verify_sandbox.h"

#include <fmt/core.h>

#include "base/namespace_forwarder.h"
#include "base/step_environment.h"
#include "ci/executor.h"
#include "ci/job_sandbox.h"

namespace slipway {

namespace {

class JobVerifySandbox : public VerifySandbox {
 public:
  JobVerifySandbox(std::unique_ptr<JobSandbox> sandbox, std::unique_ptr<NamespaceForwarder> forwarder, std::string url)
      : sandbox_(std::move(sandbox)), forwarder_(std::move(forwarder)), url_(std::move(url)) {}
  ~JobVerifySandbox() override {
    forwarder_.reset();  // its connections first, then the namespace goes back to the pool
    sandbox_.reset();
  }
  std::vector<std::string> launch_prefix() const override { return sandbox_->launch({}).argv; }
  ProcessEntry entry() const override { return sandbox_->launch({}).enter; }
  std::string test_url() const override { return url_; }

 private:
  std::unique_ptr<JobSandbox> sandbox_;
  std::unique_ptr<NamespaceForwarder> forwarder_;
  std::string url_;
};

struct ListenAddress {
  std::string host;
  int port = 0;
};

// HOST:PORT of the test listener; the host as the forwarder connects to it (0.0.0.0 and
// localhost are the loopback).
Result<ListenAddress> parse_listen(const std::string& test_listen) {
  size_t colon = test_listen.rfind(':');
  if (colon == std::string::npos) return make_error(fmt::format("the test listener '{}' is not HOST:PORT", test_listen));
  ListenAddress address{test_listen.substr(0, colon), std::atoi(test_listen.c_str() + colon + 1)};
  if (address.port <= 0 || address.port > 65535) {
    return make_error(fmt::format("the test listener '{}' has no valid port", test_listen));
  }
  if (address.host.empty() || address.host == "0.0.0.0" || address.host == "localhost") address.host = "127.0.0.1";
  return address;
}

}  // namespace

VerifySandboxFactory verify_sandbox_factory(const std::filesystem::path& data_dir, const JobLimits& limits) {
  return [data_dir, limits](const std::filesystem::path& home,
                            const std::string& test_listen) -> Result<std::unique_ptr<VerifySandbox>> {
    auto listen = parse_listen(test_listen);
    if (!listen) return listen.error();
    JobSandboxRequest request;
    request.workspace = home;
    request.limits = limits;
    request.uid = ExecutorOptions::kFirstJobUid + kVerifyUidOffset;
    request.hidden_paths = {std::filesystem::absolute(data_dir)};
    if (JobSandbox::full_mode()) {
      // A namespace with its loopback only, where the test listener's port is forwarded.
      request.network_none = true;
      request.shared_network = true;
    } else {
      request.host_network = true;  // without root no namespace can be entered: the host's
    }
    auto sandbox = JobSandbox::open(request);
    if (!sandbox) return sandbox.error();
    std::unique_ptr<NamespaceForwarder> forwarder;
    std::string url = "http://" + test_listen;
    if (std::filesystem::path inside = (*sandbox)->network_namespace(); !inside.empty()) {
      auto started = NamespaceForwarder::start(inside, listen->port, listen->host, listen->port);
      if (!started) return make_error("cannot make the test listener reachable: " + started.error().message);
      forwarder = std::move(*started);
      url = fmt::format("http://127.0.0.1:{}", listen->port);
    }
    return std::unique_ptr<VerifySandbox>(
        std::make_unique<JobVerifySandbox>(std::move(*sandbox), std::move(forwarder), std::move(url)));
  };
}

}  // namespace slipway
