// Reads a distribution registry's notification envelope ({"events": [...]}, media type
// application/vnd.docker.distribution.events.v1+json) into the image pushes that matter to
// deployment: "push" of a manifest (OCI or Docker v2, image or index) under a non-empty tag.
// Pure and total: any input gives a value or an Error, never an exception or a crash.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace slipway {

struct ImagePush {
  std::string event_id;      // the registry's event id: the key for deduplication
  std::string registry;      // host[:port] from target.url, else request.host
  std::string repository;
  std::string tag;
  std::string digest;
  std::string media_type;
};

struct ParsedEnvelope {
  std::vector<ImagePush> pushes;
  int ignored = 0;                     // events that are not tagged manifest pushes (pulls, blobs)
  std::vector<std::string> skipped;    // malformed events, each with why ("event 2: no id")
};

// An Error when the body is not JSON or has no "events" array; otherwise every event is either
// a push, ignored, or skipped with a reason.
Result<ParsedEnvelope> parse_registry_envelope(std::string_view body);

// True for the manifest and index media types; false for layers, configs and anything else.
bool is_manifest_media_type(std::string_view media_type);

}  // namespace slipway
