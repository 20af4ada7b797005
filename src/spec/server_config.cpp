// parse_server_config: the server's slipway.yml (DESIGN §6), read with the same SpecReader as
// .slipway.yml so that both files report mistakes the same way (file:line:col, "did you mean").
#include "spec/server_config.h"

#include <charconv>
#include <set>
#include <type_traits>

#include <fmt/core.h>

#include "base/strings.h"
#include "spec/cron_expression.h"
#include "spec/repository_url.h"
#include "spec/spec_sections.h"
#include "spec/server_limits.h"
#include "spec/spec_values.h"
#include "spec/yaml_document.h"
#include "spec/yaml_reader.h"

namespace slipway {
namespace {

const std::vector<std::string> kRootKeys = {"listen",          "concurrency",     "cancel_superseded", "anonymous_read", "badges",
                                            "public_url",      "outbox_retry_for",
                                            "max_body_bytes",  "executor",        "environments",      "repositories",
                                            "registry_poll_interval", "schedules", "task_revisions_kept",
                                            "max_connections", "max_log_follows", "max_log_bytes",     "retention",
                                            "limits"};

// SpecReader has no boolean: .slipway.yml never needed one. YAML 1.1's yes/no/on/off are
// refused on purpose: `on` meaning true surprises people.
std::optional<bool> read_boolean(SpecReader& reader, const Field& field) {
  if (field.value.IsScalar()) {
    const std::string& text = field.value.Scalar();
    if (text == "true") return true;
    if (text == "false") return false;
  }
  reader.report(field.value, fmt::format("'{}' must be true or false, found {}", field.path,
                                         describe_value(field.value)));
  return std::nullopt;
}

// "host:port" with a port in 1..65535; the host may be empty (all interfaces) or [v6].
std::optional<std::string> read_address(SpecReader& reader, const Field& field) {
  auto text = reader.non_empty_string(field);
  if (!text) return std::nullopt;
  size_t colon = text->rfind(':');
  int port = 0;
  const char* begin = text->data() + (colon == std::string::npos ? text->size() : colon + 1);
  const char* end = text->data() + text->size();
  auto [stop, error] = std::from_chars(begin, end, port);
  if (colon == std::string::npos || begin == end || error != std::errc() || stop != end || port < 1 ||
      port > 65535) {
    reader.report(field.value, fmt::format("'{}' must be an address such as 127.0.0.1:7700, found {}",
                                           field.path, describe_value(field.value)));
    return std::nullopt;
  }
  return text;
}

// The name of a secret (REGISTRY_PASSWORD), never a value: a value pasted here by mistake
// (a URL, a password with punctuation) is refused before it can sit in a config file.
std::optional<std::string> read_secret_name(SpecReader& reader, const Field& field) {
  auto name = reader.string(field);
  if (!name) return std::nullopt;
  if (is_valid_variable_name(*name)) return name;
  reader.report(field.value, fmt::format("'{}' must name a secret (letters, digits and '_', e.g. "
                                         "REGISTRY_PASSWORD), not hold its value; found {}",
                                         field.path, describe_value(field.value)));
  return std::nullopt;
}

// A git ref name part a user may write as `main:`; the rules of git-check-ref-format that
// matter here (no spaces, control characters or the characters git forbids).
bool is_plausible_branch(std::string_view name) {
  if (name.empty() || name.front() == '-' || name.find("..") != std::string_view::npos) return false;
  for (char c : name) {
    auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f || std::string_view(" ~^:?*[\\").find(c) != std::string_view::npos) {
      return false;
    }
  }
  return true;
}

RegistryConfig read_registry(SpecReader& reader, const Field& field) {
  RegistryConfig registry;
  auto mapping = reader.mapping(field, {"url", "username", "password"});
  if (!mapping) return registry;
  if (auto* url = reader.require(*mapping, "url", "the registry's address, e.g. 127.0.0.1:5000/dev")) {
    assign(registry.url, reader.non_empty_string(*url));
  }
  if (auto* user = mapping->find("username")) assign(registry.username_secret, read_secret_name(reader, *user));
  if (auto* pass = mapping->find("password")) assign(registry.password_secret, read_secret_name(reader, *pass));
  return registry;
}

BucketConfig read_bucket(SpecReader& reader, const Field& field) {
  BucketConfig bucket;
  auto mapping = reader.mapping(field, {"url", "endpoint", "region", "addressing", "access_key", "secret_key"});
  if (!mapping) return bucket;
  if (auto* url = reader.require(*mapping, "url", "the bucket, e.g. s3://dev-artifacts")) {
    assign(bucket.url, reader.non_empty_string(*url));
  }
  if (auto* endpoint = mapping->find("endpoint")) assign(bucket.endpoint, reader.non_empty_string(*endpoint));
  if (auto* region = mapping->find("region")) assign(bucket.region, reader.non_empty_string(*region));
  if (auto* addressing = mapping->find("addressing")) {
    if (auto style = reader.choice(*addressing, "addressing style", {"path", "virtual"})) bucket.path_style = *style == "path";
  }
  if (auto* key = mapping->find("access_key")) assign(bucket.access_key_secret, read_secret_name(reader, *key));
  if (auto* key = mapping->find("secret_key")) assign(bucket.secret_key_secret, read_secret_name(reader, *key));
  return bucket;
}

RouterConfig read_router(SpecReader& reader, const Field& field) {
  RouterConfig router;
  auto mapping = reader.mapping(field, {"listen", "test_listen"});
  if (!mapping) return router;
  if (auto* listen = reader.require(*mapping, "listen", "where users reach the application")) {
    assign(router.listen, read_address(reader, *listen));
  }
  if (auto* test = reader.require(*mapping, "test_listen", "where a new version is checked before the switch")) {
    assign(router.test_listen, read_address(reader, *test));
  }
  return router;
}

std::vector<NotifyTarget> read_notify(SpecReader& reader, const Field& field) {
  std::vector<NotifyTarget> targets;
  auto items = reader.sequence(field);
  if (!items) return targets;
  for (const auto& item : *items) {
    auto mapping = reader.mapping(item, {"slack", "webhook"});
    if (!mapping) continue;
    if (mapping->entries.size() != 1) {
      reader.report(item.value, fmt::format("'{}' must name one target, e.g. {{ slack: SLACK_WEBHOOK_URL }}",
                                            item.path));
      continue;
    }
    const Field& entry = mapping->entries.front();
    if (auto secret = read_secret_name(reader, entry)) targets.push_back({entry.name, *secret});
  }
  return targets;
}

EnvironmentConfig read_environment(SpecReader& reader, const Field& field) {
  EnvironmentConfig environment;
  environment.name = field.name;
  auto mapping = reader.mapping(field, {"publish", "registry", "bucket", "router", "notify"});
  if (!mapping) return environment;
  if (auto* publish = mapping->find("publish")) {
    auto mode = reader.choice(*publish, "publish mode", {"manual", "on-main"});
    if (mode) environment.on_main = *mode == "on-main";
  }
  if (auto* registry = mapping->find("registry")) environment.registry = read_registry(reader, *registry);
  if (auto* bucket = mapping->find("bucket")) environment.bucket = read_bucket(reader, *bucket);
  if (auto* router = mapping->find("router")) environment.router = read_router(reader, *router);
  if (auto* notify = mapping->find("notify")) environment.notify = read_notify(reader, *notify);
  return environment;
}

std::vector<EnvironmentConfig> read_environments(SpecReader& reader, const Field& field) {
  std::vector<EnvironmentConfig> environments;
  auto mapping = reader.named_mapping(field, "environment", NameRule::job_name);
  if (!mapping) return environments;
  for (const auto& entry : mapping->entries) environments.push_back(read_environment(reader, entry));
  return environments;
}

// A repository, schedule or task name: [A-Za-z0-9_.-]+, as it appears in URLs and messages.
std::optional<std::string> read_name(SpecReader& reader, const Field& field, std::string_view noun) {
  auto text = reader.string(field);
  if (text && is_valid_job_name(*text)) return text;
  if (text) {
    reader.report(field.value, fmt::format("invalid {} name {} in '{}': {}", noun, describe_value(field.value),
                                           field.path, kJobNameRule));
  }
  return std::nullopt;
}

RepositoryAuth read_repository_auth(SpecReader& reader, const Field& field) {
  RepositoryAuth auth;
  auto mapping = reader.mapping(field, {"token", "username", "ssh_key", "known_hosts"});
  if (!mapping) return auth;
  if (auto* token = mapping->find("token")) assign(auth.token_secret, read_secret_name(reader, *token));
  if (auto* username = mapping->find("username")) assign(auth.username, reader.non_empty_string(*username));
  if (auto* key = mapping->find("ssh_key")) assign(auth.ssh_key_secret, read_secret_name(reader, *key));
  if (auto* hosts = mapping->find("known_hosts")) assign(auth.known_hosts_secret, read_secret_name(reader, *hosts));
  return auth;
}

std::optional<std::string> read_absolute_path(SpecReader& reader, const Field& field) {
  auto text = reader.non_empty_string(field);
  if (text && !text->starts_with('/')) {
    reader.report(field.value, fmt::format("'{}' must be an absolute path, found {}", field.path, describe_value(field.value)));
    return std::nullopt;
  }
  return text;
}

// Which credentials go with which transport. Each mistake is reported where it was written.
void check_remote_access(SpecReader& reader, const Field& url_field, const Mapping& mapping,
                         const RepositoryConfig& repository) {
  auto url = parse_repository_url(repository.url);
  if (!url) {
    reader.report(url_field.value, fmt::format("'{}': {}", url_field.path, url.error().message));
    return;
  }
  const Field* auth = mapping.find("auth");
  const RepositoryAuth& given = repository.auth;
  bool has_token = !given.token_secret.empty(), has_key = !given.ssh_key_secret.empty() || !given.known_hosts_secret.empty();
  if (const Field* ca = mapping.find("ca_file"); ca && url->transport != RepositoryTransport::https) {
    reader.report_key(*ca, "'ca_file' applies to https:// urls only");
  }
  if (!url->remote()) {
    if (auth) reader.report_key(*auth, "'auth' applies to https:// and ssh:// urls; this repository is a path on the server");
    return;
  }
  if (url->transport == RepositoryTransport::ssh) {
    if (has_token) reader.report_key(*auth, "an ssh url authenticates with `ssh_key:`, not `token:`");
    if (given.ssh_key_secret.empty() || given.known_hosts_secret.empty()) {
      reader.report(auth ? auth->value : url_field.value,
                    "an ssh repository needs `auth: { ssh_key: DEPLOY_KEY, known_hosts: FORGE_KNOWN_HOSTS }`: the "
                    "server's host keys are pinned, never trusted on first use");
    }
    return;
  }
  if (has_key) reader.report_key(*auth, "`ssh_key:` and `known_hosts:` apply to ssh urls; an https url takes `token:`");
  if (has_token && url->transport == RepositoryTransport::http) {
    reader.report(url_field.value, "an http:// url would send the token in clear: use https://");
  }
}

// owner/name of a github.com or gitlab.com url ("" for any other host).
std::string inferred_project(const RepositoryUrl& url) {
  std::string path = url.text;
  size_t start = url.transport == RepositoryTransport::ssh && path.find("://") == std::string::npos
                     ? path.find(':') + 1
                     : path.find('/', path.find("://") + 3) + 1;
  path = path.substr(start);
  if (path.ends_with(".git")) path.resize(path.size() - 4);
  return path;
}

StatusConfig read_status(SpecReader& reader, const Field& field, const std::string& repository_url) {
  StatusConfig status;
  auto mapping = reader.mapping(field, {"provider", "api", "token", "project"});
  if (!mapping) return status;
  if (auto* provider = mapping->find("provider")) assign(status.provider, reader.choice(*provider, "provider", {"github", "gitea", "gitlab"}));
  if (auto* api = mapping->find("api")) assign(status.api, reader.non_empty_string(*api));
  if (auto* project = mapping->find("project")) assign(status.project, reader.non_empty_string(*project));
  if (auto* token = reader.require(*mapping, "token", "the server secret holding the forge's API token")) {
    assign(status.token_secret, read_secret_name(reader, *token));
  }
  auto url = parse_repository_url(repository_url);
  std::string host = url ? url->host : "";
  if (status.provider.empty() && (host == "github.com" || host == "gitlab.com")) status.provider = host == "github.com" ? "github" : "gitlab";
  if (status.api.empty() && host == "github.com") status.api = "https://api.github.com";
  if (status.api.empty() && host == "gitlab.com") status.api = "https://gitlab.com/api/v4";
  if (status.project.empty() && (host == "github.com" || host == "gitlab.com")) status.project = inferred_project(*url);
  for (auto [value, key] : {std::pair{&status.provider, "provider"}, {&status.api, "api"}, {&status.project, "project"}}) {
    if (value->empty()) {
      reader.report(field.value, fmt::format("'{}' needs `{}:` (it is inferred only for github.com and gitlab.com urls)",
                                             field.path, key));
    }
  }
  return status;
}

RepositoryConfig read_repository(SpecReader& reader, const Field& field, const RetentionConfig& server_retention) {
  RepositoryConfig repository;
  auto mapping = reader.mapping(field, {"name", "url", "auth", "ca_file", "main", "poll_interval", "webhook_secret",
                                       "docker", "retention", "status", "pull_requests"});
  if (!mapping) return repository;
  if (auto* name = reader.require(*mapping, "name", "e.g. name: hello-app")) {
    assign(repository.name, read_name(reader, *name, "repository"));
  }
  if (auto* url = reader.require(*mapping, "url", "the git repository: a path on this server, https://… or ssh://…")) {
    assign(repository.url, reader.non_empty_string(*url));
  }
  if (auto* auth = mapping->find("auth")) repository.auth = read_repository_auth(reader, *auth);
  if (auto* ca_file = mapping->find("ca_file")) assign(repository.ca_file, read_absolute_path(reader, *ca_file));
  if (auto* url = mapping->find("url"); url && !repository.url.empty()) check_remote_access(reader, *url, *mapping, repository);
  if (auto* status = mapping->find("status")) repository.status = read_status(reader, *status, repository.url);
  if (auto* pulls = mapping->find("pull_requests")) {
    if (auto options = reader.mapping(*pulls, {"test"}); options && options->find("test")) {
      auto mode = reader.choice(*options->find("test"), "pull request test", {"head", "merge"});
      if (mode) repository.test_pull_requests_merged = *mode == "merge";
    }
  }
  if (auto* main = mapping->find("main")) {
    auto text = reader.non_empty_string(*main);
    if (text && is_plausible_branch(*text)) repository.main_branch = *text;
    else if (text) reader.report(main->value, fmt::format("'{}' is not a valid branch name: {}", main->path,
                                                          describe_value(main->value)));
  }
  if (auto* poll = mapping->find("poll_interval")) assign(repository.poll_interval, read_poll_interval(reader, *poll));
  if (auto* secret = mapping->find("webhook_secret")) assign(repository.webhook_secret, read_secret_name(reader, *secret));
  if (auto* docker = mapping->find("docker")) assign(repository.docker, read_boolean(reader, *docker));
  if (auto* retention = mapping->find("retention")) repository.retention = read_retention(reader, *retention, server_retention);
  return repository;
}

// A list of named entries (repositories, schedules), each read by `read`: a name met again is
// reported at its second entry, which is still kept so that its own problems are reported too.
template <typename Read>
auto read_named_list(SpecReader& reader, const Field& field, std::string_view noun, Read read) {
  std::vector<std::invoke_result_t<Read&, const Field&>> entries;
  auto items = reader.sequence(field);
  if (!items) return entries;
  std::set<std::string> seen;
  for (const auto& item : *items) {
    auto entry = read(item);
    if (!entry.name.empty() && !seen.insert(entry.name).second) {
      reader.report(item.value, fmt::format("{} '{}' is listed twice in '{}'", noun, entry.name, field.path));
    }
    entries.push_back(std::move(entry));
  }
  return entries;
}

std::vector<RepositoryConfig> read_repositories(SpecReader& reader, const Field& field,
                                                const RetentionConfig& server_retention) {
  return read_named_list(reader, field, "repository",
                         [&](const Field& item) { return read_repository(reader, item, server_retention); });
}

// The environment must be one of the file's (or the default) environments, whichever order
// the keys are written in: schedules are read after environments.
std::optional<std::string> read_schedule_environment(SpecReader& reader, const Field& field,
                                                     const std::vector<EnvironmentConfig>& environments) {
  auto name = reader.non_empty_string(field);
  if (!name) return std::nullopt;
  std::vector<std::string> names;
  for (const auto& environment : environments) names.push_back(environment.name);
  for (const auto& known : names) {
    if (known == *name) return name;
  }
  std::string suggestion = closest_match(*name, names);
  reader.report(field.value, fmt::format("'{}' names unknown environment '{}'; {}", field.path, *name,
                                         suggestion.empty() ? "configured: " + (names.empty() ? "none" : join(names, ", "))
                                                            : "did you mean '" + suggestion + "'?"));
  return std::nullopt;
}

std::optional<std::string> read_cron(SpecReader& reader, const Field& field) {
  auto text = reader.non_empty_string(field);
  if (!text) return std::nullopt;
  auto cron = CronExpression::parse(*text);
  if (cron) return text;
  reader.report(field.value,
                fmt::format("'{}' is not a valid cron expression: {}", field.path, cron.error().message));
  return std::nullopt;
}

ScheduleConfig read_schedule(SpecReader& reader, const Field& field,
                             const std::vector<EnvironmentConfig>& environments) {
  ScheduleConfig schedule;
  auto mapping = reader.mapping(field, {"name", "task", "environment", "cron", "revision"});
  if (!mapping) return schedule;
  if (auto* name = reader.require(*mapping, "name", "e.g. name: nightly-sync")) {
    assign(schedule.name, read_name(reader, *name, "schedule"));
  }
  if (auto* task = reader.require(*mapping, "task", "the task definition to run, e.g. task: sync-orders")) {
    assign(schedule.task, read_name(reader, *task, "task"));
  }
  if (auto* environment = reader.require(*mapping, "environment", "e.g. environment: production")) {
    assign(schedule.environment, read_schedule_environment(reader, *environment, environments));
  }
  if (auto* cron = reader.require(*mapping, "cron", "when it runs, in UTC, e.g. cron: \"0 2 * * *\"")) {
    assign(schedule.cron, read_cron(reader, *cron));
  }
  if (auto* revision = mapping->find("revision")) assign(schedule.revision, reader.integer(*revision, 1));
  return schedule;
}

std::vector<ScheduleConfig> read_schedules(SpecReader& reader, const Field& field,
                                           const std::vector<EnvironmentConfig>& environments) {
  return read_named_list(reader, field, "schedule",
                         [&](const Field& item) { return read_schedule(reader, item, environments); });
}

// What the server takes on at most, and how long it keeps runs (spec/server_limits.h).
void read_limits(SpecReader& reader, const Mapping& root, ServerConfig& config) {
  if (auto* limit = root.find("max_body_bytes")) {
    if (auto bytes = read_bounded_size(reader, *limit, 1, kMaxBodyBytesLimit)) config.max_body_bytes = static_cast<size_t>(*bytes);
  }
  if (auto* limit = root.find("max_log_bytes")) {
    if (auto bytes = read_bounded_size(reader, *limit, kMinLogBytes, INT64_MAX)) config.max_log_bytes = static_cast<uint64_t>(*bytes);
  }
  if (auto* limit = root.find("max_connections")) assign(config.max_connections, read_bounded_integer(reader, *limit, 1, 100'000));
  if (auto* limit = root.find("max_log_follows")) assign(config.max_log_follows, read_bounded_integer(reader, *limit, 1, 100'000));
  if (auto* retention = root.find("retention")) assign(config.retention, read_retention(reader, *retention, RetentionConfig{}));
}

void read_root(SpecReader& reader, const Mapping& root, ServerConfig& config) {
  if (auto* listen = root.find("listen")) assign(config.listen, read_address(reader, *listen));
  if (auto* concurrency = root.find("concurrency")) assign(config.concurrency, reader.integer(*concurrency, 0));
  if (auto* cancel = root.find("cancel_superseded")) assign(config.cancel_superseded, read_boolean(reader, *cancel));
  if (auto* anonymous = root.find("anonymous_read")) assign(config.anonymous_read, read_boolean(reader, *anonymous));
  if (auto* url = root.find("public_url")) {
    auto text = reader.non_empty_string(*url);
    if (text && !text->starts_with("http://") && !text->starts_with("https://")) {
      reader.report(url->value, "'public_url' must start with http:// or https://, e.g. https://ci.example.com");
    } else if (text) {
      config.public_url = text->ends_with('/') ? text->substr(0, text->size() - 1) : *text;
    }
  }
  if (auto* retry = root.find("outbox_retry_for")) assign(config.outbox_retry_for, reader.duration(*retry));
  if (auto* badges = root.find("badges")) {
    if (auto mode = reader.choice(*badges, "badge visibility", {"public", "private"})) config.public_badges = *mode == "public";
  }
  read_limits(reader, root, config);
  if (auto* poll = root.find("registry_poll_interval")) {
    assign(config.registry_poll_interval, read_poll_interval(reader, *poll));
  }
  if (auto* executor = root.find("executor")) assign(config.executor, reader.choice(*executor, "executor", {"sandbox", "host"}));
  if (auto* environments = root.find("environments")) config.environments = read_environments(reader, *environments);
  // After `retention`, whatever the file's order: a repository's section starts from the server's.
  if (auto* repositories = root.find("repositories")) {
    config.repositories = read_repositories(reader, *repositories, config.retention);
  }
  if (auto* schedules = root.find("schedules")) {
    config.schedules = read_schedules(reader, *schedules, config.environments);
  }
  if (auto* kept = root.find("task_revisions_kept")) assign(config.task_revisions_kept, reader.integer(*kept, 1));
  if (auto* limits = root.find("limits")) config.limits = lower_limits(default_job_limits(), read_job_limits(reader, *limits));
}

// Only comments and blank lines: a server with the defaults and no repositories yet.
bool has_no_content(std::string_view text) {
  for (const auto& line : split(text, '\n')) {
    std::string_view content = trim(line);
    if (!content.empty() && content.front() != '#') return false;
  }
  return true;
}

}  // namespace

const RepositoryConfig* ServerConfig::find_repository(std::string_view name) const {
  for (const auto& repository : repositories) {
    if (repository.name == name) return &repository;
  }
  return nullptr;
}

RetentionConfig ServerConfig::retention_for(std::string_view name) const {
  const RepositoryConfig* repository = find_repository(name);
  return repository && repository->retention ? *repository->retention : retention;
}

std::vector<EnvironmentPolicy> ServerConfig::policies() const {
  std::vector<EnvironmentPolicy> result;
  for (const auto& environment : environments) result.push_back({environment.name, environment.on_main});
  return result;
}

std::string ServerConfig::repository_names() const {
  std::vector<std::string> names;
  for (const auto& repository : repositories) names.push_back(repository.name);
  return names.empty() ? std::string("none configured") : join(names, ", ");
}

ParsedServerConfig parse_server_config(std::string_view yaml_text, std::string_view file_name) {
  ParsedServerConfig parsed;
  if (has_no_content(yaml_text)) {
    parsed.config = ServerConfig{};
    return parsed;
  }
  SpecReader reader(yaml_text, std::string(file_name));
  ServerConfig config;
  read_without_throwing(reader, [&] {
    if (auto document = load_root_mapping(reader)) {
      if (auto root = reader.mapping({"", "", YAML::Node(), *document}, kRootKeys)) read_root(reader, *root, config);
    }
  });
  parsed.diagnostics = reader.take_diagnostics();
  if (parsed.diagnostics.empty()) parsed.config = std::move(config);
  return parsed;
}

}  // namespace slipway
