// NamespaceForwarder: one TCP port of the host, made reachable inside a network namespace that
// otherwise has only its loopback — what deploy.verify needs (the test listener) and all it gets,
// instead of the host's whole network namespace with every loopback service and abstract Unix
// socket of the host.
//
// It listens on 127.0.0.1:`port` inside the namespace (a socket made by a short-lived thread that
// joined the namespace; the socket stays there after the thread leaves) and relays each
// connection to `target` in the server's own namespace, bytes both ways, until either side
// closes. One thread serves every connection; the destructor closes them all.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "base/result.h"

namespace slipway {

class NamespaceForwarder {
 public:
  // `network_namespace`: /proc/PID/ns/net or a network_namespace_path (base/network_namespace.h);
  // `target_host`/`target_port`: where connections go.
  static Result<std::unique_ptr<NamespaceForwarder>> start(const std::filesystem::path& network_namespace,
                                                           int listen_port, const std::string& target_host,
                                                           int target_port);
  ~NamespaceForwarder();
  NamespaceForwarder(const NamespaceForwarder&) = delete;
  NamespaceForwarder& operator=(const NamespaceForwarder&) = delete;

 private:
  struct Impl;
  explicit NamespaceForwarder(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace slipway
