// MirrorHttpFetch: a mirror's incremental fetch over smart HTTP, spoken by the server itself
// (git's protocol version 2, ci/git_wire_protocol.h) on one kept-alive connection, instead of a
// `git fetch` that starts git, git-remote-https and a TLS handshake, and asks the forge for its
// capabilities, every time. On the forge bench (bench/forge.sh) that is about half of the fetch a
// webhook waits for. git still does what it does best, on the mirror's files:
// `unpack-objects` or `index-pack --fix-thin` stores the pack, `rev-list` checks that every
// object the new refs reach is there (git fetch's own connectivity check), and one
// `update-ref --stdin` transaction moves the refs, each from the id it was read at.
//
// What it promises:
// - the same refs as `git fetch --prune` with the mirror's refspecs (mirrored_refspecs()): every
//   mirrored ref the forge lists is set to its id, forced; every one it no longer lists is
//   deleted; others are never touched;
// - the forge's answers are untrusted: framing, ids and ref names are checked before use
//   (git_wire_protocol.h), a pack passes git's own checks, and a ref moves only once
//   everything it reaches is in the mirror. On any error no ref has moved (objects stored by then
//   are unreferenced, for git's housekeeping to drop);
// - the same trust as the remote's git (GitRemote::tls_trust, no proxy, no redirect followed:
//   the token never goes to another origin) and the token only in an Authorization header;
// - errors say what went wrong, never quoting the token. The caller fetches with git after any
//   error (RepositoryMirrors), so a user always gets git's diagnosis of a forge that fails.
//
// One object per mirror, used under the mirror's fetch lock (thread-compatible).
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/http_client.h"
#include "base/result.h"
#include "ci/git_remote.h"
#include "ci/git_wire_protocol.h"

namespace slipway {

// The refs a mirror keeps, as `git fetch` refspecs "+REF:REF": branches, tags, and the forges'
// review heads (GitHub and Gitea publish a pull request's head as refs/pull/N/head, GitLab a
// merge request's as refs/merge-requests/N/head).
std::vector<std::string> mirrored_refspecs();
// Whether `name` is one of them.
bool is_mirrored_ref(std::string_view name);

// One ref to move: created when old_id is "", deleted when new_id is "".
struct MirrorRefUpdate {
  std::string name;
  std::string old_id;
  std::string new_id;
};

// What makes the mirror's refs (`local`) what the forge lists (`remote`), for mirrored refs only.
std::vector<MirrorRefUpdate> plan_mirror_updates(const std::map<std::string, std::string>& local,
                                                 const std::vector<RemoteRef>& remote);
// The ids to ask for: the new ids of `updates`, each once.
std::vector<std::string> wanted_ids(const std::vector<MirrorRefUpdate>& updates);
// The ids to tell the forge the mirror has, so that it sends only what is new: the ids `updates`
// move from, then the branches' heads; at most `limit`.
std::vector<std::string> held_ids(const std::map<std::string, std::string>& local,
                                  const std::vector<MirrorRefUpdate>& updates, size_t limit = 256);

// Whether every object `tips` reach is in `mirror`, short of what its refs already reach: the
// check git fetch makes before it moves a ref. Error naming the first object missing.
Status check_connected(const std::filesystem::path& mirror, const std::vector<std::string>& tips);

class MirrorHttpFetch {
 public:
  // One incremental fetch of `remote` into the existing bare `mirror`. Error when it did not
  // complete (the caller then fetches with git).
  Status fetch(const GitRemote& remote, const std::filesystem::path& mirror);
  // False once the forge showed it cannot serve this fetch (no protocol version 2, another
  // object format, a dumb HTTP server): from then on, git fetches.
  bool usable() const { return usable_; }

 private:
  Result<HttpClientResponse> send(const GitRemote& remote, HttpClientRequest request);
  Status check_capabilities(const GitRemote& remote);
  Result<std::vector<RemoteRef>> list_refs(const GitRemote& remote);
  Result<std::string> fetch_pack(const GitRemote& remote, const std::vector<std::string>& wants,
                                 const std::vector<std::string>& haves);

  HttpClient http_;  // kept between fetches: its connection stays open while the forge allows
  std::vector<std::string> request_capabilities_;  // what the forge's advertisement allows
  bool capabilities_checked_ = false;
  bool usable_ = true;
};

}  // namespace slipway
