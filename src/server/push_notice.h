// A push as a git host or the post-receive hook reports it: which ref moved, from which commit
// to which. Everything here came from outside the server, so parsing only ever yields a value
// or an error message for a 400, and a branch name is only ever data (it is passed on as one
// argv element, never through a shell).
#pragma once

#include <string>
#include <string_view>

#include "base/result.h"

namespace slipway {

struct PushNotice {
  std::string ref;      // "refs/heads/main"
  std::string before;   // may be empty (the hook's first push, or a host that omits it)
  std::string after;    // the new head; all zeros when the ref was deleted
};

// A JSON object with string "ref" and "after" (and optionally "before"): GitHub's push payload
// and the hook's body alike. Errors say what is malformed or missing.
Result<PushNotice> parse_push_notice(std::string_view body);

// What a push asks of the server: a run of `branch`, or nothing (`ignored` says why: a tag, a
// deleted branch, a ref that is not a branch).
struct PushAction {
  std::string branch;
  std::string commit;
  std::string ignored;  // non-empty: nothing to run
};

// Errors (a 400): a ref holding control characters, a commit that is not a hex sha.
Result<PushAction> push_action(const PushNotice& notice);

}  // namespace slipway
