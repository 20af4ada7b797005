// The names of the containers Slipway makes on a Docker Engine, built in one place so that every
// kind (deployments, task runs, service pods) is legal for the Engine and unique per server.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

namespace slipway {

// "slipway-" and the parts joined by "-"; any character the Engine refuses in a name (it wants
// [A-Za-z0-9][A-Za-z0-9_.-]*, "slipway-" gives the leading alphanumeric) becomes "-".
std::string engine_container_name(std::initializer_list<std::string_view> parts);

// The server's part of a name: 8 hex digits of the SHA-256 of its data directory (`owner`), so
// that two servers sharing one Engine, each with a deployment 12, never name theirs alike.
std::string owner_tag(std::string_view owner);

}  // namespace slipway
