// The words Slipway uses when a registry says no: its {"errors":[{code,message,detail}]} body
// turned into one line, and curl's transport failures turned into "cannot reach the registry".
#pragma once

#include <string>
#include <string_view>

#include "base/result.h"

namespace slipway {

// "HTTP 401 UNAUTHORIZED: authentication required" from a registry's (or token service's)
// error body; several errors are joined with "; ". Falls back to the start of the raw body
// (made valid UTF-8), or to the bare status when there is none.
std::string describe_registry_answer(long status, std::string_view body);

// "cannot reach the registry at 127.0.0.1:5000: Connection refused" from an HttpClient error,
// whose message names the URL before curl's own words.
Error unreachable_registry(std::string_view registry, const Error& transport);

}  // namespace slipway
