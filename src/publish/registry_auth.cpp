#include "publish/registry_auth.h"

#include <algorithm>
#include <cctype>

#include <fmt/core.h>

#include <nlohmann/json.hpp>

#include "base/crypto.h"
#include "base/strings.h"
#include "base/time.h"
#include "publish/registry_errors.h"

namespace slipway {

namespace {

// RFC 7230 tchar: what a scheme, a parameter name or an unquoted value is made of.
bool is_tchar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}
bool is_token68_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || std::string_view("-._~+/").find(c) != std::string_view::npos;
}

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// A cursor over the header value; each read either advances or leaves the position alone.
class ChallengeReader {
 public:
  explicit ChallengeReader(std::string_view text) : text_(text) {}

  bool at_end() const { return position_ >= text_.size(); }
  size_t position() const { return position_; }
  char peek() const { return at_end() ? '\0' : text_[position_]; }
  void skip_spaces() {
    while (!at_end() && (peek() == ' ' || peek() == '\t')) ++position_;
  }
  void skip_spaces_and_commas() {
    while (!at_end() && (peek() == ' ' || peek() == '\t' || peek() == ',')) ++position_;
  }
  std::string_view read_token() {
    size_t start = position_;
    while (!at_end() && is_tchar(peek())) ++position_;
    return text_.substr(start, position_ - start);
  }

  // True when the text at the cursor is `name BWS "=" BWS value`: a parameter, not a token68
  // ("abc==") and not the next challenge's scheme.
  bool parameter_ahead() const {
    size_t i = position_;
    while (i < text_.size() && is_tchar(text_[i])) ++i;
    if (i == position_) return false;
    while (i < text_.size() && (text_[i] == ' ' || text_[i] == '\t')) ++i;
    if (i >= text_.size() || text_[i] != '=') return false;
    ++i;
    while (i < text_.size() && (text_[i] == ' ' || text_[i] == '\t')) ++i;
    return i < text_.size() && (text_[i] == '"' || is_tchar(text_[i]));
  }

  // name=value with the value a token or a quoted string (backslash escapes anything).
  Status read_parameter(std::string& name, std::string& value) {
    name = lower(read_token());
    skip_spaces();
    ++position_;  // '=', checked by parameter_ahead
    skip_spaces();
    if (peek() != '"') {
      value = std::string(read_token());
      return {};
    }
    size_t opening = position_++;
    value.clear();
    while (!at_end() && peek() != '"') {
      if (peek() == '\\' && position_ + 1 < text_.size()) ++position_;
      value += text_[position_++];
    }
    if (at_end()) return make_error(fmt::format("the quoted value of '{}' opened at position {} never closes", name, opening));
    ++position_;
    return {};
  }

  std::string_view read_token68() {
    size_t start = position_;
    while (!at_end() && is_token68_char(peek())) ++position_;
    while (!at_end() && peek() == '=') ++position_;
    return text_.substr(start, position_ - start);
  }

 private:
  std::string_view text_;
  size_t position_ = 0;
};

Error challenge_error(std::string_view header, std::string_view why) {
  return make_error(fmt::format("cannot read the registry's WWW-Authenticate header '{}': {}", header, why));
}

// One challenge's parameters (or token68), up to the next challenge's scheme.
Status read_challenge_body(ChallengeReader& reader, AuthChallenge& challenge) {
  reader.skip_spaces();
  if (!reader.parameter_ahead() && reader.peek() != ',' && !reader.at_end()) {
    challenge.token68 = std::string(reader.read_token68());
    return {};
  }
  while (true) {
    reader.skip_spaces_and_commas();
    if (!reader.parameter_ahead()) return {};
    std::string name;
    std::string value;
    if (Status read = reader.read_parameter(name, value); !read) return read;
    challenge.params[name] = value;
    reader.skip_spaces();
    if (!reader.at_end() && reader.peek() != ',') {
      return make_error(fmt::format("unexpected '{}' after parameter '{}' at position {}", reader.peek(), name,
                                    reader.position()));
    }
  }
}

