// Unit tests of hello-app's request parsing and routing: pure functions, no sockets.
#include <gtest/gtest.h>

#include "http_request.h"
#include "routes.h"

namespace hello {
namespace {

Request parse_ok(std::string_view text) {
  ParseResult result = parse_request(text);
  EXPECT_EQ(result.status, ParseStatus::complete) << "input: " << text;
  return result.request;
}

Request get(std::string target) {
  return parse_ok("GET " + target + " HTTP/1.1\r\nHost: x\r\n\r\n");
}

TEST(ParseRequest, ParsesRequestLineAndHeaders) {
  const std::string text = "GET /health?verbose=1 HTTP/1.1\r\nHost: example\r\nX-Trace:  abc \r\n\r\n";
  ParseResult result = parse_request(text);
  ASSERT_EQ(result.status, ParseStatus::complete);
  EXPECT_EQ(result.request.method, "GET");
  EXPECT_EQ(result.request.target, "/health?verbose=1");
  EXPECT_EQ(result.request.path, "/health");
  EXPECT_EQ(result.request.version, "HTTP/1.1");
  EXPECT_EQ(result.request.header("host"), "example");
  EXPECT_EQ(result.request.header("x-trace"), "abc") << "values are trimmed, names lower-cased";
  EXPECT_EQ(result.consumed, text.size());
}

TEST(ParseRequest, WaitsForTheEndOfTheHeaders) {
  EXPECT_EQ(parse_request("").status, ParseStatus::incomplete);
  EXPECT_EQ(parse_request("GET / HTTP/1.1\r\nHost: x\r\n").status, ParseStatus::incomplete);
}

TEST(ParseRequest, WaitsForTheWholeBody) {
  const std::string head = "POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\n";
  EXPECT_EQ(parse_request(head + "abc").status, ParseStatus::incomplete);
  ParseResult result = parse_request(head + "abcdeGET");
  ASSERT_EQ(result.status, ParseStatus::complete);
  EXPECT_EQ(result.request.body, "abcde");
  EXPECT_EQ(result.consumed, head.size() + 5) << "pipelined bytes after the body stay unread";
}

TEST(ParseRequest, RejectsMalformedInput) {
  for (std::string_view bad : {"GARBAGE\r\n\r\n", "GET /\r\n\r\n", "GET / HTTP/2.0\r\n\r\n",
                               "GET noslash HTTP/1.1\r\n\r\n", "G(T / HTTP/1.1\r\n\r\n",
                               "GET / HTTP/1.1\r\nno colon here\r\n\r\n",
                               "GET / HTTP/1.1\r\n folded: x\r\n\r\n",
                               "POST / HTTP/1.1\r\nContent-Length: 1x\r\n\r\n"}) {
    EXPECT_EQ(parse_request(bad).status, ParseStatus::bad) << "input: " << bad;
  }
}

TEST(ParseRequest, LimitsHeaderAndBodySize) {
  const std::string huge_header = "GET / HTTP/1.1\r\nX: " + std::string(kMaxHeaderBytes, 'a');
  EXPECT_EQ(parse_request(huge_header).status, ParseStatus::too_large);
  const std::string huge_body = "POST / HTTP/1.1\r\nContent-Length: " +
                                std::to_string(kMaxBodyBytes + 1) + "\r\n\r\n";
  EXPECT_EQ(parse_request(huge_body).status, ParseStatus::too_large);
}

TEST(ParseRequest, ChunkedBodiesAreUnsupported) {
  EXPECT_EQ(parse_request("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n").status,
            ParseStatus::unsupported);
}

TEST(ParseRequest, KeepAliveFollowsTheVersionDefault) {
  EXPECT_TRUE(parse_ok("GET / HTTP/1.1\r\n\r\n").keep_alive());
  EXPECT_FALSE(parse_ok("GET / HTTP/1.1\r\nConnection: Close\r\n\r\n").keep_alive());
  EXPECT_FALSE(parse_ok("GET / HTTP/1.0\r\n\r\n").keep_alive());
  EXPECT_TRUE(parse_ok("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").keep_alive());
}

TEST(Route, HealthAnswersOk) {
  Response response = route(get("/health"), AppConfig{});
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "ok\n");
}

TEST(Route, RootGreetsWithTheVersion) {
  Response response = route(get("/"), AppConfig{"1.4.2"});
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.header("X-App-Version"), "1.4.2");
  EXPECT_NE(response.body.find("Hello"), std::string::npos) << response.body;
}

TEST(Route, QueryStringsDoNotChangeTheRoute) {
  EXPECT_EQ(route(get("/health?probe=lb"), AppConfig{}).status, 200);
}

TEST(Route, UnknownPathIs404) {
  for (const char* path : {"/nope", "/healthz", "/health/"}) {
    Response response = route(get(path), AppConfig{});
    EXPECT_EQ(response.status, 404) << "GET " << path << " must be 404, got the body: "
                                    << response.body;
  }
}

TEST(Route, WritesAreNotAllowed) {
  Response response = route(parse_ok("POST /health HTTP/1.1\r\nContent-Length: 0\r\n\r\n"),
                            AppConfig{});
  EXPECT_EQ(response.status, 405);
  EXPECT_EQ(response.header("Allow"), "GET, HEAD");
}

TEST(Serialize, SetsContentLengthAndOmitsTheBodyForHead) {
  Response response = route(get("/health"), AppConfig{});
  EXPECT_EQ(serialize(response),
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\n"
            "Content-Length: 3\r\n\r\nok\n");
  EXPECT_EQ(serialize(response, /*head_only=*/true).find("ok\n"), std::string::npos);
}

TEST(Serialize, ErrorResponsesClose) {
  const std::string bytes = serialize(error_response(400));
  EXPECT_EQ(bytes.rfind("HTTP/1.1 400 Bad Request\r\n", 0), 0u) << bytes;
  EXPECT_NE(bytes.find("Connection: close\r\n"), std::string::npos) << bytes;
}

}  // namespace
}  // namespace hello
