// The master key that seals every secret (store/secret_store.h): 32 raw bytes, kept outside the
// database so that a copy of slipway.db alone reveals nothing. It comes from $SLIPWAY_MASTER_KEY
// when that is set, else from DATA/master.key, which is created (0600, random) on first use.
// The variable is not read here: the command takes it out of the process environment at start
// (base/process_environment.h), so no helper it spawns inherits it, and passes its value in.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"

namespace slipway {

inline constexpr const char* kMasterKeyVariable = "SLIPWAY_MASTER_KEY";

// `from_variable`: $SLIPWAY_MASTER_KEY's value as taken at start (base64, or 64 hex digits), or
// nullopt when it was not set. Set but malformed or empty is an Error, never a silent fallback
// to the file. Otherwise `data_root`/master.key (base64): read when it exists (an Error asking
// for `chmod 600` when group or others may read it), created atomically otherwise. Errors name
// the variable or the file and never quote the key.
Result<std::string> load_master_key(const std::filesystem::path& data_root,
                                    const std::optional<std::string>& from_variable);

// 32 bytes from their text form: 64 hex digits, or base64 (padding optional). `origin` names
// where the text came from in the Error ("SLIPWAY_MASTER_KEY", "/srv/slipway/master.key").
Result<std::string> parse_master_key(std::string_view text, std::string_view origin);

std::filesystem::path master_key_file(const std::filesystem::path& data_root);

}  // namespace slipway