// "repository:dev/app:pull,push" -> ("repository:dev/app", {"pull", "push"}). The name may hold
// colons (a registry host with a port), so the actions are what follows the last one.
std::pair<std::string, std::vector<std::string>> split_scope(const std::string& scope) {
  size_t colon = scope.rfind(':');
  if (colon == std::string::npos) return {scope, {}};
  return {scope.substr(0, colon), split(scope.substr(colon + 1), ',')};
}

// True when one of `scopes` names the same resource with at least the actions of `wanted`: the
// registry lists actions in no fixed order ("push,pull").
bool scope_covered(const std::string& wanted, const std::vector<std::string>& scopes) {
  auto [resource, actions] = split_scope(wanted);
  for (const auto& scope : scopes) {
    auto [other_resource, other_actions] = split_scope(scope);
    if (other_resource != resource) continue;
    bool all = std::all_of(actions.begin(), actions.end(), [&](const std::string& action) {
      return std::find(other_actions.begin(), other_actions.end(), action) != other_actions.end();
    });
    if (all) return true;
  }
  return false;
}

std::string scope_key(const std::vector<std::string>& scopes) {
  std::vector<std::string> sorted = scopes;
  std::sort(sorted.begin(), sorted.end());
  return join(sorted, " ");
}

}  // namespace

std::string AuthChallenge::param(const std::string& name) const {
  auto found = params.find(name);
  return found == params.end() ? "" : found->second;
}

Result<std::vector<AuthChallenge>> parse_www_authenticate(std::string_view header) {
  std::vector<AuthChallenge> challenges;
  ChallengeReader reader(header);
  reader.skip_spaces_and_commas();
  while (!reader.at_end()) {
    AuthChallenge challenge;
    challenge.scheme = lower(reader.read_token());
    if (challenge.scheme.empty()) {
      return challenge_error(header, fmt::format("expected an authentication scheme at position {}", reader.position()));
    }
    if (!reader.at_end() && reader.peek() != ' ' && reader.peek() != '\t' && reader.peek() != ',') {
      return challenge_error(header, fmt::format("unexpected '{}' after the scheme '{}'", reader.peek(), challenge.scheme));
    }
    if (Status body = read_challenge_body(reader, challenge); !body) return challenge_error(header, body.error().message);
    challenges.push_back(std::move(challenge));
    reader.skip_spaces_and_commas();
  }
  if (challenges.empty()) return challenge_error(header, "it holds no challenge");
  return challenges;
}

std::string repository_scope(std::string_view repository, std::string_view actions) {
  return fmt::format("repository:{}:{}", repository, actions);
}

Result<std::string> token_request_url(const AuthChallenge& challenge, const std::vector<std::string>& scopes,
                                      std::string_view account) {
  std::string realm = challenge.param("realm");
  if (realm.empty()) return make_error("the registry's Bearer challenge names no realm (token service URL)");
  std::vector<std::string> all = scopes;
  // The challenge's scope may be space-separated several; ask for those we did not already.
  for (const auto& scope : split(challenge.param("scope"), ' ')) {
    if (!scope.empty() && !scope_covered(scope, all)) all.push_back(scope);
  }
  std::vector<std::string> query;
  if (!challenge.param("service").empty()) query.push_back("service=" + percent_encode(challenge.param("service")));
  for (const auto& scope : all) query.push_back("scope=" + percent_encode(scope));
  if (!account.empty()) query.push_back("account=" + percent_encode(account));
  if (query.empty()) return realm;
  return realm + (realm.find('?') == std::string::npos ? "?" : "&") + join(query, "&");
}

