// The web UI's files (web/), embedded into the binary at build time by cmake/embed_assets.cmake,
// so that `slipway serve` is one file to deploy. serve_ui_asset answers `GET /` and
// `GET /index.html` with index.html and `GET /assets/NAME` with web/NAME; any other path, or a
// name that is not embedded, gives nullopt (the caller answers 404). Every answer carries a
// strong ETag (a hash of the file), `Cache-Control: no-cache` (the browser revalidates, and a
// matching `If-None-Match` costs a 304 with no body), and the security headers: a
// Content-Security-Policy that allows only 'self', `X-Content-Type-Options: nosniff`,
// `Referrer-Policy: no-referrer` and `X-Frame-Options: DENY`.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string_view>

#include "server/http_router.h"

namespace slipway {

std::optional<HttpResponse> serve_ui_asset(std::string_view path, std::string_view if_none_match = {});

// One embedded file. The table is generated (web_assets.cpp in the build tree, by
// cmake/embed_assets.cmake) and linked in through slipway_add_web_assets (cmake/web_assets.cmake).
struct EmbeddedAsset {
  std::string_view name;          // path under web/, e.g. "app.js"
  std::string_view content_type;  // from the extension, e.g. "text/javascript; charset=utf-8"
  std::string_view etag;          // quoted strong ETag: "\"<first 32 hex digits of SHA-256>\""
  const unsigned char* data;
  std::size_t size;
};

std::span<const EmbeddedAsset> embedded_web_assets();

}  // namespace slipway
