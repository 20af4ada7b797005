// ApiClient: the CLI's side of the server's HTTP API (docs/api.md), over base's HttpClient. The server is
// `--server`, else $SLIPWAY_SERVER, else http://127.0.0.1:7700; the token is $SLIPWAY_TOKEN.
// Every failure is an Error a user can act on: the server is unreachable (is it running?), the
// token was refused (set SLIPWAY_TOKEN), or the server's own {"error": ...} message.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "base/http_client.h"
#include "base/result.h"

namespace slipway {

// Commands that wait on the server (`deploy --wait`, `task run --wait`, `task logs --follow`)
// ask again every kPollInterval, and ride out up to kPollFailuresTolerated failed asks in a row:
// about 10 s of an unreachable server, which is what a restart takes.
inline constexpr std::chrono::milliseconds kPollInterval{500};
inline constexpr int kPollFailuresTolerated = 20;

inline constexpr std::string_view kDefaultServer = "http://127.0.0.1:7700";

// The server a command should talk to: `flag` when given, else $SLIPWAY_SERVER, else "" (the
// caller decides whether that means the default server or local data).
std::string server_from_environment(const std::string& flag);

class ApiClient {
 public:
  // `server` "" means the default; `token` "" means $SLIPWAY_TOKEN.
  explicit ApiClient(std::string server = "", std::string token = "");

  const std::string& server() const { return server_; }

  // `path` starts with "/api/v1/..." and carries its query string (see query_value()).
  Result<nlohmann::json> get(const std::string& path) const;
  Result<nlohmann::json> post(const std::string& path, const nlohmann::json& body) const;
  Result<nlohmann::json> put(const std::string& path, const nlohmann::json& body) const;
  Result<nlohmann::json> remove(const std::string& path) const;  // DELETE

  // Follows a Server-Sent Events stream, calling `on_event(event, data)` for each event until it
  // returns false or the server ends the stream.
  Status follow(const std::string& path,
                const std::function<bool(std::string_view event, std::string_view data)>& on_event) const;

 private:
  struct Answer {
    long status = 0;
    std::string body;
  };
  Result<Answer> request(const std::string& method, const std::string& path, const std::string* body) const;
  HttpClientRequest request_to(const std::string& method, const std::string& path, std::string_view accept) const;
  Result<nlohmann::json> json_answer(const Answer& answer) const;

  std::string server_;
  std::string token_;
};

}  // namespace slipway
