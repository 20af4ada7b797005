// DockerApi: the transport every Docker Engine client shares — requests to API v1.41 over the
// Engine's unix socket, a daemon that does not answer turned into an Error saying how to start
// one, and an HTTP error from the daemon turned into an Error quoting its {"message": ...}.
#pragma once

#include <string>
#include <string_view>

#include "base/http_client.h"
#include "base/result.h"

namespace slipway {

class DockerApi {
 public:
  explicit DockerApi(std::string socket_path = "/var/run/docker.sock");

  // A request for "http://localhost/v1.41" + path_and_query over the socket; the caller adds a
  // body, headers, timeouts or a body callback.
  HttpClientRequest request(std::string method, std::string_view path_and_query) const;

  // Sends it on a connection of its own (so one DockerApi may be shared between threads). Only a
  // transport failure is an Error ("no Docker Engine answers at ..."); any HTTP status is not.
  Result<HttpClientResponse> send(const HttpClientRequest& request) const;

  // "<what>: the Docker Engine at <socket> answered <METHOD> <path> with <status>: <message>",
  // where the message is the daemon's JSON "message" or else the start of the body.
  Error daemon_error(const HttpClientRequest& request, const HttpClientResponse& response,
                     std::string_view what) const;

  // The daemon's own words in an error body: its "message", else the body's first 500 bytes.
  static std::string daemon_message(std::string_view body);

  const std::string& socket_path() const { return socket_path_; }

 private:
  std::string socket_path_;
};

}  // namespace slipway
