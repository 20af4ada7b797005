#include "cd/container_names.h"

#include <cctype>

#include "base/crypto.h"

namespace slipway {

std::string engine_container_name(std::initializer_list<std::string_view> parts) {
  std::string name = "slipway";
  for (std::string_view part : parts) {
    name += '-';
    name += part;
  }
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.' && c != '-') c = '-';
  }
  return name;
}

std::string owner_tag(std::string_view owner) { return sha256_hex(owner).substr(0, 8); }

}  // namespace slipway
