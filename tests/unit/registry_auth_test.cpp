// The registry auth flow's pure parts: WWW-Authenticate challenges (quoted strings, commas and
// escapes inside quotes, several challenges in one header, hostile input), the token service's
// URL and answer, and the registry's error bodies turned into one line. The flow against real
// registries (htpasswd and token mode) is in tests/integration/registry_client_test.cpp.
#include <gtest/gtest.h>

#include <string>

#include "base/http_client.h"
#include "base/ports.h"
#include "publish/registry_auth.h"
#include "publish/registry_errors.h"

namespace slipway {
namespace {

TEST(WwwAuthenticate, Basic) {
  auto challenges = parse_www_authenticate(R"(Basic realm="slipway-test")");
  ASSERT_TRUE(challenges.ok()) << challenges.error().message;
  ASSERT_EQ(challenges->size(), 1u);
  EXPECT_EQ((*challenges)[0].scheme, "basic");
  EXPECT_EQ((*challenges)[0].param("realm"), "slipway-test");
}

TEST(WwwAuthenticate, BearerAsDistributionSendsIt) {
  auto challenges = parse_www_authenticate(
      R"(Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:dev/app:pull,push",error="invalid_token")");
  ASSERT_TRUE(challenges.ok()) << challenges.error().message;
  ASSERT_EQ(challenges->size(), 1u);
  const AuthChallenge& bearer = (*challenges)[0];
  EXPECT_EQ(bearer.scheme, "bearer");
  EXPECT_EQ(bearer.param("realm"), "https://auth.example.com/token");
  EXPECT_EQ(bearer.param("service"), "registry.example.com");
  EXPECT_EQ(bearer.param("scope"), "repository:dev/app:pull,push");  // the comma stays inside the quotes
  EXPECT_EQ(bearer.param("error"), "invalid_token");
}

TEST(WwwAuthenticate, SpacesCaseAndUnquotedValues) {
  auto challenges = parse_www_authenticate("  BEARER   Realm = \"http://127.0.0.1:1/t\" ,  Service=reg ,, Scope=x  ");
  ASSERT_TRUE(challenges.ok()) << challenges.error().message;
  ASSERT_EQ(challenges->size(), 1u);
  EXPECT_EQ((*challenges)[0].scheme, "bearer");
  EXPECT_EQ((*challenges)[0].param("realm"), "http://127.0.0.1:1/t");
  EXPECT_EQ((*challenges)[0].param("service"), "reg");
  EXPECT_EQ((*challenges)[0].param("scope"), "x");
}

TEST(WwwAuthenticate, EscapesInsideQuotes) {
  auto challenges = parse_www_authenticate(R"(Basic realm="say \"hi\", then \\ leave", charset="UTF-8")");
  ASSERT_TRUE(challenges.ok()) << challenges.error().message;
  ASSERT_EQ(challenges->size(), 1u);
  EXPECT_EQ((*challenges)[0].param("realm"), R"(say "hi", then \ leave)");
  EXPECT_EQ((*challenges)[0].param("charset"), "UTF-8");
}

TEST(WwwAuthenticate, SeveralChallengesInOneHeader) {
  auto challenges = parse_www_authenticate(
      R"(Negotiate abc+/=, Basic realm="a, b", Bearer realm="http://x/token",service="s", NoParams)");
  ASSERT_TRUE(challenges.ok()) << challenges.error().message;
  ASSERT_EQ(challenges->size(), 4u);
  EXPECT_EQ((*challenges)[0].scheme, "negotiate");
  EXPECT_EQ((*challenges)[0].token68, "abc+/=");
  EXPECT_EQ((*challenges)[1].scheme, "basic");
  EXPECT_EQ((*challenges)[1].param("realm"), "a, b");
  EXPECT_EQ((*challenges)[2].scheme, "bearer");
  EXPECT_EQ((*challenges)[2].param("service"), "s");
  EXPECT_EQ((*challenges)[3].scheme, "noparams");
  EXPECT_TRUE((*challenges)[3].params.empty());
}

TEST(WwwAuthenticate, EmptyQuotedValue) {
  auto challenges = parse_www_authenticate(R"(Bearer realm="http://x/t",scope="")");
  ASSERT_TRUE(challenges.ok()) << challenges.error().message;
  EXPECT_EQ((*challenges)[0].param("scope"), "");
  EXPECT_EQ((*challenges)[0].params.count("scope"), 1u);
}

TEST(WwwAuthenticate, MalformedHeadersAreErrorsNotCrashes) {
  for (const char* header : {"", "   ", ",,,", R"(Bearer realm="never closed)", "=realm", R"(Basic realm="x" junk)",
                             "Bearer realm=\"x\",\"y\"", "Bé realm=x", "Basic realm=\"x\"\\"}) {
    auto challenges = parse_www_authenticate(header);
    ASSERT_FALSE(challenges.ok()) << header;
    EXPECT_NE(challenges.error().message.find("WWW-Authenticate"), std::string::npos) << challenges.error().message;
  }
  // Arbitrary bytes never crash it.
  std::string noise;
  for (int i = 0; i < 2000; ++i) noise += static_cast<char>((i * 7919) % 256);
  (void)parse_www_authenticate(noise);
}

TEST(TokenRequest, UrlCarriesServiceScopesAndAccount) {
  AuthChallenge challenge{"bearer", {{"realm", "http://127.0.0.1:9/token"}, {"service", "my registry"}}, ""};
  auto url = token_request_url(challenge, {repository_scope("dev/app", "pull,push"), "repository:base:pull"}, "alice");
  ASSERT_TRUE(url.ok()) << url.error().message;
  EXPECT_EQ(*url,
            "http://127.0.0.1:9/token?service=my%20registry&scope=repository%3Adev%2Fapp%3Apull%2Cpush"
            "&scope=repository%3Abase%3Apull&account=alice");
}

TEST(TokenRequest, RealmWithQueryAndTheChallengesOwnScope) {
  AuthChallenge challenge{"bearer",
                          {{"realm", "http://h/token?issuer=x"}, {"scope", "repository:a:pull repository:b:pull"}},
                          ""};
  auto url = token_request_url(challenge, {"repository:a:pull"}, "");
  ASSERT_TRUE(url.ok());
  EXPECT_EQ(*url, "http://h/token?issuer=x&scope=repository%3Aa%3Apull&scope=repository%3Ab%3Apull");
  // The registry lists actions in any order: a scope we already ask for is not asked twice.
  AuthChallenge reordered{"bearer", {{"realm", "http://h/t"}, {"scope", "repository:a:push,pull"}}, ""};
  EXPECT_EQ(*token_request_url(reordered, {"repository:a:pull,push"}, ""), "http://h/t?scope=repository%3Aa%3Apull%2Cpush");
  EXPECT_EQ(*token_request_url(reordered, {"repository:a:pull"}, ""),
            "http://h/t?scope=repository%3Aa%3Apull&scope=repository%3Aa%3Apush%2Cpull");
  AuthChallenge no_realm{"bearer", {{"service", "s"}}, ""};
  auto refused = token_request_url(no_realm, {}, "");
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("no realm"), std::string::npos);
}

TEST(TokenResponse, TokenOrAccessTokenAndExpiry) {
  auto token = parse_token_response(R"({"token":"abc","expires_in":300,"issued_at":"2001-01-01T00:00:00Z"})", 1'000);
  ASSERT_TRUE(token.ok()) << token.error().message;
  EXPECT_EQ(token->token, "abc");
  EXPECT_EQ(token->expires_at_ms, 1'000 + 300'000);  // from our clock, not the skewed issued_at

  auto oauth = parse_token_response(R"({"access_token":"xyz"})", 0);
  ASSERT_TRUE(oauth.ok());
  EXPECT_EQ(oauth->token, "xyz");
  EXPECT_EQ(oauth->expires_at_ms, 60'000);  // the spec's default lifetime

  auto brief = parse_token_response(R"({"token":"t","expires_in":1})", 0);
  ASSERT_TRUE(brief.ok());
  EXPECT_EQ(brief->expires_at_ms, 10'000);  // long enough to be used once

  for (const char* body : {"", "[]", "{}", R"({"token":""})", R"({"token":42})", "not json"}) {
    EXPECT_FALSE(parse_token_response(body, 0).ok()) << body;
  }
}

TEST(RegistryAuth, BasicChallengeNeedsNoRoundTripAfterwards) {
  RegistryAuth auth("127.0.0.1:5000", {"alice", "s3cret"});
  EXPECT_EQ(auth.authorization({"repository:a:pull"}), "");
  HttpClient unused;  // Basic never calls it
  ASSERT_TRUE(auth.answer_challenge(R"(Basic realm="r")", {"repository:a:pull"}, unused).ok());
  EXPECT_EQ(auth.authorization({"repository:b:pull,push"}), "Basic YWxpY2U6czNjcmV0");
  EXPECT_EQ(auth.tokens_fetched(), 0);
}

TEST(RegistryAuth, BasicWithoutCredentialsSaysWhatToSet) {
  RegistryAuth auth("127.0.0.1:5000", {});
  HttpClient unused;
  Status answered = auth.answer_challenge(R"(Basic realm="r")", {}, unused);
  ASSERT_FALSE(answered.ok());
  EXPECT_NE(answered.error().message.find("registry 127.0.0.1:5000 requires credentials"), std::string::npos)
      << answered.error().message;
}

TEST(RegistryAuth, UnknownSchemeAndBrokenChallengeAreErrors) {
  RegistryAuth auth("127.0.0.1:5000", {"alice", "x"});
  HttpClient unused;
  Status unknown = auth.answer_challenge("Negotiate abc", {}, unused);
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().message.find("does not speak"), std::string::npos) << unknown.error().message;
  Status broken = auth.answer_challenge(R"(Bearer realm="x)", {}, unused);
  ASSERT_FALSE(broken.ok());
  EXPECT_NE(broken.error().message.find("never closes"), std::string::npos) << broken.error().message;
}

TEST(RegistryErrors, DescribesTheErrorsBody) {
  EXPECT_EQ(describe_registry_answer(
                401, R"({"errors":[{"code":"UNAUTHORIZED","message":"authentication required","detail":null}]})"),
            "HTTP 401 UNAUTHORIZED: authentication required");
  EXPECT_EQ(describe_registry_answer(
                400, R"({"errors":[{"code":"MANIFEST_BLOB_UNKNOWN","message":"blob unknown to registry","detail":"sha256:ab"},{"code":"TAG_INVALID","message":"manifest tag did not match URI"}]})"),
            "HTTP 400 MANIFEST_BLOB_UNKNOWN: blob unknown to registry (sha256:ab); TAG_INVALID: manifest tag did not match URI");
  EXPECT_EQ(describe_registry_answer(502, "<html>Bad Gateway</html>\n"), "HTTP 502: <html>Bad Gateway</html>");
  EXPECT_EQ(describe_registry_answer(404, ""), "HTTP 404");
  EXPECT_EQ(describe_registry_answer(500, std::string(1000, 'x')).size(), std::string("HTTP 500: ").size() + 200);
}

// The reason comes from the transport error's cause (never from its wording): here a real
// connection to a loopback port nobody listens on.
TEST(RegistryErrors, UnreachableKeepsTheSystemsReason) {
  auto port = free_loopback_port();
  ASSERT_TRUE(port.ok());
  HttpClient client;
  HttpClientRequest request;
  request.url = "http://127.0.0.1:" + std::to_string(*port) + "/v2/";
  auto answer = client.send(request);
  ASSERT_FALSE(answer.ok());
  EXPECT_EQ(answer.error().kind, ErrorKind::unavailable);
  EXPECT_EQ(answer.error().cause, "Connection refused");
  Error refused = unreachable_registry("127.0.0.1:" + std::to_string(*port), answer.error());
  EXPECT_EQ(refused.message, "cannot reach the registry at 127.0.0.1:" + std::to_string(*port) + ": Connection refused");
  EXPECT_EQ(refused.kind, ErrorKind::unavailable);
  Error timed_out = unreachable_registry(
      "127.0.0.1:5000", make_error(ErrorKind::timeout, "GET http://127.0.0.1:5000/v2/: Operation timed out after 5001 "
                                                       "milliseconds", "Operation timed out after 5001 milliseconds"));
  EXPECT_EQ(timed_out.message, "cannot reach the registry at 127.0.0.1:5000: Operation timed out after 5001 milliseconds");
  EXPECT_EQ(timed_out.kind, ErrorKind::timeout);
}

}  // namespace
}  // namespace slipway
