// The server SecretSource: the secret routes of the API (docs/api.md), which need an admin token.
// Answers are read defensively, as in runs_source_server.cpp: a CLI may meet another version.
#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "base/http_client.h"
#include "base/strings.h"
#include "cli/api_client.h"
#include "base/json_fields.h"
#include "cli/secret_source.h"

namespace slipway {
namespace {

using nlohmann::json;

// JSON carries text: a value that is not UTF-8 would arrive altered, so it is refused instead.
Status check_sendable(const SecretValue& secret) {
  if (sanitize_utf8(secret.value) == secret.value) return {};
  return make_error(fmt::format("{}: the value is not UTF-8 text, which the API cannot carry unaltered; set it on the "
                                "server's machine with --data-dir instead",
                                describe_secret(secret.repository, secret.environment, secret.name)));
}

std::string secret_path(const std::string& repository, const std::string& environment, const std::string& name) {
  return fmt::format("/api/v1/secrets/{}/{}/{}", percent_encode(repository), percent_encode(environment), percent_encode(name));
}

std::vector<SecretEntry> entries_of(const json& answer) {
  std::vector<SecretEntry> entries;
  for (const auto& entry : json_list(answer, "secrets")) {
    entries.push_back({json_text(entry, "repository"), json_text(entry, "environment"), json_text(entry, "name"),
                       json_integer(entry, "created_ms"), json_integer(entry, "updated_ms")});
  }
  return entries;
}

class ServerSecretSource : public SecretSource {
 public:
  explicit ServerSecretSource(const std::string& server) : client_(server) {}

  Status set(const SecretValue& secret) override {
    if (Status sendable = check_sendable(secret); !sendable) return sendable;
    auto answer = client_.put(secret_path(secret.repository, secret.environment, secret.name), {{"value", secret.value}});
    if (!answer) return answer.error();
    return {};
  }

  Result<std::vector<SecretEntry>> list(const std::string& repository, const std::string& environment) override {
    std::string query;
    if (!repository.empty()) query += "&repository=" + percent_encode(repository);
    if (!environment.empty()) query += "&environment=" + percent_encode(environment);
    if (!query.empty()) query[0] = '?';
    auto answer = client_.get("/api/v1/secrets" + query);
    if (!answer) return answer.error();
    return entries_of(*answer);
  }

  // The API answers 404 for an absent secret; rather than read that from the error's text, a
  // failed DELETE is followed by a look at the list: absent there means "nothing to remove".
  Result<bool> remove(const std::string& repository, const std::string& environment, const std::string& name) override {
    auto deleted = client_.remove(secret_path(repository, environment, name));
    if (deleted) return true;
    auto present = list(repository, environment);
    if (!present) return deleted.error();
    for (const auto& entry : *present) {
      if (entry.name == name) return deleted.error();
    }
    return false;
  }

  Status set_server(const std::string& name, const std::string& value) override {
    std::string scope(kServerScope);
    if (Status sendable = check_sendable({scope, scope, name, value}); !sendable) return sendable;
    auto answer = client_.put("/api/v1/server-secrets/" + percent_encode(name), {{"value", value}});
    if (!answer) return answer.error();
    return {};
  }

  Result<std::vector<SecretEntry>> list_server() override {
    auto answer = client_.get("/api/v1/server-secrets");
    if (!answer) return answer.error();
    return entries_of(*answer);
  }

  // As remove(): an absent one is told from a failure by a look at the list.
  Result<bool> remove_server(const std::string& name) override {
    auto deleted = client_.remove("/api/v1/server-secrets/" + percent_encode(name));
    if (deleted) return true;
    auto present = list_server();
    if (!present) return deleted.error();
    for (const auto& entry : *present) {
      if (entry.name == name) return deleted.error();
    }
    return false;
  }

  Result<std::vector<SecretAction>> apply(const std::vector<SecretValue>& desired, bool dry_run) override {
    json secrets = json::array();
    for (const auto& secret : desired) {
      if (Status sendable = check_sendable(secret); !sendable) return sendable.error();
      secrets.push_back({{"repository", secret.repository}, {"environment", secret.environment},
                         {"name", secret.name}, {"value", secret.value}});
    }
    auto answer = client_.post("/api/v1/secrets/apply", {{"secrets", secrets}, {"dry_run", dry_run}});
    if (!answer) return answer.error();
    std::vector<SecretAction> actions;
    for (const auto& action : json_list(*answer, "actions")) {
      actions.push_back({json_text(action, "repository"), json_text(action, "environment"), json_text(action, "name"),
                         json_text(action, "action")});
    }
    return actions;
  }

 private:
  ApiClient client_;
};

}  // namespace

std::unique_ptr<SecretSource> server_secret_source(const std::string& server) {
  return std::make_unique<ServerSecretSource>(server);
}

}  // namespace slipway
