#include "base/http_client.h"

#include <strings.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>

#include <fmt/core.h>

#include "base/curl_library.h"
#include "base/strings.h"

namespace slipway {

namespace {

bool same_name(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

// What a transfer needs while curl runs it: the response being filled and the body source.
struct Transfer {
  const HttpClientRequest* request = nullptr;
  HttpClientResponse* response = nullptr;
  FILE* body_file = nullptr;
  int64_t file_remaining = 0;
  size_t string_offset = 0;
  bool aborted = false;
};

size_t on_header(char* bytes, size_t size, size_t count, void* target) {
  auto* transfer = static_cast<Transfer*>(target);
  std::string_view line(bytes, size * count);
  // A new status line (after a redirect or a "100 Continue") starts a fresh set of headers.
  if (starts_with(line, "HTTP/")) transfer->response->headers.items.clear();
  size_t colon = line.find(':');
  if (colon != std::string_view::npos) {
    transfer->response->headers.add(std::string(trim(line.substr(0, colon))),
                                    std::string(trim(line.substr(colon + 1))));
  }
  return size * count;
}

size_t on_body(char* bytes, size_t size, size_t count, void* target) {
  auto* transfer = static_cast<Transfer*>(target);
  std::string_view chunk(bytes, size * count);
  if (transfer->request->on_body) {
    if (!transfer->request->on_body(chunk)) {
      transfer->aborted = true;
      return 0;  // makes curl stop the transfer
    }
  } else {
    transfer->response->body.append(chunk);
  }
  return chunk.size();
}

size_t on_read(char* buffer, size_t size, size_t count, void* target) {
  auto* transfer = static_cast<Transfer*>(target);
  size_t room = size * count;
  const HttpClientRequest& request = *transfer->request;
  if (request.body_stream) return request.body_stream(buffer, room);
  if (transfer->body_file) {
    size_t wanted = static_cast<size_t>(std::min<int64_t>(static_cast<int64_t>(room), transfer->file_remaining));
    size_t got = std::fread(buffer, 1, wanted, transfer->body_file);
    transfer->file_remaining -= static_cast<int64_t>(got);
    return got;
  }
  size_t left = request.body.size() - transfer->string_offset;
  size_t n = std::min(left, room);
  std::memcpy(buffer, request.body.data() + transfer->string_offset, n);
  transfer->string_offset += n;
  return n;
}

// Opens the request's body file at its range; sets the upload size curl announces.
Status open_body_file(const HttpClientRequest& request, Transfer& transfer, curl_off_t& size) {
  transfer.body_file = std::fopen(request.body_file.c_str(), "rb");
  if (!transfer.body_file) return make_error(fmt::format("cannot read {} to send it", request.body_file.string()));
  std::error_code error;
  auto file_size = static_cast<int64_t>(std::filesystem::file_size(request.body_file, error));
  if (error || request.body_offset > file_size) {
    return make_error(fmt::format("cannot send {} from byte {}: the file is shorter", request.body_file.string(),
                                  request.body_offset));
  }
  std::fseek(transfer.body_file, static_cast<long>(request.body_offset), SEEK_SET);
  int64_t length = request.body_length < 0 ? file_size - request.body_offset : request.body_length;
  if (request.body_offset + length > file_size) {
    return make_error(fmt::format("cannot send {} bytes of {} from byte {}: the file is shorter", length,
                                  request.body_file.string(), request.body_offset));
  }
  transfer.file_remaining = length;
  size = length;
  return {};
}

// The body: none for GET/HEAD/DELETE without one; otherwise a sized upload, or chunked when
// streamed. Returns the list of extra headers curl needs (they must outlive the transfer).
Status configure_body(const CurlLibrary& lib, CURL* curl, const HttpClientRequest& request, Transfer& transfer) {
  bool has_body = !request.body.empty() || !request.body_file.empty() || request.body_stream;
  if (!has_body && request.method != "POST" && request.method != "PUT" && request.method != "PATCH") return {};
  curl_off_t size = static_cast<curl_off_t>(request.body.size());
  if (!request.body_file.empty()) {
    if (auto opened = open_body_file(request, transfer, size); !opened) return opened;
  }
  lib.easy_setopt(curl, CURLOPT_UPLOAD, 1L);
  lib.easy_setopt(curl, CURLOPT_READFUNCTION, on_read);
  lib.easy_setopt(curl, CURLOPT_READDATA, &transfer);
  if (!request.body_stream) lib.easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, size);
  return {};
}

curl_slist* header_list(const CurlLibrary& lib, const HttpClientRequest& request) {
  curl_slist* list = nullptr;
  for (const auto& [name, value] : request.headers.items) {
    std::string line = value.empty() ? name + ";" : name + ": " + value;  // "Name;" sends an empty header
    list = lib.slist_append(list, line.c_str());
  }
  // curl would otherwise wait for "100 Continue" before large uploads: a round trip per chunk.
  if (!request.headers.has("Expect")) list = lib.slist_append(list, "Expect:");
  if (!request.body_stream && !request.headers.has("Transfer-Encoding")) {
    list = lib.slist_append(list, "Transfer-Encoding:");
  }
  return list;
}

// A network-level failure is `unavailable` (or `timeout`), with the short reason as its cause;
// anything else (a refused certificate, an aborted transfer) is `internal`.
ErrorKind transport_kind(CURLcode code) {
  switch (code) {
    case CURLE_OPERATION_TIMEDOUT:
      return ErrorKind::timeout;
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
      return ErrorKind::unavailable;
    default:
      return ErrorKind::internal;
  }
}

Error transport_error(const CurlLibrary& lib, const HttpClientRequest& request, CURLcode code, const char* detail,
                      long os_errno = 0) {
  std::string where = request.unix_socket.empty() ? request.url : request.url + " (socket " + request.unix_socket + ")";
  std::string why = *detail ? detail : lib.easy_strerror(code);
  // curl 7.88 says "Couldn't connect to server" for every failed connect; the system's reason
  // ("Connection refused") is what a user can act on, so it ends the message in parentheses
  // and is the cause.
  std::string cause = os_errno != 0 ? std::strerror(static_cast<int>(os_errno)) : why;
  if (os_errno != 0) why += fmt::format(" ({})", cause);
  ErrorKind kind = transport_kind(code);
  return make_error(kind, fmt::format("{} {}: {}", request.method, where, why),
                    kind == ErrorKind::internal ? "" : std::move(cause));
}

}  // namespace

void HttpHeaders::set(std::string name, std::string value) {
  std::erase_if(items, [&](const auto& item) { return same_name(item.first, name); });
  items.emplace_back(std::move(name), std::move(value));
}

void HttpHeaders::add(std::string name, std::string value) { items.emplace_back(std::move(name), std::move(value)); }

std::string HttpHeaders::get(std::string_view name) const {
  for (const auto& [key, value] : items) {
    if (same_name(key, name)) return value;
  }
  return "";
}

bool HttpHeaders::has(std::string_view name) const {
  for (const auto& item : items) {
    if (same_name(item.first, name)) return true;
  }
  return false;
}

namespace {

// Everything but the body: where to, how long to wait, the method, and where the answer goes.
// Returns the --connect-to list, which must outlive the transfer.
curl_slist* configure_transfer(const CurlLibrary& lib, CURL* curl, const HttpClientRequest& request, Transfer& transfer,
                               char* error_detail) {
  lib.easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  lib.easy_setopt(curl, CURLOPT_ERRORBUFFER, error_detail);
  lib.easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  lib.easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(request.connect_timeout.count()));
  if (request.timeout.count() > 0) lib.easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout.count()));
  if (request.stall_timeout.count() > 0) {
    lib.easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
    lib.easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, static_cast<long>(std::max<int64_t>(1, request.stall_timeout.count() / 1000)));
  }
  if (!request.unix_socket.empty()) lib.easy_setopt(curl, CURLOPT_UNIX_SOCKET_PATH, request.unix_socket.c_str());
  if (!request.ca_file.empty()) lib.easy_setopt(curl, CURLOPT_CAINFO, request.ca_file.c_str());
  if (!request.ca_directory.empty()) lib.easy_setopt(curl, CURLOPT_CAPATH, request.ca_directory.c_str());
  if (request.ignore_proxy_environment) lib.easy_setopt(curl, CURLOPT_PROXY, "");
  curl_slist* connect_to = nullptr;
  if (!request.connect_to.empty()) {
    connect_to = lib.slist_append(nullptr, ("::" + request.connect_to).c_str());
    lib.easy_setopt(curl, CURLOPT_CONNECT_TO, connect_to);
  }
  if (request.method == "HEAD") {
    lib.easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else if (request.method != "GET") {
    lib.easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }
  lib.easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
  lib.easy_setopt(curl, CURLOPT_HEADERDATA, &transfer);
  lib.easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
  lib.easy_setopt(curl, CURLOPT_WRITEDATA, &transfer);
  return connect_to;
}

}  // namespace

