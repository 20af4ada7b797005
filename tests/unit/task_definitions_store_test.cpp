// The task_revisions and task_schedules tables on a real SQLite file: revisions are numbered per
// task and environment, a new one retires the active one and deregisters those beyond `keep`,
// schedules pinned to the replaced revision follow it, a batch is all-or-nothing with one event,
// and the config's schedules are synced keeping the pins that moved.
#include "store/task_definitions.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "base/files.h"
#include "store/events.h"
#include "store/deployments.h"
#include "store/image_pushes.h"

namespace slipway {
namespace {

const std::string kDigest = "sha256:" + std::string(64, 'c');

TaskRevisionRecord sample(std::string task = "orders-etl", std::string environment = "prod") {
  TaskRevisionRecord r;
  r.environment = std::move(environment);
  r.task = std::move(task);
  r.repository = "data-tasks";
  r.image = "127.0.0.1:5000/prod/orders-etl";
  r.digest = kDigest;
  r.command = {"python", "-m", "etl", "--day=\"today\""};
  r.env = {{"MODE", "full"}, {"QUOTE", "a \"b\" ü"}};
  r.secrets = {"DB_PASSWORD", "API_KEY"};
  r.cpus = 1.5;
  r.memory_bytes = 64 << 20;
  r.timeout_ms = 30'000;
  r.reason = "image " + kDigest + " pushed";
  return r;
}

TaskScheduleRecord schedule(std::string name, int revision, std::string cron = "*/5 * * * *") {
  return TaskScheduleRecord{std::move(name), "prod", "orders-etl", std::move(cron), revision, 0};
}

class TaskDefinitionsStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = Store::open(directory_.path() / "slipway.db");
    ASSERT_TRUE(opened) << opened.error().message;
    store_ = std::move(*opened);
  }

  TaskRegistration registered(const std::vector<TaskRevisionRecord>& revisions, int keep = 10,
                              const std::string& push = "") {
    auto result = register_task_revisions(*store_, revisions, keep, push);
    EXPECT_TRUE(result) << result.error().message;
    return result ? *result : TaskRegistration{};
  }

  std::vector<std::pair<int, std::string>> revisions_of(const std::string& task, const std::string& env = "prod") {
    auto listed = list_task_revisions(*store_, env, task, 100);
    EXPECT_TRUE(listed) << listed.error().message;
    std::vector<std::pair<int, std::string>> numbers;
    if (listed) for (const auto& r : *listed) numbers.emplace_back(r.revision, r.status);
    return numbers;
  }

  std::map<std::string, int> schedule_pins() {
    auto listed = list_task_schedules(*store_);
    EXPECT_TRUE(listed) << listed.error().message;
    std::map<std::string, int> pins;
    if (listed) for (const auto& s : *listed) pins[s.name] = s.revision;
    return pins;
  }

  std::vector<EventRecord> events() {
    auto listed = list_events(*store_, 0, 100);
    EXPECT_TRUE(listed) << listed.error().message;
    return listed ? *listed : std::vector<EventRecord>{};
  }

  TemporaryDirectory directory_{"slipway-task-definitions"};
  std::unique_ptr<Store> store_;
};

TEST_F(TaskDefinitionsStoreTest, RevisionsAreNumberedPerTaskAndEnvironment) {
  registered({sample("a"), sample("b")});
  registered({sample("a")});
  registered({sample("a", "staging")});
  EXPECT_EQ(revisions_of("a"), (std::vector<std::pair<int, std::string>>{{2, "active"}, {1, "inactive"}}));
  EXPECT_EQ(revisions_of("b"), (std::vector<std::pair<int, std::string>>{{1, "active"}}));
  EXPECT_EQ(revisions_of("a", "staging"), (std::vector<std::pair<int, std::string>>{{1, "active"}}));
}

TEST_F(TaskDefinitionsStoreTest, TheSameTaskTwiceInABatchGetsTwoNumbers) {
  TaskRegistration r = registered({sample("a"), sample("a")});
  ASSERT_EQ(r.revision_ids.size(), 2u);
  EXPECT_EQ(revisions_of("a"), (std::vector<std::pair<int, std::string>>{{2, "active"}, {1, "inactive"}}));
  auto second = find_task_revision_by_id(*store_, r.revision_ids[1]);
  ASSERT_TRUE(second && second->has_value());
  EXPECT_EQ((*second)->revision, 2);
}

