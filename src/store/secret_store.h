// SecretStore: the secrets table (migration 3). A secret belongs to a repository (or '*', every
// repository) and an environment (or '*', every environment); its value is sealed with libsodium's
// secretbox under the master key (store/master_key.h) and bound to its row, so neither a copy of
// the database nor a value moved to another row by hand yields anything. Values never leave
// through list(); errors never quote them.
//
// Server secrets are the server's own (a repository's webhook HMAC key): same table, under the
// scope ('@server', '@server'), which no repository or environment can be named ('@' is outside
// the rule) and which resolve(), list() and apply() never touch — so no job ever receives one.
// Only the *_server methods reach them.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "store/store.h"

namespace slipway {

inline constexpr std::string_view kAnyScope = "*";   // every repository, or every environment
inline constexpr std::string_view kServerScope = "@server";  // the server's own secrets: never a job's

struct SecretEntry {               // what may be shown about a secret: never its value
  std::string repository;          // a repository's name or "*"
  std::string environment;         // an environment's name or "*"
  std::string name;                // [A-Za-z_][A-Za-z0-9_]*
  int64_t created_ms = 0;
  int64_t updated_ms = 0;
};

struct SecretValue {               // one secret as a declarative file (or API call) wants it
  std::string repository, environment, name, value;
};

struct SecretAction {              // what apply() did, or would do, to one secret
  std::string repository, environment, name;
  std::string action;              // "added", "updated", "unchanged" or "removed"
};

class SecretStore {
 public:
  // `master_key`: the 32 bytes of load_master_key(). The Store must outlive this object.
  SecretStore(Store& store, std::string master_key);

  // Adds or replaces a value. Errors: a scope or name that breaks the rules (the message gives
  // them), an empty value or one holding a NUL byte, the store.
  Status set(const std::string& repository, const std::string& environment, const std::string& name,
             const std::string& value);
  // Every secret matching the filters ("" matches anything; "*" matches only '*' rows), ordered
  // by repository, environment, name. Server secrets are not among them.
  Result<std::vector<SecretEntry>> list(const std::string& repository_filter = "",
                                        const std::string& environment_filter = "");
  // False when there was no such secret.
  Result<bool> remove(const std::string& repository, const std::string& environment, const std::string& name);
  // The value, or nullopt when absent. An Error when the address breaks the rules, or the box
  // does not open (another master key sealed it) or belongs to another row.
  Result<std::optional<std::string>> get(const std::string& repository, const std::string& environment,
                                         const std::string& name);

  // What a job of `repository` targeting `environment` may see, by name. Four layers, later ones
  // winning: ('*','*') < ('*',environment) < (repository,'*') < (repository,environment).
  // environment "*" gives only the environment-wide layers. Only the winning boxes are opened;
  // one that does not open is an Error naming it, as is a repository or environment that breaks
  // the rules. Server secrets never come out of here.
  Result<std::map<std::string, std::string>> resolve(const std::string& repository, const std::string& environment);

  // The server's own secrets, by name (the same name rule). Never given to a job: resolve() does
  // not see them, nor do list() and apply(). Same errors as set/get/remove.
  Status set_server(const std::string& name, const std::string& value);
  Result<std::optional<std::string>> get_server(const std::string& name);
  Result<bool> remove_server(const std::string& name);
  Result<std::vector<SecretEntry>> list_server();  // repository and environment are "@server"

  // Makes the store hold exactly `desired`: adds the new, updates those whose value changed,
  // removes those not listed, in one transaction. Actions come in `desired` order, removals last.
  // `dry_run`: computes the same actions and changes nothing. Every entry is checked before
  // anything changes; a duplicate entry, or an existing box that does not open, is an Error.
  Result<std::vector<SecretAction>> apply(const std::vector<SecretValue>& desired, bool dry_run);

 private:
  Result<std::string> seal(const std::string& repository, const std::string& environment, const std::string& name,
                   const std::string& value) const;
  Result<std::string> open(const std::string& repository, const std::string& environment, const std::string& name,
                           const std::string& sealed) const;
  Status write(const std::string& repository, const std::string& environment, const std::string& name,
               const std::string& value);
  Result<std::optional<std::string>> read(const std::string& repository, const std::string& environment,
                                          const std::string& name);
  Result<bool> erase(const std::string& repository, const std::string& environment, const std::string& name);

  Store& store_;
  std::string master_key_;
};

// The rules, for callers that check input before reaching the store (the CLI's file reader):
// repository and environment are "*" or [A-Za-z0-9_.-]+, the name [A-Za-z_][A-Za-z0-9_]*. The
// Error says which part breaks which rule.
Status check_secret_address(std::string_view repository, std::string_view environment, std::string_view name);
// The parts of an address on their own: `noun` is "repository" or "environment".
Status check_secret_scope(std::string_view noun, std::string_view scope);
Status check_secret_name(std::string_view name);
// check_secret_address, then the value: not empty, no NUL byte (no environment variable holds one).
Status check_secret(const SecretValue& secret);
// The same for a server secret: its name, then its value.
Status check_server_secret(std::string_view name, const std::string& value);
// "secret DATABASE_URL (repository hello-app, environment production)": how messages name one;
// "server secret HELLO_WEBHOOK_SECRET" for one of the server's own.
std::string describe_secret(std::string_view repository, std::string_view environment, std::string_view name);

}  // namespace slipway
