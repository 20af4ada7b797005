// The Docker Engine's streamed JSON messages, as /build and /images/create send them (samples
// recorded from Engine 20.10), cut at arbitrary places.
#include <gtest/gtest.h>

#include "publish/docker_messages.h"

namespace slipway {
namespace {

constexpr const char* kFailedBuild =
    "{\"stream\":\"Step 1/2 : FROM scratch\"}\r\n{\"stream\":\"\\n\"}\r\n{\"stream\":\" ---\\u003e \\n\"}\r\n"
    "{\"stream\":\"Step 2/2 : COPY missing.txt /x\"}\r\n{\"stream\":\"\\n\"}\r\n"
    "{\"errorDetail\":{\"message\":\"COPY failed: file not found in build context or excluded by .dockerignore: "
    "stat missing.txt: file does not exist\"},\"error\":\"COPY failed: file not found in build context or excluded "
    "by .dockerignore: stat missing.txt: file does not exist\"}\r\n";

constexpr const char* kGoodBuild =
    "{\"stream\":\"Step 1/2 : FROM scratch AS base\"}\r\n{\"stream\":\"\\n\"}\r\n"
    "{\"stream\":\" ---\\u003e Running in e7fbce455d72\\n\"}\r\n"
    "{\"stream\":\"Removing intermediate container e7fbce455d72\\n ---\\u003e a82fa79c8824\\n\"}\r\n"
    "{\"aux\":{\"ID\":\"sha256:a82fa79c8824cf88fc51cf52400af3536e65f83e2cf51832b69d9711ddaa71ca\"}}\r\n"
    "{\"stream\":\"Successfully built a82fa79c8824\\n\"}\r\n{\"stream\":\"Successfully tagged probe:1\\n\"}\r\n";

void feed_in_pieces(DockerMessages& messages, std::string_view text, size_t piece) {
  for (size_t i = 0; i < text.size(); i += piece) messages.feed(text.substr(i, piece));
  messages.finish();
}

TEST(DockerMessagesTest, StreamTextBecomesLinesWhateverTheChunking) {
  for (size_t piece : {1, 7, 64, 4096}) {
    std::vector<std::string> lines;
    DockerMessages messages([&](std::string_view line) { lines.emplace_back(line); });
    feed_in_pieces(messages, kGoodBuild, piece);
    EXPECT_EQ(lines, (std::vector<std::string>{"Step 1/2 : FROM scratch AS base", " ---> Running in e7fbce455d72",
                                               "Removing intermediate container e7fbce455d72", " ---> a82fa79c8824",
                                               "Successfully built a82fa79c8824", "Successfully tagged probe:1"}))
        << "pieces of " << piece;
    EXPECT_EQ(messages.image_id(), "sha256:a82fa79c8824cf88fc51cf52400af3536e65f83e2cf51832b69d9711ddaa71ca");
    EXPECT_EQ(messages.error(), "");
  }
}

TEST(DockerMessagesTest, AnErrorIsKeptWithTheStepItStoppedAt) {
  std::vector<std::string> lines;
  DockerMessages messages([&](std::string_view line) { lines.emplace_back(line); });
  feed_in_pieces(messages, kFailedBuild, 5);
  EXPECT_EQ(messages.last_step(), "Step 2/2 : COPY missing.txt /x");
  EXPECT_EQ(messages.error().rfind("COPY failed: file not found in build context", 0), 0u);
  EXPECT_EQ(messages.image_id(), "");
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines.back(), messages.error());  // the error reaches the log too
}

TEST(DockerMessagesTest, StatusesIdsAndEngineErrorBodies) {
  std::vector<std::string> lines;
  DockerMessages messages([&](std::string_view line) { lines.emplace_back(line); });
  messages.feed("{\"status\":\"Downloading\",\"progressDetail\":{\"current\":5,\"total\":9},\"id\":\"ab\"}\n");
  messages.feed("{\"status\":\"Download complete\",\"progressDetail\":{},\"id\":\"ab\"}\n");
  messages.feed("{\"status\":\"sha256:0123\"}\n");
  messages.finish();
  EXPECT_EQ(lines, (std::vector<std::string>{"ab: Download complete", "sha256:0123"}));
  EXPECT_EQ(messages.last_status(), "sha256:0123");

  DockerMessages refused(nullptr);
  refused.feed("{\"message\":\"failed to reach build target nope in Dockerfile\"}");
  refused.finish();  // no newline at the end of an error answer's body
  EXPECT_EQ(refused.error(), "failed to reach build target nope in Dockerfile");
}

TEST(DockerMessagesTest, TextThatIsNotAMessagePassesAsALine) {
  std::vector<std::string> lines;
  DockerMessages messages([&](std::string_view line) { lines.emplace_back(line); });
  messages.feed("plain words\n[1,2]\n{\"stream\":\"unterminated");
  messages.finish();
  EXPECT_EQ(lines, (std::vector<std::string>{"plain words", "[1,2]", "{\"stream\":\"unterminated"}));
  EXPECT_EQ(messages.error(), "");
}

TEST(DockerMessagesTest, ShortIdFromSuccessfullyBuiltWhenNoAux) {
  DockerMessages messages(nullptr);
  messages.feed("{\"stream\":\"Successfully built 0123456789ab\\n\"}\n");
  messages.finish();
  EXPECT_EQ(messages.image_id(), "0123456789ab");
}

}  // namespace
}  // namespace slipway
