// libcurl is loaded at the first request that needs it (base/curl_library.h), not when the
// process starts. The tests run in this order in one process (one CTest entry per unit-test
// file), so what each finds in /proc/self/maps is what the ones before it did.
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "base/curl_library.h"
#include "base/http_client.h"

namespace slipway {
namespace {

bool libcurl_mapped() {
  std::ifstream maps("/proc/self/maps");
  for (std::string line; std::getline(maps, line);) {
    if (line.find("/libcurl.so") != std::string::npos) return true;
  }
  return false;
}

TEST(CurlLibrary, NotMappedAtStart) { EXPECT_FALSE(libcurl_mapped()); }

TEST(CurlLibrary, AMissingUnixSocketIsUnavailableWithoutLoadingIt) {
  HttpClient client;
  HttpClientRequest request;
  request.url = "http://localhost/v1.41/version";
  request.unix_socket = "/nonexistent/slipway-test/docker.sock";
  auto response = client.send(request);
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().kind, ErrorKind::unavailable);
  EXPECT_EQ(response.error().cause, "No such file or directory");
  EXPECT_EQ(response.error().message,
            "GET http://localhost/v1.41/version (socket /nonexistent/slipway-test/docker.sock): cannot connect (No "
            "such file or directory)");
  EXPECT_FALSE(libcurl_mapped());
}

TEST(CurlLibrary, TheFirstRealRequestLoadsItOnce) {
  HttpClient client;
  HttpClientRequest request;
  request.url = "http://127.0.0.1:1/";  // nothing listens on port 1: refused, without a network
  auto refused = client.send(request);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().kind, ErrorKind::unavailable);
  EXPECT_EQ(refused.error().cause, "Connection refused");
  EXPECT_TRUE(libcurl_mapped());
  auto first = curl_library();
  auto second = curl_library();
  ASSERT_TRUE(first && second);
  EXPECT_EQ(*first, *second);
  EXPECT_NE((*first)->easy_setopt, nullptr);
}

}  // namespace
}  // namespace slipway
