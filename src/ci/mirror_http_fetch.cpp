#include "ci/mirror_http_fetch.h"

#include <fmt/core.h>

#include <set>

#include "base/run_command.h"
#include "base/strings.h"
#include "ci/git_ref_files.h"

namespace slipway {

namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

// Each mirrored ref is a prefix and a suffix around one "*", which matches one or more characters.
struct MirroredRefPattern {
  std::string_view prefix;
  std::string_view suffix;
};
constexpr MirroredRefPattern kMirroredRefs[] = {
    {"refs/heads/", ""}, {"refs/tags/", ""}, {"refs/pull/", "/head"}, {"refs/merge-requests/", "/head"}};

// The folders the mirrored refs live in ("refs/pull"), for reading them from the mirror's files.
std::vector<std::string> mirrored_folders() {
  std::vector<std::string> folders;
  for (const MirroredRefPattern& pattern : kMirroredRefs) {
    folders.emplace_back(pattern.prefix.substr(0, pattern.prefix.size() - 1));
  }
  return folders;
}

constexpr std::string_view kAgent = "git/slipway";
constexpr milliseconds kRequestTimeout{10 * 60 * 1000};
constexpr milliseconds kGitTimeout{10 * 60 * 1000};
// Larger packs are left to git fetch, which streams them to disk: this one is held in memory.
constexpr size_t kLargestPackInMemory = 64u << 20;
constexpr size_t kLargestListing = 64u << 20;
constexpr size_t kLargestAdvertisement = 1u << 20;
// git fetch stores fewer objects than this loose (fetch.unpackLimit), more as a pack.
constexpr uint32_t kUnpackLimit = 100;

std::string without_trailing_slash(std::string url) {
  while (url.ends_with('/')) url.pop_back();
  return url;
}

// A protocol version 2 command: a POST to the repository's git-upload-pack.
HttpClientRequest upload_pack_command(const GitRemote& remote, std::string body) {
  HttpClientRequest request;
  request.method = "POST";
  request.url = without_trailing_slash(remote.url.text) + "/git-upload-pack";
  request.headers.set("Content-Type", "application/x-git-upload-pack-request");
  request.headers.set("Accept", "application/x-git-upload-pack-result");
  request.body = std::move(body);
  return request;
}

Result<std::string> git_on_mirror(const fs::path& mirror, std::vector<std::string> args, std::string input,
                                  std::string_view what) {
  std::vector<std::string> argv = {"git", "-C", mirror.string()};
  argv.insert(argv.end(), args.begin(), args.end());
  auto output = run_command(argv, CommandOptions{{}, local_git_environment(), kGitTimeout, std::move(input)});
  if (!output) return output.error();
  if (output->exit_code != 0 || output->timed_out) {
    std::string said(trim(output->err.empty() ? output->out : output->err));
    return make_error(fmt::format("cannot {}: {}", what, said.substr(0, said.find('\n'))));
  }
  return std::move(output->out);
}

uint32_t big_endian_32(std::string_view bytes) {
  uint32_t value = 0;
  for (unsigned char c : bytes.substr(0, 4)) value = value << 8 | c;
  return value;
}

// Stores a pack the forge sent in the mirror, as git fetch would: a few objects loose, more as
// the pack itself (with its index), thin deltas completed from the mirror's objects.
Status store_pack(const fs::path& mirror, std::string pack) {
  if (pack.size() < 12 || !pack.starts_with("PACK")) return make_error("the forge's answer holds no pack");
  uint32_t objects = big_endian_32(std::string_view(pack).substr(8));
  if (objects == 0) return {};
  std::vector<std::string> store = objects < kUnpackLimit ? std::vector<std::string>{"unpack-objects", "-q"}
                                                          : std::vector<std::string>{"index-pack", "--stdin", "--fix-thin"};
  auto stored = git_on_mirror(mirror, store, std::move(pack), "store the forge's pack");
  if (!stored) return stored.error();
  return {};
}

// One transaction over the mirror's refs, each compare-and-swapped from the id it was read at
// (NUL-separated: a ref name cannot smuggle a second command in).
Status update_refs(const fs::path& mirror, const std::vector<MirrorRefUpdate>& updates) {
  static const std::string kNoRef(40, '0');
  std::string commands;
  for (const MirrorRefUpdate& update : updates) {
    if (update.new_id.empty()) {
      commands += fmt::format("delete {}{}{}{}", update.name, '\0', update.old_id, '\0');
    } else {
      commands += fmt::format("update {}{}{}{}{}{}", update.name, '\0', update.new_id, '\0',
                              update.old_id.empty() ? kNoRef : update.old_id, '\0');
    }
  }
  auto updated = git_on_mirror(mirror, {"update-ref", "-z", "--stdin"}, std::move(commands), "move the mirror's refs");
  if (!updated) return updated.error();
  return {};
}

}  // namespace

