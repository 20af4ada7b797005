#include "server/ui_assets.h"

#include <string>

namespace slipway {
namespace {

// Everything the UI needs comes from this server: no CDN, no inline script or style, no frames
// around it. 'self' for connect-src covers the API and the log stream.
constexpr std::string_view kContentSecurityPolicy =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'";

const EmbeddedAsset* find_asset(std::string_view name) {
  for (const EmbeddedAsset& asset : embedded_web_assets()) {
    if (asset.name == name) return &asset;
  }
  return nullptr;
}

// Which embedded file a request path names. Only flat names under /assets/: the table has no
// folders, and refusing '/' keeps "../" and friends out without further thought.
std::optional<std::string_view> asset_name(std::string_view path) {
  if (path == "/" || path == "/index.html") return "index.html";
  constexpr std::string_view prefix = "/assets/";
  if (!path.starts_with(prefix)) return std::nullopt;
  std::string_view name = path.substr(prefix.size());
  if (name.empty() || name.find('/') != std::string_view::npos) return std::nullopt;
  return name;
}

// If-None-Match may list several tags ("a", "b") or be "*".
bool etag_matches(std::string_view if_none_match, std::string_view etag) {
  if (if_none_match.empty()) return false;
  if (if_none_match == "*") return true;
  return if_none_match.find(etag) != std::string_view::npos;
}

}  // namespace

std::optional<HttpResponse> serve_ui_asset(std::string_view path, std::string_view if_none_match) {
  std::optional<std::string_view> name = asset_name(path);
  if (!name) return std::nullopt;
  const EmbeddedAsset* asset = find_asset(*name);
  if (!asset) return std::nullopt;

  HttpResponse response;
  response.content_type = std::string(asset->content_type);
  response.headers["ETag"] = std::string(asset->etag);
  // no-cache, not max-age: the asset names carry no version, and after an upgrade the modules
  // must not mix old and new. Revalidation is one cheap 304 per file.
  response.headers["Cache-Control"] = "no-cache";
  response.headers["Content-Security-Policy"] = std::string(kContentSecurityPolicy);
  response.headers["X-Content-Type-Options"] = "nosniff";
  response.headers["Referrer-Policy"] = "no-referrer";
  response.headers["X-Frame-Options"] = "DENY";
  if (etag_matches(if_none_match, asset->etag)) {
    response.status = 304;
    return response;
  }
  response.status = 200;
  response.body.assign(reinterpret_cast<const char*>(asset->data), asset->size);
  return response;
}

}  // namespace slipway
