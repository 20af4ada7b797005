#include "server/verify_sandbox.h"

#include "base/step_environment.h"
#include "ci/executor.h"
#include "ci/job_sandbox.h"

namespace slipway {

namespace {

class JobVerifySandbox : public VerifySandbox {
 public:
  explicit JobVerifySandbox(std::unique_ptr<JobSandbox> sandbox) : sandbox_(std::move(sandbox)) {}
  std::vector<std::string> launch_prefix() const override { return sandbox_->launch({}).argv; }
  ProcessEntry entry() const override { return sandbox_->launch({}).enter; }

 private:
  std::unique_ptr<JobSandbox> sandbox_;
};

}  // namespace

VerifySandboxFactory verify_sandbox_factory(const std::filesystem::path& data_dir, const JobLimits& limits) {
  return [data_dir, limits](const std::filesystem::path& home) -> Result<std::unique_ptr<VerifySandbox>> {
    std::filesystem::path bwrap = find_program("bwrap");
    if (bwrap.empty()) {
      return make_error("deploy.verify runs in a sandbox, which needs bubblewrap (`bwrap`): install the bubblewrap package");
    }
    JobSandboxRequest request;
    request.workspace = home;
    request.shared_network = false;
    request.host_network = true;
    request.limits = limits;
    request.uid = ExecutorOptions::kFirstJobUid + kVerifyUidOffset;
    request.hidden_paths = {std::filesystem::absolute(data_dir)};
    auto sandbox = JobSandbox::open(bwrap, request);
    if (!sandbox) return sandbox.error();
    return std::unique_ptr<VerifySandbox>(std::make_unique<JobVerifySandbox>(std::move(*sandbox)));
  };
}

}  // namespace slipway
