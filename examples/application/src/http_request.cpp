#include "http_request.h"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace hello {
namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

bool is_token(std::string_view text) {
  // RFC 9110 tchar, enough to reject garbage methods and header names.
  static constexpr std::string_view extra = "!#$%&'*+-.^_`|~";
  return !text.empty() && std::all_of(text.begin(), text.end(), [](unsigned char c) {
    return std::isalnum(c) || extra.find(static_cast<char>(c)) != std::string_view::npos;
  });
}

// Splits "METHOD SP target SP version" into `request`; false when it is not that shape.
bool parse_request_line(std::string_view line, Request& request) {
  const auto first = line.find(' ');
  const auto last = line.rfind(' ');
  if (first == std::string_view::npos || first == last) return false;
  request.method = std::string(line.substr(0, first));
  request.target = std::string(line.substr(first + 1, last - first - 1));
  request.version = std::string(line.substr(last + 1));
  if (!is_token(request.method)) return false;
  if (request.target.empty() || request.target.front() != '/' ||
      request.target.find(' ') != std::string::npos) {
    return false;
  }
  if (request.version != "HTTP/1.1" && request.version != "HTTP/1.0") return false;
  request.path = request.target.substr(0, request.target.find('?'));
  return true;
}

}  // namespace

std::string Request::header(std::string_view name) const {
  auto it = headers.find(std::string(name));
  return it == headers.end() ? std::string() : it->second;
}

bool Request::keep_alive() const {
  const std::string connection = lower(header("connection"));
  if (version == "HTTP/1.0") return connection == "keep-alive";
  return connection != "close";
}

ParseResult parse_request(std::string_view buffer) {
  ParseResult result;
  const auto header_end = buffer.find("\r\n\r\n");
  if (header_end == std::string_view::npos) {
    result.status = buffer.size() > kMaxHeaderBytes ? ParseStatus::too_large
                                                    : ParseStatus::incomplete;
    return result;
  }
  if (header_end > kMaxHeaderBytes) {
    result.status = ParseStatus::too_large;
    return result;
  }

  Request& request = result.request;
  std::string_view head = buffer.substr(0, header_end);
  const auto line_end = head.find("\r\n");
  if (!parse_request_line(head.substr(0, line_end), request)) {
    result.status = ParseStatus::bad;
    return result;
  }

  std::string_view rest = line_end == std::string_view::npos ? "" : head.substr(line_end + 2);
  while (!rest.empty()) {
    const auto end = rest.find("\r\n");
    const std::string_view line = rest.substr(0, end);
    rest = end == std::string_view::npos ? "" : rest.substr(end + 2);
    const auto colon = line.find(':');
    // Obsolete line folding (a line starting with whitespace) is rejected, as RFC 9112 allows.
    if (colon == std::string_view::npos || !is_token(line.substr(0, colon))) {
      result.status = ParseStatus::bad;
      return result;
    }
    std::string name = lower(line.substr(0, colon));
    const std::string_view value = trim(line.substr(colon + 1));
    auto [it, inserted] = request.headers.emplace(name, std::string(value));
    if (!inserted) it->second.append(", ").append(value);
  }

  if (!request.header("transfer-encoding").empty()) {
    result.status = ParseStatus::unsupported;
    return result;
  }

  std::size_t body_length = 0;
  if (const std::string length = request.header("content-length"); !length.empty()) {
    auto [ptr, ec] = std::from_chars(length.data(), length.data() + length.size(), body_length);
    if (ec != std::errc() || ptr != length.data() + length.size()) {
      result.status = ParseStatus::bad;  // also catches "5, 5" from a repeated header
      return result;
    }
    if (body_length > kMaxBodyBytes) {
      result.status = ParseStatus::too_large;
      return result;
    }
  }

  const std::size_t body_start = header_end + 4;
  if (buffer.size() - body_start < body_length) return ParseResult{};  // wait for the body
  request.body = std::string(buffer.substr(body_start, body_length));
  result.consumed = body_start + body_length;
  result.status = ParseStatus::complete;
  return result;
}

}  // namespace hello
