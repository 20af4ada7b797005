#include "publish/dockerignore.h"

#include "base/strings.h"

namespace slipway {

namespace {

// Go's filepath.Clean, which Docker applies to every rule: no empty or "." parts, ".." folded
// into its parent, no trailing '/'. A leading "/" is then dropped: rules are relative to the root.
std::string clean_rule(std::string_view rule) {
  std::vector<std::string> parts;
  for (const std::string& part : split(rule, '/')) {
    if (part.empty() || part == ".") continue;
    if (part == ".." && !parts.empty() && parts.back() != "..") {
      parts.pop_back();
    } else {
      parts.push_back(part);
    }
  }
  return parts.empty() ? "." : join(parts, "/");
}

// The rule as an ECMAScript regex, translated the way Docker's pattern matcher does it.
std::string rule_regex(std::string_view rule) {
  std::string regex = "^";
  for (size_t i = 0; i < rule.size(); ++i) {
    char c = rule[i];
    if (c == '*' && i + 1 < rule.size() && rule[i + 1] == '*') {
      ++i;
      if (i + 1 < rule.size() && rule[i + 1] == '/') ++i;  // "**/" is "**"
      regex += i + 1 == rule.size() ? ".*" : "(.*/)?";
    } else if (c == '*') {
      regex += "[^/]*";
    } else if (c == '?') {
      regex += "[^/]";
    } else if (c == '\\' && i + 1 < rule.size()) {
      regex += '\\';
      regex += rule[++i];
    } else if (c == '[') {
      regex += '[';
      if (i + 1 < rule.size() && (rule[i + 1] == '!' || rule[i + 1] == '^')) {
        regex += '^';
        ++i;
      }
    } else if (std::string_view(".+()|{}$^").find(c) != std::string_view::npos) {
      regex += '\\';
      regex += c;
    } else {
      regex += c;
    }
  }
  return regex + "$";
}

}  // namespace

DockerIgnore DockerIgnore::parse(std::string_view text) {
  DockerIgnore ignore;
  for (const std::string& raw_line : split(text, '\n')) {
    std::string_view line = trim(raw_line);
    if (line.empty() || line.front() == '#') continue;
    Rule rule;
    if (line.front() == '!') {
      rule.exception = true;
      line = trim(line.substr(1));
      if (line.empty()) continue;
    }
    std::string cleaned = clean_rule(line);
    try {
      rule.pattern = std::regex(rule_regex(cleaned), std::regex::ECMAScript | std::regex::optimize);
    } catch (const std::regex_error&) {
      rule.valid = false;  // e.g. an unclosed '[': Docker refuses the build; we match nothing
    }
    ignore.has_exceptions_ = ignore.has_exceptions_ || rule.exception;
    ignore.rules_.push_back(std::move(rule));
  }
  return ignore;
}

// A rule matches a path or any folder above it ("node_modules" covers "node_modules/x/y.js"),
// as Docker's MatchesOrParentMatches does.
bool DockerIgnore::matches(const Rule& rule, std::string_view path) const {
  if (!rule.valid) return false;
  for (size_t end = path.find('/'); end != std::string_view::npos; end = path.find('/', end + 1)) {
    std::string parent(path.substr(0, end));
    if (std::regex_match(parent, rule.pattern)) return true;
  }
  return std::regex_match(std::string(path), rule.pattern);
}

bool DockerIgnore::excludes(std::string_view path) const {
  bool excluded = false;
  for (const Rule& rule : rules_) {
    if (excluded == !rule.exception) continue;  // this rule could not change the verdict
    if (matches(rule, path)) excluded = !rule.exception;
  }
  return excluded;
}

}  // namespace slipway
