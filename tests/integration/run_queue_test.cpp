// The server's run queue, for real: git repositories in temporary folders, the host executor,
// a store on disk. Slow steps run `sleep 1000.<token>` (or `sleep 30.<token>`) so that a check
// for leftover processes never confuses them with another test's, and TearDown kills what a
// failing test left behind.
#include "ci/run_queue.h"

#include <fmt/core.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "ci/leftover_processes.h"
#include "ci/remote_poller.h"
#include "ci/workspace_template.h"
#include "base/strings.h"
#include "store/remote_heads.h"
#include "store/run_queue_queries.h"
#include "store/sqlite_database.h"
#include "support/scratch_repository.h"

extern char** environ;

namespace slipway {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::ScratchRepository;

std::string spec_running(const std::string& command) {
  return "kind: library\ntest:\n  suites:\n    unit: { run: \"" + command + "\" }\n";
}

class RunQueueTest : public ::testing::Test {
 protected:
  RunQueueTest() : data_("slipway-queue-data") {
    token_ = std::to_string(::getpid()) + std::to_string(++counter_);
    repository_.write(".slipway.yml", spec_running("true"));
    fast_commit_ = repository_.commit("fast");
    repository_.write(".slipway.yml", spec_running("sleep " + slow_marker()));
    slow_commit_ = repository_.commit("slow");
    repository_.write(".slipway.yml", spec_running("sleep 0.3"));
    short_commit_ = repository_.commit("short");
    // Runs recorded on "topic" or "other" must name commits that are on it (the queue checks).
    repository_.git({"branch", "topic"});
    repository_.git({"branch", "other"});
  }

  void TearDown() override {
    queue_.reset();
    for (pid_t pid : marked_processes(slow_marker())) ::kill(pid, SIGKILL);
  }

  ServerConfig config(int concurrency) {
    ServerConfig server;
    server.concurrency = concurrency;
    server.executor = "host";
    server.repositories.push_back({"app", repository_.path().string(), "main", Milliseconds(0), ""});
    return server;
  }

  RunQueue& start_queue(ServerConfig server) {
    queue_ = std::make_unique<RunQueue>(DataDirectory{data_.path()}, std::move(server));
    Status started = queue_->start();
    EXPECT_TRUE(started.ok()) << (started.ok() ? "" : started.error().message);
    return *queue_;
  }

  Store& store() {
    if (!store_) {
      auto opened = Store::open(DataDirectory{data_.path()}.database());
      EXPECT_TRUE(opened.ok());
      store_ = std::move(opened.value());
    }
    return *store_;
  }

  RunRecord find(int64_t id) {
    auto run = store().find_run(id);
    EXPECT_TRUE(run.ok() && run->has_value()) << "run #" << id;
    return run.ok() && run->has_value() ? **run : RunRecord{};
  }

  // Polls the store until the run's status satisfies `done` (30 s at most).
  RunRecord wait_for(int64_t id, const std::function<bool(RunStatus)>& done = [](RunStatus s) { return is_finished(s); }) {
    auto give_up = std::chrono::steady_clock::now() + 30s;
    RunRecord run = find(id);
    while (!done(run.status) && std::chrono::steady_clock::now() < give_up) {
      std::this_thread::sleep_for(10ms);
      run = find(id);
    }
    EXPECT_TRUE(done(run.status)) << "run #" << id << " is still " << run.status;
    return run;
  }

  RunRecord wait_running(int64_t id) {
    return wait_for(id, [](RunStatus s) { return s == RunStatus::running || is_finished(s); });
  }

  int64_t enqueue(TriggerRequest request) {
    auto id = queue_->enqueue(request);
    EXPECT_TRUE(id.ok()) << (id.ok() ? "" : id.error().message);
    return id.ok() ? *id : 0;
  }

  TriggerRequest trigger(const std::string& commit, const std::string& branch = "main",
                         const std::string& how = "manual") {
    return TriggerRequest{"app", commit, branch, how, {}};
  }

