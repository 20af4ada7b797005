// The post-receive hook that `slipway hook install` writes: a self-contained POSIX sh script
// that tells the server about each pushed ref with curl, and never fails a push.
#pragma once

#include <string>

namespace slipway {

// The marker line that says a hook is Slipway's (so reinstalling may overwrite it).
inline constexpr const char* kHookMarker = "# slipway post-receive hook";

// The chained hook's file name beside post-receive: the hook that was there before.
inline constexpr const char* kChainedHookName = "post-receive.chained";

// The token file's name beside post-receive (0600), read when present.
inline constexpr const char* kHookTokenFileName = "slipway-token";

// `server` and `repository` are embedded shell-quoted; nothing else is interpolated.
std::string post_receive_script(const std::string& server, const std::string& repository);

}  // namespace slipway
