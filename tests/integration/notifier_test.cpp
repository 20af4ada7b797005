// The Notifier against real local HTTP receivers: order per channel, retries with pauses, giving
// up on a dead channel without holding up a healthy one, send() never waiting for the network,
// the queue limit, and a bounded stop().
#include "notify/notifier.h"

#include <gtest/gtest.h>

#include <sstream>

#include <nlohmann/json.hpp>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include "base/ports.h"
#include "support/chat_receiver.h"

namespace slipway {
namespace {

using namespace std::chrono_literals;
using testing::ChatReceiver;
using Json = nlohmann::json;

// Swaps the default logger for one writing to a string while the test runs.
class LogCapture {
 public:
  LogCapture() : previous_(spdlog::default_logger()) {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(stream_);
    spdlog::set_default_logger(std::make_shared<spdlog::logger>("capture", sink));
  }
  ~LogCapture() { spdlog::set_default_logger(previous_); }
  std::string text() const { return stream_.str(); }

 private:
  std::shared_ptr<spdlog::logger> previous_;
  std::ostringstream stream_;
};

NotifierOptions quick_options() {
  NotifierOptions options;
  options.attempts = 3;
  options.first_retry = 20ms;
  options.max_retry = 40ms;
  options.request_timeout = 5s;
  return options;
}

ChatNotice notice(int number) {
  ChatNotice notice;
  notice.event = "run.failed";
  notice.severity = "failure";
  notice.title = "notice " + std::to_string(number);
  notice.run_id = number;
  return notice;
}

std::string title_of(const testing::ReceivedRequest& request, const std::string& kind) {
  Json body = Json::parse(request.body);
  return kind == "slack" ? body["text"].get<std::string>() : body["title"].get<std::string>();
}

TEST(NotifierTest, DeliversEachChannelInOrder) {
  ChatReceiver slack, hook;
  Notifier notifier(quick_options());
  std::vector<ChatChannel> channels = {{"slack", slack.url(), "SLACK_URL"}, {"webhook", hook.url(), "HOOK_URL"}};
  for (int i = 1; i <= 5; ++i) notifier.send(channels, notice(i));
  ASSERT_TRUE(notifier.flush(10s));

  for (auto [receiver, kind] : {std::pair{&slack, "slack"}, std::pair{&hook, "webhook"}}) {
    auto messages = receiver->messages();
    ASSERT_EQ(messages.size(), 5u) << kind;
    for (int i = 0; i < 5; ++i) {
      EXPECT_EQ(messages[i].method, "POST");
      EXPECT_EQ(messages[i].path, "/hook");
      EXPECT_EQ(messages[i].headers["content-type"], "application/json");
      EXPECT_EQ(title_of(messages[i], kind), "notice " + std::to_string(i + 1)) << kind;
    }
  }
  EXPECT_TRUE(Json::parse(slack.messages()[0].body)["blocks"].is_array());
  EXPECT_EQ(Json::parse(hook.messages()[0].body)["run_id"], 1);
  NotifierStats stats = notifier.stats();
  EXPECT_EQ(stats.delivered, 10);
  EXPECT_EQ(stats.retried, 0);
  EXPECT_EQ(stats.queued, 0u);
}

TEST(NotifierTest, RetriesUntilTheChannelAnswers) {
  ChatReceiver slack;
  slack.fail_next(2, 500);
  NotifierOptions options = quick_options();
  options.attempts = 5;
  Notifier notifier(options);
  notifier.send({{"slack", slack.url(), "SLACK_URL"}}, notice(1));
  ASSERT_TRUE(notifier.flush(10s));

  auto messages = slack.messages();
  ASSERT_EQ(messages.size(), 3u);
  EXPECT_EQ(messages[0].status, 500);
  EXPECT_EQ(messages[1].status, 500);
  EXPECT_EQ(messages[2].status, 200);
  EXPECT_EQ(messages[2].body, messages[0].body);  // the same notice, sent again
  NotifierStats stats = notifier.stats();
  EXPECT_EQ(stats.retried, 2);
  EXPECT_EQ(stats.delivered, 1);
  EXPECT_EQ(stats.given_up, 0);
}

TEST(NotifierTest, GivesUpOnADeadChannelWithoutDelayingAHealthyOne) {
  LogCapture log;
  Result<int> free_port = free_loopback_port();
  ASSERT_TRUE(free_port.ok());
  std::string dead_url = "http://127.0.0.1:" + std::to_string(*free_port) + "/services/T0/B0/SECRETTOKEN";
  ChatReceiver healthy;
  NotifierOptions options = quick_options();
  options.attempts = 3;
  options.first_retry = 1s;  // the dead channel needs 1 s + 2 s of pauses before it gives up
  options.max_retry = 2s;
  Notifier notifier(options);
  notifier.send({{"webhook", dead_url, "DEAD_HOOK"}, {"slack", healthy.url(), "SLACK_URL"}}, notice(1));

  // Well inside the dead channel's 3 s of retrying: the healthy channel did not wait for it.
  ASSERT_TRUE(healthy.wait_for(1, 2s));
  EXPECT_EQ(notifier.stats().given_up, 0);
  ASSERT_TRUE(notifier.flush(15s));

  NotifierStats stats = notifier.stats();
  EXPECT_EQ(stats.delivered, 1);
  EXPECT_EQ(stats.retried, 2);
  EXPECT_EQ(stats.given_up, 1);
  EXPECT_NE(log.text().find("DEAD_HOOK"), std::string::npos) << log.text();
  EXPECT_NE(log.text().find("after 3 attempts"), std::string::npos) << log.text();
  EXPECT_EQ(log.text().find("SECRETTOKEN"), std::string::npos) << log.text();  // never the URL
}

TEST(NotifierTest, GivesUpOnAChannelThatClosesWithoutAnswering) {
  LogCapture log;
  ChatReceiver mute;
  mute.close_without_answer(true);
  Notifier notifier(quick_options());
  notifier.send({{"slack", mute.url(), "MUTE_URL"}}, notice(1));
  ASSERT_TRUE(notifier.flush(10s));
  EXPECT_EQ(mute.messages().size(), 3u);
  EXPECT_EQ(notifier.stats().given_up, 1);
  EXPECT_NE(log.text().find("MUTE_URL"), std::string::npos) << log.text();
}

TEST(NotifierTest, SendReturnsBeforeASlowChannelAnswers) {
  ChatReceiver slow;
  slow.set_delay(3s);
  Notifier notifier(quick_options());
  notifier.send({{"slack", slow.url(), "SLOW_URL"}}, notice(1));
  // The receiver answers 3 s after it has read the request: had send() waited for the delivery,
  // it would be counted (and recorded) by now.
  EXPECT_EQ(notifier.stats().delivered, 0);
  EXPECT_TRUE(slow.messages().empty());
  ASSERT_TRUE(notifier.flush(10s));
  EXPECT_EQ(notifier.stats().delivered, 1);
  EXPECT_EQ(slow.messages().size(), 1u);
}

TEST(NotifierTest, DropsTheOldestBeyondTheQueueLimit) {
  LogCapture log;
  ChatReceiver slow;
  slow.set_delay(300ms);
  NotifierOptions options = quick_options();
  options.queue_limit = 3;
  Notifier notifier(options);
  for (int i = 1; i <= 10; ++i) notifier.send({{"webhook", slow.url(), "HOOK_URL"}}, notice(i));
  ASSERT_TRUE(notifier.flush(10s));

  NotifierStats stats = notifier.stats();
  EXPECT_GE(stats.dropped, 6);  // at most one was taken off the queue before the rest arrived
  EXPECT_EQ(stats.delivered + stats.dropped, 10);
  auto messages = slow.messages();
  ASSERT_FALSE(messages.empty());
  EXPECT_EQ(title_of(messages.back(), "webhook"), "notice 10");  // the newest survive
  EXPECT_NE(log.text().find("dropped the oldest"), std::string::npos) << log.text();
}

TEST(NotifierTest, StopWithQueuedNoticesIsBounded) {
  LogCapture log;
  ChatReceiver slow;
  slow.set_delay(1s);
  NotifierOptions options = quick_options();
  options.request_timeout = 1500ms;
  Notifier notifier(options);
  for (int i = 1; i <= 20; ++i) notifier.send({{"slack", slow.url(), "SLOW_URL"}}, notice(i));

  auto started = std::chrono::steady_clock::now();
  notifier.stop();
  // One request in flight (≤ 1.5 s) and the 2 s last-attempt window; 6 s is a generous bound.
  EXPECT_LT(std::chrono::steady_clock::now() - started, 6s);

  NotifierStats stats = notifier.stats();
  EXPECT_GT(stats.dropped, 0);
  EXPECT_EQ(stats.delivered + stats.given_up + stats.dropped, 20);
  EXPECT_EQ(stats.queued, 0u);
  EXPECT_NE(log.text().find("stopping; dropped"), std::string::npos) << log.text();

  notifier.send({{"slack", slow.url(), "SLOW_URL"}}, notice(21));  // after stop: dropped, no hang
  EXPECT_EQ(notifier.stats().dropped, stats.dropped + 1);
  notifier.stop();  // idempotent
}

}  // namespace
}  // namespace slipway