std::vector<std::string> mirrored_refspecs() {
  std::vector<std::string> refspecs;
  for (const MirroredRefPattern& pattern : kMirroredRefs) {
    std::string ref = fmt::format("{}*{}", pattern.prefix, pattern.suffix);
    refspecs.push_back(fmt::format("+{}:{}", ref, ref));
  }
  return refspecs;
}

bool is_mirrored_ref(std::string_view name) {
  for (const MirroredRefPattern& pattern : kMirroredRefs) {
    if (name.size() > pattern.prefix.size() + pattern.suffix.size() && name.starts_with(pattern.prefix) &&
        name.ends_with(pattern.suffix)) {
      return true;
    }
  }
  return false;
}

std::vector<MirrorRefUpdate> plan_mirror_updates(const std::map<std::string, std::string>& local,
                                                 const std::vector<RemoteRef>& remote) {
  std::map<std::string, std::string> wanted;
  for (const RemoteRef& ref : remote) {
    if (is_mirrored_ref(ref.name)) wanted.emplace(ref.name, ref.id);
  }
  std::vector<MirrorRefUpdate> updates;
  for (const auto& [name, id] : wanted) {
    auto held = local.find(name);
    if (held == local.end() || held->second != id) updates.push_back({name, held == local.end() ? "" : held->second, id});
  }
  for (const auto& [name, id] : local) {
    if (is_mirrored_ref(name) && !wanted.contains(name)) updates.push_back({name, id, ""});
  }
  return updates;
}

std::vector<std::string> wanted_ids(const std::vector<MirrorRefUpdate>& updates) {
  std::vector<std::string> ids;
  std::set<std::string_view> seen;
  for (const MirrorRefUpdate& update : updates) {
    if (!update.new_id.empty() && seen.insert(update.new_id).second) ids.push_back(update.new_id);
  }
  return ids;
}

std::vector<std::string> held_ids(const std::map<std::string, std::string>& local,
                                  const std::vector<MirrorRefUpdate>& updates, size_t limit) {
  std::vector<std::string> ids;
  std::set<std::string> seen;
  auto add = [&](const std::string& id) {
    if (ids.size() < limit && !id.empty() && seen.insert(id).second) ids.push_back(id);
  };
  for (const MirrorRefUpdate& update : updates) add(update.old_id);
  for (const auto& [name, id] : local) {
    if (name.starts_with("refs/heads/")) add(id);
  }
  return ids;
}

Status check_connected(const fs::path& mirror, const std::vector<std::string>& tips) {
  if (tips.empty()) return {};
  auto checked = git_on_mirror(mirror, {"rev-list", "--objects", "--stdin", "--not", "--all", "--quiet"},
                               join(tips, "\n") + "\n", "find every object of the fetched commits in the mirror");
  if (!checked) return checked.error();
  return {};
}