  // Unique to this test: never collides with another test's sleeping step.
  std::string slow_marker() const { return "30." + token_; }

  static std::vector<pid_t> marked_processes(const std::string& text) {
    std::vector<pid_t> pids;
    for (const auto& entry : fs::directory_iterator("/proc")) {
      std::string name = entry.path().filename().string();
      if (!std::all_of(name.begin(), name.end(), ::isdigit)) continue;
      auto cmdline = read_file(entry.path() / "cmdline");
      auto stat = read_file(entry.path() / "stat");
      if (!cmdline || !stat || stat->find(") Z") != std::string::npos) continue;
      std::replace(cmdline->begin(), cmdline->end(), '\0', ' ');
      if (cmdline->find(text) != std::string::npos && cmdline->find("gtest") == std::string::npos) {
        pids.push_back(static_cast<pid_t>(std::stoi(name)));
      }
    }
    return pids;
  }

  static inline int counter_ = 0;
  std::string token_;
  ScratchRepository repository_;
  TemporaryDirectory data_;
  std::string fast_commit_, slow_commit_, short_commit_;
  std::unique_ptr<RunQueue> queue_;
  std::unique_ptr<Store> store_;
};

TEST_F(RunQueueTest, RunsAQueuedRunToItsResultAndRecordsEvents) {
  start_queue(config(2));
  int64_t id = enqueue(trigger(fast_commit_, "main", "push"));
  RunRecord run = wait_for(id);
  EXPECT_EQ(run.status, RunStatus::passed) << run.reason;
  EXPECT_EQ(run.commit, fast_commit_);
  EXPECT_EQ(run.branch, "main");
  EXPECT_EQ(run.trigger, "push");
  int kinds = 0;
  (void)store().database().stmt("SELECT count(DISTINCT kind) FROM events WHERE run_id = ?").bind(id).fetch<int>([&](int n) { kinds = n; });
  EXPECT_EQ(kinds, 3) << "run.queued, run.started, run.finished";
  // The workspace goes once the end is recorded (just after, so poll a little).
  fs::path workspace = DataDirectory{data_.path()}.run_dir(id) / "workspace";
  for (int i = 0; i < 100 && fs::exists(workspace); ++i) std::this_thread::sleep_for(20ms);
  EXPECT_FALSE(fs::exists(workspace));
}

TEST_F(RunQueueTest, NeverRunsMoreThanTheConcurrencyAtOnce) {
  start_queue(config(2));
  std::vector<int64_t> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(enqueue(trigger(short_commit_)));
  std::vector<std::pair<int64_t, int>> edges;  // (time, +1 start / -1 finish)
  for (int64_t id : ids) {
    RunRecord run = wait_for(id);
    EXPECT_EQ(run.status, RunStatus::passed) << run.reason;
    edges.push_back({run.started_ms, +1});
    edges.push_back({run.finished_ms, -1});
  }
  std::sort(edges.begin(), edges.end());  // at equal times, a finish (-1) sorts first
  int at_once = 0, most = 0;
  for (auto [time, change] : edges) most = std::max(most, at_once += change);
  EXPECT_EQ(most, 2);
}

TEST_F(RunQueueTest, TakesRunsFirstInFirstOutAndSaysWhyEachWaits) {
  start_queue(config(1));
  int64_t first = enqueue(trigger(slow_commit_));
  wait_running(first);
  int64_t second = enqueue(trigger(fast_commit_));
  int64_t third = enqueue(trigger(fast_commit_));
  EXPECT_EQ(find(second).reason, "waiting for a free runner (1 of 1 busy)");
  EXPECT_EQ(find(third).reason, fmt::format("queued behind run #{}", second));
  EXPECT_EQ(queue_->stats().queued, 2);
  EXPECT_EQ(queue_->stats().running, 1);
  ASSERT_TRUE(queue_->cancel(first).ok());
  RunRecord second_run = wait_for(second);
  RunRecord third_run = wait_for(third);
  EXPECT_EQ(second_run.status, RunStatus::passed);
  EXPECT_LE(second_run.finished_ms, third_run.started_ms);
}

TEST_F(RunQueueTest, ANewerPushSupersedesTheOlderRunsOfItsBranchOnly) {
  start_queue(config(1));
  int64_t running = enqueue(trigger(slow_commit_, "topic", "push"));
  wait_running(running);
  int64_t other_branch = enqueue(trigger(fast_commit_, "other", "push"));
  int64_t manual = enqueue(trigger(fast_commit_, "topic", "manual"));
  int64_t queued = enqueue(trigger(fast_commit_, "topic", "push"));
  int64_t newest = enqueue(trigger(short_commit_, "topic", "poll"));  // a newer commit, seen by polling

  RunRecord was_running = wait_for(running);
  EXPECT_EQ(was_running.status, RunStatus::cancelled);
  EXPECT_EQ(was_running.reason, fmt::format("superseded by run #{}", queued));
  RunRecord was_queued = find(queued);
  EXPECT_EQ(was_queued.status, RunStatus::cancelled);
  EXPECT_EQ(was_queued.reason, fmt::format("superseded by run #{}", newest));
  EXPECT_EQ(wait_for(other_branch).status, RunStatus::passed);
  EXPECT_EQ(wait_for(manual).status, RunStatus::passed) << "manual runs are never superseded";
  EXPECT_EQ(wait_for(newest).status, RunStatus::passed);
  EXPECT_TRUE(marked_processes(slow_marker()).empty());
}

TEST_F(RunQueueTest, SupersedingCanBeTurnedOff) {
  ServerConfig server = config(1);
  server.cancel_superseded = false;
  start_queue(server);
  int64_t older = enqueue(trigger(fast_commit_, "topic", "push"));
  int64_t newer = enqueue(trigger(fast_commit_, "topic", "push"));
  EXPECT_EQ(wait_for(older).status, RunStatus::passed);
  EXPECT_EQ(wait_for(newer).status, RunStatus::passed);
}

TEST_F(RunQueueTest, CancelsAQueuedAndARunningRun) {
  start_queue(config(1));
  int64_t running = enqueue(trigger(slow_commit_));
  wait_running(running);
  int64_t queued = enqueue(trigger(fast_commit_));
  int64_t behind = enqueue(trigger(fast_commit_));

  ASSERT_TRUE(queue_->cancel(queued).ok());
  RunRecord cancelled = find(queued);
  EXPECT_EQ(cancelled.status, RunStatus::cancelled);
  EXPECT_EQ(cancelled.reason, "cancelled by request");
  EXPECT_EQ(find(behind).reason, "waiting for a free runner (1 of 1 busy)") << "moved up the line";

  // Wait until the slow step itself is running, so that cancelling must stop its process.
  auto give_up = std::chrono::steady_clock::now() + 20s;
  while (marked_processes(slow_marker()).empty() && std::chrono::steady_clock::now() < give_up) std::this_thread::sleep_for(10ms);
  ASSERT_TRUE(queue_->cancel(running, "not needed").ok());
  RunRecord stopped = wait_for(running);
  EXPECT_EQ(stopped.status, RunStatus::cancelled);
  EXPECT_EQ(stopped.reason, "not needed");
  EXPECT_TRUE(marked_processes(slow_marker()).empty()) << "the step's process was stopped";
  auto jobs = store().jobs_of_run(running);
  ASSERT_TRUE(jobs.ok() && jobs->size() == 1);
  EXPECT_EQ(jobs->front().status, RunStatus::cancelled);
  EXPECT_EQ(wait_for(behind).status, RunStatus::passed);

  Status again = queue_->cancel(running);
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.error().message.find("already cancelled"), std::string::npos) << again.error().message;
  Status missing = queue_->cancel(999999);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("no run #999999"), std::string::npos);
}

