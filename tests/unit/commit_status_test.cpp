// Commit statuses without a network: the `status:` configuration (inferred for github.com and
// gitlab.com, each missing part named), `public_url`, the request each forge documents, the
// description's limit, and the outbox's order — one row at a time per channel, channels apart.
#include <tuple>
#include <vector>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "base/files.h"
#include "base/time.h"
#include "notify/forge_status.h"
#include "spec/server_config.h"
#include "store/outbox.h"

namespace slipway {
namespace {

ParsedServerConfig parse(std::string_view text) { return parse_server_config(text, "slipway.yml"); }

TEST(StatusConfig, IsInferredForGitHubAndGitLab) {
  auto parsed = parse("public_url: https://ci.example.com/\nrepositories:\n"
                      "  - { name: a, url: 'https://github.com/acme/web.git', status: { token: GH } }\n"
                      "  - { name: b, url: 'git@gitlab.com:group/sub/lib.git', status: { token: GL },"
                      " auth: { ssh_key: K, known_hosts: H } }\n");
  ASSERT_TRUE(parsed.ok()) << (parsed.diagnostics.empty() ? "" : parsed.diagnostics[0].to_string());
  EXPECT_EQ(parsed.config->public_url, "https://ci.example.com");
  const StatusConfig& github = *parsed.config->repositories[0].status;
  EXPECT_EQ(github.provider, "github");
  EXPECT_EQ(github.api, "https://api.github.com");
  EXPECT_EQ(github.project, "acme/web");
  EXPECT_EQ(github.token_secret, "GH");
  const StatusConfig& gitlab = *parsed.config->repositories[1].status;
  EXPECT_EQ(gitlab.provider, "gitlab");
  EXPECT_EQ(gitlab.api, "https://gitlab.com/api/v4");
  EXPECT_EQ(gitlab.project, "group/sub/lib");
}

TEST(StatusConfig, ElsewhereEachPartMustBeWritten) {
  auto parsed = parse("repositories:\n  - { name: a, url: /srv/a.git, status: { token: T } }\n");
  ASSERT_FALSE(parsed.ok());
  std::string all;
  for (const auto& d : parsed.diagnostics) all += d.to_string() + "\n";
  for (const char* part : {"`provider:`", "`api:`", "`project:`"}) EXPECT_NE(all.find(part), std::string::npos) << all;
  EXPECT_FALSE(parse("repositories:\n  - { name: a, url: /srv/a.git, status: { provider: github, api: x, project: p } }\n").ok())
      << "the token is required";
  EXPECT_FALSE(parse("public_url: ci.example.com\n").ok());
}

TEST(CommitStatusRequest, FollowsEachForgesDocumentedApi) {
  CommitStatus status{"0123456789abcdef0123456789abcdef01234567", CommitState::running, "slipway/publish:staging", "running",
                      "https://ci.example.com/#/runs/4"};
  auto github = commit_status_request({"github", "https://api.github.com/", "acme/web", "tok"}, status);
  EXPECT_EQ(github.url, "https://api.github.com/repos/acme/web/statuses/" + status.sha);
  EXPECT_EQ(github.headers.get("Authorization"), "Bearer tok");
  auto body = nlohmann::json::parse(github.body);
  EXPECT_EQ(body["state"], "pending");
  EXPECT_EQ(body["context"], "slipway/publish:staging");
  EXPECT_EQ(body["target_url"], "https://ci.example.com/#/runs/4");
  auto gitlab = commit_status_request({"gitlab", "https://gitlab.com/api/v4", "group/sub/lib", "tok"}, status);
  EXPECT_EQ(gitlab.url, "https://gitlab.com/api/v4/projects/group%2Fsub%2Flib/statuses/" + status.sha);
  EXPECT_EQ(gitlab.headers.get("PRIVATE-TOKEN"), "tok");
  EXPECT_EQ(nlohmann::json::parse(gitlab.body)["state"], "running");
  status.state = CommitState::cancelled;
  EXPECT_EQ(nlohmann::json::parse(commit_status_request({"gitlab", "x", "1", "t"}, status).body)["state"], "canceled");
  EXPECT_EQ(nlohmann::json::parse(commit_status_request({"gitea", "x", "a/b", "t"}, status).body)["state"], "error");
  auto round_trip = commit_status_from_json(commit_status_json(status));
  ASSERT_TRUE(round_trip.ok());
  EXPECT_EQ(round_trip->context, status.context);
  EXPECT_EQ(round_trip->state, CommitState::cancelled);
  EXPECT_FALSE(commit_status_from_json("{\"sha\": 1}").ok());
}

// Each of Slipway's states in each forge's words: GitHub and Gitea have no running or cancelled,
// GitLab no failure/error distinction.
TEST(CommitStatusRequest, EveryStateHasEachForgesWord) {
  const std::vector<std::tuple<CommitState, std::string, std::string>> words = {
      {CommitState::pending, "pending", "pending"},  {CommitState::running, "pending", "running"},
      {CommitState::success, "success", "success"},  {CommitState::failure, "failure", "failed"},
      {CommitState::error, "error", "failed"},       {CommitState::cancelled, "error", "canceled"},
  };
  for (const auto& [state, github, gitlab] : words) {
    CommitStatus status{std::string(40, 'a'), state, "slipway/test", "d", ""};
    auto state_in = [&](const char* provider) {
      return nlohmann::json::parse(commit_status_request({provider, "x", "a/b", "t"}, status).body)["state"];
    };
    EXPECT_EQ(state_in("github"), github) << to_text(state);
    EXPECT_EQ(state_in("gitea"), github) << to_text(state);
    EXPECT_EQ(state_in("gitlab"), gitlab) << to_text(state);
    auto round_trip = commit_status_from_json(commit_status_json(status));
    ASSERT_TRUE(round_trip.ok()) << to_text(state);
    EXPECT_EQ(round_trip->state, state);
  }
  auto unknown = nlohmann::json::parse(commit_status_json({std::string(40, 'a'), CommitState::success, "c", "d", ""}));
  unknown["state"] = "exploded";
  EXPECT_FALSE(commit_status_from_json(unknown.dump()).ok()) << "a state this version does not know is refused";
}

TEST(CommitStatusRequest, DescriptionIsOneLineOfAtMost140Characters) {
  EXPECT_EQ(status_description("41 passed, 2 failed: test_login\nsecond line"), "41 passed, 2 failed: test_login");
  std::string long_text(200, 'x');
  std::string cut = status_description(long_text);
  EXPECT_LE(cut.size(), 140u);
  EXPECT_TRUE(cut.ends_with("…"));
  std::string accents;
  for (int i = 0; i < 100; ++i) accents += "é";
  std::string cut_accents = status_description(accents);
  EXPECT_LE(cut_accents.size(), 140u);
  EXPECT_EQ(cut_accents.size() % 2, 1u) << "cut between characters, then the three bytes of …";
}

TEST(Outbox, DeliversEachChannelInOrderAndChannelsApart) {
  TemporaryDirectory folder("slipway-outbox");
  auto store = Store::open(folder.path() / "slipway.db");
  ASSERT_TRUE(store.ok()) << store.error().message;
  int64_t a1 = *add_outbox_item(**store, "status:a", "forge_status", "{}");
  int64_t a2 = *add_outbox_item(**store, "status:a", "forge_status", "{}");
  int64_t b1 = *add_outbox_item(**store, "status:b", "forge_status", "{}");
  auto due = due_outbox_items(**store, now_ms());
  ASSERT_EQ(due->size(), 2u);
  EXPECT_EQ((*due)[0].id, a1);
  EXPECT_EQ((*due)[1].id, b1);
  // a1 waits for a retry: a2 waits behind it, b goes on.
  ASSERT_TRUE(mark_outbox_retry(**store, a1, "HTTP 503", now_ms() + 60'000).ok());
  ASSERT_TRUE(mark_outbox_delivered(**store, b1).ok());
  EXPECT_TRUE(due_outbox_items(**store, now_ms())->empty());
  EXPECT_GT(*next_outbox_attempt_ms(**store), now_ms());
  ASSERT_TRUE(mark_outbox_failed(**store, a1, "gave up").ok());
  due = due_outbox_items(**store, now_ms());
  ASSERT_EQ(due->size(), 1u);
  EXPECT_EQ((*due)[0].id, a2);
  EXPECT_EQ(list_outbox(**store, OutboxState::failed, 10)->front().last_error, "gave up");
  EXPECT_EQ(*load_outbox_cursor(**store, "feeder"), -1);
  ASSERT_TRUE(save_outbox_cursor(**store, "feeder", 0).ok());
  EXPECT_EQ(*load_outbox_cursor(**store, "feeder"), 0);
}

}  // namespace
}  // namespace slipway
