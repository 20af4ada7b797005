// Server: everything `slipway serve` runs, assembled — the store, the run queue (with its
// recovery and poller), API authentication, the routes (API, webhooks, metrics, web UI) and the
// HTTP server. start() brings them up in that order; stop() takes them down in reverse: the
// queue first (no new work starts), then the HTTP server.
#pragma once

#include <memory>
#include <string>

#include "base/result.h"
#include "ci/local_run.h"
#include "spec/server_config.h"

namespace slipway {

struct ServerOptions {
  DataDirectory data;
  ServerConfig config;                 // config.listen is where it listens
  std::string admin_token;             // $SLIPWAY_ADMIN_TOKEN; "" = generate one when none exists
  int http_threads = 0;                // 0: the number of cores (at least 2)
};

class Server {
 public:
  explicit Server(ServerOptions options);
  ~Server();  // stop()s

  // Returns a newly generated admin token to print once, or "" when none was generated. Errors:
  // the data directory or store cannot be opened, the address cannot be bound, recovery failed.
  Result<std::string> start();
  std::string address() const;         // as bound, e.g. "127.0.0.1:7700"
  void stop();                         // idempotent

  struct Impl;
 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace slipway
