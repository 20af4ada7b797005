// write_to_pipe: write(2) to a pipe whose reader may be gone, without SIGPIPE ending this
// process (a CLI does not ignore the signal, and a server thread must not die because a helper
// it feeds exited early). The signal is blocked in the calling thread for the write, and one it
// raised is consumed before the mask is restored; the caller sees EPIPE instead.
#pragma once

#include <sys/types.h>

#include <string_view>

namespace slipway {

// One write(2) of `data` to `fd`: what write returned (bytes written, or -1 with errno set:
// EPIPE when the reader is gone, EAGAIN for a full non-blocking pipe).
ssize_t write_to_pipe(int fd, std::string_view data);

// Writes all of `data` to a blocking `fd`, retrying after EINTR. False when the reader is gone
// or the write failed (errno says why).
bool write_all_to_pipe(int fd, std::string_view data);

}  // namespace slipway
