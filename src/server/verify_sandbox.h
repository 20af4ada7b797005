// verify_sandbox_factory: where the server runs `deploy.verify` — the CI's job sandbox
// (ci/job_sandbox.h: an unprivileged uid of its own, no capabilities, the minimal file system
// without the data directory, the job limits), except that it keeps the host's network
// namespace, because the command's whole purpose is to reach the test listener on the host's
// loopback (docs/security.md says what that leaves reachable).
#pragma once

#include <filesystem>

#include "cd/verify_command.h"
#include "spec/job_limits.h"

namespace slipway {

// The uid verify commands run as: beside, never among, the run queue's workers' uids.
inline constexpr uint32_t kVerifyUidOffset = 1000;

VerifySandboxFactory verify_sandbox_factory(const std::filesystem::path& data_dir, const JobLimits& limits);

}  // namespace slipway
