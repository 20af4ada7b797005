#include "cd/application_directory.h"

#include <fmt/core.h>

#include "spec/spec_file.h"
#include "spec/environment_secrets.h"
#include "store/secret_store.h"

namespace slipway {

namespace {

std::string local_path(const std::string& url) {
  constexpr std::string_view kFileScheme = "file://";
  return url.rfind(kFileScheme, 0) == 0 ? url.substr(kFileScheme.size()) : url;
}

const EnvironmentConfig* find_environment(const ServerConfig& config, const std::string& name) {
  for (const EnvironmentConfig& environment : config.environments) {
    if (environment.name == name) return &environment;
  }
  return nullptr;
}

std::string join_repository(const std::string& prefix, const std::string& name) {
  return prefix.empty() ? name : prefix + "/" + name;
}

}  // namespace

std::pair<std::string, std::string> split_registry_url(const std::string& url) {
  std::string rest = url;
  for (std::string_view scheme : {"https://", "http://"}) {
    if (rest.rfind(scheme, 0) == 0) rest = rest.substr(scheme.size());
  }
  auto slash = rest.find('/');
  if (slash == std::string::npos) return {rest, ""};
  std::string prefix = rest.substr(slash + 1);
  while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
  return {rest.substr(0, slash), prefix};
}

ApplicationDirectory::ApplicationDirectory(const ServerConfig& config, std::filesystem::path database,
                                           std::string master_key)
    : config_(config), database_(std::move(database)), master_key_(std::move(master_key)) {}

Result<RepositorySpec> ApplicationDirectory::main_spec(const RepositoryConfig& repository) const {
  // With the same limits as a run's: a regular file of at most 256 KiB, from git's objects.
  auto text = read_spec_at_revision(local_path(repository.url), "refs/heads/" + repository.main_branch);
  if (!text) return make_error(fmt::format("repository {}: {}", repository.name, text.error().message));
  ParsedSpec parsed = parse_repository_spec(*text, repository.name + ":.slipway.yml");
  if (!parsed.ok()) {
    std::string problems;
    for (const Diagnostic& diagnostic : parsed.diagnostics) problems += "\n  " + diagnostic.to_string();
    return make_error(fmt::format("repository {}: .slipway.yml on {} is not valid:{}", repository.name,
                                  repository.main_branch, problems));
  }
  return *parsed.spec;
}

std::optional<std::string> ApplicationDirectory::image_repository(const std::string& application,
                                                                  const std::string& environment) const {
  const RepositoryConfig* repository = config_.find_repository(application);
  const EnvironmentConfig* target = find_environment(config_, environment);
  if (!repository || !target || !target->registry) return std::nullopt;
  auto spec = main_spec(*repository);
  if (!spec || spec->kind != Kind::application || !spec->publish || !spec->publish->image) return std::nullopt;
  return join_repository(split_registry_url(target->registry->url).second, spec->publish->image->repository);
}

std::optional<ApplicationAddress> ApplicationDirectory::match_push(const std::string& registry,
                                                                   const std::string& repository) const {
  for (const EnvironmentConfig& environment : config_.environments) {
    // No router, no deployments there: its images are published for something else to run.
    if (!environment.registry || !environment.router) continue;
    auto [host, prefix] = split_registry_url(environment.registry->url);
    if (host != registry) continue;
    if (!prefix.empty() && repository.rfind(prefix + "/", 0) != 0) continue;
    for (const RepositoryConfig& candidate : config_.repositories) {
      auto pushed_to = image_repository(candidate.name, environment.name);
      if (pushed_to && *pushed_to == repository) return ApplicationAddress{candidate.name, environment.name};
    }
  }
  return std::nullopt;
}

Result<ApplicationTarget> ApplicationDirectory::resolve(const std::string& application,
                                                        const std::string& environment) const {
  const RepositoryConfig* repository = config_.find_repository(application);
  if (!repository) return make_error(fmt::format("unknown application '{}' (configured: {})", application,
                                                 config_.repository_names()));
  const EnvironmentConfig* target_environment = find_environment(config_, environment);
  if (!target_environment) return make_error(fmt::format("unknown environment '{}'", environment));
  auto spec = main_spec(*repository);
  if (!spec) return spec.error();
  if (spec->kind != Kind::application || !spec->publish || !spec->publish->image) {
    return make_error(fmt::format("{} is not an application with an image: only applications are deployed",
                                  application));
  }
  if (!target_environment->registry) {
    return make_error(fmt::format("environment '{}' has no registry in the server's configuration", environment));
  }
  ApplicationTarget target;
  target.application = application;
  target.environment = environment;
  auto [host, prefix] = split_registry_url(target_environment->registry->url);
  target.image_repository = host + "/" + join_repository(prefix, spec->publish->image->repository);
  target.deploy = spec->deploy.value_or(DeploySpec{});
  target.router = target_environment->router.value_or(RouterConfig{});

  auto store = Store::open(database_);
  if (!store) return store.error();
  SecretStore secret_store(**store, master_key_);
  auto secrets = secret_store.resolve(application, environment);
  if (!secrets) return secrets.error();
  EnvironmentSecrets available(*secrets, application, environment);
  for (const std::string& name : target.deploy.secrets) {
    auto value = available.require(name, "deploy.secrets");
    if (!value) return value.error();
    target.secrets[name] = *value;
  }
  auto login = available.registry_login(*target_environment->registry);
  if (!login) return login.error();
  if (!login->username.empty()) target.credentials = PullCredentials{login->username, login->password, host};
  return target;
}

}  // namespace slipway
