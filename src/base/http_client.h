// HttpClient: one HTTP request at a time over libcurl, for every outbound protocol Slipway
// speaks (the Docker Engine API on its unix socket, OCI registries, S3, chat webhooks).
// Bodies can be strings or file ranges (uploads never load a layer into memory) and answers can
// be streamed to a callback. A transport failure (refused, timed out, reset) is an Error whose
// message names the URL and what curl said; an HTTP error status is NOT an Error: the caller
// reads `status` and decides, because what a 404 means depends on the protocol. libcurl itself is
// loaded at the first request (base/curl_library.h): a process that sends none never maps it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "base/time.h"

namespace slipway {

// Header names compare case-insensitively; stored as sent/received.
struct HttpHeaders {
  std::vector<std::pair<std::string, std::string>> items;
  void set(std::string name, std::string value);   // replaces any header of that name
  void add(std::string name, std::string value);
  // The first value of `name` (case-insensitive), or "".
  std::string get(std::string_view name) const;
  bool has(std::string_view name) const;
};

struct HttpClientRequest {
  std::string method = "GET";
  std::string url;                      // http://host:port/path?query (for a unix socket too)
  HttpHeaders headers;
  std::string body;                     // used unless body_file is set
  std::filesystem::path body_file;      // upload [body_offset, body_offset + body_length)
  int64_t body_offset = 0;
  int64_t body_length = -1;             // -1: to the end of the file
  // Streams the body instead (chunked transfer): called until it returns 0 bytes. It gets a
  // buffer and its size and returns how many bytes it wrote there.
  std::function<size_t(char* buffer, size_t size)> body_stream;
  std::string unix_socket;              // connect to this socket instead of the URL's host
  std::string connect_to;               // "host:port" to connect to instead of the URL's (the
                                        // Host header stays the URL's): virtual-host addressing
  // TLS trust. Empty: curl's defaults (the system's CAs). A forge with a private CA gives its
  // ca_file and, as ca_directory, an empty folder, so that no other CA is trusted.
  std::string ca_file;
  std::string ca_directory;
  // The environment's proxy variables are not used (a forge is reached as its git reaches it).
  bool ignore_proxy_environment = false;
  Milliseconds connect_timeout{5'000};
  Milliseconds timeout{0};              // the whole transfer; 0: none
  // A transfer that moves no byte for this long is abandoned ("stalled"), so a peer that hangs
  // can never hold a job forever even when no overall timeout fits (a long build's output).
  Milliseconds stall_timeout{120'000};
  // Streams the answer's body instead of collecting it in HttpClientResponse::body. Return false to
  // abort the transfer (the request then fails with "aborted").
  std::function<bool(std::string_view chunk)> on_body;
};

struct HttpClientResponse {
  long status = 0;
  HttpHeaders headers;
  std::string body;                     // empty when on_body consumed it
};

// Thread-compatible: one object per thread, reused for keep-alive between requests.
class HttpClient {
 public:
  HttpClient();
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  Result<HttpClientResponse> send(const HttpClientRequest& request);

 private:
  void* curl_;  // CURL*, made at the first request (libcurl loads then); kept for connection reuse
};

// Percent-encodes per RFC 3986 (unreserved characters stay); `keep_slash` for URL paths.
std::string percent_encode(std::string_view value, bool keep_slash = false);

}  // namespace slipway
