// Server: everything `slipway serve` runs, assembled — the store, the run queue (with its
// recovery and poller), API authentication, the routes (API, webhooks, metrics, web UI) and the
// HTTP server. start() brings them up in that order; stop() takes them down in reverse: the
// queue first (no new work starts), then the HTTP server.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "base/result.h"
#include "ci/run_executor.h"
#include "server/disk_usage.h"
#include "spec/server_config.h"

namespace slipway {

struct ServerOptions {
  DataDirectory data;
  ServerConfig config;                 // config.listen is where it listens
  std::string admin_token;             // $SLIPWAY_ADMIN_TOKEN; "" = generate one when none exists
  std::optional<std::string> master_key_variable;  // $SLIPWAY_MASTER_KEY; nullopt = DATA/master.key
  int http_threads = 0;                // 0: the number of cores (at least 2)
};

class Server {
 public:
  explicit Server(ServerOptions options);
  ~Server();  // stop()s

  // Returns a newly generated admin token to print once, or "" when none was generated. The data
  // directory is made (or forced) 0700, the database and its -wal and -shm 0600. Errors: the data
  // directory or store cannot be opened, an admin token shorter than 32 characters, the address
  // cannot be bound, recovery failed.
  Result<std::string> start();
  std::string address() const;         // as bound, e.g. "127.0.0.1:7700"
  DiskUsage disk_usage() const;        // the data directory's size, measured at start()
  void stop();                         // idempotent

  struct Impl;
 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace slipway
