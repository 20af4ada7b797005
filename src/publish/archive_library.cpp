#include "publish/archive_library.h"

#include <archive.h>
#include <archive_entry.h>

#include <cstdarg>
#include <cstdio>
#include <type_traits>

#include "base/shared_library.h"

namespace slipway {

#define SLIPWAY_ARCHIVE_FUNCTIONS(X)                                                                              \
  X(archive_entry_copy_pathname) X(archive_entry_copy_symlink) X(archive_entry_filetype) X(archive_entry_free)     \
  X(archive_entry_hardlink) X(archive_entry_new) X(archive_entry_pathname) X(archive_entry_set_filetype)          \
  X(archive_entry_set_gid) X(archive_entry_set_mode) X(archive_entry_set_mtime) X(archive_entry_set_pathname_utf8) \
  X(archive_entry_set_perm) X(archive_entry_set_size) X(archive_entry_set_symlink_utf8) X(archive_entry_set_uid)   \
  X(archive_entry_size) X(archive_entry_symlink) X(archive_entry_unset_atime) X(archive_entry_unset_birthtime)     \
  X(archive_entry_unset_ctime) X(archive_entry_unset_mtime) X(archive_error_string) X(archive_read_data)           \
  X(archive_read_free) X(archive_read_new) X(archive_read_next_header) X(archive_read_open)                        \
  X(archive_read_open_filename) X(archive_read_support_filter_all) X(archive_read_support_format_tar)             \
  X(archive_set_error) X(archive_write_close) X(archive_write_data) X(archive_write_finish_entry)                  \
  X(archive_write_free) X(archive_write_header) X(archive_write_new) X(archive_write_open)                         \
  X(archive_write_open_filename) X(archive_write_set_bytes_in_last_block) X(archive_write_set_format_pax_restricted) \
  X(archive_write_set_format_zip) X(archive_write_set_options) X(archive_write_zip_set_compression_deflate)

namespace {

struct ArchiveFunctions {
#define SLIPWAY_SLOT(name) decltype(&::name) name = nullptr;
  SLIPWAY_ARCHIVE_FUNCTIONS(SLIPWAY_SLOT)
#undef SLIPWAY_SLOT
};

struct LoadedArchive {
  ArchiveFunctions functions;
  Status status;
};

const LoadedArchive& loaded() {
  static const LoadedArchive library = [] {
    LoadedArchive result;
    ArchiveFunctions& f = result.functions;
#define SLIPWAY_ENTRY(name) library_function(#name, f.name),
    // libarchive.so.13: the soname Debian's libarchive13 provides, the ABI these headers describe.
    result.status = load_library_functions("libarchive.so.13", "libarchive13", {SLIPWAY_ARCHIVE_FUNCTIONS(SLIPWAY_ENTRY)});
#undef SLIPWAY_ENTRY
    return result;  // all or nothing: a forwarder sees null or the real function
  }();
  return library;
}

// The real functions, or all null when libarchive could not be loaded.
const ArchiveFunctions& real() { return loaded().functions; }

}  // namespace

Status require_archive_library() {
  const Status& status = loaded().status;
  if (!status) {
    return make_error("reading and writing archives (image tars, build contexts, function zips) needs " +
                      status.error().message);
  }
  return {};
}

}  // namespace slipway

// The forwarders: libarchive's own names and signatures (archive.h, archive_entry.h of 3.6), each
// calling the real function, or failing as libarchive itself fails when it could not be loaded.
namespace {

// The failure each kind of answer has: NULL, ARCHIVE_FATAL (int, la_ssize_t), 0 (sizes, modes).
template <typename R>
R failed() {
  if constexpr (std::is_pointer_v<R>) {
    return nullptr;
  } else if constexpr (std::is_same_v<R, int> || std::is_same_v<R, la_ssize_t>) {
    return ARCHIVE_FATAL;
  } else {
    return R{};
  }
}

// Calls the real `Slot` with `arguments`, or answers failed<R>() (nothing for void).
template <auto Slot, typename... Arguments>
auto forward(Arguments... arguments) {
  const auto function = slipway::real().*Slot;
  using R = decltype(function(arguments...));
  if (!function) {
    if constexpr (std::is_void_v<R>) {
      return;
    } else {
      return failed<R>();
    }
  } else {
    return function(arguments...);
  }
}

using F = slipway::ArchiveFunctions;

}  // namespace

