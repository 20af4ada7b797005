// The api_tokens table: who may call the API, with which role. Only a token's SHA-256 (hex) is
// stored, never the token itself, so a copy of the database grants nothing.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "store/store.h"

namespace slipway {

struct ApiTokenRecord {
  int64_t id = 0;
  std::string name;            // who it was made for: "ci-bot", "alice"
  std::string role;            // "admin", "deployer" or "read-only"
  std::string token_hash;      // SHA-256 of the token, lower-case hex
  int64_t created_ms = 0;      // 0: now
  int64_t last_used_ms = 0;
};

// Returns the new id. An Error when the hash is already stored or the role is not one of the three.
Result<int64_t> create_api_token(Store& store, const ApiTokenRecord& token);
// nullopt when no token has this hash.
Result<std::optional<ApiTokenRecord>> find_api_token_by_hash(Store& store, const std::string& token_hash);
Status touch_api_token(Store& store, int64_t id, int64_t used_ms);
Result<int64_t> count_api_tokens_with_role(Store& store, const std::string& role);
Result<std::vector<ApiTokenRecord>> list_api_tokens(Store& store);  // oldest first
Result<bool> delete_api_token(Store& store, int64_t id);            // false when there was none

}  // namespace slipway
