// DockerIgnore: the rules of a .dockerignore file, applied the way the Docker CLI applies them, so
// a context Slipway sends holds what `docker build` would have sent: the last rule that matches a
// path decides, and a rule naming a folder covers everything inside it.
#pragma once

#include <regex>
#include <string>
#include <string_view>
#include <vector>

namespace slipway {

class DockerIgnore {
 public:
  // One rule per line; blank lines and lines starting with '#' are skipped. A rule is a path
  // relative to the context root ('/' separated, a leading '/' is dropped, "a/../b" is cleaned)
  // with `*` (any run of characters but '/'), `?` (one character but '/'), `**` (any number of
  // folders, none included), `[...]` classes and `\` escapes; a leading '!' makes it an exception
  // that brings matching paths back. Never fails: a rule that is not a valid pattern matches nothing.
  static DockerIgnore parse(std::string_view text);

  // True when `path` (relative to the context root, '/' separated, no leading "./") is left out.
  bool excludes(std::string_view path) const;

  // True when some rule is an exception: an excluded folder may then still hold included files,
  // so a walker has to look inside it instead of skipping it whole.
  bool has_exceptions() const { return has_exceptions_; }

  bool empty() const { return rules_.empty(); }

 private:
  struct Rule {
    std::regex pattern;
    bool exception = false;
    bool valid = true;
  };
  bool matches(const Rule& rule, std::string_view path) const;

  std::vector<Rule> rules_;
  bool has_exceptions_ = false;
};

}  // namespace slipway
