#include "base/curl_library.h"

#include <fmt/core.h>

#include "base/shared_library.h"

namespace slipway {

namespace {

Result<CurlLibrary> load() {
  CurlLibrary curl;
  decltype(&::curl_global_init) global_init = nullptr;
  auto slot = [](auto& function) { return reinterpret_cast<void**>(&function); };
  // libcurl.so.4: the soname Debian's libcurl4 provides, the ABI these headers describe.
  Status loaded = load_library_functions("libcurl.so.4", "libcurl4",
                                         {{"curl_global_init", slot(global_init)},
                                          {"curl_easy_init", slot(curl.easy_init)},
                                          {"curl_easy_cleanup", slot(curl.easy_cleanup)},
                                          {"curl_easy_reset", slot(curl.easy_reset)},
                                          {"curl_easy_setopt", slot(curl.easy_setopt)},
                                          {"curl_easy_perform", slot(curl.easy_perform)},
                                          {"curl_easy_getinfo", slot(curl.easy_getinfo)},
                                          {"curl_easy_strerror", slot(curl.easy_strerror)},
                                          {"curl_slist_append", slot(curl.slist_append)},
                                          {"curl_slist_free_all", slot(curl.slist_free_all)}});
  if (!loaded) return make_error(fmt::format("HTTP requests need libcurl: {}", loaded.error().message));
  if (CURLcode code = global_init(CURL_GLOBAL_DEFAULT); code != CURLE_OK) {
    return make_error(fmt::format("cannot initialise libcurl (curl_global_init returned {})", static_cast<int>(code)));
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
