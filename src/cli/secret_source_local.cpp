// The local SecretSource: the server's data directory opened directly, as `slipway token` does —
// for the first secrets before a server runs, or for automation on the server's machine.
#include <fmt/core.h>

#include "cli/secret_source.h"
#include "store/master_key.h"
#include "store/store.h"

namespace slipway {
namespace {

class LocalSecretSource : public SecretSource {
 public:
  LocalSecretSource(std::unique_ptr<Store> store, std::string master_key)
      : store_(std::move(store)), secrets_(*store_, std::move(master_key)) {}

  Status set(const SecretValue& secret) override {
    return secrets_.set(secret.repository, secret.environment, secret.name, secret.value);
  }
  Result<std::vector<SecretEntry>> list(const std::string& repository, const std::string& environment) override {
    return secrets_.list(repository, environment);
  }
  Result<bool> remove(const std::string& repository, const std::string& environment, const std::string& name) override {
    return secrets_.remove(repository, environment, name);
  }
  Result<std::vector<SecretAction>> apply(const std::vector<SecretValue>& desired, bool dry_run) override {
    return secrets_.apply(desired, dry_run);
  }
  Status set_server(const std::string& name, const std::string& value) override {
    return secrets_.set_server(name, value);
  }
  Result<std::vector<SecretEntry>> list_server() override { return secrets_.list_server(); }
  Result<bool> remove_server(const std::string& name) override { return secrets_.remove_server(name); }

 private:
  std::unique_ptr<Store> store_;
  SecretStore secrets_;
};

}  // namespace

Result<std::unique_ptr<SecretSource>> local_secret_source(const std::filesystem::path& data_dir,
                                                          const std::optional<std::string>& master_key_variable) {
  // Refusing a missing folder keeps a typo (or the wrong working directory) from quietly
  // starting a second store with a second master key.
  std::error_code error;
  if (!std::filesystem::is_directory(data_dir, error)) {
    return make_error(fmt::format("no server data directory at {} (run this where `slipway serve` keeps its data, "
                                  "pass --data-dir, or set SLIPWAY_SERVER to use a running server)",
                                  data_dir.string()));
  }
  auto key = load_master_key(data_dir, master_key_variable);
  if (!key) return key.error();
  auto store = Store::open(data_dir / "slipway.db");
  if (!store) return store.error();
  return std::unique_ptr<SecretSource>(std::make_unique<LocalSecretSource>(std::move(*store), std::move(*key)));
}

}  // namespace slipway
