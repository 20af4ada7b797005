// haproxy_config: the HAProxy configuration of one application in one environment, as text.
// Pure: it writes no file and starts nothing. Every backend has the same two server slots,
// "blue" and "green", so a deployment only ever changes them through the runtime API and
// HAProxy is never reloaded (a reload is where connections get dropped).
#pragma once

#include <filesystem>
#include <string>

namespace slipway {

inline constexpr const char* kProductionBackend = "production";
inline constexpr const char* kTestBackend = "test";  // the test-traffic listener's backend
inline constexpr const char* kBlueSlot = "blue";
inline constexpr const char* kGreenSlot = "green";

struct HaproxyRouterSettings {
  std::filesystem::path directory;  // holds haproxy.cfg, haproxy.pid and haproxy.sock
  std::string listen;               // production frontend, "127.0.0.1:8080"
  std::string test_listen;          // optional test-traffic frontend; "" for none
  std::string name;                 // "APP/ENV", written into the config as a comment only
  std::string executable = "haproxy";
};

std::filesystem::path haproxy_config_path(const HaproxyRouterSettings& settings);
std::filesystem::path haproxy_pid_path(const HaproxyRouterSettings& settings);
std::filesystem::path haproxy_socket_path(const HaproxyRouterSettings& settings);

// The configuration text: a frontend per listener, each with its own backend of two slots
// that start in maintenance: HAProxy wants an address on every server line, so each names
// 127.0.0.1:1 (never served) until set_slot() gives it a version's port at runtime.
std::string generate_haproxy_config(const HaproxyRouterSettings& settings);

}  // namespace slipway
