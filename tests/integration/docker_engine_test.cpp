// DockerEngine against a real dockerd (started by DockerDaemon when none runs): builds of the
// example application and data task, the daemon's own messages for broken builds, tag, inspect,
// save + unpack with the layer digests checked, import, remove, and a cancelled build.
// Every image a test makes is removed when it ends; the python base image is kept (see below).
#include <gtest/gtest.h>

#include <archive.h>
#include <archive_entry.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

#include "base/files.h"
#include "base/http_client.h"
#include "base/run_command.h"
#include "publish/docker_engine.h"
#include "publish/image_archive.h"
#include "support/docker_daemon.h"

namespace slipway {
namespace {

namespace fs = std::filesystem;
using testing::DockerDaemon;

constexpr const char* kPythonBase = "localhost/python3-base:bookworm";

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

bool contains(const std::string& text, std::string_view part) { return text.find(part) != std::string::npos; }

bool any_line_contains(const std::vector<std::string>& lines, std::string_view part) {
  return std::any_of(lines.begin(), lines.end(), [&](const std::string& line) { return contains(line, part); });
}

// The member names of a tar file (a layer), in order.
std::vector<std::string> tar_members(const fs::path& tar) {
  std::vector<std::string> names;
  struct archive* a = archive_read_new();
  archive_read_support_format_tar(a);
  if (archive_read_open_filename(a, tar.c_str(), 1 << 16) == ARCHIVE_OK) {
    archive_entry* entry = nullptr;
    while (archive_read_next_header(a, &entry) == ARCHIVE_OK) names.emplace_back(archive_entry_pathname(entry));
  }
  archive_read_free(a);
  return names;
}

class DockerEngineTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    daemon_ = new DockerDaemon();
    if (daemon_->started_here()) std::cerr << "dockerd answered " << daemon_->start_seconds() << " s after its start\n";
  }
  static void TearDownTestSuite() {
    delete daemon_;
    daemon_ = nullptr;
  }

  void SetUp() override { ASSERT_EQ(daemon_->error(), ""); }
  void TearDown() override {
    for (const std::string& image : made_) EXPECT_TRUE(engine_.remove_image(image, true).ok()) << image;
  }

  // A name no parallel test process shares, remembered for removal.
  std::string image_name(const std::string& repository) {
    std::string name = "slipway-test/" + repository + ":it-" + std::to_string(getpid());
    made_.push_back(name);
    return name;
  }

  void write(const std::string& relative, const std::string& content) {
    fs::create_directories((context_.path() / relative).parent_path());
    std::ofstream(context_.path() / relative, std::ios::binary) << content;
  }

  Result<std::string> build(ImageBuildRequest request, std::vector<std::string>& lines,
                            const std::atomic<bool>* cancel = nullptr) {
    if (request.context.empty()) request.context = context_.path();
    return engine_.build_image(request, [&](std::string_view line) { lines.emplace_back(line); }, cancel);
  }

  static DockerDaemon* daemon_;
  DockerEngine engine_;
  TemporaryDirectory context_{"slipway-docker-context"};
  std::vector<std::string> made_;
};

DockerDaemon* DockerEngineTest::daemon_ = nullptr;

TEST_F(DockerEngineTest, VersionNamesTheEngine) {
  auto version = engine_.version();
  ASSERT_TRUE(version.ok()) << version.error().message;
  EXPECT_TRUE(contains(*version, ".")) << *version;
}

TEST_F(DockerEngineTest, AMissingDaemonSaysHowToStartOne) {
  DockerEngine nowhere("/tmp/slipway-no-docker-here.sock");
  auto version = nowhere.version();
  ASSERT_FALSE(version.ok());
  EXPECT_TRUE(contains(version.error().message, "no Docker Engine answers at /tmp/slipway-no-docker-here.sock"))
      << version.error().message;
  EXPECT_TRUE(contains(version.error().message, "dockerd --bridge=none --iptables=false"));
  EXPECT_FALSE(nowhere.inspect_image("anything").ok());
}