TEST_F(TaskDefinitionsStoreTest, RevisionsBeyondKeepAreDeregisteredAndCounted) {
  for (int i = 0; i < 3; ++i) EXPECT_EQ(registered({sample()}, 3).deregistered, 0);
  EXPECT_EQ(registered({sample()}, 3).deregistered, 1);
  EXPECT_EQ(registered({sample()}, 2).deregistered, 2);  // a smaller keep catches up at once
  EXPECT_EQ(revisions_of("orders-etl"), (std::vector<std::pair<int, std::string>>{{5, "active"},
                                                                                 {4, "inactive"},
                                                                                 {3, "deregistered"},
                                                                                 {2, "deregistered"},
                                                                                 {1, "deregistered"}}));
  auto deregistered = find_task_revision(*store_, "prod", "orders-etl", 2);
  ASSERT_TRUE(deregistered) << deregistered.error().message;
  EXPECT_FALSE(deregistered->has_value());
  auto inactive = find_task_revision(*store_, "prod", "orders-etl", 4);
  ASSERT_TRUE(inactive && inactive->has_value());
  EXPECT_EQ((*inactive)->status, "inactive");
}

TEST_F(TaskDefinitionsStoreTest, KeepZeroMeansNoLimit) {
  for (int i = 0; i < 4; ++i) EXPECT_EQ(registered({sample()}, 0).deregistered, 0);
  EXPECT_EQ(revisions_of("orders-etl").size(), 4u);
}

TEST_F(TaskDefinitionsStoreTest, SchedulesPinnedToThePreviousRevisionMove) {
  registered({sample()});
  ASSERT_TRUE(sync_task_schedules(*store_, {schedule("pinned", 1), schedule("latest", 0)}));
  EXPECT_EQ(registered({sample()}).schedules_moved, 1);
  EXPECT_EQ(schedule_pins(), (std::map<std::string, int>{{"latest", 0}, {"pinned", 2}}));

  // A restart with the same config keeps the moved pin; a schedule pinned to an older revision
  // than the active one stays where it is.
  ASSERT_TRUE(sync_task_schedules(*store_, {schedule("pinned", 1), schedule("latest", 0), schedule("old", 1)}));
  EXPECT_EQ(schedule_pins(), (std::map<std::string, int>{{"latest", 0}, {"old", 1}, {"pinned", 2}}));
  EXPECT_EQ(registered({sample()}).schedules_moved, 1);
  EXPECT_EQ(schedule_pins(), (std::map<std::string, int>{{"latest", 0}, {"old", 1}, {"pinned", 3}}));
}

TEST_F(TaskDefinitionsStoreTest, SyncAddsUpdatesRemovesAndKeepsMovedPinsAndFiringTimes) {
  registered({sample()});
  ASSERT_TRUE(sync_task_schedules(*store_, {schedule("nightly", 1, "0 2 * * *"), schedule("hourly", 0)}));
  registered({sample()});  // nightly moves to 2
  ASSERT_TRUE(record_schedule_fired(*store_, "nightly", 12345));

  // A restart with the same config: the moved pin and the firing time survive; a new cron is taken.
  ASSERT_TRUE(sync_task_schedules(*store_, {schedule("nightly", 1, "30 2 * * *"), schedule("every", 0)}));
  auto listed = list_task_schedules(*store_);
  ASSERT_TRUE(listed) << listed.error().message;
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[0].name, "every");
  EXPECT_EQ((*listed)[1].name, "nightly");
  EXPECT_EQ((*listed)[1].cron, "30 2 * * *");
  EXPECT_EQ((*listed)[1].revision, 2);
  EXPECT_EQ((*listed)[1].last_fired_ms, 12345);

  // The config naming another revision, or following the latest, replaces the moved pin.
  ASSERT_TRUE(sync_task_schedules(*store_, {schedule("nightly", 0)}));
  EXPECT_EQ(schedule_pins(), (std::map<std::string, int>{{"nightly", 0}}));
}

TEST_F(TaskDefinitionsStoreTest, SyncRejectsDuplicateOrIncompleteSchedulesAndChangesNothing) {
  ASSERT_TRUE(sync_task_schedules(*store_, {schedule("a", 0)}));
  Status duplicate = sync_task_schedules(*store_, {schedule("b", 0), schedule("b", 0)});
  ASSERT_FALSE(duplicate);
  EXPECT_NE(duplicate.error().message.find("'b'"), std::string::npos) << duplicate.error().message;
  EXPECT_FALSE(sync_task_schedules(*store_, {schedule("c", 0, "")}));
  EXPECT_EQ(schedule_pins(), (std::map<std::string, int>{{"a", 0}}));
  Status unknown = record_schedule_fired(*store_, "missing", 1);
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().message.find("missing"), std::string::npos);
}

