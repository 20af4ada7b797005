// HaproxyRuntime: a client of HAProxy's runtime API on its unix socket — one command per
// connection, the answer read to end of file — plus the parsers for what it answers. A refused
// or missing socket, and an answer HAProxy marks as an error, come back as Errors.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace slipway {

enum class SlotAdminState { ready, drain, maint };

std::string_view to_string(SlotAdminState state);

struct ServerSlotState {
  std::string backend;
  std::string slot;                 // server name: "blue" or "green"
  std::string address;              // "127.0.0.1"
  int port = 0;
  SlotAdminState admin = SlotAdminState::maint;
  bool running = false;             // operational state: HAProxy would send it traffic if ready
};

// The rows of `show servers state BACKEND`, by the column names of its header line.
Result<std::vector<ServerSlotState>> parse_servers_state(std::string_view answer);

// The `scur` (current sessions) of BACKEND/SLOT in the CSV of `show stat`.
Result<int> parse_current_sessions(std::string_view csv, std::string_view backend, std::string_view slot);

class HaproxyRuntime {
 public:
  explicit HaproxyRuntime(std::filesystem::path socket) : socket_(std::move(socket)) {}

  // Sends `command` and returns HAProxy's whole answer, whatever it says; the typed methods
  // below know which answers mean success and turn the others into Errors quoting HAProxy.
  Result<std::string> send(std::string_view command) const;

  Status set_address(std::string_view backend, std::string_view slot, int port) const;
  Status set_state(std::string_view backend, std::string_view slot, SlotAdminState state) const;
  Result<std::vector<ServerSlotState>> servers(std::string_view backend) const;
  Result<int> current_sessions(std::string_view backend, std::string_view slot) const;

 private:
  std::filesystem::path socket_;
};

}  // namespace slipway