TEST_F(RunQueueTest, RerunsARunAsANewManualRunOfTheSameCommit) {
  start_queue(config(1));
  TriggerRequest request = trigger(fast_commit_, "main", "push");
  request.environments = {"development", "staging"};
  int64_t first = enqueue(request);
  wait_for(first);
  auto again = queue_->rerun(first);
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_NE(*again, first);
  RunRecord rerun = wait_for(*again);
  EXPECT_EQ(rerun.status, RunStatus::passed);
  EXPECT_EQ(rerun.commit, fast_commit_);
  EXPECT_EQ(rerun.branch, "main");
  EXPECT_EQ(rerun.trigger, "manual");
  EXPECT_EQ(rerun.environments, "development,staging");
  EXPECT_FALSE(queue_->rerun(999999).ok());
}

TEST_F(RunQueueTest, ResolvesTheBranchHeadAndRejectsUnknownInput) {
  start_queue(config(1));
  int64_t id = enqueue(TriggerRequest{"app", "", "", "manual", {}});
  EXPECT_EQ(find(id).commit, short_commit_) << "the head of the main branch";
  wait_for(id);

  auto unknown = queue_->enqueue(TriggerRequest{"nope", "", "", "manual", {}});
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().message.find("app"), std::string::npos) << "lists the known repositories";
  auto no_branch = queue_->enqueue(TriggerRequest{"app", "", "missing", "push", {}});
  ASSERT_FALSE(no_branch.ok());
  EXPECT_NE(no_branch.error().message.find("no branch 'missing'"), std::string::npos) << no_branch.error().message;
  EXPECT_FALSE(queue_->enqueue(TriggerRequest{"app", "0123456789abcdef", "main", "push", {}}).ok());
  EXPECT_FALSE(queue_->enqueue(TriggerRequest{"app", "", "-rf", "push", {}}).ok());
}