TEST_F(TaskDefinitionsStoreTest, RegistrationMarksTheImagePushHandled) {
  ASSERT_TRUE(record_image_push(*store_, ImagePushRecord{"push-1", "127.0.0.1:5000", "prod/orders-etl", "v1",
                                                         kDigest, "", 1000}));
  registered({sample()}, 10, "push-1");
  auto unhandled = unhandled_image_pushes(*store_, 10);
  ASSERT_TRUE(unhandled) << unhandled.error().message;
  EXPECT_TRUE(unhandled->empty());
}

TEST_F(TaskDefinitionsStoreTest, ABadRecordRegistersNothing) {
  ASSERT_TRUE(record_image_push(*store_, ImagePushRecord{"push-1", "127.0.0.1:5000", "prod/orders-etl", "v1",
                                                         kDigest, "", 1000}));
  registered({sample("a")});
  size_t events_before = events().size();
  TaskRevisionRecord no_image = sample("c");
  no_image.image = "";
  auto result = register_task_revisions(*store_, {sample("a"), sample("b"), no_image}, 10, "push-1");
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().message.find("image"), std::string::npos) << result.error().message;
  EXPECT_NE(result.error().message.find("'c'"), std::string::npos) << result.error().message;
  EXPECT_EQ(revisions_of("a"), (std::vector<std::pair<int, std::string>>{{1, "active"}}));
  EXPECT_TRUE(revisions_of("b").empty());
  EXPECT_EQ(events().size(), events_before);
  auto unhandled = unhandled_image_pushes(*store_, 10);
  ASSERT_TRUE(unhandled);
  EXPECT_EQ(unhandled->size(), 1u);

  TaskRevisionRecord no_environment = sample("d");
  no_environment.environment = "";
  EXPECT_FALSE(register_task_revisions(*store_, {no_environment}, 10));
  TaskRevisionRecord no_name = sample("");
  EXPECT_FALSE(register_task_revisions(*store_, {no_name}, 10));
}

TEST_F(TaskDefinitionsStoreTest, OneEventPerBatchListsTheNewNumbers) {
  registered({sample("a")});
  registered({sample("a"), sample("b")});
  auto logged = events();
  ASSERT_EQ(logged.size(), 2u);
  EXPECT_EQ(logged[1].kind, "task.revisions");
  EXPECT_EQ(logged[1].repository, "data-tasks");
  auto payload = nlohmann::json::parse(logged[1].payload, nullptr, false);
  ASSERT_TRUE(payload.is_object()) << logged[1].payload;
  EXPECT_EQ(payload.value("environment", ""), "prod");
  EXPECT_EQ(payload.value("reason", ""), "image " + kDigest + " pushed");
  ASSERT_TRUE(payload["tasks"].is_array());
  ASSERT_EQ(payload["tasks"].size(), 2u);
  EXPECT_EQ(payload["tasks"][0].value("task", ""), "a");
  EXPECT_EQ(payload["tasks"][0].value("revision", 0), 2);
  EXPECT_EQ(payload["tasks"][1].value("task", ""), "b");
  EXPECT_EQ(payload["tasks"][1].value("revision", 0), 1);
}

