#include "publish/version_tag.h"

#include <algorithm>
#include <vector>

#include <fmt/core.h>

#include "base/object_id.h"
#include "base/run_command.h"
#include "base/strings.h"
#include "publish/remote_tags.h"

namespace slipway {

namespace fs = std::filesystem;

namespace {

std::string short_sha(std::string_view sha) { return std::string(sha.substr(0, 7)); }

// The release tags among `tags`, each with its version.
std::vector<std::pair<SemanticVersion, RemoteTag>> release_tags(const std::vector<RemoteTag>& tags) {
  std::vector<std::pair<SemanticVersion, RemoteTag>> releases;
  for (const RemoteTag& tag : tags) {
    if (auto version = version_of_tag(tag.name)) releases.emplace_back(*version, tag);
  }
  std::sort(releases.begin(), releases.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return releases;
}

const RemoteTag* find_tag(const std::vector<RemoteTag>& tags, std::string_view name) {
  for (const RemoteTag& tag : tags) {
    if (tag.name == name) return &tag;
  }
  return nullptr;
}

Status check_request(const TagPublishRequest& request) {
  std::error_code error;
  if (!fs::is_directory(request.workspace, error)) {
    return make_error(fmt::format("workspace {} does not exist", request.workspace.string()));
  }
  if (request.origin.empty() || request.origin.starts_with('-')) {
    return make_error(fmt::format("'{}' is not a repository path or URL to push the tag to", request.origin));
  }
  if (!is_full_object_id(request.commit)) {
    return make_error(fmt::format("'{}' is not a full commit sha", request.commit));
  }
  for (const std::string* ident : {&request.tagger_name, &request.tagger_email}) {
    if (ident->empty() || ident->find_first_of("<>\n") != std::string::npos) {
      return make_error(fmt::format("invalid tagger name or email '{}'", *ident));
    }
  }
  if (request.spec.bump.empty() == request.spec.version_file.empty()) {
    return make_error("publish.tag needs exactly one of 'bump' and 'version_file'");
  }
  return {};
}

// The version the file names, as committed: not the workspace's copy, which a step may have
// changed. `git cat-file blob` gives the bytes as stored, and a path cannot leave the tree.
Result<SemanticVersion> version_from_file(const TagPublishRequest& request) {
  const std::string& file = request.spec.version_file;
  auto content = run_command({"git", "cat-file", "blob", fmt::format("{}:{}", request.commit, file)},
                             request.workspace);
  if (!content) return content.error();
  if (content->exit_code != 0) {
    return make_error(fmt::format("{}: not found in commit {} (publish.tag.version_file names it): commit "
                                  "the file or correct the path", file, short_sha(request.commit)));
  }
  return parse_version_file(content->out, file);
}

// The version this release gets, from origin's release tags or the version file.
Result<SemanticVersion> choose_version(const TagPublishRequest& request,
                                       const std::vector<std::pair<SemanticVersion, RemoteTag>>& releases,
                                       const TagLineCallback& on_line) {
  if (!request.spec.version_file.empty()) {
    auto version = version_from_file(request);
    if (version) on_line(fmt::format("version {} read from {}", version->to_string(), request.spec.version_file));
    return version;
  }
  auto part = parse_version_part(request.spec.bump);
  if (!part) return make_error(fmt::format("publish.tag.bump: {}", part.error().message));
  if (releases.empty()) {
    on_line("origin has no vX.Y.Z tag yet: this is the first release, v0.1.0");
    return next_version(std::nullopt, *part);
  }
  SemanticVersion version = next_version(releases.back().first, *part);
  on_line(fmt::format("latest release on origin is {}; {} bump gives {}", releases.back().second.name,
                      request.spec.bump, version.tag_name()));
  return version;
}

// The highest release tag origin has on the commit — only `tag_name` when one is given.
std::optional<RemoteTag> release_on_commit(const std::vector<std::pair<SemanticVersion, RemoteTag>>& releases,
                                           const std::string& commit, const std::string& tag_name) {
  for (auto it = releases.rbegin(); it != releases.rend(); ++it) {
    const RemoteTag& tag = it->second;
    if (tag.commit == commit && (tag_name.empty() || tag.name == tag_name)) return tag;
  }
  return std::nullopt;
}

Status refuse_existing(const TagPublishRequest& request, const std::string& tag_name,
                       const std::vector<RemoteTag>& origin_tags) {
  std::string remedy = request.spec.version_file.empty() ? "delete the tag or bump by another part"
                                                         : fmt::format("bump {} or delete the tag", request.spec.version_file);
  if (const RemoteTag* on_origin = find_tag(origin_tags, tag_name)) {
    return make_error(fmt::format("tag {} already exists on origin (at {}): {}", tag_name,
                                  short_sha(on_origin->commit), remedy));
  }
  auto local = list_remote_tags(request.workspace.string());
  if (!local) return local.error();
  if (const RemoteTag* in_workspace = find_tag(*local, tag_name)) {
    return make_error(fmt::format("tag {} already exists in the workspace (at {}) though origin does not have "
                                  "it: {}", tag_name, short_sha(in_workspace->commit), remedy));
  }
  return {};
}

Status create_tag(const TagPublishRequest& request, const std::string& tag_name) {
  auto created = run_command_checked({"git", "-c", "user.name=" + request.tagger_name, "-c",
                                      "user.email=" + request.tagger_email, "-c", "tag.gpgSign=false", "tag",
                                      "--annotate", "--message", "Release " + tag_name, "--", tag_name,
                                      request.commit},
                                     request.workspace);
  if (!created) return make_error(fmt::format("cannot create tag {}: {}", tag_name, created.error().message));
  return {};
}

// Pushes the one tag ref. On refusal the workspace's tag goes too, so that a retry in the same
// workspace is not blocked by a tag that origin never got.
Status push_tag(const TagPublishRequest& request, const std::string& tag_name) {
  std::string ref = "refs/tags/" + tag_name;
  auto pushed = run_git_noninteractive({"push", "--", request.origin, ref + ":" + ref}, request.workspace);
  if (pushed) return {};
  (void)run_command({"git", "tag", "--delete", tag_name}, request.workspace);
  return make_error(fmt::format("pushing tag {} to {} failed: {}", tag_name, origin_for_display(request.origin),
                                pushed.error().message));
}

// Reads the tag back from origin: it must be the annotated tag object just made, on the commit.
Result<std::string> verify_pushed(const TagPublishRequest& request, const std::string& tag_name) {
  std::string ref = "refs/tags/" + tag_name;
  auto local = run_command_checked({"git", "rev-parse", ref, ref + "^{commit}"}, request.workspace);
  auto remote = run_git_noninteractive({"ls-remote", "--", request.origin, ref}, request.workspace);
  if (!local) return local.error();
  if (!remote) return make_error(fmt::format("cannot read {} back from origin: {}", tag_name, remote.error().message));
  std::vector<std::string> shas = split(trim(*local), '\n');
  std::string expected = shas.size() == 2 ? shas[0] : "";
  if (shas.size() != 2 || expected == request.commit || shas[1] != request.commit) {
    return make_error(fmt::format("tag {} in the workspace is not an annotated tag on {}", tag_name, request.commit));
  }
  std::string advertised(trim(*remote));
  if (advertised != expected + "\t" + ref) {
    return make_error(fmt::format("origin's {} is '{}' after the push, not the tag object {} that was pushed; did "
                                  "something else change it?", tag_name, advertised, expected));
  }
  return expected;
}

// Creates, pushes and reads back `tag_name`; returns the sha of the tag object on origin.
Result<std::string> release_new_tag(const TagPublishRequest& request, const std::string& tag_name,
                                    const TagLineCallback& on_line) {
  std::string origin = origin_for_display(request.origin);
  if (Status created = create_tag(request, tag_name); !created) return created.error();
  on_line(fmt::format("created annotated tag {} on {} (tagger {} <{}>)", tag_name, short_sha(request.commit),
                      request.tagger_name, request.tagger_email));
  if (Status pushed = push_tag(request, tag_name); !pushed) return pushed.error();
  on_line(fmt::format("pushed refs/tags/{} to {}", tag_name, origin));
  auto object = verify_pushed(request, tag_name);
  if (!object) return object.error();
  on_line(fmt::format("verified: origin's {} is tag {} on commit {}", tag_name, short_sha(*object),
                      short_sha(request.commit)));
  return object;
}

// A local origin as an absolute path: git runs both in the workspace and outside it, and a
// relative path must mean the same folder to both.
std::string absolute_origin(const std::string& origin) {
  std::error_code error;
  if (origin.find("://") != std::string::npos || !fs::exists(origin, error)) return origin;
  return fs::absolute(origin, error).lexically_normal().string();
}

}  // namespace

Result<std::optional<SemanticVersion>> latest_version_tag(const fs::path& repo) {
  auto tags = list_remote_tags(repo.string());
  if (!tags) return tags.error();
  auto releases = release_tags(*tags);
  if (releases.empty()) return std::optional<SemanticVersion>();
  return std::optional<SemanticVersion>(releases.back().first);
}

std::string origin_for_display(std::string_view origin) {
  size_t scheme = origin.find("://");
  if (scheme == std::string_view::npos) return std::string(origin);
  size_t host = scheme + 3;
  size_t at = origin.find('@', host);
  size_t slash = origin.find('/', host);
  if (at == std::string_view::npos || (slash != std::string_view::npos && at > slash)) return std::string(origin);
  return std::string(origin.substr(0, host)) + std::string(origin.substr(at + 1));
}

Result<PublishedTag> publish_version_tag(const TagPublishRequest& asked, const TagLineCallback& log) {
  if (Status valid = check_request(asked); !valid) return valid.error();
  TagPublishRequest request = asked;
  request.origin = absolute_origin(asked.origin);
  TagLineCallback on_line = log ? log : [](std::string_view) {};
  PublishedTag published{"", request.commit, origin_for_display(request.origin), "", true};
  on_line(fmt::format("reading the tags of origin {}", published.origin));
  auto origin_tags = list_remote_tags(request.origin);
  if (!origin_tags) return origin_tags.error();
  auto releases = release_tags(*origin_tags);
  // A bump releases a commit once, whichever version it got; a version file names the tag.
  std::optional<RemoteTag> existing;
  if (request.spec.version_file.empty()) existing = release_on_commit(releases, request.commit, "");
  if (!existing) {
    auto version = choose_version(request, releases, on_line);
    if (!version) return version.error();
    published.tag = version->tag_name();
    existing = release_on_commit(releases, request.commit, published.tag);
  }
  if (existing) {
    on_line(fmt::format("origin already has {} on commit {}: nothing to push", existing->name,
                        short_sha(request.commit)));
    return PublishedTag{existing->name, request.commit, published.origin, existing->object, false};
  }
  if (Status fresh = refuse_existing(request, published.tag, *origin_tags); !fresh) return fresh.error();

  auto object = release_new_tag(request, published.tag, on_line);
  if (!object) return object.error();
  published.tag_object = *object;
  return published;
}

}  // namespace slipway
