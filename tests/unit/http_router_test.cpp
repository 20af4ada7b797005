// Router: pattern matching, parameters, and the 404/405/401/403 answers, without a socket.
#include <gtest/gtest.h>

#include "server/http_router.h"
#include "server/url.h"

namespace slipway {
namespace {

HttpRequest request(std::string method, std::string path, Role role = Role::anonymous) {
  HttpRequest r;
  r.method = std::move(method);
  r.path = std::move(path);
  r.role = role;
  r.token_name = "tester";
  return r;
}

Router sample_router() {
  Router router;
  router.add("GET", "/api/v1/runs", Role::read_only, [](HttpRequest&) { return HttpResponse::text(200, "list"); });
  router.add("GET", "/api/v1/runs/{id}", Role::read_only,
             [](HttpRequest& r) { return HttpResponse::text(200, "run " + r.params["id"]); });
  router.add("POST", "/api/v1/runs/{id}/cancel", Role::deployer,
             [](HttpRequest& r) { return HttpResponse::text(202, "cancel " + r.params["id"]); });
  router.add("GET", "/", Role::anonymous, [](HttpRequest&) { return HttpResponse::text(200, "page"); });
  return router;
}

TEST(HttpRouter, MatchesPatternsAndCapturesParameters) {
  Router router = sample_router();
  auto list = request("GET", "/api/v1/runs", Role::read_only);
  EXPECT_EQ(router.dispatch(list).body, "list");
  auto one = request("GET", "/api/v1/runs/42", Role::read_only);
  EXPECT_EQ(router.dispatch(one).body, "run 42");
  EXPECT_EQ(one.params["id"], "42");
  auto trailing = request("GET", "/api/v1/runs/42/", Role::read_only);
  EXPECT_EQ(router.dispatch(trailing).body, "run 42");
  auto root = request("GET", "/");
  EXPECT_EQ(router.dispatch(root).body, "page");
}

TEST(HttpRouter, UnknownPathIs404WithJsonError) {
  Router router = sample_router();
  auto r = request("GET", "/api/v1/nothing", Role::admin);
  HttpResponse response = router.dispatch(r);
  EXPECT_EQ(response.status, 404);
  EXPECT_TRUE(nlohmann::json::parse(response.body).contains("error"));
  auto deeper = request("GET", "/api/v1/runs/1/2/3", Role::admin);
  EXPECT_EQ(router.dispatch(deeper).status, 404);
}

TEST(HttpRouter, KnownPathWithOtherMethodIs405) {
  Router router = sample_router();
  auto r = request("DELETE", "/api/v1/runs/1", Role::admin);
  HttpResponse response = router.dispatch(r);
  EXPECT_EQ(response.status, 405);
  EXPECT_EQ(response.headers["Allow"], "GET");
}

TEST(HttpRouter, AnonymousIs401AndTooLowRoleIs403) {
  Router router = sample_router();
  auto anonymous = request("GET", "/api/v1/runs");
  EXPECT_EQ(router.dispatch(anonymous).status, 401);
  auto reader = request("POST", "/api/v1/runs/1/cancel", Role::read_only);
  HttpResponse forbidden = router.dispatch(reader);
  EXPECT_EQ(forbidden.status, 403);
  EXPECT_NE(forbidden.body.find("deployer"), std::string::npos);
  auto admin = request("POST", "/api/v1/runs/1/cancel", Role::admin);
  EXPECT_EQ(router.dispatch(admin).status, 202);
}

TEST(HttpRouter, RoleNames) {
  EXPECT_EQ(role_name(Role::read_only), "read-only");
  EXPECT_EQ(role_name(Role::admin), "admin");
}

TEST(Url, DecodesAndRefusesMalformedEscapes) {
  EXPECT_EQ(percent_decode("a%20b+c", true), "a b c");
  EXPECT_EQ(percent_decode("a+b", false), "a+b");
  EXPECT_FALSE(percent_decode("%zz", false));
  EXPECT_FALSE(percent_decode("%4", false));
  EXPECT_FALSE(percent_decode("%00", false));
  auto query = parse_query("limit=50&repository=hello%2Dapp&flag");
  ASSERT_TRUE(query);
  EXPECT_EQ((*query)["limit"], "50");
  EXPECT_EQ((*query)["repository"], "hello-app");
  EXPECT_EQ((*query)["flag"], "");
}

}  // namespace
}  // namespace slipway

namespace slipway {
namespace {

// One mapping from an error's kind to the answer's status; the message is the body's "error".
TEST(HttpResponseFromError, EachKindHasItsStatus) {
  const std::vector<std::pair<ErrorKind, int>> expected = {
      {ErrorKind::internal, 500},     {ErrorKind::not_found, 404},   {ErrorKind::conflict, 409},
      {ErrorKind::invalid_input, 400}, {ErrorKind::unauthorized, 401}, {ErrorKind::unavailable, 503},
      {ErrorKind::timeout, 504}};
  for (const auto& [kind, status] : expected) {
    HttpResponse response = HttpResponse::from_error(make_error(kind, "what went wrong"));
    EXPECT_EQ(response.status, status);
    EXPECT_EQ(nlohmann::json::parse(response.body)["error"], "what went wrong");
  }
  EXPECT_EQ(HttpResponse::from_error(make_error("a plain error")).status, 500) << "internal unless said otherwise";
}

}  // namespace
}  // namespace slipway
