#include "base/curl_library.h"

#include <dlfcn.h>

#include <fmt/core.h>

namespace slipway {

namespace {

// The soname Debian's libcurl4 (and libcurl4-openssl-dev's link) provides: the ABI the headers
// this was compiled with describe.
constexpr const char* kSoname = "libcurl.so.4";

template <typename Function>
bool find(void* library, const char* name, Function& slot) {
  slot = reinterpret_cast<Function>(::dlsym(library, name));
  return slot != nullptr;
}

Result<CurlLibrary> load() {
  // RTLD_LOCAL: its symbols (and its dependencies') stay out of the global scope, so they cannot
  // interpose on anything loaded later. Never closed: handles and callbacks outlive any scope.
  void* library = ::dlopen(kSoname, RTLD_NOW | RTLD_LOCAL);
  if (!library) {
    const char* why = ::dlerror();
    return make_error(fmt::format("cannot load {} for HTTP requests: {}; install the libcurl4 package", kSoname,
                                  why ? why : "unknown reason"));
  }
  CurlLibrary curl;
  decltype(&::curl_global_init) global_init = nullptr;
  const bool found = find(library, "curl_global_init", global_init) && find(library, "curl_easy_init", curl.easy_init) &&
                     find(library, "curl_easy_cleanup", curl.easy_cleanup) &&
                     find(library, "curl_easy_reset", curl.easy_reset) &&
                     find(library, "curl_easy_setopt", curl.easy_setopt) &&
                     find(library, "curl_easy_perform", curl.easy_perform) &&
                     find(library, "curl_easy_getinfo", curl.easy_getinfo) &&
                     find(library, "curl_easy_strerror", curl.easy_strerror) &&
                     find(library, "curl_slist_append", curl.slist_append) &&
                     find(library, "curl_slist_free_all", curl.slist_free_all);
  if (!found) return make_error(fmt::format("{} lacks a function HTTP requests need: {}", kSoname, ::dlerror()));
  if (CURLcode code = global_init(CURL_GLOBAL_DEFAULT); code != CURLE_OK) {
    return make_error(fmt::format("cannot initialise {} (curl_global_init returned {})", kSoname, static_cast<int>(code)));
  }
  return curl;
}

}  // namespace

Result<const CurlLibrary*> curl_library() {
  static const Result<CurlLibrary> loaded = load();  // once per process; C++ makes it thread-safe
  if (!loaded) return loaded.error();
  return &*loaded;
}

}  // namespace slipway