Result<HttpClientResponse> MirrorHttpFetch::send(const GitRemote& remote, HttpClientRequest request) {
  request.headers.set("Git-Protocol", "version=2");
  request.headers.set("User-Agent", std::string(kAgent));
  if (std::string authorization = remote.authorization(); !authorization.empty()) {
    request.headers.set("Authorization", authorization);
  }
  GitRemote::TlsTrust trust = remote.tls_trust();
  request.ca_file = trust.ca_file;
  request.ca_directory = trust.ca_directory;
  request.ignore_proxy_environment = true;
  request.timeout = kRequestTimeout;
  request.stall_timeout = milliseconds(60'000);
  auto response = http_.send(request);
  if (!response) return response.error();
  if (response->status != 200) return make_error(fmt::format("{} answered HTTP {}", request.url, response->status));
  return response;
}

Status MirrorHttpFetch::check_capabilities(const GitRemote& remote) {
  HttpClientRequest request;
  request.url = without_trailing_slash(remote.url.text) + "/info/refs?service=git-upload-pack";
  // Version 2's advertisement is a few lines; version 0's lists every ref, which is not read.
  std::string advertisement;
  request.on_body = [&](std::string_view chunk) {
    advertisement.append(chunk);
    return advertisement.size() <= kLargestAdvertisement;
  };
  auto response = send(remote, request);
  if (!response && advertisement.size() > kLargestAdvertisement) usable_ = false;
  if (!response) return response.error();
  // A dumb HTTP server sends a plain file here, and protocol version 0 or 1 another listing.
  auto capabilities = parse_capability_advertisement(advertisement);
  bool smart = response->headers.get("Content-Type") == "application/x-git-upload-pack-advertisement";
  if (!capabilities || !smart || !capabilities->version2 || !capabilities->ls_refs || !capabilities->fetch ||
      capabilities->object_format != "sha1") {
    usable_ = false;
    return make_error(fmt::format("{} does not serve git's protocol version 2 for SHA-1 repositories",
                                  remote.url.text));
  }
  request_capabilities_ = request_capabilities(*capabilities, kAgent);
  capabilities_checked_ = true;
  return {};
}

Result<std::vector<RemoteRef>> MirrorHttpFetch::list_refs(const GitRemote& remote) {
  std::vector<std::string> prefixes;
  for (const MirroredRefPattern& pattern : kMirroredRefs) prefixes.emplace_back(pattern.prefix);
  HttpClientRequest request = upload_pack_command(remote, ls_refs_request(request_capabilities_, prefixes));
  std::string listing;
  request.on_body = [&](std::string_view chunk) {
    listing.append(chunk);
    return listing.size() <= kLargestListing;
  };
  auto response = send(remote, request);
  if (!response) return response.error();
  return parse_ls_refs(listing);
}

Result<std::string> MirrorHttpFetch::fetch_pack(const GitRemote& remote, const std::vector<std::string>& wants,
                                                const std::vector<std::string>& haves) {
  std::string pack;
  FetchAnswerReader answer([&](std::string_view bytes) -> Status {
    if (pack.size() + bytes.size() > kLargestPackInMemory) {
      return make_error(fmt::format("the pack is larger than {} MiB", kLargestPackInMemory >> 20));
    }
    pack.append(bytes);
    return {};
  });
  Status read;
  HttpClientRequest request = upload_pack_command(remote, fetch_request(request_capabilities_, wants, haves));
  request.on_body = [&](std::string_view chunk) {
    read = answer.feed(chunk);
    return read.ok();
  };
  auto response = send(remote, request);
  if (!read) return read.error();
  if (!response) return response.error();
  if (Status ended = answer.finish(); !ended) return ended.error();
  return pack;
}

Status MirrorHttpFetch::fetch(const GitRemote& remote, const fs::path& mirror) {
  if (!usable_) return make_error("the forge cannot serve an in-process fetch");
  if (!capabilities_checked_) {
    if (Status checked = check_capabilities(remote); !checked) return checked;
  }
  // Asked again after a failure: the forge may have changed, or its answer was what failed.
  capabilities_checked_ = false;
  auto remote_refs = list_refs(remote);
  if (!remote_refs) return remote_refs.error();
  std::map<std::string, std::string> local = read_refs(mirror, mirrored_folders());
  std::vector<MirrorRefUpdate> updates = plan_mirror_updates(local, *remote_refs);
  if (updates.empty()) {
    capabilities_checked_ = true;
    return {};
  }
  std::vector<std::string> wants = wanted_ids(updates);
  if (!wants.empty()) {
    auto pack = fetch_pack(remote, wants, held_ids(local, updates));
    if (!pack) return pack.error();
    if (Status stored = store_pack(mirror, std::move(*pack)); !stored) return stored;
    if (Status connected = check_connected(mirror, wants); !connected) return connected;
  }
  if (Status updated = update_refs(mirror, updates); !updated) return updated;
  capabilities_checked_ = true;
  return {};
}

}  // namespace slipway
