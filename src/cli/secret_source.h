// SecretSource: where `slipway secret` keeps secrets — this machine's data directory (the store
// and its master key, opened directly) or a running server's API — so one set of commands and
// views serves both. Values go in; only names and times come out.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "store/secret_store.h"

namespace slipway {

class SecretSource {
 public:
  virtual ~SecretSource() = default;
  virtual Status set(const SecretValue& secret) = 0;
  virtual Result<std::vector<SecretEntry>> list(const std::string& repository, const std::string& environment) = 0;
  // False when there was no such secret.
  virtual Result<bool> remove(const std::string& repository, const std::string& environment, const std::string& name) = 0;
  // SecretStore::apply, here or on the server.
  virtual Result<std::vector<SecretAction>> apply(const std::vector<SecretValue>& desired, bool dry_run) = 0;
  // The server's own secrets (webhook keys; SecretStore::*_server), never given to a job.
  virtual Status set_server(const std::string& name, const std::string& value) = 0;
  virtual Result<std::vector<SecretEntry>> list_server() = 0;
  virtual Result<bool> remove_server(const std::string& name) = 0;  // false when there was none
};

// The server's data directory `data_dir` (which must exist: `slipway serve` makes it) with its
// master key (store/master_key.h; `master_key_variable`: what $SLIPWAY_MASTER_KEY held at start).
// Errors: no such directory, the store, the master key.
Result<std::unique_ptr<SecretSource>> local_secret_source(const std::filesystem::path& data_dir,
                                                          const std::optional<std::string>& master_key_variable);
// A server's secrets through its API, with $SLIPWAY_TOKEN (an admin's); errors surface on the
// first request.
std::unique_ptr<SecretSource> server_secret_source(const std::string& server);

}  // namespace slipway
