// The real `slipway` binary leaves libcurl, libarchive (and the ~40 libraries they bring) and
// libcrypto to be loaded when first needed (base/shared_library.h): the dynamic loader maps neither at start,
// and a command that needs neither runs without them. Whether each loads when needed is
// tested by curl_library_test and by every test that sends a request or writes an archive.
#include <gtest/gtest.h>

#include <string>

#include "base/run_command.h"

namespace slipway {
namespace {

bool contains(const std::string& text, std::string_view part) { return text.find(part) != std::string::npos; }

// What the dynamic loader maps at start: the list ldd prints, by asking the loader itself.
std::string loaded_at_start() {
  CommandOptions options;
  options.environment = std::vector<std::string>{"LD_TRACE_LOADED_OBJECTS=1"};
  auto traced = run_command({SLIPWAY_BINARY}, options);
  EXPECT_TRUE(traced) << (traced ? "" : traced.error().message);
  if (!traced) return "";
  EXPECT_EQ(traced->exit_code, 0) << traced->err;
  return traced->out;
}

TEST(LazyLibraries, NeitherLibcurlNorLibarchiveIsMappedAtStart) {
  const std::string libraries = loaded_at_start();
  ASSERT_TRUE(contains(libraries, "libc.so.6")) << libraries;  // the trace did list what loads
  EXPECT_FALSE(contains(libraries, "libcurl")) << libraries;
  EXPECT_FALSE(contains(libraries, "libarchive")) << libraries;
  EXPECT_FALSE(contains(libraries, "libicu")) << libraries;   // libarchive's, through libxml2
  EXPECT_FALSE(contains(libraries, "libgnutls")) << libraries;  // libcurl's, through librtmp
  EXPECT_FALSE(contains(libraries, "libcrypto")) << libraries;  // loaded at the first digest
}

TEST(LazyLibraries, AValidationNeedsNeither) {
  // LD_DEBUG=files names every library as it is loaded, at start or by dlopen.
  CommandOptions options;
  options.environment = std::vector<std::string>{"LD_DEBUG=files", "PATH=/usr/bin:/bin"};
  auto validated = run_command({SLIPWAY_BINARY, "validate", SLIPWAY_SOURCE_DIR "/examples/library/.slipway.yml"}, options);
  ASSERT_TRUE(validated) << validated.error().message;
  EXPECT_EQ(validated->exit_code, 0) << validated->out << validated->err;
  EXPECT_TRUE(contains(validated->err, "libc.so.6")) << validated->err;
  EXPECT_FALSE(contains(validated->err, "libcurl")) << validated->err;
  EXPECT_FALSE(contains(validated->err, "libarchive")) << validated->err;
  EXPECT_FALSE(contains(validated->err, "libcrypto")) << validated->err;
}

}  // namespace
}  // namespace slipway