// The example application as publish builds it: `make` produces the static binary, the image is
// FROM scratch. Then tag, inspect, save and unpack it, and check the layer's digest end to end.
TEST_F(DockerEngineTest, BuildsTheExampleApplicationThenTagsSavesAndUnpacksIt) {
  fs::path app = context_.path() / "application";
  fs::copy(fs::path(SLIPWAY_SOURCE_DIR) / "examples/application", app, fs::copy_options::recursive);
  fs::remove_all(app / "build");
  fs::remove_all(app / "reports");
  auto started = std::chrono::steady_clock::now();
  auto made = run_command({"make", "build/hello-app"}, app);
  ASSERT_TRUE(made.ok() && made->exit_code == 0) << (made.ok() ? made->err : made.error().message);
  std::cerr << "make build/hello-app took " << seconds_since(started) << " s\n";

  std::string name = image_name("hello-app");
  std::vector<std::string> lines;
  started = std::chrono::steady_clock::now();
  auto id = build({.context = app, .tags = {name}}, lines);
  ASSERT_TRUE(id.ok()) << id.error().message;
  std::cerr << "the image build took " << seconds_since(started) << " s\n";
  EXPECT_TRUE(id->starts_with("sha256:")) << *id;
  EXPECT_TRUE(any_line_contains(lines, "Step 1/5 : FROM scratch"));
  EXPECT_TRUE(any_line_contains(lines, "COPY build/hello-app /hello-app"));
  EXPECT_TRUE(any_line_contains(lines, "Successfully tagged " + name));

  std::string retag = "it-" + std::to_string(getpid()) + "-retagged";
  made_.push_back("slipway-test/hello-app:" + retag);
  ASSERT_TRUE(engine_.tag_image(*id, "slipway-test/hello-app", retag).ok());
  auto details = engine_.inspect_image(name);
  ASSERT_TRUE(details.ok() && *details) << (details.ok() ? "absent" : details.error().message);
  const ImageDetails& image = **details;
  EXPECT_EQ(image.id, *id);
  EXPECT_EQ(image.diff_ids.size(), 1u);  // FROM scratch + one COPY: one layer
  EXPECT_GT(image.size, 500'000);        // a static C++ binary
  EXPECT_NE(std::find(image.repo_tags.begin(), image.repo_tags.end(), "slipway-test/hello-app:" + retag),
            image.repo_tags.end());

  fs::path saved = context_.path() / "saved.tar";
  ASSERT_TRUE(engine_.export_image(name, saved).ok());
  auto archive = unpack_image_archive(saved, context_.path() / "unpacked");
  ASSERT_TRUE(archive.ok()) << archive.error().message;
  EXPECT_EQ(archive->config_digest, *id);
  ASSERT_EQ(archive->layers.size(), 1u);
  EXPECT_EQ(archive->layers[0].diff_id, image.diff_ids[0]);
  EXPECT_EQ(archive->layers[0].size, static_cast<int64_t>(fs::file_size(archive->layers[0].file)));
  EXPECT_EQ(tar_members(archive->layers[0].file), (std::vector<std::string>{"hello-app"}));
  EXPECT_TRUE(contains(archive->config_json, "\"PORT=8080\""));

  EXPECT_FALSE(engine_.tag_image("slipway-test/absent:nothing", "slipway-test/x", "y").ok());
  EXPECT_FALSE(engine_.export_image("slipway-test/absent:nothing", context_.path() / "absent.tar").ok());
}

TEST_F(DockerEngineTest, AFailedBuildGivesTheDaemonsMessageAndStep) {
  write("Dockerfile", "FROM scratch\nCOPY missing.txt /missing.txt\n");
  std::vector<std::string> lines;
  auto id = build({.tags = {image_name("broken")}}, lines);
  ASSERT_FALSE(id.ok());
  const std::string& message = id.error().message;
  EXPECT_TRUE(contains(message, "at Step 2/2 : COPY missing.txt /missing.txt")) << message;
  EXPECT_TRUE(contains(message, "COPY failed")) << message;
  EXPECT_TRUE(contains(message, "missing.txt")) << message;
  EXPECT_TRUE(any_line_contains(lines, "COPY failed"));  // the step log shows it too
}

TEST_F(DockerEngineTest, AMissingTargetStageIsNamed) {
  write("Dockerfile", "FROM scratch AS base\nCOPY Dockerfile /\n");
  std::vector<std::string> lines;
  auto id = build({.target = "production", .tags = {image_name("no-target")}}, lines);
  ASSERT_FALSE(id.ok());
  EXPECT_TRUE(contains(id.error().message, "failed to reach build target production")) << id.error().message;
  EXPECT_TRUE(contains(id.error().message, "the target 'production' is not a stage of Dockerfile"));

  auto base = build({.target = "base", .tags = {image_name("target")}}, lines);
  EXPECT_TRUE(base.ok()) << base.error().message;
}

TEST_F(DockerEngineTest, DockerignoreAndBuildArgumentsShapeTheImage) {
  write("Dockerfile", "FROM scratch\nARG GREETING=unset\nCOPY . /ctx/\nLABEL greeting=$GREETING\n");
  write(".dockerignore", "*.env\nnotes/\n");
  write("app.txt", "app");
  write("secret.env", "TOKEN=hunter2");
  write("notes/todo.txt", "later");
  std::string name = image_name("shaped");
  std::vector<std::string> lines;
  auto id = build({.dockerfile = "Dockerfile", .tags = {name}, .build_args = {{"GREETING", "hi"}}}, lines);
  ASSERT_TRUE(id.ok()) << id.error().message;

  TemporaryDirectory unpacked("slipway-unpacked");
  ASSERT_TRUE(engine_.export_image(name, unpacked.path() / "saved.tar").ok());
  auto archive = unpack_image_archive(unpacked.path() / "saved.tar", unpacked.path());
  ASSERT_TRUE(archive.ok()) << archive.error().message;
  EXPECT_TRUE(contains(archive->config_json, "\"greeting\":\"hi\"")) << archive->config_json;
  ASSERT_EQ(archive->layers.size(), 1u);
  std::vector<std::string> members = tar_members(archive->layers[0].file);
  EXPECT_NE(std::find(members.begin(), members.end(), "ctx/app.txt"), members.end());
  EXPECT_NE(std::find(members.begin(), members.end(), "ctx/Dockerfile"), members.end());
  EXPECT_EQ(std::find(members.begin(), members.end(), "ctx/secret.env"), members.end());
  EXPECT_EQ(std::find(members.begin(), members.end(), "ctx/notes/todo.txt"), members.end());
}

TEST_F(DockerEngineTest, ImportsARootFilesystemAndRemovesIt) {
  write("rootfs/etc/motd", "imported\n");
  fs::path tar = context_.path() / "rootfs.tar";
  auto packed = run_command({"tar", "-C", (context_.path() / "rootfs").string(), "-cf", tar.string(), "."});
  ASSERT_TRUE(packed.ok() && packed->exit_code == 0);
  std::string tag = "it-" + std::to_string(getpid());
  auto id = engine_.import_image(tar, "slipway-test/imported", tag);
  ASSERT_TRUE(id.ok()) << id.error().message;
  EXPECT_TRUE(id->starts_with("sha256:")) << *id;
  std::string name = "slipway-test/imported:" + tag;
  auto details = engine_.inspect_image(name);
  ASSERT_TRUE(details.ok() && *details);
  EXPECT_EQ((*details)->id, *id);
  EXPECT_EQ((*details)->diff_ids.size(), 1u);

  ASSERT_TRUE(engine_.remove_image(name).ok());
  auto gone = engine_.inspect_image(name);
  ASSERT_TRUE(gone.ok());
  EXPECT_FALSE(gone->has_value());
  EXPECT_TRUE(engine_.remove_image(name).ok());  // already gone: still success
  EXPECT_FALSE(engine_.import_image(context_.path() / "absent.tar", "slipway-test/imported", tag).ok());
  EXPECT_FALSE(engine_.import_image(tar, "Not A Valid Name", tag).ok());
}

// The data-task example needs a python base, made locally by scripts/python-base-image. The base
// is kept afterwards: other tests (and parallel test processes) build on it, and the script
// makes it again in seconds on a machine that lacks it.
class PythonImageTest : public DockerEngineTest {
 protected:
  void SetUp() override {
    DockerEngineTest::SetUp();
    auto started = std::chrono::steady_clock::now();
    auto made = run_command({fs::path(SLIPWAY_SOURCE_DIR) / "scripts/python-base-image"});
    ASSERT_TRUE(made.ok() && made->exit_code == 0) << (made.ok() ? made->err : made.error().message);
    std::cerr << made->out << "scripts/python-base-image took " << seconds_since(started) << " s\n";
  }
};

TEST_F(PythonImageTest, BuildsTheDataTaskExampleOnTheLocalBase) {
  std::string name = image_name("orders-etl");
  std::vector<std::string> lines;
  fs::path example = fs::path(SLIPWAY_SOURCE_DIR) / "examples/data-task";
  auto id = build({.context = example, .tags = {name}, .build_args = {{"BASE", kPythonBase}}}, lines);
  ASSERT_TRUE(id.ok()) << id.error().message;
  auto base = engine_.inspect_image(kPythonBase);
  auto image = engine_.inspect_image(name);
  ASSERT_TRUE(base.ok() && *base && image.ok() && *image);
  EXPECT_TRUE(any_line_contains(lines, "FROM ${BASE}"));
  EXPECT_TRUE(any_line_contains(lines, " ---> " + (*base)->id.substr(7, 12)));  // the step used the local base
  ASSERT_EQ((*base)->diff_ids.size(), 1u);
  ASSERT_GE((*image)->diff_ids.size(), 2u);  // the base's layer, then the example's own
  EXPECT_EQ((*image)->diff_ids[0], (*base)->diff_ids[0]);
  EXPECT_LT((*base)->size, 100'000'000);
}

// Cancelling drops the connection; the daemon then stops the step and (forcerm) removes its
// container.
TEST_F(PythonImageTest, ACancelledBuildStopsAndLeavesNoContainer) {
  std::string marker = "slipway-cancel-" + std::to_string(getpid());
  write("Dockerfile", std::string("FROM ") + kPythonBase +
                          "\nRUN [\"python3\", \"-u\", \"-c\", \"import time\\nfor i in range(600):\\n"
                          " print('tick', i, flush=True); time.sleep(0.1)\", \"" + marker + "\"]\n");
  std::atomic<bool> cancel = false;
  std::vector<std::string> lines;
  auto id = engine_.build_image({.context = context_.path(), .tags = {image_name("cancelled")}},
                                [&](std::string_view line) {
                                  lines.emplace_back(line);
                                  if (contains(std::string(line), "tick 3")) cancel = true;
                                },
                                &cancel);
  ASSERT_FALSE(id.ok());
  EXPECT_TRUE(contains(id.error().message, "cancelled")) << id.error().message;
  EXPECT_FALSE(any_line_contains(lines, "tick 10")) << "the build went on after the cancel";

  // The daemon notices the dropped connection and removes the step's container.
  std::string listing;
  for (int i = 0; i < 100; ++i) {
    HttpClientRequest list;
    list.url = "http://localhost/v1.41/containers/json?all=1";
    list.unix_socket = DockerDaemon::kSocket;
    HttpClient client;
    auto answer = client.send(list);
    ASSERT_TRUE(answer.ok());
    listing = answer->body;
    if (!contains(listing, marker)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  EXPECT_FALSE(contains(listing, marker)) << listing;
}

}  // namespace
}  // namespace slipway
