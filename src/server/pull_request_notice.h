// A pull (or merge) request event as a forge sends it, reduced to what the server acts on:
// test its head, cancel its runs (closed or merged), or nothing. GitHub's and Gitea/Forgejo's
// `pull_request` payloads share one shape; GitLab's `Merge Request Hook` has its own. Everything
// here came from outside: parsing yields a value or an error for a 400, a missing or mistyped
// field named by its JSON path.
#pragma once

#include <string>
#include <string_view>

#include "base/result.h"
#include "store/store.h"

namespace slipway {

enum class Forge { github, gitea, gitlab };

struct PullRequestNotice {
  enum class Action { test, close, ignore };
  Action action = Action::ignore;
  std::string ignored;     // Action::ignore: why nothing happens ("'labeled' starts no run")
  std::string head_sha;    // Action::test: the commit to test
  PullRequestInfo info;    // number, title, author, branches, fork, url
};

// GitHub and Gitea: opened, reopened and synchronize(d) test the head; closed cancels; other
// actions (labeled, edited, review_requested...) are ignored. GitLab: open, reopen, and update
// with new commits (`oldrev` present) test; close and merge cancel; other updates are ignored.
// A fork is a head in another repository than the base (for GitHub, also a deleted one).
Result<PullRequestNotice> parse_pull_request_notice(Forge forge, std::string_view body);

}  // namespace slipway
