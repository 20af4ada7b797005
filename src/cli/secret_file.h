// The file `slipway secret apply` reads: the whole set of secrets a server should hold, each
// naming where its value comes from (an environment variable or a file) — never the value
// itself, so the file can live in version control:
//
//   secrets:
//     - { repository: "*", environment: staging, name: REGISTRY_PASSWORD, from_env: STG_REGISTRY_PASSWORD }
//     - { repository: hello-app, environment: production, name: DATABASE_URL, from_file: /run/keys/db }
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "spec/repository_spec.h"
#include "store/secret_store.h"

namespace slipway {

struct SecretReference {
  std::string repository, environment, name;
  std::string from_env;     // exactly one of from_env and from_file is set
  std::string from_file;    // as written; relative to the file's folder
  std::string where;        // "secrets.yml:4:5", for messages
};

struct ParsedSecretFile {
  std::vector<SecretReference> secrets;   // in file order; set only when diagnostics is empty
  std::vector<Diagnostic> diagnostics;    // file:line:col, "did you mean" for unknown keys
};

// Never throws. `file_name` appears in the diagnostics only.
ParsedSecretFile parse_secret_file(std::string_view yaml_text, std::string_view file_name);

// Reads every reference's value (a file's value loses ONE trailing newline, as `echo` adds one).
// All or nothing: the Error lists every entry whose variable is unset or empty, or whose file
// cannot be read or is empty, each by file:line:col. Relative paths start at `base_folder`.
Result<std::vector<SecretValue>> read_secret_values(const std::vector<SecretReference>& references,
                                                    const std::filesystem::path& base_folder);

// One trailing "\n" (or "\r\n") removed: what a value typed or written with echo means.
std::string without_one_trailing_newline(std::string text);

}  // namespace slipway
