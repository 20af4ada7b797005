#include "spec/image_reference.h"

#include <fmt/core.h>

#include "base/strings.h"

namespace slipway {

namespace {

// The distribution reference grammar (github.com/distribution/reference), written out by hand
// rather than as regexes so that each refusal can say which rule was broken.
constexpr size_t kNameMaxLength = 255;
constexpr size_t kTagMaxLength = 128;

bool is_lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool is_alnum(char c) { return is_lower_alnum(c) || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
bool is_word(char c) { return is_alnum(c) || c == '_'; }

// path-component := [a-z0-9]+ (separator [a-z0-9]+)*, separator := [_.] | __ | -+
bool valid_path_component(std::string_view component) {
  if (component.empty() || !is_lower_alnum(component.front()) || !is_lower_alnum(component.back())) return false;
  for (size_t i = 0; i < component.size();) {
    if (is_lower_alnum(component[i])) {
      ++i;
      continue;
    }
    size_t start = i;
    while (i < component.size() && !is_lower_alnum(component[i])) ++i;
    std::string_view separator = component.substr(start, i - start);
    bool dashes = separator.find_first_not_of('-') == std::string_view::npos;
    if (!(separator == "." || separator == "_" || separator == "__" || dashes)) return false;
  }
  return true;
}

// domain-component := [a-zA-Z0-9] | [a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]
bool valid_domain_component(std::string_view component) {
  if (component.empty() || !is_alnum(component.front()) || !is_alnum(component.back())) return false;
  for (char c : component) {
    if (!is_alnum(c) && c != '-') return false;
  }
  return true;
}

// host [':' port], host := domain-component ('.' domain-component)* | '[' ipv6 ']'
bool valid_registry_host(std::string_view registry) {
  std::string_view host = registry;
  if (!host.empty() && host.front() == '[') {
    size_t close = host.find(']');
    if (close == std::string_view::npos || close < 3) return false;
    for (char c : host.substr(1, close - 1)) {
      if (!is_hex(c) && c != ':') return false;
    }
    host = host.substr(close + 1);
    if (host.empty()) return true;
    if (host.front() != ':') return false;
  } else {
    size_t colon = host.find(':');
    for (const auto& component : split(host.substr(0, colon), '.')) {
      if (!valid_domain_component(component)) return false;
    }
    if (colon == std::string_view::npos) return true;
    host = host.substr(colon);
  }
  std::string_view port = host.substr(1);
  if (port.empty() || port.size() > 5) return false;
  for (char c : port) {
    if (!is_digit(c)) return false;
  }
  return std::stoi(std::string(port)) <= 65535;
}

// Docker's rule for telling "registry/name" from "user/name": a registry has a '.' or a ':' or
// is "localhost".
bool looks_like_registry(std::string_view component) {
  return component.find_first_of(".:[") != std::string_view::npos || component == "localhost";
}

Error reference_error(std::string_view text, std::string_view why) {
  return make_error(fmt::format("image reference '{}' {}", text, why));
}

}  // namespace

Status check_repository_path(std::string_view path) {
  if (path.empty()) return make_error("the repository path is empty");
  if (path.size() > kNameMaxLength) {
    return make_error(fmt::format("repository path '{}' is {} characters long; the limit is {}", path, path.size(),
                                  kNameMaxLength));
  }
  for (const auto& component : split(path, '/')) {
    if (!valid_path_component(component)) {
      return make_error(fmt::format(
          "repository path '{}' has an invalid component '{}': use lowercase letters and digits, separated by '.', "
          "'_', '__' or dashes, and '/' between components",
          path, component));
    }
  }
  return {};
}

Status check_tag(std::string_view tag) {
  bool valid = !tag.empty() && tag.size() <= kTagMaxLength && is_word(tag.front());
  for (char c : tag) valid = valid && (is_word(c) || c == '.' || c == '-');
  if (!valid) {
    return make_error(fmt::format(
        "tag '{}' is not valid: up to 128 letters, digits, '_', '.' and '-', not starting with '.' or '-'", tag));
  }
  return {};
}

Status check_digest(std::string_view digest) {
  size_t colon = digest.find(':');
  std::string_view algorithm = digest.substr(0, colon);
  std::string_view hex = colon == std::string_view::npos ? std::string_view() : digest.substr(colon + 1);
  bool valid = colon != std::string_view::npos && hex.size() >= 32;
  // algorithm := component ([+._-] component)*, component := [A-Za-z][A-Za-z0-9]*
  bool component_start = true;
  for (char c : algorithm) {
    bool separator = c == '+' || c == '.' || c == '_' || c == '-';
    valid = valid && (separator ? !component_start : is_alnum(c) && !(component_start && is_digit(c)));
    component_start = separator;
  }
  valid = valid && !component_start;  // neither empty nor ending with a separator
  for (char c : hex) valid = valid && is_hex(c);
  if (algorithm == "sha256" && (hex.size() != 64 || hex.find_first_not_of("0123456789abcdef") != std::string_view::npos)) {
    return make_error(fmt::format("digest '{}' is not valid: sha256 takes exactly 64 lowercase hex digits", digest));
  }
  if (!valid) return make_error(fmt::format("digest '{}' is not valid: expected ALGORITHM:HEX, e.g. sha256:<64 hex>", digest));
  return {};
}

std::string ImageReference::to_string() const {
  std::string text = registry + "/" + repository;
  if (!tag.empty()) text += ":" + tag;
  if (!digest.empty()) text += "@" + digest;
  return text;
}

namespace {

// NAME[:TAG][@DIGEST], the registry optional; the caller decides whether one is required.
Result<ImageReference> parse_reference(std::string_view text) {
  ImageReference reference;
  std::string_view name = text;
  if (size_t at = name.find('@'); at != std::string_view::npos) {
    reference.digest = std::string(name.substr(at + 1));
    if (Status digest = check_digest(reference.digest); !digest) return reference_error(text, "has an invalid digest: " + digest.error().message);
    name = name.substr(0, at);
  }
  size_t last_slash = name.rfind('/');
  if (size_t colon = name.rfind(':'); colon != std::string_view::npos && (last_slash == std::string_view::npos || colon > last_slash)) {
    reference.tag = std::string(name.substr(colon + 1));
    if (Status tag = check_tag(reference.tag); !tag) return reference_error(text, "has an invalid tag: " + tag.error().message);
    name = name.substr(0, colon);
  }
  if (name.size() > kNameMaxLength) return reference_error(text, fmt::format("is longer than {} characters", kNameMaxLength));
  size_t slash = name.find('/');
  if (slash != std::string_view::npos && looks_like_registry(name.substr(0, slash))) {
    reference.registry = std::string(name.substr(0, slash));
    name = name.substr(slash + 1);
    if (!valid_registry_host(reference.registry)) {
      return reference_error(text, fmt::format("has an invalid registry host '{}': expected HOST[:PORT]", reference.registry));
    }
  }
  reference.repository = std::string(name);
  if (Status path = check_repository_path(reference.repository); !path) return reference_error(text, "is invalid: " + path.error().message);
  return reference;
}

}  // namespace

Result<ImageReference> parse_image_reference(std::string_view text) {
  auto reference = parse_reference(text);
  if (reference && reference->registry.empty()) {
    return reference_error(text, "names no registry: write it as HOST[:PORT]/REPOSITORY[:TAG], e.g. 127.0.0.1:5000/dev/hello-app:1.0");
  }
  return reference;
}

Result<ImageReference> parse_image_name(std::string_view text) {
  if (text.empty()) return make_error("the image name is empty: write NAME[:TAG] or NAME@sha256:<64 hex>");
  return parse_reference(text);
}

std::string RegistryLocation::repository(std::string_view name) const {
  return prefix.empty() ? std::string(name) : prefix + "/" + std::string(name);
}

Result<RegistryLocation> parse_registry_url(std::string_view url) {
  std::string_view rest = url;
  for (std::string_view scheme : {"http://", "https://"}) {
    if (starts_with(rest, scheme)) rest.remove_prefix(scheme.size());
  }
  while (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  RegistryLocation location;
  size_t slash = rest.find('/');
  location.registry = std::string(rest.substr(0, slash));
  if (slash != std::string_view::npos) location.prefix = std::string(rest.substr(slash + 1));
  if (location.registry.empty() || !valid_registry_host(location.registry)) {
    return make_error(fmt::format("registry url '{}' does not start with a valid HOST[:PORT], e.g. 127.0.0.1:5000/dev", url));
  }
  if (!location.prefix.empty()) {
    if (Status path = check_repository_path(location.prefix); !path) {
      return make_error(fmt::format("registry url '{}' has an invalid path: {}", url, path.error().message));
    }
  }
  return location;
}

}  // namespace slipway
