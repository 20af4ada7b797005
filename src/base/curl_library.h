// CurlLibrary: libcurl's entry points, loaded the first time one is needed rather than when the
// program starts. Internal to base/ (HttpClient is its only user).
//
// Why: libcurl brings about thirty shared libraries with it (OpenSSL and GnuTLS, Kerberos, LDAP,
// SSH, IDN...). Mapping and relocating them costs every `slipway` process ~440 page faults —
// ~13 ms on this 2-core machine, half of `slipway --version` — and ~6 MiB of resident memory,
// whether or not it ever makes a request: `slipway run`, `validate`, `--help`, or a server that
// has not needed the network yet. git made the same trade (git-remote-https is a program of its
// own, so that no other git command loads libcurl); one binary makes it with dlopen.
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