extern "C" {

void archive_entry_copy_pathname(struct archive_entry* e, const char* p) { forward<&F::archive_entry_copy_pathname>(e, p); }
void archive_entry_copy_symlink(struct archive_entry* e, const char* p) { forward<&F::archive_entry_copy_symlink>(e, p); }
__LA_MODE_T archive_entry_filetype(struct archive_entry* e) { return forward<&F::archive_entry_filetype>(e); }
void archive_entry_free(struct archive_entry* e) { forward<&F::archive_entry_free>(e); }
const char* archive_entry_hardlink(struct archive_entry* e) { return forward<&F::archive_entry_hardlink>(e); }
struct archive_entry* archive_entry_new(void) { return forward<&F::archive_entry_new>(); }
const char* archive_entry_pathname(struct archive_entry* e) { return forward<&F::archive_entry_pathname>(e); }
void archive_entry_set_filetype(struct archive_entry* e, unsigned int t) { forward<&F::archive_entry_set_filetype>(e, t); }
void archive_entry_set_gid(struct archive_entry* e, la_int64_t g) { forward<&F::archive_entry_set_gid>(e, g); }
void archive_entry_set_mode(struct archive_entry* e, __LA_MODE_T m) { forward<&F::archive_entry_set_mode>(e, m); }
void archive_entry_set_mtime(struct archive_entry* e, time_t s, long ns) { forward<&F::archive_entry_set_mtime>(e, s, ns); }
void archive_entry_set_pathname_utf8(struct archive_entry* e, const char* p) {
  forward<&F::archive_entry_set_pathname_utf8>(e, p);
}
void archive_entry_set_perm(struct archive_entry* e, __LA_MODE_T m) { forward<&F::archive_entry_set_perm>(e, m); }
void archive_entry_set_size(struct archive_entry* e, la_int64_t s) { forward<&F::archive_entry_set_size>(e, s); }
void archive_entry_set_symlink_utf8(struct archive_entry* e, const char* p) {
  forward<&F::archive_entry_set_symlink_utf8>(e, p);
}
void archive_entry_set_uid(struct archive_entry* e, la_int64_t u) { forward<&F::archive_entry_set_uid>(e, u); }
la_int64_t archive_entry_size(struct archive_entry* e) { return forward<&F::archive_entry_size>(e); }
const char* archive_entry_symlink(struct archive_entry* e) { return forward<&F::archive_entry_symlink>(e); }
void archive_entry_unset_atime(struct archive_entry* e) { forward<&F::archive_entry_unset_atime>(e); }
void archive_entry_unset_birthtime(struct archive_entry* e) { forward<&F::archive_entry_unset_birthtime>(e); }
void archive_entry_unset_ctime(struct archive_entry* e) { forward<&F::archive_entry_unset_ctime>(e); }
void archive_entry_unset_mtime(struct archive_entry* e) { forward<&F::archive_entry_unset_mtime>(e); }

}  // extern "C": archive_entry.h

extern "C" {

// Never null when the library is missing: every caller puts the reason into a message.
const char* archive_error_string(struct archive* a) {
  const auto function = slipway::real().archive_error_string;
  return function ? function(a) : "libarchive (libarchive.so.13) could not be loaded: install the libarchive13 package";
}
// The one variadic function: formatted here, passed on as "%s".
void archive_set_error(struct archive* a, int error, const char* format, ...) {
  char message[512];
  va_list arguments;
  va_start(arguments, format);
  std::vsnprintf(message, sizeof message, format, arguments);
  va_end(arguments);
  const auto function = slipway::real().archive_set_error;
  if (function) function(a, error, "%s", message);
}

la_ssize_t archive_read_data(struct archive* a, void* buffer, size_t size) { return forward<&F::archive_read_data>(a, buffer, size); }
int archive_read_free(struct archive* a) { return forward<&F::archive_read_free>(a); }
struct archive* archive_read_new(void) { return forward<&F::archive_read_new>(); }
int archive_read_next_header(struct archive* a, struct archive_entry** e) { return forward<&F::archive_read_next_header>(a, e); }
int archive_read_open(struct archive* a, void* data, archive_open_callback* open, archive_read_callback* read,
                      archive_close_callback* close) {
  return forward<&F::archive_read_open>(a, data, open, read, close);
}
int archive_read_open_filename(struct archive* a, const char* file, size_t block) {
  return forward<&F::archive_read_open_filename>(a, file, block);
}
int archive_read_support_filter_all(struct archive* a) { return forward<&F::archive_read_support_filter_all>(a); }
int archive_read_support_format_tar(struct archive* a) { return forward<&F::archive_read_support_format_tar>(a); }

}  // extern "C": archive.h's errors and reading

extern "C" {

int archive_write_close(struct archive* a) { return forward<&F::archive_write_close>(a); }
la_ssize_t archive_write_data(struct archive* a, const void* data, size_t size) {
  return forward<&F::archive_write_data>(a, data, size);
}
int archive_write_finish_entry(struct archive* a) { return forward<&F::archive_write_finish_entry>(a); }
int archive_write_free(struct archive* a) { return forward<&F::archive_write_free>(a); }
int archive_write_header(struct archive* a, struct archive_entry* e) { return forward<&F::archive_write_header>(a, e); }
struct archive* archive_write_new(void) { return forward<&F::archive_write_new>(); }
int archive_write_open(struct archive* a, void* data, archive_open_callback* open, archive_write_callback* write,
                       archive_close_callback* close) {
  return forward<&F::archive_write_open>(a, data, open, write, close);
}
int archive_write_open_filename(struct archive* a, const char* file) { return forward<&F::archive_write_open_filename>(a, file); }
int archive_write_set_bytes_in_last_block(struct archive* a, int bytes) {
  return forward<&F::archive_write_set_bytes_in_last_block>(a, bytes);
}
int archive_write_set_format_pax_restricted(struct archive* a) { return forward<&F::archive_write_set_format_pax_restricted>(a); }
int archive_write_set_format_zip(struct archive* a) { return forward<&F::archive_write_set_format_zip>(a); }
int archive_write_set_options(struct archive* a, const char* options) { return forward<&F::archive_write_set_options>(a, options); }
int archive_write_zip_set_compression_deflate(struct archive* a) {
  return forward<&F::archive_write_zip_set_compression_deflate>(a);
}

}  // extern "C": archive.h's writing
