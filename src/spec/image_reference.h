// Image references ("127.0.0.1:5000/dev/hello-app:1a2b3c4", "...@sha256:<64 hex>") and the
// environments' registry URLs ("127.0.0.1:5000/dev"), checked against the distribution reference
// grammar. Parsing never throws; every refusal names the text and the rule it broke. In spec/,
// not publish/, because .slipway.yml names images too (a service's `image:`).
#pragma once

#include <string>
#include <string_view>

#include "base/result.h"

namespace slipway {

struct ImageReference {
  std::string registry;     // "127.0.0.1:5000", "registry.example.com", "localhost:5000"
  std::string repository;   // "dev/hello-app": the path inside the registry
  std::string tag;          // "" when absent
  std::string digest;       // "sha256:<64 hex>", "" when absent

  // "registry/repository[:tag][@digest]": parses back to the same reference.
  std::string to_string() const;
};

// A reference must name its registry (a first component with a '.' or a ':', or "localhost"):
// Slipway never guesses Docker Hub. A sha256 digest must be 64 lowercase hex digits.
Result<ImageReference> parse_image_reference(std::string_view text);

// An image as a test service names it: NAME[:TAG][@DIGEST], where NAME may start with a registry
// (HOST[:PORT]/…) or not ("postgres:13", an image already on the Engine); `registry` is then "".
// A name without a tag or digest is returned as it is (the Engine reads it as :latest).
Result<ImageReference> parse_image_name(std::string_view text);

// Where an environment's images go: registry host and the prefix its repositories share.
struct RegistryLocation {
  std::string registry;     // "127.0.0.1:5000"
  std::string prefix;       // "dev", or "" for the registry's root

  // "dev/hello-app" for "hello-app": the prefix joined to an image's repository name.
  std::string repository(std::string_view name) const;
};

// "127.0.0.1:5000/dev" (an optional http:// or https:// is accepted and dropped; the scheme is
// the client's business). The prefix, when present, must itself be a valid repository path.
Result<RegistryLocation> parse_registry_url(std::string_view url);

// Errors unless `path` is a valid repository path ("dev/hello-app": lowercase components joined
// by '/', separators '.', '_', '__' or dashes inside a component, at most 255 characters).
Status check_repository_path(std::string_view path);
// Errors unless `tag` matches [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}.
Status check_tag(std::string_view tag);
// Errors unless `digest` is "algorithm:hex" per the grammar, and 64 lowercase hex for sha256.
Status check_digest(std::string_view digest);

}  // namespace slipway
