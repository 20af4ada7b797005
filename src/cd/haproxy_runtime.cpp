#include "cd/haproxy_runtime.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <map>

#include <fmt/format.h>

#include "base/files.h"
#include "base/strings.h"
#include "base/unique_fd.h"

namespace slipway {

std::string_view to_string(SlotAdminState state) {
  switch (state) {
    case SlotAdminState::ready: return "ready";
    case SlotAdminState::drain: return "drain";
    case SlotAdminState::maint: return "maint";
  }
  return "maint";
}

namespace {

// srv_admin_state is a bit field (HAProxy's SRV_ADMF_*): any maintenance bit wins over drain.
// 0x04 (CMAINT, "disabled in the config") is left out: HAProxy keeps it as a memory of the
// config after `set server ... state ready`, on a server that then takes traffic (FMAINT, 0x01,
// is what the config's `disabled` and `state maint` really set).
SlotAdminState admin_state_from_bits(int bits) {
  constexpr int kMaintenance = 0x01 | 0x02 | 0x20 | 0x40;
  constexpr int kDrain = 0x08 | 0x10;
  if (bits & kMaintenance) return SlotAdminState::maint;
  if (bits & kDrain) return SlotAdminState::drain;
  return SlotAdminState::ready;
}

std::vector<std::string> words(std::string_view line) {
  std::vector<std::string> result;
  for (const std::string& word : split(line, ' ')) {
    if (!word.empty()) result.push_back(word);
  }
  return result;
}

}  // namespace

Result<std::vector<ServerSlotState>> parse_servers_state(std::string_view answer) {
  std::map<std::string, size_t> column;
  std::vector<ServerSlotState> servers;
  for (const std::string& raw : split(answer, '\n')) {
    std::string_view line = trim(raw);
    if (starts_with(line, "# ")) {
      std::vector<std::string> names = words(line.substr(2));
      for (size_t i = 0; i < names.size(); ++i) column[names[i]] = i;
      continue;
    }
    std::vector<std::string> fields = words(line);
    if (fields.size() < 2) continue;  // the version line, blank lines
    for (const char* name : {"be_name", "srv_name", "srv_addr", "srv_op_state", "srv_admin_state", "srv_port"}) {
      if (!column.count(name) || column[name] >= fields.size()) {
        return make_error(fmt::format("HAProxy's 'show servers state' answer lacks column {} in line '{}'", name, line));
      }
    }
    ServerSlotState server;
    server.backend = fields[column["be_name"]];
    server.slot = fields[column["srv_name"]];
    server.address = fields[column["srv_addr"]];
    server.port = std::atoi(fields[column["srv_port"]].c_str());
    server.admin = admin_state_from_bits(std::atoi(fields[column["srv_admin_state"]].c_str()));
    server.running = fields[column["srv_op_state"]] == "2";  // SRV_ST_RUNNING
    servers.push_back(std::move(server));
  }
  return servers;
}

Result<int> parse_current_sessions(std::string_view csv, std::string_view backend, std::string_view slot) {
  std::vector<std::string> header;
  for (const std::string& raw : split(csv, '\n')) {
    std::string_view line = trim(raw);
    if (starts_with(line, "# ")) {
      header = split(line.substr(2), ',');
      continue;
    }
    std::vector<std::string> fields = split(line, ',');
    if (fields.size() < 2 || fields[0] != backend || fields[1] != slot) continue;
    for (size_t i = 0; i < header.size() && i < fields.size(); ++i) {
      if (header[i] == "scur") return std::atoi(fields[i].c_str());
    }
    return make_error("HAProxy's 'show stat' answer has no scur column");
  }
  return make_error(fmt::format("HAProxy reports no server {}/{}", backend, slot));
}

Result<std::string> HaproxyRuntime::send(std::string_view command) const {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::string path = socket_.string();
  if (path.size() >= sizeof address.sun_path) {
    return make_error(fmt::format("HAProxy socket path {} is too long for a unix socket; use a shorter directory", path));
  }
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  UniqueFd socket(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (socket.get() < 0) return make_error(fmt::format("socket: {}", errno_text(errno)));
  if (::connect(socket.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    return make_error(fmt::format("cannot connect to HAProxy's runtime API at {}: {}; is HAProxy running?", path,
                                  errno_text(errno)));
  }
  std::string request = std::string(command) + "\n";
  for (size_t sent = 0; sent < request.size();) {
    ssize_t n = ::send(socket.get(), request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return make_error(fmt::format("writing to HAProxy at {}: {}", path, errno_text(errno)));
    sent += static_cast<size_t>(n);
  }
  std::string answer;
  char buffer[4096];
  for (;;) {
    ssize_t n = ::read(socket.get(), buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return make_error(fmt::format("reading from HAProxy at {}: {}", path, errno_text(errno)));
    if (n == 0) break;  // without `prompt`, HAProxy closes after one command
    answer.append(buffer, static_cast<size_t>(n));
  }
  return answer;
}

Status HaproxyRuntime::set_address(std::string_view backend, std::string_view slot, int port) const {
  auto answer = send(fmt::format("set server {}/{} addr 127.0.0.1 port {}", backend, slot, port));
  if (!answer) return answer.error();
  // Success is reported in prose ("IP changed from ... port changed from ...", or "no need to
  // change the addr"); anything else is a refusal.
  if (answer->find("changed") == std::string::npos && answer->find("no need to change") == std::string::npos) {
    return make_error(fmt::format("HAProxy refused to point {}/{} at 127.0.0.1:{}: {}", backend, slot, port,
                                  trim(*answer)));
  }
  return {};
}

Status HaproxyRuntime::set_state(std::string_view backend, std::string_view slot, SlotAdminState state) const {
  auto answer = send(fmt::format("set server {}/{} state {}", backend, slot, to_string(state)));
  if (!answer) return answer.error();
  if (!trim(*answer).empty()) {  // success is silence
    return make_error(fmt::format("HAProxy refused to set {}/{} to {}: {}", backend, slot, to_string(state),
                                  trim(*answer)));
  }
  return {};
}

Result<std::vector<ServerSlotState>> HaproxyRuntime::servers(std::string_view backend) const {
  auto answer = send(fmt::format("show servers state {}", backend));
  if (!answer) return answer.error();
  if (answer->find("# be_id") == std::string::npos) {
    return make_error(fmt::format("HAProxy cannot show backend {}: {}", backend, trim(*answer)));
  }
  return parse_servers_state(*answer);
}

Result<int> HaproxyRuntime::current_sessions(std::string_view backend, std::string_view slot) const {
  auto answer = send("show stat");
  if (!answer) return answer.error();
  return parse_current_sessions(*answer, backend, slot);
}

}  // namespace slipway
