// parse_pull_request_notice on the payloads the forges document, whole (tests/unit/fixtures/
// webhooks/README.md says where each comes from): GitHub's opened, synchronize, reopened and
// closed; Gitea's (Forgejo's) opened and reopened; GitLab's open and close. A fork is made by
// changing the head's repository, as a fork's payload differs; missing fields are a 400 naming
// the field.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "base/files.h"
#include "server/pull_request_notice.h"

namespace slipway {
namespace {

using Action = PullRequestNotice::Action;

nlohmann::json payload(const std::string& name) {
  auto text = read_file(std::filesystem::path(SLIPWAY_SOURCE_DIR) / "tests/unit/fixtures/webhooks" / name);
  EXPECT_TRUE(text.ok()) << name;
  return nlohmann::json::parse(text.ok() ? *text : "{}");
}

Result<PullRequestNotice> parse(Forge forge, const nlohmann::json& body) {
  return parse_pull_request_notice(forge, body.dump());
}

TEST(PullRequestNotice, GitHubOpenedIsTestedWithWhatTheForgeSaid) {
  auto notice = parse(Forge::github, payload("github/pull_request.opened.json"));
  ASSERT_TRUE(notice.ok()) << notice.error().message;
  EXPECT_EQ(notice->action, Action::test);
  EXPECT_EQ(notice->head_sha, "ec26c3e57ca3a959ca5aad62de7213c562f8c821");
  const PullRequestInfo& info = notice->info;
  EXPECT_EQ(info.number, 2);
  EXPECT_EQ(info.title, "Update the README with new information.");
  EXPECT_EQ(info.author, "Codertocat");
  EXPECT_EQ(info.source, "changes");
  EXPECT_EQ(info.target, "master");
  EXPECT_EQ(info.source_repository, "Codertocat/Hello-World");
  EXPECT_FALSE(info.fork);
  EXPECT_EQ(info.url, "https://github.com/Codertocat/Hello-World/pull/2");
}

TEST(PullRequestNotice, EachGitHubActionMeansWhatItSays) {
  EXPECT_EQ(parse(Forge::github, payload("github/pull_request.synchronize.json"))->action, Action::test);
  EXPECT_EQ(parse(Forge::github, payload("github/pull_request.reopened.json"))->action, Action::test);
  EXPECT_EQ(parse(Forge::github, payload("github/pull_request.closed.json"))->action, Action::close);
  auto labeled = payload("github/pull_request.opened.json");
  labeled["action"] = "labeled";
  auto ignored = parse(Forge::github, labeled);
  ASSERT_TRUE(ignored.ok());
  EXPECT_EQ(ignored->action, Action::ignore);
  EXPECT_NE(ignored->ignored.find("'labeled'"), std::string::npos);
}

TEST(PullRequestNotice, AHeadInAnotherRepositoryIsAFork) {
  auto body = payload("github/pull_request.opened.json");
  body["pull_request"]["head"]["repo"]["full_name"] = "mallory/Hello-World";
  auto fork = parse(Forge::github, body);
  ASSERT_TRUE(fork.ok()) << fork.error().message;
  EXPECT_TRUE(fork->info.fork);
  EXPECT_EQ(fork->info.source_repository, "mallory/Hello-World");
  // A deleted fork (GitHub sends head.repo null) is trusted no more.
  body["pull_request"]["head"]["repo"] = nullptr;
  auto deleted = parse(Forge::github, body);
  ASSERT_TRUE(deleted.ok()) << deleted.error().message;
  EXPECT_TRUE(deleted->info.fork);
}

TEST(PullRequestNotice, GiteaSynchronizedIsANewPush) {
  auto opened = parse(Forge::gitea, payload("gitea/pull_request.opened.json"));
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  EXPECT_EQ(opened->action, Action::test);
  EXPECT_EQ(opened->info.number, 1);
  EXPECT_EQ(opened->info.author, "6543");
  EXPECT_EQ(opened->info.source, "6543-patch-1");
  EXPECT_EQ(opened->head_sha, "36b5813240a9d2daa29b05046d56a53e18f39a3e");
  EXPECT_FALSE(opened->info.fork);
  EXPECT_EQ(parse(Forge::gitea, payload("gitea/pull_request.reopened.json"))->action, Action::test);
  auto synchronized = payload("gitea/pull_request.opened.json");
  synchronized["action"] = "synchronized";
  EXPECT_EQ(parse(Forge::gitea, synchronized)->action, Action::test);
}

TEST(PullRequestNotice, GitLabMergeRequests) {
  auto open = parse(Forge::gitlab, payload("gitlab/merge_request.open.json"));
  ASSERT_TRUE(open.ok()) << open.error().message;
  EXPECT_EQ(open->action, Action::test);
  EXPECT_EQ(open->info.number, 1);
  EXPECT_EQ(open->info.title, "MS-Viewport");
  EXPECT_EQ(open->info.source, "ms-viewport");
  EXPECT_EQ(open->info.target, "master");
  EXPECT_EQ(open->head_sha, "da1560886d4f094c3e6c9ef40349f7d38b5d27d7");
  EXPECT_EQ(open->info.url, "http://example.com/diaspora/merge_requests/1");
  EXPECT_FALSE(open->info.fork);
  EXPECT_EQ(parse(Forge::gitlab, payload("gitlab/merge_request.close.json"))->action, Action::close);
  // An update is a new push only when it says what the head was before.
  auto update = payload("gitlab/merge_request.open.json");
  update["object_attributes"]["action"] = "update";
  EXPECT_EQ(parse(Forge::gitlab, update)->action, Action::ignore);
  update["object_attributes"]["oldrev"] = "0123456789012345678901234567890123456789";
  EXPECT_EQ(parse(Forge::gitlab, update)->action, Action::test);
  auto fork = payload("gitlab/merge_request.open.json");
  fork["object_attributes"]["source_project_id"] = 99;
  EXPECT_TRUE(parse(Forge::gitlab, fork)->info.fork);
}

TEST(PullRequestNotice, AMissingOrMistypedFieldIsNamed) {
  struct Case {
    Forge forge;
    std::string file;
    nlohmann::json::json_pointer field;
    std::string named;
  };
  for (const Case& c : std::vector<Case>{
           {Forge::github, "github/pull_request.opened.json", "/pull_request/head/sha"_json_pointer, "pull_request.head.sha"},
           {Forge::github, "github/pull_request.opened.json", "/number"_json_pointer, "number"},
           {Forge::github, "github/pull_request.opened.json", "/pull_request/base/ref"_json_pointer, "pull_request.base.ref"},
           {Forge::gitea, "gitea/pull_request.opened.json", "/pull_request/user"_json_pointer, "pull_request.user.login"},
           {Forge::gitlab, "gitlab/merge_request.open.json", "/object_attributes/last_commit"_json_pointer,
            "object_attributes.last_commit.id"},
           {Forge::gitlab, "gitlab/merge_request.open.json", "/object_attributes/iid"_json_pointer, "object_attributes.iid"},
       }) {
    auto body = payload(c.file);
    body.at(c.field.parent_pointer()).erase(c.field.back());
    auto notice = parse(c.forge, body);
    ASSERT_FALSE(notice.ok()) << c.file << " without " << c.named;
    EXPECT_NE(notice.error().message.find("\"" + c.named + "\""), std::string::npos) << notice.error().message;
  }
  auto wrong_type = payload("github/pull_request.opened.json");
  wrong_type["number"] = "2";
  EXPECT_FALSE(parse(Forge::github, wrong_type).ok());
  auto bad_sha = payload("github/pull_request.opened.json");
  bad_sha["pull_request"]["head"]["sha"] = "not-a-sha";
  EXPECT_FALSE(parse(Forge::github, bad_sha).ok());
  EXPECT_FALSE(parse_pull_request_notice(Forge::github, "[1,2]").ok());
  EXPECT_FALSE(parse_pull_request_notice(Forge::gitlab, "{not json").ok());
}

}  // namespace
}  // namespace slipway