TEST_F(TaskDefinitionsStoreTest, LookupsReturnWhatWasStored) {
  TaskRevisionRecord first = sample();
  first.created_ms = 1000;
  registered({first});
  TaskRegistration second = registered({sample()});
  registered({sample("other")});

  auto active = active_task_revision(*store_, "prod", "orders-etl");
  ASSERT_TRUE(active && active->has_value());
  const TaskRevisionRecord& r = **active;
  EXPECT_EQ(r.id, second.revision_ids[0]);
  EXPECT_EQ(r.revision, 2);
  EXPECT_EQ(r.status, "active");
  EXPECT_EQ(r.repository, "data-tasks");
  EXPECT_EQ(r.command, sample().command);
  EXPECT_EQ(r.env, sample().env);
  EXPECT_EQ(r.secrets, sample().secrets);
  EXPECT_DOUBLE_EQ(r.cpus, 1.5);
  EXPECT_EQ(r.memory_bytes, 64 << 20);
  EXPECT_EQ(r.timeout_ms, 30'000);
  EXPECT_EQ(r.pinned_image(), "127.0.0.1:5000/prod/orders-etl@" + kDigest);
  EXPECT_GT(r.created_ms, 1'600'000'000'000);

  auto by_number = find_task_revision(*store_, "prod", "orders-etl", 1);
  ASSERT_TRUE(by_number && by_number->has_value());
  EXPECT_EQ((*by_number)->created_ms, 1000);
  EXPECT_EQ((*by_number)->status, "inactive");
  auto missing = find_task_revision(*store_, "prod", "orders-etl", 9);
  ASSERT_TRUE(missing);
  EXPECT_FALSE(missing->has_value());
  auto none = active_task_revision(*store_, "staging", "orders-etl");
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->has_value());
  auto no_id = find_task_revision_by_id(*store_, 999);
  ASSERT_TRUE(no_id);
  EXPECT_FALSE(no_id->has_value());

  auto limited = list_task_revisions(*store_, "prod", "orders-etl", 1);
  ASSERT_TRUE(limited);
  ASSERT_EQ(limited->size(), 1u);
  EXPECT_EQ((*limited)[0].revision, 2);
}

TEST_F(TaskDefinitionsStoreTest, ListActiveTasksByEnvironmentAndTask) {
  registered({sample("b"), sample("a"), sample("a", "staging")});
  registered({sample("b")});
  auto all = list_active_tasks(*store_, "");
  ASSERT_TRUE(all) << all.error().message;
  std::vector<std::string> names;
  for (const auto& r : *all) names.push_back(r.environment + "/" + r.task + "#" + std::to_string(r.revision));
  EXPECT_EQ(names, (std::vector<std::string>{"prod/a#1", "prod/b#2", "staging/a#1"}));
  auto staging = list_active_tasks(*store_, "staging");
  ASSERT_TRUE(staging);
  EXPECT_EQ(staging->size(), 1u);
}

TEST_F(TaskDefinitionsStoreTest, EmptyCommandEnvAndSecretsRoundTrip) {
  TaskRevisionRecord bare = sample();
  bare.command = {};
  bare.env = {};
  bare.secrets = {};
  bare.digest = "";
  registered({bare});
  auto active = active_task_revision(*store_, "prod", "orders-etl");
  ASSERT_TRUE(active && active->has_value());
  EXPECT_TRUE((*active)->command.empty());
  EXPECT_TRUE((*active)->env.empty());
  EXPECT_TRUE((*active)->secrets.empty());
  EXPECT_EQ((*active)->pinned_image(), "127.0.0.1:5000/prod/orders-etl");
}

// The issue's benchmark: one push touching 1 000 task definitions. Correctness only; the timing
// is measured under bench/.
TEST_F(TaskDefinitionsStoreTest, AThousandRevisionsInOneCall) {
  std::vector<TaskRevisionRecord> batch;
  for (int i = 0; i < 1000; ++i) batch.push_back(sample("task-" + std::to_string(i)));
  registered(batch, 2);
  std::vector<TaskScheduleRecord> schedules;
  for (int i = 0; i < 1000; i += 100) {
    schedules.push_back(TaskScheduleRecord{"s" + std::to_string(i), "prod", "task-" + std::to_string(i), "* * * * *",
                                           1, 0});
  }
  ASSERT_TRUE(sync_task_schedules(*store_, schedules));
  registered(batch, 2);
  TaskRegistration third = registered(batch, 2, "");
  EXPECT_EQ(third.revision_ids.size(), 1000u);
  EXPECT_EQ(third.deregistered, 1000);
  EXPECT_EQ(third.schedules_moved, 10);

  auto active = list_active_tasks(*store_, "prod");
  ASSERT_TRUE(active) << active.error().message;
  ASSERT_EQ(active->size(), 1000u);
  for (const auto& r : *active) EXPECT_EQ(r.revision, 3) << r.task;
  EXPECT_EQ(revisions_of("task-999"), (std::vector<std::pair<int, std::string>>{{3, "active"},
                                                                              {2, "inactive"},
                                                                              {1, "deregistered"}}));
  for (const auto& [name, pin] : schedule_pins()) EXPECT_EQ(pin, 3) << name;
  EXPECT_EQ(events().size(), 3u);
}

}  // namespace
}  // namespace slipway
