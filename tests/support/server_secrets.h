// ServerSecrets: a data directory with its store and secret store, opened as the server opens
// them, for tests of what reads the server's own secrets (a remote repository's credentials).
// The folder is removed when the object goes; a store that cannot open fails the test.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "base/crypto.h"
#include "base/files.h"
#include "ci/run_executor.h"  // DataDirectory
#include "store/master_key.h"
#include "store/secret_store.h"
#include "store/store.h"

namespace slipway::testing {

struct ServerSecrets {
  ServerSecrets() {
    auto opened = Store::open(data.root / "slipway.db");
    EXPECT_TRUE(opened.ok()) << opened.error().message;
    if (!opened.ok()) return;
    store = std::move(*opened);
    secrets = std::make_unique<SecretStore>(*store, key);
  }

  TemporaryDirectory folder{"slipway-server-secrets"};
  DataDirectory data{folder.path()};
  std::string key = random_bytes(kSecretKeyBytes);
  std::unique_ptr<Store> store;
  std::unique_ptr<SecretStore> secrets;
};

}  // namespace slipway::testing
