#include "store/secret_store.h"

#include <algorithm>
#include <cctype>
#include <set>
#include <tuple>

#include "base/crypto.h"
#include "base/names.h"
#include "base/strings.h"
#include "base/time.h"
#include "store/store_impl.h"

namespace slipway {
namespace {

using Address = std::tuple<std::string, std::string, std::string>;  // repository, environment, name

// User text quoted in a message: readable, and short whatever was passed.
std::string shown(std::string_view text) {
  std::string safe = sanitize_utf8(text.substr(0, 64));
  return text.size() > 64 ? safe + "..." : safe;
}

// '*', or the rule of a repository or environment name in the server configuration.
bool is_valid_scope(std::string_view scope) { return scope == kAnyScope || is_valid_job_name(scope); }

Status check_value(const std::string& repository, const std::string& environment, const std::string& name,
                   const std::string& value) {
  if (value.empty()) {
    return make_error(fmt::format("{}: the value is empty (to delete a secret, use `slipway secret rm`)",
                                  describe_secret(repository, environment, name)));
  }
  if (value.find('\0') != std::string::npos) {
    return make_error(fmt::format("{}: the value holds a NUL byte, which no environment variable can carry",
                                  describe_secret(repository, environment, name)));
  }
  return {};
}

// The four layers of resolve(), lowest first.
int layer(const std::string& repository, const std::string& environment) {
  return (repository != kAnyScope ? 2 : 0) + (environment != kAnyScope ? 1 : 0);
}

}  // namespace

Status check_secret_scope(std::string_view noun, std::string_view scope) {
  if (is_valid_scope(scope)) return {};
  std::string_view every = noun == "repository" ? "every repository" : "every environment";
  std::string_view named = noun == "repository" ? "a repository's name" : "an environment's name";
  return make_error(fmt::format("{} '{}' is not valid for a secret: use '*' ({}) or {} (letters, digits, '_', "
                                "'.' and '-')", noun, shown(scope), every, named));
}

Status check_secret_name(std::string_view name) {
  if (is_valid_variable_name(name)) return {};
  return make_error(fmt::format("secret name '{}' is not valid: use letters, digits and '_', not starting with "
                                "a digit (e.g. DATABASE_URL), as environment variables are named", shown(name)));
}

Status check_secret_address(std::string_view repository, std::string_view environment, std::string_view name) {
  if (Status valid = check_secret_scope("repository", repository); !valid) return valid;
  if (Status valid = check_secret_scope("environment", environment); !valid) return valid;
  return check_secret_name(name);
}

Status check_secret(const SecretValue& secret) {
  if (Status valid = check_secret_address(secret.repository, secret.environment, secret.name); !valid) return valid;
  return check_value(secret.repository, secret.environment, secret.name, secret.value);
}

Status check_server_secret(std::string_view name, const std::string& value) {
  if (Status valid = check_secret_name(name); !valid) return valid;
  const std::string scope(kServerScope);
  return check_value(scope, scope, std::string(name), value);
}

std::string describe_secret(std::string_view repository, std::string_view environment, std::string_view name) {
  if (repository == kServerScope && environment == kServerScope) return fmt::format("server secret {}", shown(name));
  return fmt::format("secret {} ({}, {})", shown(name),
                     repository == kAnyScope ? std::string("every repository") : "repository " + shown(repository),
                     environment == kAnyScope ? std::string("every environment") : "environment " + shown(environment));
}

SecretStore::SecretStore(Store& store, std::string master_key) : store_(store), master_key_(std::move(master_key)) {}

// secretbox has no additional data, so the row's address is sealed in front of the value and
// checked on opening: a box copied into another row opens, but is refused.
Result<std::string> SecretStore::seal(const std::string& repository, const std::string& environment,
                                      const std::string& name, const std::string& value) const {
  std::string plaintext = repository + '\0' + environment + '\0' + name + '\0' + value;
  auto box = secretbox_seal(master_key_, plaintext);
  std::fill(plaintext.begin(), plaintext.end(), '\0');
  if (!box) return make_error(fmt::format("cannot seal {}: {}", describe_secret(repository, environment, name),
                                          box.error().message));
  return to_base64(*box);
}

Result<std::string> SecretStore::open(const std::string& repository, const std::string& environment,
                                      const std::string& name, const std::string& sealed) const {
  std::string what = describe_secret(repository, environment, name);
  auto box = from_base64(sealed);
  if (!box) return make_error(fmt::format("{}: its stored box is not base64 (the database was edited?): set it again", what));
  auto plaintext = secretbox_open(master_key_, *box);
  if (!plaintext) {
    return make_error(fmt::format("{} cannot be opened: the master key differs from the one that sealed it (restore "
                                  "that key as SLIPWAY_MASTER_KEY or DATA/master.key, or set the secret again)", what));
  }
  std::string prefix = repository + '\0' + environment + '\0' + name + '\0';
  if (!starts_with(*plaintext, prefix)) {
    return make_error(fmt::format("{}: the stored box was sealed for another secret (the row was moved or edited "
                                  "by hand), so it is refused: set the secret again", what));
  }
  return plaintext->substr(prefix.size());
}

Status SecretStore::write(const std::string& repository, const std::string& environment, const std::string& name,
                          const std::string& value) {
  auto sealed = seal(repository, environment, name, value);
  if (!sealed) return sealed.error();
  int64_t now = now_ms();
  return store_status(
      "set " + describe_secret(repository, environment, name),
      store_.database()
          .stmt("INSERT INTO secrets (repository, environment, name, sealed, created_ms, updated_ms) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (repository, environment, name) "
                "DO UPDATE SET sealed = excluded.sealed, updated_ms = excluded.updated_ms")
          .bind(repository, environment, name, *sealed, now, now)
          .exec());
}

Status SecretStore::set(const std::string& repository, const std::string& environment, const std::string& name,
                        const std::string& value) {
  if (Status valid = check_secret({repository, environment, name, value}); !valid) return valid;
  return write(repository, environment, name, value);
}

Status SecretStore::set_server(const std::string& name, const std::string& value) {
  if (Status valid = check_server_secret(name, value); !valid) return valid;
  return write(std::string(kServerScope), std::string(kServerScope), name, value);
}

Result<std::vector<SecretEntry>> SecretStore::list(const std::string& repository_filter,
                                                   const std::string& environment_filter) {
  std::vector<SecretEntry> entries;
  Status read = store_.database()
                    .stmt("SELECT repository, environment, name, created_ms, updated_ms FROM secrets "
                          "WHERE (?1 = '' OR repository = ?1) AND (?2 = '' OR environment = ?2) "
                          "AND repository <> ?3 ORDER BY repository, environment, name")
                    .bind(repository_filter, environment_filter, std::string(kServerScope))
                    .each([&](const Row& row) {
                      entries.push_back({row.text(0), row.text(1), row.text(2), row.integer(3), row.integer(4)});
                    });
  if (!read) return store_error("list secrets", read.error().message);
  return entries;
}

Result<std::vector<SecretEntry>> SecretStore::list_server() {
  std::vector<SecretEntry> entries;
  Status read = store_.database()
                    .stmt("SELECT repository, environment, name, created_ms, updated_ms FROM secrets "
                          "WHERE repository = ?1 AND environment = ?1 ORDER BY name")
                    .bind(std::string(kServerScope))
                    .each([&](const Row& row) {
                      entries.push_back({row.text(0), row.text(1), row.text(2), row.integer(3), row.integer(4)});
                    });
  if (!read) return store_error("list the server secrets", read.error().message);
  return entries;
}

Result<bool> SecretStore::remove(const std::string& repository, const std::string& environment,
                                 const std::string& name) {
  if (Status valid = check_secret_address(repository, environment, name); !valid) return valid.error();
  return erase(repository, environment, name);
}

Result<bool> SecretStore::remove_server(const std::string& name) {
  if (Status valid = check_secret_name(name); !valid) return valid.error();
  return erase(std::string(kServerScope), std::string(kServerScope), name);
}

Result<bool> SecretStore::erase(const std::string& repository, const std::string& environment,
                                const std::string& name) {
  Database& db = store_.database();
  Status deleted = db.stmt("DELETE FROM secrets WHERE repository = ? AND environment = ? AND name = ?")
                       .bind(repository, environment, name)
                       .exec();
  if (!deleted) return store_error("remove " + describe_secret(repository, environment, name), deleted.error().message);
  return db.changes() > 0;
}

Result<std::optional<std::string>> SecretStore::get(const std::string& repository, const std::string& environment,
                                                    const std::string& name) {
  if (Status valid = check_secret_address(repository, environment, name); !valid) return valid.error();
  return read(repository, environment, name);
}

Result<std::optional<std::string>> SecretStore::get_server(const std::string& name) {
  if (Status valid = check_secret_name(name); !valid) return valid.error();
  return read(std::string(kServerScope), std::string(kServerScope), name);
}

Result<std::optional<std::string>> SecretStore::read(const std::string& repository, const std::string& environment,
                                                     const std::string& name) {
  std::optional<std::string> sealed;
  Status read = store_.database()
                    .stmt("SELECT sealed FROM secrets WHERE repository = ? AND environment = ? AND name = ?")
                    .bind(repository, environment, name)
                    .fetch<std::string>([&](std::string box) { sealed = std::move(box); });
  if (!read) return store_error("read " + describe_secret(repository, environment, name), read.error().message);
  if (!sealed) return std::optional<std::string>();
  auto value = open(repository, environment, name, *sealed);
  if (!value) return value.error();
  return std::optional<std::string>(std::move(*value));
}

Result<std::map<std::string, std::string>> SecretStore::resolve(const std::string& repository,
                                                                const std::string& environment) {
  // A job's repository and environment follow the rules, so neither can be the server's scope;
  // the query excludes that scope as well, so no mistake upstream can hand a job a server secret.
  if (Status valid = check_secret_scope("repository", repository); !valid) return valid.error();
  if (Status valid = check_secret_scope("environment", environment); !valid) return valid.error();
  struct Winner {
    int layer = -1;
    std::string repository, environment, sealed;
  };
  std::map<std::string, Winner> winners;
  Status read = store_.database()
                    .stmt("SELECT repository, environment, name, sealed FROM secrets "
                          "WHERE repository IN ('*', ?1) AND environment IN ('*', ?2) AND repository <> ?3")
                    .bind(repository, environment, std::string(kServerScope))
                    .fetch<std::string, std::string, std::string, std::string>(
                        [&](std::string row_repository, std::string row_environment, std::string name, std::string sealed) {
                          int rank = layer(row_repository, row_environment);
                          Winner& winner = winners[name];
                          if (rank > winner.layer) winner = {rank, row_repository, row_environment, sealed};
                        });
  if (!read) return store_error(fmt::format("read the secrets of {} for {}", repository, environment), read.error().message);
  std::map<std::string, std::string> values;
  for (const auto& [name, winner] : winners) {
    auto value = open(winner.repository, winner.environment, name, winner.sealed);
    if (!value) return value.error();
    values.emplace(name, std::move(*value));
  }
  return values;
}

Result<std::vector<SecretAction>> SecretStore::apply(const std::vector<SecretValue>& desired, bool dry_run) {
  std::set<Address> wanted;
  for (const auto& entry : desired) {
    if (Status valid = check_secret(entry); !valid) return valid.error();
    if (!wanted.insert({entry.repository, entry.environment, entry.name}).second) {
      return make_error(fmt::format("{} is listed twice", describe_secret(entry.repository, entry.environment, entry.name)));
    }
  }
  std::vector<SecretAction> actions;
  // Planned and carried out under one write lock, so nothing changes between the two.
  auto plan_and_act = [&]() -> Status {
    std::map<Address, std::string> existing;
    Status read = store_.database()
                      .stmt("SELECT repository, environment, name, sealed FROM secrets WHERE repository <> ?")
                      .bind(std::string(kServerScope))
                      .fetch<std::string, std::string, std::string, std::string>(
                          [&](std::string r, std::string e, std::string n, std::string sealed) {
                            existing.emplace(Address{r, e, n}, std::move(sealed));
                          });
    if (!read) return store_error("read the secrets", read.error().message);
    for (const auto& entry : desired) {
      auto found = existing.find({entry.repository, entry.environment, entry.name});
      std::string action = "added";
      if (found != existing.end()) {
        auto current = open(entry.repository, entry.environment, entry.name, found->second);
        if (!current) return current.error();
        action = *current == entry.value ? "unchanged" : "updated";
      }
      actions.push_back({entry.repository, entry.environment, entry.name, action});
      if (dry_run || action == "unchanged") continue;
      if (Status written = write(entry.repository, entry.environment, entry.name, entry.value); !written) return written;
    }
    for (const auto& [address, sealed] : existing) {
      if (wanted.count(address)) continue;
      const auto& [repository, environment, name] = address;
      actions.push_back({repository, environment, name, "removed"});
      if (dry_run) continue;
      if (auto removed = remove(repository, environment, name); !removed) return removed.error();
    }
    return {};
  };
  Status done = dry_run ? plan_and_act() : store_.database().transaction(plan_and_act);
  if (!done) return done.error();
  return actions;
}

}  // namespace slipway
