#include "cli/post_receive_script.h"

#include <fmt/core.h>

#include "base/strings.h"

namespace slipway {
namespace {

// Every value from outside (old, new, ref) stays in a quoted shell variable; the ref's '"' is
// the only character git allows in a ref that JSON needs escaped ('\' and controls are refused).
constexpr const char* kBody = R"SH(
hook_dir=$(dirname "$0")
token=${SLIPWAY_TOKEN:-}
if [ -r "$hook_dir/{token_file}" ]; then token=$(cat "$hook_dir/{token_file}"); fi
input=$(cat)
status=0
if [ -x "$hook_dir/{chained}" ]; then
  printf '%s\n' "$input" | "$hook_dir/{chained}" || status=$?
fi
if ! command -v curl >/dev/null 2>&1; then
  echo "slipway: curl is not installed, the server was not told of this push (polling will find it)" >&2
  exit $status
fi
printf '%s\n' "$input" | while read -r old new ref; do
  [ -n "$ref" ] || continue
  ref_json=$(printf '%s' "$ref" | sed 's/"/\\"/g')
  body=$(printf '{"ref":"%s","before":"%s","after":"%s"}' "$ref_json" "$old" "$new")
  answer=$(printf 'header = "Authorization: Bearer %s"\n' "$token" |
    curl --silent --show-error --fail-with-body --max-time 10 -K - \
      -H 'Content-Type: application/json' --data-binary "$body" \
      "$server/api/v1/repositories/$repository/push" 2>&1)
  if [ $? -eq 0 ]; then
    run=$(printf '%s' "$answer" | sed -n 's/.*"run": *\([0-9][0-9]*\).*/\1/p')
    if [ -n "$run" ]; then echo "slipway: $ref queued as run #$run"; fi
  else
    echo "slipway: could not notify the Slipway server at $server about $ref: $answer" >&2
    echo "slipway: the push itself succeeded; the server's polling will pick it up" >&2
  fi
done
exit $status
)SH";

}  // namespace

std::string post_receive_script(const std::string& server, const std::string& repository) {
  std::string body = kBody;
  auto replace_all = [&](std::string_view from, std::string_view to) {
    for (size_t at = body.find(from); at != std::string::npos; at = body.find(from, at + to.size())) {
      body.replace(at, from.size(), to);
    }
  };
  replace_all("{token_file}", kHookTokenFileName);
  replace_all("{chained}", kChainedHookName);
  return fmt::format("#!/bin/sh\n{}\n# Written by `slipway hook install`; run it again to change the settings.\n"
                     "# A push never fails because of this hook: when the server cannot be reached it warns.\n"
                     "server={}\nrepository={}\n{}",
                     kHookMarker, shell_quote(server), shell_quote(repository), body);
}

}  // namespace slipway
