// The router with the real HAProxy on 127.0.0.1: two tiny HTTP servers (Python, keep-alive,
// answering "blue" and "green") stand for the two versions of an application; requests go
// through HAProxy's frontends with base/http_client.h while the slots are set and switched.
#include <gtest/gtest.h>

#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <future>
#include <memory>
#include <thread>

#include "base/files.h"
#include "base/http_client.h"
#include "cd/haproxy_router.h"
#include "support/stop_child.h"

namespace slipway {
namespace {

using namespace std::chrono_literals;

// A port the kernel says is free now (the tiny race until it is bound is acceptable in a test).
int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  socklen_t length = sizeof address;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(fd);
  return ntohs(address.sin_port);
}

bool accepts_connections(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<uint16_t>(port));
  bool connected = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  ::close(fd);
  return connected;
}

// A zombie waiting for init to reap it (HAProxy is a daemon, not our child) no longer runs.
bool process_runs(pid_t pid) {
  auto stat = read_file("/proc/" + std::to_string(pid) + "/stat");
  if (!stat) return false;
  size_t close = stat->rfind(')');
  return close != std::string::npos && close + 2 < stat->size() && (*stat)[close + 2] != 'Z';
}

// HTTP/1.1 with Content-Length, so connections stay open; /slow answers after 1.5 s.
constexpr const char* kVersionServer = R"(
import http.server, sys, time
class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        if self.path == "/slow":
            time.sleep(1.5)
        body = sys.argv[2].encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *arguments):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
)";

// One version of the application: answers its name on a free loopback port; stopped by PID.
class VersionServer {
 public:
  explicit VersionServer(const std::string& answer) : port_(free_port()) {
    pid_t parent = getpid();
    pid_ = fork();
    if (pid_ == 0) {
      prctl(PR_SET_PDEATHSIG, SIGTERM);
      if (getppid() != parent) _exit(1);
      std::string port = std::to_string(port_);
      execlp("python3", "python3", "-c", kVersionServer, port.c_str(), answer.c_str(), nullptr);
      _exit(127);
    }
    for (int i = 0; i < 250 && !accepts_connections(port_); ++i) std::this_thread::sleep_for(20ms);
  }
  ~VersionServer() { testing::stop_child(pid_); }
  int port() const { return port_; }

 private:
  int port_;
  pid_t pid_ = 0;
};

class HaproxyRouterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(accepts_connections(blue_.port())) << "the blue test server did not start";
    ASSERT_TRUE(accepts_connections(green_.port())) << "the green test server did not start";
    HaproxyRouterSettings settings;
    settings.directory = folder_.path() / "router";
    settings.listen = "127.0.0.1:" + std::to_string(free_port());
    settings.test_listen = "127.0.0.1:" + std::to_string(free_port());
    settings.name = "shop/production";
    router_ = std::make_unique<HaproxyRouter>(settings);
  }
  void TearDown() override {
    if (router_) {
      EXPECT_TRUE(router_->stop().ok());
    }
  }

  void start_with_both_slots_set(const char* backend) {
    Status started = router_->start();
    ASSERT_TRUE(started.ok()) << started.error().message;
    ASSERT_TRUE(router_->set_slot(backend, kBlueSlot, blue_.port()).ok());
    Status green = router_->set_slot(backend, kGreenSlot, green_.port());
    ASSERT_TRUE(green.ok()) << green.error().message;
  }

  // The answer's body through `listen`, or what went wrong.
  std::string get(const std::string& listen, const std::string& path = "/") {
    HttpClientRequest request;
    request.url = "http://" + listen + path;
    request.timeout = Milliseconds(10'000);
    auto response = client_.send(request);
    if (!response) return "error: " + response.error().message;
    if (response->status != 200) return "status " + std::to_string(response->status);
    return response->body;
  }

  TemporaryDirectory folder_{"slipway-router"};
  VersionServer blue_{"blue"};
  VersionServer green_{"green"};
  std::unique_ptr<HaproxyRouter> router_;
  HttpClient client_;  // one keep-alive connection to HAProxy across a switch
};

TEST_F(HaproxyRouterTest, ProductionFollowsTheSwitchWithoutAReload) {
  start_with_both_slots_set(kProductionBackend);
  pid_t pid = router_->pid();
  ASSERT_GT(pid, 0);
  ASSERT_TRUE(router_->switch_to(kProductionBackend, kBlueSlot).ok());
  for (int i = 0; i < 5; ++i) EXPECT_EQ(get(router_->settings().listen), "blue");

  Status switched = router_->switch_to(kProductionBackend, kGreenSlot);
  ASSERT_TRUE(switched.ok()) << switched.error().message;
  for (int i = 0; i < 5; ++i) EXPECT_EQ(get(router_->settings().listen), "green");
  EXPECT_EQ(router_->pid(), pid) << "a switch must not restart HAProxy";

  auto servers = router_->servers(kProductionBackend);
  ASSERT_TRUE(servers.ok()) << servers.error().message;
  ASSERT_EQ(servers->size(), 2u);
  EXPECT_EQ((*servers)[0].slot, "blue");
  EXPECT_EQ((*servers)[0].port, blue_.port());
  EXPECT_EQ((*servers)[0].admin, SlotAdminState::drain);
  EXPECT_EQ((*servers)[1].slot, "green");
  EXPECT_EQ((*servers)[1].address, "127.0.0.1");
  EXPECT_EQ((*servers)[1].admin, SlotAdminState::ready);
  EXPECT_TRUE((*servers)[1].running);
}

