// verify_sandbox_factory: where the server runs `deploy.verify` — the CI's job sandbox
// (ci/job_sandbox.h: an unprivileged uid of its own, no capabilities, the minimal file system
// without the data directory, the job limits) with a network namespace of its own that has only
// its loopback, where the test listener's port is forwarded (base/namespace_forwarder.h): the
// command reaches the new version through $SLIPWAY_TEST_URL (http://127.0.0.1:PORT) and nothing
// else of the host — no other loopback service, no abstract Unix socket. Without root no
// namespace can be entered, and it keeps the host's network (docs/security.md).
#pragma once

#include <filesystem>

#include "cd/verify_command.h"
#include "spec/job_limits.h"

namespace slipway {

// The uid verify commands run as: beside, never among, the run queue's workers' uids.
inline constexpr uint32_t kVerifyUidOffset = 1000;

VerifySandboxFactory verify_sandbox_factory(const std::filesystem::path& data_dir, const JobLimits& limits);

}  // namespace slipway
