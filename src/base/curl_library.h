// CurlLibrary: libcurl's entry points, loaded the first time one is needed rather than when the
// program starts. Internal to base/ (HttpClient is its only user).
//
// Why (base/shared_library.h has the general case): libcurl brings about thirty shared libraries
// (OpenSSL and GnuTLS, Kerberos, LDAP, SSH, IDN...) that cost every process ~290 page faults —
// `slipway --version` took 33 ms with them and 16 ms without here — and a server that has not
// sent a request yet ~6 MiB of resident memory.
//
// What it promises: curl_library() loads libcurl once per process (thread-safe), runs
// curl_global_init, and from then on hands out the same table, never unloaded. When libcurl
// cannot be loaded, every call returns the same error naming the library and the package.
#pragma once

#include <curl/curl.h>

#include "base/result.h"

namespace slipway {

struct CurlLibrary {
  decltype(&::curl_easy_init) easy_init = nullptr;
  decltype(&::curl_easy_cleanup) easy_cleanup = nullptr;
  decltype(&::curl_easy_reset) easy_reset = nullptr;
  decltype(&::curl_easy_setopt) easy_setopt = nullptr;
  decltype(&::curl_easy_perform) easy_perform = nullptr;
  decltype(&::curl_easy_getinfo) easy_getinfo = nullptr;
  decltype(&::curl_easy_strerror) easy_strerror = nullptr;
  decltype(&::curl_slist_append) slist_append = nullptr;
  decltype(&::curl_slist_free_all) slist_free_all = nullptr;
};

Result<const CurlLibrary*> curl_library();

}  // namespace slipway
