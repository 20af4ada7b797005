// free_loopback_port: a TCP port on 127.0.0.1 that was free a moment ago, for a process that is
// about to listen on it (a new container's $PORT). The kernel picks it; nothing holds it after
// the call, so two callers racing for ports can, rarely, get one that is taken again.
#pragma once

#include "base/result.h"

namespace slipway {

// Binds 127.0.0.1:0, reads the port the kernel chose and closes the socket. Error when no
// socket can be made or bound (the message says why).
Result<int> free_loopback_port();

}  // namespace slipway
