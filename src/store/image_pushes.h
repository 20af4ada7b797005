// The image_pushes table: every tagged manifest push a registry notified us of, keyed by the
// registry's event id so that a redelivered notification is stored once. A push is recorded in
// the same transaction as its "image.pushed" event (acknowledged only once stored, DESIGN §8).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/result.h"
#include "store/store.h"

namespace slipway {

struct ImagePushRecord {
  std::string event_id;      // the registry's id for the notification event
  std::string registry;      // "127.0.0.1:5000"
  std::string repository;    // "dev/hello-app"
  std::string tag;           // "v1"
  std::string digest;        // "sha256:..." of the manifest
  std::string media_type;    // the manifest's media type
  int64_t received_ms = 0;   // 0: now
};

// Inserts the push and appends its "image.pushed" event — both or neither. Returns true when
// stored, false when the event id was already there (a duplicate: nothing is written).
Result<bool> record_image_push(Store& store, const ImagePushRecord& push);

// Pushes of `repository` ("" for every repository), newest first, at most `limit`.
Result<std::vector<ImagePushRecord>> list_image_pushes(Store& store, const std::string& repository, int limit);

}  // namespace slipway
