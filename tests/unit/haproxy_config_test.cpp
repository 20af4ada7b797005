// The generated HAProxy config (no HAProxy runs here: integration/haproxy_router_test checks it
// with the real one) and the parsers of the runtime API's answers.
#include <gtest/gtest.h>

#include "cd/haproxy_config.h"
#include "cd/haproxy_runtime.h"

namespace slipway {
namespace {

HaproxyRouterSettings settings_with_test_listener() {
  HaproxyRouterSettings settings;
  settings.directory = "/var/lib/slipway/router/shop.production";
  settings.listen = "127.0.0.1:8080";
  settings.test_listen = "127.0.0.1:8081";
  settings.name = "shop/production";
  return settings;
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST(HaproxyConfig, FrontendsEachUseTheirOwnBackend) {
  std::string config = generate_haproxy_config(settings_with_test_listener());
  EXPECT_TRUE(contains(config, "frontend production_in\n  bind 127.0.0.1:8080\n  default_backend production\n"));
  EXPECT_TRUE(contains(config, "frontend test_in\n  bind 127.0.0.1:8081\n  default_backend test\n"));
}

TEST(HaproxyConfig, EveryBackendHasBlueAndGreenSlotsStartingDisabled) {
  std::string config = generate_haproxy_config(settings_with_test_listener());
  for (const char* backend : {"production", "test"}) {
    EXPECT_TRUE(contains(config, std::string("backend ") + backend + "\n  balance roundrobin\n"
                                 "  server blue 127.0.0.1:1 disabled\n  server green 127.0.0.1:1 disabled\n"))
        << backend << "\n" << config;
  }
  EXPECT_TRUE(contains(config, "default-server init-addr none\n"));
}

TEST(HaproxyConfig, NoTestListenerMeansNoTestFrontendOrBackend) {
  HaproxyRouterSettings settings = settings_with_test_listener();
  settings.test_listen = "";
  std::string config = generate_haproxy_config(settings);
  EXPECT_FALSE(contains(config, "test_in"));
  EXPECT_FALSE(contains(config, "backend test"));
  EXPECT_TRUE(contains(config, "backend production"));
}

TEST(HaproxyConfig, AdminSocketAndPidfileLiveInTheRouterDirectory) {
  std::string config = generate_haproxy_config(settings_with_test_listener());
  EXPECT_TRUE(contains(config, "  stats socket /var/lib/slipway/router/shop.production/haproxy.sock mode 600 "
                               "level admin expose-fd listeners\n"));
  EXPECT_TRUE(contains(config, "  pidfile /var/lib/slipway/router/shop.production/haproxy.pid\n"));
  EXPECT_FALSE(contains(config, "chroot"));
  EXPECT_FALSE(contains(config, "\n  user "));
  EXPECT_EQ(haproxy_socket_path(settings_with_test_listener()).filename(), "haproxy.sock");
}

TEST(HaproxyConfig, HttpKeepAliveWithTimeoutsAndLongTunnels) {
  std::string config = generate_haproxy_config(settings_with_test_listener());
  EXPECT_TRUE(contains(config, "  mode http\n"));
  EXPECT_FALSE(contains(config, "http-server-close"));
  EXPECT_FALSE(contains(config, "httpclose"));
  for (const char* line : {"timeout connect 5s", "timeout client 60s", "timeout server 60s",
                           "timeout http-request 10s", "timeout tunnel 1h"}) {
    EXPECT_TRUE(contains(config, std::string("  ") + line + "\n")) << line;
  }
}

TEST(HaproxyConfig, NameCannotBreakOutOfItsComment) {
  HaproxyRouterSettings settings = settings_with_test_listener();
  settings.name = "shop\nfrontend evil";
  std::string config = generate_haproxy_config(settings);
  EXPECT_FALSE(contains(config, "\nfrontend evil"));
}

TEST(HaproxyRuntimeParsing, ServersStateByColumnName) {
  const char* answer =
      "1\n"
      "# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight "
      "srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state "
      "srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord\n"
      "3 production 1 blue 127.0.0.1 2 8 1 1 4 1 0 0 8 0 0 0 - 40001 -\n"
      "3 production 2 green 127.0.0.1 2 0 1 1 4 1 0 0 8 0 0 0 - 40002 -\n"
      "3 production 3 spare 127.0.0.1 0 5 1 1 4 1 0 0 8 0 0 0 - 1 -\n"
      "3 production 4 was_disabled 127.0.0.1 2 4 1 1 4 1 0 0 8 0 0 0 - 1 -\n\n";
  auto servers = parse_servers_state(answer);
  ASSERT_TRUE(servers.ok()) << servers.error().message;
  ASSERT_EQ(servers->size(), 4u);
  EXPECT_EQ((*servers)[0].slot, "blue");
  EXPECT_EQ((*servers)[0].backend, "production");
  EXPECT_EQ((*servers)[0].port, 40001);
  EXPECT_EQ((*servers)[0].admin, SlotAdminState::drain);
  EXPECT_TRUE((*servers)[0].running);
  EXPECT_EQ((*servers)[1].admin, SlotAdminState::ready);
  EXPECT_EQ((*servers)[2].admin, SlotAdminState::maint);
  EXPECT_FALSE((*servers)[2].running);
  EXPECT_EQ((*servers)[3].admin, SlotAdminState::ready);  // only CMAINT left: set ready at run time
}

TEST(HaproxyRuntimeParsing, ServersStateWithoutHeaderIsAnError) {
  EXPECT_FALSE(parse_servers_state("1\n3 production 1 blue 127.0.0.1 2 0\n").ok());
}

TEST(HaproxyRuntimeParsing, CurrentSessionsFromShowStat) {
  const char* csv =
      "# pxname,svname,qcur,qmax,scur,smax\n"
      "production,FRONTEND,,,7,9\n"
      "production,blue,0,0,3,4\n"
      "test,blue,0,0,1,1\n";
  auto blue = parse_current_sessions(csv, "production", "blue");
  ASSERT_TRUE(blue.ok()) << blue.error().message;
  EXPECT_EQ(*blue, 3);
  EXPECT_EQ(*parse_current_sessions(csv, "test", "blue"), 1);
  auto missing = parse_current_sessions(csv, "production", "green");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("production/green"), std::string::npos);
}

}  // namespace
}  // namespace slipway
