#include "ci/repository_mirrors.h"

#include <fmt/core.h>
#include <spdlog/spdlog.h>

#include "base/files.h"
#include "base/git_objects.h"
#include "base/strings.h"
#include "ci/run_queue_git.h"

namespace slipway {

namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

constexpr milliseconds kFetchTimeout{30 * 60 * 1000};   // a first fetch of a big repository
constexpr milliseconds kListTimeout{60 * 1000};

Result<std::string> server_secret(SecretStore& secrets, const std::string& repository, const std::string& name) {
  auto value = secrets.get_server(name);
  if (!value) return value.error();
  if (!*value) {
    return make_error(fmt::format("repository '{}': server secret {} is not set; set it with `slipway secret set "
                                  "--server-only {}`", repository, name, name));
  }
  return std::move(**value);
}

std::string with_final_newline(std::string text) {
  if (!text.empty() && text.back() != '\n') text += '\n';
  return text;
}

// The remote's credentials: values for https, 0600 files for ssh.
Status resolve_credentials(const DataDirectory& data, const RepositoryConfig& config, SecretStore& secrets,
                           GitRemote& remote) {
  const RepositoryAuth& auth = config.auth;
  if (!auth.token_secret.empty()) {
    auto token = server_secret(secrets, config.name, auth.token_secret);
    if (!token) return token.error();
    remote.token = std::string(trim(*token));
  }
  if (auth.ssh_key_secret.empty()) return {};
  auto key = server_secret(secrets, config.name, auth.ssh_key_secret);
  if (!key) return key.error();
  auto known_hosts = server_secret(secrets, config.name, auth.known_hosts_secret);
  if (!known_hosts) return known_hosts.error();
  fs::path folder = data.root / "remotes" / config.name;
  if (Status made = make_directories(folder); !made) return made;
  remote.ssh_key_file = folder / "ssh_key";
  remote.known_hosts_file = folder / "known_hosts";
  if (Status written = write_file_atomically(remote.ssh_key_file, with_final_newline(*key), 0600); !written) return written;
  return write_file_atomically(remote.known_hosts_file, with_final_newline(*known_hosts), 0600);
}

}  // namespace

Result<std::unique_ptr<RepositoryMirrors>> RepositoryMirrors::open(const DataDirectory& data,
                                                                   const std::vector<RepositoryConfig>& repositories,
                                                                   SecretStore& secrets) {
  auto mirrors = std::unique_ptr<RepositoryMirrors>(new RepositoryMirrors());
  for (const RepositoryConfig& config : repositories) {
    auto url = parse_repository_url(config.url);
    if (!url) return make_error(fmt::format("repository '{}': {}", config.name, url.error().message));
    if (!url->remote()) continue;
    auto mirror = std::make_unique<Mirror>();
    GitRemote& remote = mirror->remote;
    remote.repository = config.name;
    remote.url = *url;
    remote.username = config.auth.username;
    remote.token_secret = config.auth.token_secret;
    remote.ssh_key_secret = config.auth.ssh_key_secret;
    remote.known_hosts_secret = config.auth.known_hosts_secret;
    remote.ca_file = config.ca_file;
    if (url->over_http()) {
      remote.empty_ca_directory = data.root / "empty-ca-path";
      if (Status made = make_directories(remote.empty_ca_directory); !made) return made.error();
    }
    if (Status resolved = resolve_credentials(data, config, secrets, remote); !resolved) return resolved.error();
    mirror->path = data.root / "mirrors" / (config.name + ".git");
    mirrors->mirrors_.emplace(config.name, std::move(mirror));
  }
  return mirrors;
}

bool RepositoryMirrors::mirrors(const std::string& repository) const { return find(repository) != nullptr; }

std::vector<std::string> RepositoryMirrors::names() const {
  std::vector<std::string> names;
  for (const auto& [name, mirror] : mirrors_) names.push_back(name);
  return names;
}

fs::path RepositoryMirrors::mirror_path(const std::string& repository) const {
  Mirror* mirror = find(repository);
  return mirror ? mirror->path : fs::path();
}

RepositoryMirrors::Mirror* RepositoryMirrors::find(const std::string& repository) const {
  auto found = mirrors_.find(repository);
  return found == mirrors_.end() ? nullptr : found->second.get();
}

namespace {

// Written once the first fetch brought the mirror its objects, and its packs were made fit for
// the fetches after (below): from then on, a fetch is an incremental one.
fs::path first_fetch_marker(const fs::path& mirror) { return mirror / "slipway-delta-chains-limited"; }

// The forge packed its objects for itself (git's default: delta chains up to 50 deep). Every
// later fetch's connectivity check reads the previous head's trees through those chains, so a
// mirror is repacked once, after its first fetch, with chains of at most 10: the depth git's own
// housekeeping keeps to afterwards (pack.depth). For the forge bench's 5 000 files that check of
// one new commit goes from ~50 ms to ~20 ms, for a one-off repack about as long as the first
// fetch. A mirror whose packs (with their indexes) pass 256 MiB keeps the forge's packing until
// git's housekeeping repacks it: its repack would be minutes of both cores before its first run.
// The marker file records that it was done (a mirror an older Slipway made gets it at its next
// fetch).
Status limit_delta_chains_once(const GitRemote& remote, const fs::path& mirror) {
  const fs::path marker = first_fetch_marker(mirror);
  if (fs::exists(marker)) return {};
  auto configured =
      remote.git({"-C", mirror.string(), "config", "pack.depth", "10"}, "configure the mirror of", kListTimeout);
  if (!configured) return configured.error();
  constexpr uint64_t kLargestRepacked = 256ull << 20;
  if (folder_bytes(mirror / "objects" / "pack") <= kLargestRepacked) {
    auto repacked =
        remote.git({"-C", mirror.string(), "repack", "-a", "-d", "-q"}, "repack the mirror of", kFetchTimeout);
    if (!repacked) return repacked.error();
  }
  return write_file_atomically(marker, "pack.depth 10\n");
}

}  // namespace

