// Incremental HTTP/1.1 request parsing for hello-app. Pure functions over bytes, no sockets, so the
// unit tests can feed it every awkward input without a server.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>

namespace hello {

struct Request {
  std::string method;
  std::string target;   // as sent, e.g. "/health?verbose=1"
  std::string path;     // target without the query string
  std::string version;  // "HTTP/1.1" or "HTTP/1.0"
  std::map<std::string, std::string> headers;  // names lower-cased; repeated names are joined by ", "
  std::string body;

  // The value of header `name` (lower-case), or "" when absent.
  std::string header(std::string_view name) const;
  // Whether the connection may serve another request after this one (HTTP/1.1 default: yes).
  bool keep_alive() const;
};

enum class ParseStatus {
  incomplete,  // more bytes are needed; nothing was consumed
  complete,    // `request` is filled and `consumed` bytes belong to it
  bad,         // malformed: answer 400 and close
  too_large,   // header block over kMaxHeaderBytes: answer 431 and close
  unsupported  // valid but not handled here (chunked request bodies): answer 501 and close
};

struct ParseResult {
  ParseStatus status = ParseStatus::incomplete;
  Request request;
  std::size_t consumed = 0;
};

inline constexpr std::size_t kMaxHeaderBytes = 8 * 1024;
inline constexpr std::size_t kMaxBodyBytes = 64 * 1024;

// Parses the first request in `buffer`. Never throws; a client cannot make it allocate more than
// kMaxHeaderBytes + kMaxBodyBytes.
ParseResult parse_request(std::string_view buffer);

}  // namespace hello
