// load_library_functions: a shared library loaded at run time, the first time a feature needs it,
// instead of by the dynamic loader when `slipway` starts.
//
// Why: every library a binary links is mapped and relocated at every start, whether or not the
// process uses it. On this machine a page fault costs ~25 µs, and libcurl's ~30 libraries,
// libarchive's ~10 (ICU and libxml2 among them) and libcrypto cost every process ~580 faults
// and ~10 MiB of resident memory, of which `slipway --version`, `slipway run`, or a server that
// has not needed them yet, uses none.
// (What Windows calls delay-loading; git gets the same by keeping libcurl in git-remote-https.)
//
// What it promises: the library is opened with RTLD_NOW | RTLD_LOCAL (its symbols never
// interpose on anything else) and never closed; either every function named is found and
// stored, or none is (every slot null) and an error names the library, what is missing and the
// Debian package to install.
#pragma once

#include <initializer_list>

#include "base/result.h"

namespace slipway {

struct LibraryFunction {
  const char* name;
  void** slot;  // where the address goes: *reinterpret_cast<void**>(&function_pointer), as dlsym(3) shows
};

// The entry for a function pointer of any type.
template <typename Function>
LibraryFunction library_function(const char* name, Function*& slot) {
  return {name, reinterpret_cast<void**>(&slot)};
}

Status load_library_functions(const char* soname, const char* package, std::initializer_list<LibraryFunction> functions);

}  // namespace slipway