HttpClient::HttpClient() : curl_(nullptr) {}

HttpClient::~HttpClient() {
  if (curl_) (*curl_library())->easy_cleanup(static_cast<CURL*>(curl_));  // loaded: curl_ exists
}

Result<HttpClientResponse> HttpClient::send(const HttpClientRequest& request) {
  // A unix socket that is not there cannot answer. Said here, as the connect would have said it,
  // so that a server without a Docker Engine never loads libcurl just to learn that at start.
  if (!request.unix_socket.empty() && ::access(request.unix_socket.c_str(), F_OK) != 0) {
    std::string cause = std::strerror(errno);
    return make_error(ErrorKind::unavailable,
                      fmt::format("{} {} (socket {}): cannot connect ({})", request.method, request.url,
                                  request.unix_socket, cause),
                      cause);
  }
  Result<const CurlLibrary*> loaded = curl_library();
  if (!loaded) return loaded.error();
  const CurlLibrary& lib = **loaded;
  if (!curl_) curl_ = lib.easy_init();
  CURL* curl = static_cast<CURL*>(curl_);
  if (!curl) return make_error("cannot start an HTTP client (curl_easy_init failed)");
  lib.easy_reset(curl);  // keeps the connection cache, drops the previous request's options
  HttpClientResponse response;
  Transfer transfer;
  transfer.request = &request;
  transfer.response = &response;
  char error_detail[CURL_ERROR_SIZE] = "";
  curl_slist* connect_to = configure_transfer(lib, curl, request, transfer, error_detail);
  Status body = configure_body(lib, curl, request, transfer);
  curl_slist* headers = header_list(lib, request);
  lib.easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  CURLcode code = body ? lib.easy_perform(curl) : CURLE_OK;
  lib.easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
  lib.slist_free_all(headers);
  lib.slist_free_all(connect_to);
  if (transfer.body_file) std::fclose(transfer.body_file);
  if (!body) return body.error();
  if (transfer.aborted) return transport_error(lib, request, code, "aborted by the receiver");
  long os_errno = 0;
  lib.easy_getinfo(curl, CURLINFO_OS_ERRNO, &os_errno);
  if (code != CURLE_OK) return transport_error(lib, request, code, error_detail, os_errno);
  return response;
}

std::string percent_encode(std::string_view value, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(value.size());
  for (unsigned char c : value) {
    bool unreserved = std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~';
    if (unreserved || (keep_slash && c == '/')) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace slipway
