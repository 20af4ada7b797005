// A repository's refs read from its files, as git's "files" backend stores them: packed-refs,
// and a loose file per ref over it (a loose ref is always the newer). For callers that would
// otherwise start a git process only to learn a few ids: a `slipway run`'s checkout, and the
// mirror's in-process fetch, which compares them with the forge's.
//
// What it promises: only SHA-1 ids (40 hex digits) are returned; symbolic refs, refs being
// written (*.lock) and lines it does not understand are left out, never guessed at. A repository
// with another ref storage (reftable) or object format is the caller's to rule out.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace slipway {

// The refs packed-refs holds, name → id (peeled "^" lines and the header left out).
std::map<std::string, std::string> read_packed_refs(const std::filesystem::path& git_dir);

// The refs under `folders` ("refs/heads"), name → id: packed-refs' that start with one of them,
// and the loose ones over them.
std::map<std::string, std::string> read_refs(const std::filesystem::path& git_dir,
                                             const std::vector<std::string>& folders);

// A SHA-1 object id, 40 hex digits: the only kind these files are read for.
bool is_hex_sha(std::string_view text);

}  // namespace slipway