Result<BearerToken> parse_token_response(std::string_view body, int64_t now_ms) {
  auto json = nlohmann::json::parse(body, nullptr, false);
  if (!json.is_object()) return make_error("the token service did not answer a JSON object");
  BearerToken token;
  for (const char* field : {"token", "access_token"}) {
    if (json.contains(field) && json[field].is_string() && !json[field].get<std::string>().empty()) {
      token.token = json[field].get<std::string>();
      break;
    }
  }
  if (token.token.empty()) return make_error("the token service's answer has no \"token\" (nor \"access_token\")");
  int64_t expires_in = 60;  // the spec's default, also its minimum
  if (json.contains("expires_in") && json["expires_in"].is_number_integer()) {
    // Never shorter than 10 s: authorization() stops using a token 5 s before it expires.
    expires_in = std::max<int64_t>(json["expires_in"].get<int64_t>(), 10);
  }
  token.expires_at_ms = now_ms + expires_in * 1000;
  return token;
}

RegistryAuth::RegistryAuth(std::string registry, RegistryCredentials credentials, ClockMs clock)
    : registry_(std::move(registry)), credentials_(std::move(credentials)), clock_(clock ? std::move(clock) : ClockMs(now_ms)) {}

std::string RegistryAuth::basic_value() const {
  return "Basic " + to_base64(credentials_.username + ":" + credentials_.password);
}

std::string RegistryAuth::authorization(const std::vector<std::string>& scopes) const {
  if (scheme_ == "basic") return basic_value();
  if (scheme_ != "bearer") return "";
  auto found = tokens_.find(scope_key(scopes));
  // A few seconds' margin so that a token is not used as it expires mid-request.
  if (found == tokens_.end() || found->second.expires_at_ms - 5'000 <= clock_()) return "";
  return "Bearer " + found->second.token;
}

Status RegistryAuth::answer_challenge(std::string_view www_authenticate, const std::vector<std::string>& scopes,
                                      HttpClient& http) {
  auto challenges = parse_www_authenticate(www_authenticate);
  if (!challenges) return challenges.error();
  // Bearer first: a registry offering both prefers it, and tokens spare the password.
  for (const char* scheme : {"bearer", "basic"}) {
    for (const auto& challenge : *challenges) {
      if (challenge.scheme != scheme) continue;
      if (!has_credentials() && challenge.scheme == "basic") {
        return make_error(fmt::format(
            "registry {} requires credentials and none were given: set the environment's registry username and password",
            registry_));
      }
      scheme_ = challenge.scheme;
      return scheme_ == "bearer" ? fetch_token(challenge, scopes, http) : Status{};
    }
  }
  return make_error(fmt::format("registry {} asks for an authentication scheme Slipway does not speak: '{}'", registry_,
                                www_authenticate));
}

Status RegistryAuth::fetch_token(const AuthChallenge& challenge, const std::vector<std::string>& scopes, HttpClient& http) {
  auto url = token_request_url(challenge, scopes, credentials_.username);
  if (!url) return make_error(fmt::format("registry {}: {}", registry_, url.error().message));
  HttpClientRequest request;
  request.url = *url;
  if (has_credentials()) request.headers.set("Authorization", basic_value());
  auto answer = http.send(request);
  if (!answer) return make_error(fmt::format("cannot reach the token service of registry {}: {}", registry_, answer.error().message));
  if (answer->status == 401 || answer->status == 403) {
    return make_error(fmt::format("registry {} refused the credentials for user '{}' (token service {}: {})", registry_,
                                  credentials_.username, challenge.param("realm"),
                                  describe_registry_answer(answer->status, answer->body)));
  }
  if (answer->status != 200) {
    return make_error(fmt::format("the token service {} of registry {} failed: {}", challenge.param("realm"), registry_,
                                  describe_registry_answer(answer->status, answer->body)));
  }
  auto token = parse_token_response(answer->body, clock_());
  if (!token) return make_error(fmt::format("registry {}: {}", registry_, token.error().message));
  tokens_[scope_key(scopes)] = std::move(*token);
  ++tokens_fetched_;
  return {};
}

}  // namespace slipway
