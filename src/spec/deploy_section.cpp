// The `deploy:` section of an application: health checks, bake, drain, retain, verify, secrets.
#include <fmt/core.h>

#include "spec/spec_sections.h"

namespace slipway {
namespace {

HealthSpec read_health(SpecReader& reader, const Field& field) {
  HealthSpec health;
  auto mapping = reader.mapping(field, {"path", "interval", "timeout", "healthy", "unhealthy"});
  if (!mapping) return health;
  if (auto* path = mapping->find("path")) {
    auto text = reader.string(*path);
    if (text && !text->starts_with('/')) {
      reader.report(path->value, fmt::format("'deploy.health.path' must start with '/', e.g. /health; found '{}'", *text));
    } else {
      assign(health.path, std::move(text));
    }
  }
  if (auto* interval = mapping->find("interval")) assign(health.interval, reader.duration(*interval));
  if (auto* timeout = mapping->find("timeout")) assign(health.timeout, reader.duration(*timeout));
  if (auto* healthy = mapping->find("healthy")) assign(health.healthy, reader.integer(*healthy, 1));
  if (auto* unhealthy = mapping->find("unhealthy")) assign(health.unhealthy, reader.integer(*unhealthy, 1));
  return health;
}

}  // namespace

DeploySpec read_deploy_section(SpecReader& reader, const Field& field) {
  DeploySpec deploy;
  auto mapping = reader.mapping(field, {"health", "bake", "drain", "retain", "verify", "secrets"});
  if (!mapping) return deploy;
  if (auto* health = mapping->find("health")) deploy.health = read_health(reader, *health);
  // A zero bake or drain is meaningful: switch without watching, remove the old version at once.
  if (auto* bake = mapping->find("bake")) assign(deploy.bake, reader.duration_or_zero(*bake));
  if (auto* drain = mapping->find("drain")) assign(deploy.drain, reader.duration_or_zero(*drain));
  if (auto* retain = mapping->find("retain")) assign(deploy.retain, reader.integer(*retain, 0));
  if (auto* verify = mapping->find("verify")) assign(deploy.verify, reader.non_empty_string(*verify));
  if (auto* secrets = mapping->find("secrets")) assign(deploy.secrets, reader.secret_names(*secrets));
  return deploy;
}

}  // namespace slipway
