#include "base/curl_library.h"

#include <fmt/core.h>

#include "base/shared_library.h"

namespace slipway {

namespace {

Result<CurlLibrary> load() {
  CurlLibrary curl;
  decltype(&::curl_global_init) global_init = nullptr;
  // libcurl.so.4: the soname Debian's libcurl4 provides, the ABI these headers describe.
  Status loaded = load_library_functions("libcurl.so.4", "libcurl4",
                                         {library_function("curl_global_init", global_init),
                                          library_function("curl_easy_init", curl.easy_init),
                                          library_function("curl_easy_cleanup", curl.easy_cleanup),
                                          library_function("curl_easy_reset", curl.easy_reset),
                                          library_function("curl_easy_setopt", curl.easy_setopt),
                                          library_function("curl_easy_perform", curl.easy_perform),
                                          library_function("curl_easy_getinfo", curl.easy_getinfo),
                                          library_function("curl_easy_strerror", curl.easy_strerror),
                                          library_function("curl_slist_append", curl.slist_append),
                                          library_function("curl_slist_free_all", curl.slist_free_all)});
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