TEST_F(HaproxyRouterTest, DrainLetsTheOpenRequestFinishThenBlueHasNoSessions) {
  start_with_both_slots_set(kProductionBackend);
  ASSERT_TRUE(router_->switch_to(kProductionBackend, kBlueSlot).ok());
  std::string listen = router_->settings().listen;
  auto slow = std::async(std::launch::async, [listen] {
    HttpClient client;
    HttpClientRequest request;
    request.url = "http://" + listen + "/slow";
    auto response = client.send(request);
    return response ? response->body : "error: " + response.error().message;
  });
  int open = 0;
  for (int i = 0; i < 100 && open == 0; ++i) {
    std::this_thread::sleep_for(10ms);
    auto sessions = router_->open_sessions(kProductionBackend, kBlueSlot);
    ASSERT_TRUE(sessions.ok()) << sessions.error().message;
    open = *sessions;
  }
  ASSERT_EQ(open, 1) << "the slow request never reached blue";

  ASSERT_TRUE(router_->switch_to(kProductionBackend, kGreenSlot).ok());
  EXPECT_EQ(get(listen), "green");           // new requests go to green at once
  EXPECT_EQ(slow.get(), "blue");             // the request open on blue finishes there
  int left = -1;
  for (int i = 0; i < 100 && left != 0; ++i) {
    auto sessions = router_->open_sessions(kProductionBackend, kBlueSlot);
    ASSERT_TRUE(sessions.ok()) << sessions.error().message;
    left = *sessions;
    if (left != 0) std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(left, 0);
}

TEST_F(HaproxyRouterTest, TestListenerPointsAtGreenWhileProductionStaysOnBlue) {
  start_with_both_slots_set(kProductionBackend);
  ASSERT_TRUE(router_->set_slot(kTestBackend, kGreenSlot, green_.port()).ok());
  ASSERT_TRUE(router_->switch_to(kProductionBackend, kBlueSlot).ok());
  ASSERT_TRUE(router_->switch_to(kTestBackend, kGreenSlot).ok());
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(get(router_->settings().test_listen), "green");
    EXPECT_EQ(get(router_->settings().listen), "blue");
  }
}

TEST_F(HaproxyRouterTest, AStartedRouterIsAdoptedAndStopLeavesNoProcess) {
  Status started = router_->start();
  ASSERT_TRUE(started.ok()) << started.error().message;
  pid_t pid = router_->pid();
  ASSERT_GT(pid, 0);
  ASSERT_TRUE(router_->set_slot(kProductionBackend, kBlueSlot, blue_.port()).ok());
  ASSERT_TRUE(router_->switch_to(kProductionBackend, kBlueSlot).ok());

  HaproxyRouter restarted(router_->settings());  // as after a Slipway restart
  ASSERT_TRUE(restarted.start().ok());
  EXPECT_EQ(restarted.pid(), pid);
  EXPECT_EQ(get(router_->settings().listen), "blue") << "adopting must keep the live routing";

  Status stopped = restarted.stop();
  ASSERT_TRUE(stopped.ok()) << stopped.error().message;
  EXPECT_EQ(router_->pid(), 0);
  EXPECT_FALSE(process_runs(pid)) << "HAProxy (PID " << pid << ") still runs";
  EXPECT_TRUE(router_->stop().ok()) << "stopping a stopped router is success";
}

TEST_F(HaproxyRouterTest, ABadListenAddressComesBackWithHaproxysMessage) {
  HaproxyRouterSettings settings = router_->settings();
  settings.listen = "999.0.0.1:80";
  HaproxyRouter bad(settings);
  Status started = bad.start();
  ASSERT_FALSE(started.ok());
  EXPECT_NE(started.error().message.find("invalid address: '999.0.0.1'"), std::string::npos)
      << started.error().message;
  EXPECT_EQ(bad.pid(), 0);
}

TEST_F(HaproxyRouterTest, AnUnknownSlotIsRefusedWithHaproxysWords) {
  Status started = router_->start();
  ASSERT_TRUE(started.ok()) << started.error().message;
  Status refused = router_->set_slot(kProductionBackend, "purple", blue_.port());
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("production/purple"), std::string::npos) << refused.error().message;
  EXPECT_FALSE(router_->switch_to(kProductionBackend, "purple").ok());
}

}  // namespace
}  // namespace slipway
