#include "base/shared_library.h"

#include <dlfcn.h>

#include <fmt/core.h>

namespace slipway {

Status load_library_functions(const char* soname, const char* package, std::initializer_list<LibraryFunction> functions) {
  void* library = ::dlopen(soname, RTLD_NOW | RTLD_LOCAL);
  if (!library) {
    const char* why = ::dlerror();
    return make_error(fmt::format("cannot load {}: {}; install the {} package", soname, why ? why : "unknown reason",
                                  package));
  }
  for (const LibraryFunction& function : functions) {
    *function.slot = ::dlsym(library, function.name);
    if (!*function.slot) {
      for (const LibraryFunction& found : functions) *found.slot = nullptr;  // none, rather than some
      return make_error(fmt::format("{} has no function {}: install the {} package Debian 12 ships", soname,
                                    function.name, package));
    }
  }
  return {};
}

}  // namespace slipway
