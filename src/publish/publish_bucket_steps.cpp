// The data-task publish steps that write to the environment's bucket: `dags` (a folder synced
// like `aws s3 sync --delete`) and `function:NAME` (a deterministic zip, uploaded).
#include <fmt/core.h>

#include "base/strings.h"
#include "publish/artifact_publisher.h"
#include "publish/function_zip.h"
#include "publish/s3_client.h"
#include "publish/s3_sync.h"

namespace slipway {

namespace fs = std::filesystem;

namespace {

struct BucketTarget {
  std::unique_ptr<S3Client> client;
  std::string bucket;
  std::string prefix;   // from the bucket url: s3://bucket/prefix → "prefix/" (or "")
};

// "s3://bucket" or "s3://bucket/some/prefix".
Result<std::pair<std::string, std::string>> split_bucket_url(const std::string& url) {
  constexpr std::string_view scheme = "s3://";
  if (!starts_with(url, scheme) || url.size() == scheme.size()) {
    return make_error(fmt::format("bucket url '{}' must look like s3://BUCKET or s3://BUCKET/PREFIX", url));
  }
  std::string rest = url.substr(scheme.size());
  size_t slash = rest.find('/');
  if (slash == std::string::npos) return std::make_pair(rest, std::string());
  std::string prefix = rest.substr(slash + 1);
  if (!prefix.empty() && prefix.back() != '/') prefix += '/';
  return std::make_pair(rest.substr(0, slash), prefix);
}

Result<BucketTarget> open_bucket(const EnvironmentConfig& environment, const PublishStepContext& context) {
  if (!environment.bucket) {
    return make_error(fmt::format("environment '{}' has no bucket in the server's configuration: add "
                                  "`bucket: {{ url: s3://BUCKET, endpoint: ..., access_key: ..., secret_key: ... }}`",
                                  environment.name));
  }
  const BucketConfig& config = *environment.bucket;
  auto split = split_bucket_url(config.url);
  if (!split) return split.error();
  S3Options options;
  options.endpoint = config.endpoint;
  options.region = config.region;
  options.path_style = config.path_style;
  auto keys = environment_secrets(context).bucket_keys(config);
  if (!keys) return keys.error();
  options.access_key = keys->access_key;
  options.secret_key = keys->secret_key;
  auto client = S3Client::create(options);
  if (!client) return client.error();
  // A missing bucket or refused credentials are said plainly before anything is sent.
  if (auto reachable = (*client)->head_bucket(split->first); !reachable) return reachable.error();
  return BucketTarget{std::move(*client), split->first, split->second};
}

std::string join_key(const std::string& prefix, std::string_view path) {
  std::string key = prefix;
  while (!path.empty() && path.front() == '/') path.remove_prefix(1);
  key += path;
  return key;
}

}  // namespace

Result<std::vector<PublishedArtifact>> ArtifactPublisher::publish_dags(const EnvironmentConfig& environment,
                                                                       const PublishStepContext& context) {
  const DagsSpec& dags = *context.spec->publish->dags;
  auto target = open_bucket(environment, context);
  if (!target) return target.error();
  std::string prefix = join_key(target->prefix, dags.prefix);
  if (!prefix.empty() && prefix.back() != '/') prefix += '/';
  fs::path folder = context.workspace / dags.from;
  if (!fs::is_directory(folder)) {
    return make_error(fmt::format("the DAG folder '{}' (publish.dags.from) is not a folder in commit {}", dags.from,
                                  context.run->commit.substr(0, 12)));
  }
  context.log(fmt::format("syncing {} to s3://{}/{} (like aws s3 sync --delete)", dags.from, target->bucket, prefix));
  auto summary = sync_directory(*target->client, folder, target->bucket, prefix, SyncOptions{},
                                [&](const std::string& line) { context.log(line); });
  if (!summary) return summary.error();
  std::string url = fmt::format("s3://{}/{}", target->bucket, prefix);
  std::string detail = fmt::format("{} uploaded, {} deleted, {} unchanged", summary->uploaded, summary->deleted,
                                   summary->unchanged);
  return std::vector<PublishedArtifact>{{"dags", url, url, detail}};
}

Result<std::vector<PublishedArtifact>> ArtifactPublisher::publish_function(const EnvironmentConfig& environment,
                                                                           const std::string& name,
                                                                           const PublishStepContext& context) {
  const FunctionSpec* function = nullptr;
  for (const auto& candidate : context.spec->publish->functions) {
    if (candidate.name == name) function = &candidate;
  }
  if (!function) return make_error(fmt::format("no function '{}' in publish.functions", name));
  auto target = open_bucket(environment, context);
  if (!target) return target.error();
  fs::path zip = context.scratch / (name + ".zip");
  auto packed = write_function_zip(context.workspace / function->from, zip);
  if (!packed) return packed.error();
  context.log(fmt::format("packed {} ({} files, {} bytes, sha256 {})", function->from, packed->files, packed->bytes,
                          packed->sha256));
  // Named by commit, like the image's tag: a deployment can pin the exact bundle it tested.
  std::string key = join_key(target->prefix, fmt::format("functions/{}/{}.zip", name, context.run->commit.substr(0, 12)));
  auto uploaded = upload_file(*target->client, zip, target->bucket, key);
  if (!uploaded) return uploaded.error();
  return std::vector<PublishedArtifact>{
      {"function", name, uploaded->url, fmt::format("sha256 {} · {} files · {} bytes", packed->sha256, packed->files, packed->bytes)}};
}

}  // namespace slipway
