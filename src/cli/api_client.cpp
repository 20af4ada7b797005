#include "cli/api_client.h"

#include <cstdlib>
#include <mutex>

#include <curl/curl.h>
#include <fmt/core.h>

#include "base/strings.h"

namespace slipway {
namespace {

void initialise_curl_once() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::string environment(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "";
}

// The SSE parser's state: a partial event across writes.
struct EventStream {
  const std::function<bool(std::string_view, std::string_view)>* on_event;
  std::string buffer;
  std::string event, data;
  bool stopped = false;

  // Handles each complete line in `buffer`; an empty line ends an event.
  void consume() {
    size_t newline;
    while (!stopped && (newline = buffer.find('\n')) != std::string::npos) {
      std::string line = buffer.substr(0, newline);
      buffer.erase(0, newline + 1);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.empty()) {
        if (!data.empty() || !event.empty()) stopped = !(*on_event)(event.empty() ? "message" : event, data);
        event.clear();
        data.clear();
      } else if (starts_with(line, "event:")) {
        event = std::string(trim(std::string_view(line).substr(6)));
      } else if (starts_with(line, "data:")) {
        std::string_view value = std::string_view(line).substr(5);
        if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
        if (!data.empty()) data += '\n';
        data += value;
      }  // comments (":") and other fields are ignored, as the SSE format says
    }
  }
};

size_t append_body(char* bytes, size_t size, size_t count, void* target) {
  static_cast<std::string*>(target)->append(bytes, size * count);
  return size * count;
}

size_t feed_stream(char* bytes, size_t size, size_t count, void* target) {
  auto* stream = static_cast<EventStream*>(target);
  stream->buffer.append(bytes, size * count);
  stream->consume();
  return stream->stopped ? 0 : size * count;  // 0 makes curl stop the transfer
}

std::string unreachable(const std::string& server, CURLcode code) {
  std::string why = code == CURLE_COULDNT_CONNECT ? "connection refused" : curl_easy_strerror(code);
  return fmt::format("cannot reach the Slipway server at {}: {} (is `slipway serve` running? set SLIPWAY_SERVER)",
                     server, why);
}

}  // namespace

std::string server_from_environment(const std::string& flag) {
  return flag.empty() ? environment("SLIPWAY_SERVER") : flag;
}

ApiClient::ApiClient(std::string server, std::string token)
    : server_(server.empty() ? std::string(kDefaultServer) : std::move(server)),
      token_(token.empty() ? environment("SLIPWAY_TOKEN") : std::move(token)) {
  while (!server_.empty() && server_.back() == '/') server_.pop_back();
  if (server_.find("://") == std::string::npos) server_ = "http://" + server_;
}

Result<ApiClient::Answer> ApiClient::request(const std::string& method, const std::string& path,
                                             const std::string* body) const {
  initialise_curl_once();
  CURL* curl = curl_easy_init();
  if (!curl) return make_error("could not start an HTTP request (libcurl failed to initialise)");
  Answer answer;
  std::string url = server_ + path;
  struct curl_slist* headers = curl_slist_append(nullptr, "Accept: application/json");
  std::string authorization = "Authorization: Bearer " + token_;
  if (!token_.empty()) headers = curl_slist_append(headers, authorization.c_str());
  if (body) headers = curl_slist_append(headers, "Content-Type: application/json");
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 120'000L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, append_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &answer.body);
  if (body) {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body->data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body->size()));
  }
  CURLcode code = curl_easy_perform(curl);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &answer.status);
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  if (code != CURLE_OK) return make_error(unreachable(server_, code));
  return answer;
}

Result<nlohmann::json> ApiClient::json_answer(const Answer& answer) const {
  nlohmann::json body = nlohmann::json::parse(answer.body, nullptr, false);
  if (answer.status == 401) {
    if (token_.empty()) return make_error("the server needs a token (401): set SLIPWAY_TOKEN");
    return make_error("the server refused the token (401): set SLIPWAY_TOKEN");
  }
  if (answer.status >= 400) {
    std::string message = body.is_object() && body.contains("error") && body["error"].is_string()
                              ? body["error"].get<std::string>()
                              : fmt::format("HTTP {}", answer.status);
    return make_error(fmt::format("{} ({})", message, answer.status));
  }
  if (body.is_discarded()) {
    return make_error(fmt::format("the server at {} did not answer with JSON: is SLIPWAY_SERVER a Slipway "
                                  "server?", server_));
  }
  return body;
}

Result<nlohmann::json> ApiClient::get(const std::string& path) const {
  auto answer = request("GET", path, nullptr);
  if (!answer) return answer.error();
  return json_answer(*answer);
}

Result<nlohmann::json> ApiClient::post(const std::string& path, const nlohmann::json& body) const {
  std::string text = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  auto answer = request("POST", path, &text);
  if (!answer) return answer.error();
  return json_answer(*answer);
}

Result<nlohmann::json> ApiClient::put(const std::string& path, const nlohmann::json& body) const {
  std::string text = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  auto answer = request("PUT", path, &text);
  if (!answer) return answer.error();
  return json_answer(*answer);
}

Result<nlohmann::json> ApiClient::remove(const std::string& path) const {
  auto answer = request("DELETE", path, nullptr);
  if (!answer) return answer.error();
  return json_answer(*answer);
}

Status ApiClient::follow(const std::string& path,
                         const std::function<bool(std::string_view, std::string_view)>& on_event) const {
  initialise_curl_once();
  CURL* curl = curl_easy_init();
  if (!curl) return make_error("could not start an HTTP request (libcurl failed to initialise)");
  EventStream stream{&on_event, {}, {}, {}};
  std::string url = server_ + path;
  struct curl_slist* headers = curl_slist_append(nullptr, "Accept: text/event-stream");
  std::string authorization = "Authorization: Bearer " + token_;
  if (!token_.empty()) headers = curl_slist_append(headers, authorization.c_str());
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_FAILONERROR, 1L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, feed_stream);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &stream);
  CURLcode code = curl_easy_perform(curl);
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  if (stream.stopped || code == CURLE_OK) return {};
  if (code == CURLE_HTTP_RETURNED_ERROR) {
    if (status == 401) return make_error("the server refused the token (401): set SLIPWAY_TOKEN");
    return make_error(fmt::format("the server answered {} to {}", status, path));
  }
  return make_error(unreachable(server_, code));
}

}  // namespace slipway