Status RepositoryMirrors::fetch_locked(Mirror& mirror) {
  // An incremental fetch over https is done in process; git does the first one (the whole
  // history, streamed to disk), every one over ssh, and any the in-process one could not finish,
  // so that a forge that fails gets git's diagnosis.
  if (mirror.remote.url.over_http() && mirror.http_fetch.usable() && fs::exists(first_fetch_marker(mirror.path))) {
    Status fetched = mirror.http_fetch.fetch(mirror.remote, mirror.path);
    if (fetched) {
      mirror.maintenance_due = true;
      return {};
    }
    spdlog::info("repository '{}': fetching with git: the in-process fetch did not complete ({})",
                 mirror.remote.repository, fetched.error().message);
  }
  if (!fs::exists(mirror.path / "HEAD")) {
    if (Status made = make_directories(mirror.path.parent_path()); !made) return made;
    // Objects readable by all (not the server's 077): a job's sandbox binds the mirror's objects
    // folder, which its checkout borrows, and the job runs as another uid. Nobody outside a
    // sandbox gets there: the data directory itself is 0700.
    // With the remote's environment too: no user template (hooks) or configuration in the mirror.
    auto created = mirror.remote.git({"init", "--quiet", "--bare", "--shared=0644", mirror.path.string()},
                                     "create the mirror of", kListTimeout);
    if (!created) return created.error();
  }
  std::vector<std::string> args = {"-C", mirror.path.string(), "fetch", "--quiet", "--prune", "--no-write-fetch-head",
                                   "--no-auto-maintenance", "--", mirror.remote.url.text};
  for (std::string& refspec : mirrored_refspecs()) args.push_back(std::move(refspec));
  auto fetched = mirror.remote.git(args, "fetch", kFetchTimeout);
  if (!fetched) return fetched.error();
  mirror.maintenance_due = true;
  // The fetch brought what the run needs: a repack that fails costs later fetches speed, not
  // this run, and is tried again at the next fetch.
  if (Status limited = limit_delta_chains_once(mirror.remote, mirror.path); !limited) {
    spdlog::warn("repository '{}': {}", mirror.remote.repository, limited.error().message);
  }
  return {};
}

Status RepositoryMirrors::maintain(const std::string& repository) {
  Mirror* mirror = find(repository);
  if (!mirror) return make_error(fmt::format("repository '{}' is not a remote one", repository));
  std::lock_guard<std::mutex> lock(mirror->fetching);
  if (!mirror->maintenance_due) return {};
  mirror->maintenance_due = false;
  auto maintained = mirror->remote.git({"-C", mirror->path.string(), "maintenance", "run", "--auto", "--quiet"},
                                       "maintain the mirror of", kFetchTimeout);
  if (!maintained) return maintained.error();
  return {};
}

Status RepositoryMirrors::fetch(const std::string& repository) {
  Mirror* mirror = find(repository);
  if (!mirror) return make_error(fmt::format("repository '{}' is not a remote one", repository));
  std::lock_guard<std::mutex> lock(mirror->fetching);
  return fetch_locked(*mirror);
}

Result<std::string> RepositoryMirrors::fetch_commit(const std::string& repository, const std::string& commit,
                                                    const std::string& branch) {
  Mirror* mirror = find(repository);
  if (!mirror) return make_error(fmt::format("repository '{}' is not a remote one", repository));
  std::lock_guard<std::mutex> lock(mirror->fetching);
  // A commit the mirror holds (an earlier fetch, or another run's, brought it) needs no fetch;
  // a new one, the usual case, is not asked of a second git before the fetch.
  bool present = false;
  if (!commit.empty() && fs::exists(mirror->path / "HEAD")) {
    auto found = GitObjects::of(mirror->path)->info_or_missing(commit + "^{commit}");
    present = found && *found;
  }
  if (!present) {
    if (Status fetched = fetch_locked(*mirror); !fetched) return fetched.error();
  }
  return resolve_trigger_commit(mirror->path.string(), commit, branch);
}

Result<BranchHeads> RepositoryMirrors::list_heads(const std::string& repository) {
  Mirror* mirror = find(repository);
  if (!mirror) return make_error(fmt::format("repository '{}' is not a remote one", repository));
  auto listed = mirror->remote.git({"ls-remote", "--heads", "--", mirror->remote.url.text}, "list the branches of",
                                   kListTimeout);
  if (!listed) return listed.error();
  return parse_remote_heads(*listed);
}

Status RepositoryMirrors::check(const std::string& repository) {
  auto heads = list_heads(repository);
  if (!heads) return heads.error();
  return {};
}

}  // namespace slipway