TEST_F(RunQueueTest, BranchNamesWithShellMetacharactersAreOnlyData) {
  const std::string branch = "feature/$(touch${IFS}pwned);rm";
  repository_.git({"branch", branch, fast_commit_});
  start_queue(config(1));
  int64_t id = enqueue(TriggerRequest{"app", "", branch, "push", {}});
  RunRecord run = wait_for(id);
  EXPECT_EQ(run.status, RunStatus::passed) << run.reason;
  EXPECT_EQ(run.branch, branch);
  EXPECT_EQ(run.commit, fast_commit_);
  for (const fs::path& folder : {fs::current_path(), repository_.path(), data_.path()}) {
    EXPECT_FALSE(fs::exists(folder / "pwned")) << folder;
  }
  // git itself refuses a name with a space: so does the queue, before recording anything.
  auto spaced = queue_->enqueue(TriggerRequest{"app", fast_commit_, "feature/$(touch x);rm", "push", {}});
  ASSERT_FALSE(spaced.ok());
  EXPECT_NE(spaced.error().message.find("branch name"), std::string::npos) << spaced.error().message;
  EXPECT_FALSE(fs::exists(fs::current_path() / "x"));
}

// A process as a killed server's step leaves it: `sleep` with a step marker in its environment.
pid_t spawn_marked_sleep(const std::string& marker, const std::string& duration) {
  std::vector<std::string> strings = {marker, "PATH=/usr/bin:/bin"};
  std::vector<char*> envp;
  for (auto& s : strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::string program = "sleep";
  std::vector<char*> argv = {program.data(), const_cast<char*>(duration.c_str()), nullptr};
  pid_t pid = 0;
  EXPECT_EQ(::posix_spawnp(&pid, "sleep", nullptr, nullptr, argv.data(), envp.data()), 0);
  return pid;
}

// True when `pid` (our child) ends within a few seconds; reaps it.
bool ends_soon(pid_t pid) {
  for (int i = 0; i < 500; ++i) {
    if (::waitpid(pid, nullptr, WNOHANG) == pid) return true;
    std::this_thread::sleep_for(10ms);
  }
  return false;
}

TEST_F(RunQueueTest, RecoveryFailsInterruptedRunsStopsTheirProcessesAndContinuesTheQueue) {
  RunRecord interrupted{.repository = "app", .source = repository_.path().string(), .commit = fast_commit_,
                        .branch = "main", .trigger = "push", .status = RunStatus::running};
  int64_t interrupted_id = *store().create_run(interrupted);
  int64_t job_id = *store().create_job({0, interrupted_id, "test", "", RunStatus::running, "", 1, 0});
  int64_t step_done = *store().create_step({0, job_id, 0, "setup", "setup", "true", RunStatus::passed});
  int64_t step_running = *store().create_step({0, job_id, 1, "unit", "suite", "sleep 1", RunStatus::running});
  int64_t step_waiting = *store().create_step({0, job_id, 2, "lint", "suite", "true", RunStatus::queued});
  RunRecord waiting = interrupted;
  waiting.status = RunStatus::queued;
  int64_t waiting_id = *store().create_run(waiting);
  // What the interrupted run left on disk: a workspace and an image build's context go, its logs stay.
  fs::path run_dir = DataDirectory{data_.path()}.run_dir(interrupted_id);
  for (const char* leftover : {"workspace/src/main.c", "slipway-build-context-Ab12Cd/context.tar", "logs/test/01-unit/000001.log"}) {
    fs::create_directories((run_dir / leftover).parent_path());
    ASSERT_TRUE(write_file_atomically(run_dir / leftover, "left by a crash\n"));
  }

  std::string ours = "SLIPWAY_STEP_MARKER=" + marker_scope_for(data_.path()) + ".deadbeef";
  std::string theirs = "SLIPWAY_STEP_MARKER=" + marker_scope_for("/elsewhere") + ".deadbeef";
  pid_t our_leftover = spawn_marked_sleep(ours, slow_marker());
  pid_t their_step = spawn_marked_sleep(theirs, slow_marker());
  // Both must have exec'd (their environments readable) before the queue looks for leftovers.
  auto execed = [&](pid_t pid) {
    auto cmdline = read_file("/proc/" + std::to_string(pid) + "/cmdline");
    return cmdline && cmdline->find(slow_marker()) != std::string::npos;
  };
  for (auto give_up = std::chrono::steady_clock::now() + 30s;
       !(execed(our_leftover) && execed(their_step)) && std::chrono::steady_clock::now() < give_up;) {
    std::this_thread::sleep_for(5ms);
  }
  ASSERT_TRUE(execed(our_leftover) && execed(their_step));

  start_queue(config(1));
  EXPECT_TRUE(ends_soon(our_leftover)) << "the previous server's step process was stopped";
  EXPECT_EQ(::waitpid(their_step, nullptr, WNOHANG), 0) << "another data directory's step is left alone";
  ::kill(their_step, SIGKILL);
  ::waitpid(their_step, nullptr, 0);

  RunRecord failed = find(interrupted_id);
  EXPECT_EQ(failed.status, RunStatus::failed);
  EXPECT_EQ(failed.reason, "server restarted");
  EXPECT_EQ((*store().find_job(job_id))->status, RunStatus::failed);
  EXPECT_EQ((*store().find_step(step_done))->status, RunStatus::passed);
  EXPECT_EQ((*store().find_step(step_running))->status, RunStatus::failed);
  EXPECT_EQ((*store().find_step(step_waiting))->status, RunStatus::skipped);
  EXPECT_EQ(wait_for(waiting_id).status, RunStatus::passed) << "queued runs continue";
  EXPECT_FALSE(fs::exists(run_dir / "workspace"));
  EXPECT_FALSE(fs::exists(run_dir / "slipway-build-context-Ab12Cd"));
  EXPECT_TRUE(fs::exists(run_dir / "logs/test/01-unit/000001.log")) << "what happened stays readable";
}

// True when some mount of this process lies under `folder`.
bool mounted_under(const fs::path& folder) {
  auto mounts = read_file("/proc/self/mountinfo");
  return mounts && mounts->find(" " + folder.string() + "/") != std::string::npos;
}

// As root, a run's workspace is an overlay over its worker's template (ci/workspace_template.h).
// Each run's job finds its commit clean, then changes, removes and commits files; the next run
// must find its own commit as committed, whatever the previous job did.
TEST_F(RunQueueTest, EachRunStartsFromItsCommitOverTheWorkersTemplateWhateverTheLastJobDid) {
  if (!workspace_overlays_available()) GTEST_SKIP() << "needs root and overlayfs";
  auto spec_expecting = [](const std::string& content) {
    return "kind: library\ntest:\n  suites:\n    unit: { run: \"test -z \\\"$(git status --porcelain)\\\" && "
           "grep -qx " + content + " data.txt && test -f keep.txt && echo changed > data.txt && rm keep.txt && "
           "git -c user.name=job -c user.email=job@x commit -qam job && touch made-by-the-job && "
           "echo summary > \\\"$SLIPWAY_SUMMARY\\\"\" }\n";
  };
  repository_.write("data.txt", "a\n");
  repository_.write("keep.txt", "keep\n");
  repository_.write(".slipway.yml", spec_expecting("a"));
  std::string a = repository_.commit("a");
  repository_.write("data.txt", "b\n");
  repository_.write(".slipway.yml", spec_expecting("b"));
  std::string b = repository_.commit("b");
  ServerConfig server = config(1);
  server.executor = "sandbox";
  start_queue(server);
  std::vector<fs::path> run_dirs;
  for (const std::string& commit : {a, b, a}) {
    RunRecord run = wait_for(enqueue(trigger(commit)));
    EXPECT_EQ(run.status, RunStatus::passed) << run.reason;
    run_dirs.push_back(DataDirectory{data_.path()}.run_dir(run.id));
  }
  queue_.reset();  // the worker removes a workspace after recording the run's end: let it finish
  for (const fs::path& run_dir : run_dirs) {
    EXPECT_FALSE(fs::exists(run_dir / "workspace")) << run_dir;
    EXPECT_FALSE(fs::exists(run_dir / "workspace-layers")) << run_dir;
  }
  fs::path worker_template = DataDirectory{data_.path()}.templates(0) / "app";
  EXPECT_EQ(trim(*read_file(worker_template / "commit")), a);
  EXPECT_FALSE(fs::exists(worker_template / "tree" / "made-by-the-job"));
  EXPECT_EQ(*read_file(worker_template / "tree" / "data.txt"), "a\n");
  EXPECT_FALSE(mounted_under(data_.path() / "runs")) << "every workspace was unmounted";
}

// A server that died mid-run left its workspace mounted: the next start unmounts it and removes
// it with the run's own layer, never deleting through the overlay into the template.
TEST_F(RunQueueTest, RecoveryUnmountsAWorkspaceOverlayTheLastServerLeft) {
  if (!workspace_overlays_available()) GTEST_SKIP() << "needs root and overlayfs";
  RunRecord interrupted{.repository = "app", .source = repository_.path().string(), .commit = fast_commit_,
                        .branch = "main", .trigger = "push", .status = RunStatus::running};
  int64_t id = *store().create_run(interrupted);
  fs::path run_dir = DataDirectory{data_.path()}.run_dir(id);
  fs::create_directories(run_dir);
  WorkspaceTemplate worker_template{DataDirectory{data_.path()}.templates(0) / "app", 0};
  ASSERT_TRUE(checkout_over_template(worker_template, repository_.path(), fast_commit_, run_dir / "workspace",
                                     run_dir / "workspace-layers").ok());
  ASSERT_TRUE(mounted_under(run_dir));
  start_queue(config(1));
  EXPECT_EQ(find(id).status, RunStatus::failed);
  EXPECT_FALSE(mounted_under(run_dir));
  EXPECT_FALSE(fs::exists(run_dir / "workspace"));
  EXPECT_FALSE(fs::exists(run_dir / "workspace-layers"));
  EXPECT_TRUE(fs::exists(worker_template.folder / "tree" / ".slipway.yml")) << "the template is untouched";
}

TEST_F(RunQueueTest, StopCancelsRunningRunsAndLeavesQueuedOnesForTheNextStart) {
  start_queue(config(1));
  int64_t running = enqueue(trigger(slow_commit_));
  wait_running(running);
  int64_t queued = enqueue(trigger(fast_commit_));
  queue_->stop();
  EXPECT_EQ(find(running).status, RunStatus::cancelled);
  EXPECT_EQ(find(queued).status, RunStatus::queued);
  EXPECT_TRUE(marked_processes(slow_marker()).empty());
  EXPECT_FALSE(queue_->enqueue(trigger(fast_commit_)).ok()) << "a stopped queue takes no runs";

  start_queue(config(1));
  EXPECT_EQ(wait_for(queued).status, RunStatus::passed);
}

// A bare repository that the scratch repository pushes to, as a git host's would be.
class PollingTest : public RunQueueTest {
 protected:
  PollingTest() : origin_folder_("slipway-origin") {
    origin_ = origin_folder_.path() / "origin.git";
    EXPECT_TRUE(run_command_checked({"git", "init", "--quiet", "--bare", origin_.string()}).ok());
    push();
  }

  void push() { repository_.git({"push", "--quiet", "--force", origin_.string(), "HEAD:refs/heads/main"}); }

  ServerConfig polling_config(Milliseconds interval) {
    ServerConfig server = config(1);
    server.repositories.front().url = "file://" + origin_.string();
    server.repositories.front().poll_interval = interval;
    return server;
  }

  int runs_of(const std::string& commit) {
    int n = 0;
    (void)store().database().stmt("SELECT count(*) FROM runs WHERE commit_sha = ?").bind(commit).fetch<int>([&](int c) { n = c; });
    return n;
  }

  TemporaryDirectory origin_folder_;
  fs::path origin_;
};

TEST_F(PollingTest, PicksUpANewCommitAndRecordsTheFirstSightWithoutRunning) {
  start_queue(polling_config(50ms));
  auto give_up = std::chrono::steady_clock::now() + 20s;
  while (!load_remote_heads(store(), "app")->seen && std::chrono::steady_clock::now() < give_up) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(load_remote_heads(store(), "app")->heads.at("main"), short_commit_);
  EXPECT_EQ(*store().count_runs({}), 0) << "the first sight runs nothing";

  repository_.write("new.txt", "new\n");
  std::string pushed = repository_.commit("pushed while watched");
  push();
  while (runs_of(pushed) == 0 && std::chrono::steady_clock::now() < give_up) std::this_thread::sleep_for(10ms);
  auto runs = store().list_runs({});
  ASSERT_TRUE(runs.ok() && runs->size() == 1);
  EXPECT_EQ(runs->front().trigger, "poll");
  EXPECT_EQ(runs->front().branch, "main");
  EXPECT_EQ(wait_for(runs->front().id).status, RunStatus::passed);
}

TEST_F(PollingTest, DoesNotQueueTwiceACommitAWebhookAlreadyQueued) {
  start_queue(polling_config(0ms));  // polled by hand below, so the order is certain
  auto through_queue = [&](const TriggerRequest& request) { return queue_->enqueue(request); };
  const RepositoryConfig origin = polling_config(0ms).repositories.front();
  EXPECT_EQ(*RemotePoller::poll_repository(store(), origin, through_queue), 0);

  repository_.write("a.txt", "a\n");
  std::string by_webhook = repository_.commit("seen by a webhook first");
  push();
  int64_t webhook_run = enqueue(trigger(by_webhook, "main", "push"));
  EXPECT_EQ(*RemotePoller::poll_repository(store(), origin, through_queue), 1);
  EXPECT_EQ(runs_of(by_webhook), 1) << "the poll found the webhook's run";
  wait_for(webhook_run);

  repository_.write("b.txt", "b\n");
  std::string missed = repository_.commit("its webhook was lost");
  push();
  EXPECT_EQ(*RemotePoller::poll_repository(store(), origin, through_queue), 1);
  EXPECT_EQ(runs_of(missed), 1);
  EXPECT_EQ(*RemotePoller::poll_repository(store(), origin, through_queue), 0) << "nothing changed since";
}

}  // namespace
}  // namespace slipway
