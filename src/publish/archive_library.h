// libarchive, loaded the first time an archive is read or written rather than when `slipway`
// starts (why: base/shared_library.h). Internal to publish/, the one layer that uses it.
//
// How: archive_library.cpp defines each libarchive function publish/ calls, under its own name
// and signature, as a small forwarder to the real one found with dlsym; `slipway` does not link
// libarchive, so these are the definitions the code's calls reach, and no call site changes.
// Before its first archive, a caller asks require_archive_library(), which loads the library or
// says why it cannot. The forwarders never crash when it could not be loaded: the *_new
// functions return NULL, the others ARCHIVE_FATAL, -1, 0 or nothing, as libarchive does on
// failure. A function publish/ starts using must be added there too (the link fails until it is).
#pragma once

#include "base/result.h"

namespace slipway {

Status require_archive_library();

}  // namespace slipway
