// Git's protocol version 2 as the mirror's in-process fetch speaks it: pkt-lines, the forge's
// capability advertisement, ref listing and fetch answer read as untrusted input, and the ref
// plan that makes a mirror what `git fetch --prune` would.
#include <gtest/gtest.h>

#include <string>

#include "ci/git_wire_protocol.h"
#include "ci/mirror_http_fetch.h"

namespace slipway {
namespace {

const std::string kA(40, 'a'), kB(40, 'b'), kC(40, 'c'), kD(40, 'd');

std::string flush() { return std::string(kFlushPacket); }

TEST(PktLine, LengthCountsItsOwnFourDigits) {
  EXPECT_EQ(pkt_line("done\n"), "0009done\n");
  EXPECT_EQ(pkt_line(""), "0004");
}

TEST(PktLine, PacketsArriveInAnyPieces) {
  std::string bytes = pkt_line("one\n") + std::string(kDelimiterPacket) + pkt_line("two") + flush() + "0002";
  PktLineReader reader;
  std::vector<std::string> seen;
  for (char c : bytes) {
    reader.feed(std::string_view(&c, 1));
    while (true) {
      auto packet = reader.next();
      ASSERT_TRUE(packet.ok()) << packet.error().message;
      if (!*packet) break;
      switch ((*packet)->kind) {
        case PktLineReader::Kind::data: seen.push_back(std::string((*packet)->payload)); break;
        case PktLineReader::Kind::flush: seen.push_back("<flush>"); break;
        case PktLineReader::Kind::delimiter: seen.push_back("<delim>"); break;
        case PktLineReader::Kind::response_end: seen.push_back("<end>"); break;
      }
    }
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"one\n", "<delim>", "two", "<flush>", "<end>"}));
  EXPECT_EQ(reader.buffered(), 0u);
}

TEST(PktLine, MalformedLengthsAreErrorsNotReads) {
  for (const std::string& bad : std::vector<std::string>{"zzzzdata", "0003", "fff1" + std::string(70000, 'x'), "00-5hello"}) {
    PktLineReader reader;
    reader.feed(bad);
    auto packet = reader.next();
    EXPECT_FALSE(packet.ok()) << bad.substr(0, 8);
  }
  PktLineReader cut;
  cut.feed("0010short");
  auto packet = cut.next();
  ASSERT_TRUE(packet.ok());
  EXPECT_FALSE(*packet);  // waits for the rest
}

TEST(Capabilities, Version2AsGitHttpBackendAdvertisesIt) {
  std::string body = pkt_line("version 2\n") + pkt_line("agent=git/2.39.5\n") + pkt_line("ls-refs=unborn\n") +
                     pkt_line("fetch=shallow wait-for-done\n") + pkt_line("server-option\n") +
                     pkt_line("object-format=sha1\n") + pkt_line("object-info\n") + flush();
  auto capabilities = parse_capability_advertisement(body);
  ASSERT_TRUE(capabilities.ok()) << capabilities.error().message;
  EXPECT_TRUE(capabilities->version2);
  EXPECT_TRUE(capabilities->ls_refs);
  EXPECT_TRUE(capabilities->fetch);
  EXPECT_TRUE(capabilities->agent);
  EXPECT_TRUE(capabilities->object_format_advertised);
  EXPECT_EQ(capabilities->object_format, "sha1");
  // With the smart HTTP service line first, and another object format.
  auto sha256 = parse_capability_advertisement(pkt_line("# service=git-upload-pack\n") + flush() +
                                               pkt_line("version 2\n") + pkt_line("ls-refs\n") +
                                               pkt_line("fetch\n") + pkt_line("object-format=sha256\n") + flush());
  ASSERT_TRUE(sha256.ok()) << sha256.error().message;
  EXPECT_TRUE(sha256->version2);
  EXPECT_EQ(sha256->object_format, "sha256");
}

TEST(Capabilities, AVersion0ListingIsNotVersion2) {
  std::string body = pkt_line("# service=git-upload-pack\n") + flush() +
                     pkt_line(kA + " HEAD" + std::string(1, '\0') + "multi_ack side-band-64k\n") +
                     pkt_line(kA + " refs/heads/main\n") + flush();
  auto capabilities = parse_capability_advertisement(body);
  ASSERT_TRUE(capabilities.ok()) << capabilities.error().message;
  EXPECT_FALSE(capabilities->version2);
  auto cut = parse_capability_advertisement(pkt_line("version 2\n") + pkt_line("ls-refs\n"));
  EXPECT_FALSE(cut.ok());
}

TEST(Capabilities, ARequestSendsOnlyWhatTheForgeAdvertised) {
  UploadPackCapabilities recent;
  recent.agent = recent.object_format_advertised = true;
  EXPECT_EQ(request_capabilities(recent, "git/slipway"),
            (std::vector<std::string>{"agent=git/slipway", "object-format=sha1"}));
  // git before 2.28 advertises no object-format, and dies on a capability it does not know.
  auto older = parse_capability_advertisement(pkt_line("version 2\n") + pkt_line("agent=git/2.25.1\n") +
                                              pkt_line("ls-refs\n") + pkt_line("fetch=shallow\n") + flush());
  ASSERT_TRUE(older.ok()) << older.error().message;
  EXPECT_EQ(request_capabilities(*older, "git/slipway"), (std::vector<std::string>{"agent=git/slipway"}));
  EXPECT_TRUE(request_capabilities(UploadPackCapabilities{}, "git/slipway").empty());
}

TEST(LsRefs, TheRequestAsksForEachPrefix) {
  EXPECT_EQ(ls_refs_request({"agent=git/slipway", "object-format=sha1"}, {"refs/heads/", "refs/tags/"}),
            "0014command=ls-refs\n0016agent=git/slipway\n0017object-format=sha1\n0001"
            "001bref-prefix refs/heads/\n001aref-prefix refs/tags/\n0000");
  EXPECT_EQ(ls_refs_request({}, {"refs/heads/"}), "0014command=ls-refs\n0001001bref-prefix refs/heads/\n0000");
}

TEST(LsRefs, RefsAreReadWithTheirAttributesIgnored) {
  auto refs = parse_ls_refs(pkt_line(kA + " refs/heads/main\n") + pkt_line(kB + " refs/tags/v1 peeled:" + kC + "\n") +
                            pkt_line(kC + " refs/pull/7/head") + flush());
  ASSERT_TRUE(refs.ok()) << refs.error().message;
  ASSERT_EQ(refs->size(), 3u);
  EXPECT_EQ((*refs)[0].name, "refs/heads/main");
  EXPECT_EQ((*refs)[0].id, kA);
  EXPECT_EQ((*refs)[1].name, "refs/tags/v1");
  EXPECT_EQ((*refs)[2].id, kC);
}

TEST(LsRefs, AHostileListingIsRefusedWhole) {
  const std::vector<std::string> bad_lines = {
      "not-an-id refs/heads/main\n",
      std::string(40, 'A') + " refs/heads/main\n",                          // git writes lowercase
      kA + " refs/heads/../../../etc\n",                                     // climbs out
      kA + " refs/heads/main\nupdate refs/heads/x " + kB + "\n",            // a second command
      kA + " refs/heads/a" + std::string(1, '\0') + "b\n",                  // NUL inside a name
      kA + " refs/heads/x.lock\n",
      kA + " HEAD\n",                                                        // not under refs/
      kA + "\n",
  };
  for (const std::string& line : bad_lines) {
    auto refs = parse_ls_refs(pkt_line(kA + " refs/heads/ok\n") + pkt_line(line) + flush());
    EXPECT_FALSE(refs.ok()) << line;
  }
  auto error = parse_ls_refs(pkt_line("ERR access denied\nsecond line") + flush());
  ASSERT_FALSE(error.ok());
  EXPECT_EQ(error.error().message, "the forge answered: access denied");
  EXPECT_FALSE(parse_ls_refs(pkt_line(kA + " refs/heads/main\n")).ok());  // no flush: cut short
  EXPECT_FALSE(parse_ls_refs(pkt_line(kA + " refs/heads/main\n") + std::string(kDelimiterPacket) + flush()).ok());
}

TEST(Fetch, TheRequestWantsHasAndIsDone) {
  std::string request = fetch_request({"agent=git/slipway"}, {kA}, {kB, kC});
  EXPECT_TRUE(request.starts_with("0012command=fetch\n0016agent=git/slipway\n0001")) << request;
  EXPECT_NE(request.find("000ethin-pack\n"), std::string::npos);
  EXPECT_NE(request.find("0032want " + kA + "\n"), std::string::npos);
  EXPECT_NE(request.find("0032have " + kB + "\n0032have " + kC + "\n"), std::string::npos);
  EXPECT_TRUE(request.ends_with("0009done\n0000")) << request;
}

std::string band(int number, std::string_view data) { return pkt_line(std::string(1, static_cast<char>(number)) + std::string(data)); }

TEST(Fetch, ThePackIsTakenFromBandOneAfterItsSection) {
  std::string answer = pkt_line("acknowledgments\n") + pkt_line("NAK\n") + std::string(kDelimiterPacket) +
                       pkt_line("packfile\n") + band(2, "Counting objects\n") + band(1, "PACK") + band(1, "rest") + flush();
  std::string pack;
  FetchAnswerReader reader([&](std::string_view bytes) {
    pack.append(bytes);
    return Status{};
  });
  for (size_t i = 0; i < answer.size(); i += 3) ASSERT_TRUE(reader.feed(answer.substr(i, 3)).ok());
  EXPECT_TRUE(reader.finish().ok());
  EXPECT_EQ(pack, "PACKrest");
}

TEST(Fetch, AForgeErrorACutAnswerOrTrailingBytesFail) {
  auto read = [](const std::string& answer) {
    FetchAnswerReader reader([](std::string_view) { return Status{}; });
    Status fed = reader.feed(answer);
    return fed ? reader.finish() : fed;
  };
  Status said = read(pkt_line("packfile\n") + band(3, "upload-pack: not our ref " + kA));
  ASSERT_FALSE(said.ok());
  EXPECT_EQ(said.error().message, "the forge answered: upload-pack: not our ref " + kA);
  EXPECT_FALSE(read(pkt_line("packfile\n") + band(1, "PACK")).ok());                  // no flush
  EXPECT_FALSE(read(pkt_line("packfile\n") + band(1, "PACK") + flush() + "0005x").ok());
  EXPECT_FALSE(read(pkt_line("packfile\n") + band(7, "?") + flush()).ok());
  EXPECT_FALSE(read(pkt_line("packfile\n") + pkt_line("") + flush()).ok());
  EXPECT_FALSE(read(pkt_line("ERR no such repository\n")).ok());
  EXPECT_FALSE(read(flush()).ok());  // no pack at all
}

TEST(Fetch, TheReceiverCanRefuseThePack) {
  FetchAnswerReader reader([](std::string_view) { return Status(make_error("too large")); });
  Status fed = reader.feed(pkt_line("packfile\n") + band(1, "PACK") + flush());
  ASSERT_FALSE(fed.ok());
  EXPECT_EQ(fed.error().message, "too large");
}

TEST(MirrorRefs, TheRefspecsAreGitFetchs) {
  EXPECT_EQ(mirrored_refspecs(),
            (std::vector<std::string>{"+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*",
                                      "+refs/pull/*/head:refs/pull/*/head",
                                      "+refs/merge-requests/*/head:refs/merge-requests/*/head"}));
  EXPECT_TRUE(is_mirrored_ref("refs/heads/feature/x"));
  EXPECT_TRUE(is_mirrored_ref("refs/merge-requests/3/head"));
  EXPECT_FALSE(is_mirrored_ref("refs/pull/7/merge"));
  EXPECT_FALSE(is_mirrored_ref("refs/pull//head"));
  EXPECT_FALSE(is_mirrored_ref("refs/heads/"));
  EXPECT_FALSE(is_mirrored_ref("refs/notes/commits"));
}

TEST(MirrorRefs, ThePlanCreatesMovesAndPrunesMirroredRefsOnly) {
  std::map<std::string, std::string> local = {{"refs/heads/main", kA}, {"refs/heads/gone", kB},
                                              {"refs/tags/v1", kB},    {"refs/pull/1/head", kC},
                                              {"refs/notes/x", kC}};
  std::vector<RemoteRef> remote = {{"refs/heads/main", kD},  {"refs/tags/v1", kB},     {"refs/pull/1/head", kC},
                                   {"refs/pull/1/merge", kA}, {"refs/heads/new", kA},   {"refs/pull/2/head", kD}};
  std::vector<MirrorRefUpdate> plan = plan_mirror_updates(local, remote);
  std::vector<std::string> described;
  for (const MirrorRefUpdate& update : plan) {
    described.push_back(update.name + " " + update.old_id.substr(0, 1) + ">" + update.new_id.substr(0, 1));
  }
  EXPECT_EQ(described, (std::vector<std::string>{"refs/heads/main a>d", "refs/heads/new >a", "refs/pull/2/head >d",
                                                 "refs/heads/gone b>"}));
  EXPECT_EQ(wanted_ids(plan), (std::vector<std::string>{kD, kA}));
  // What the mirror has: the ids the refs move from, then the branches' heads, each once.
  EXPECT_EQ(held_ids(local, plan), (std::vector<std::string>{kA, kB}));
  EXPECT_EQ(held_ids(local, plan, 1), (std::vector<std::string>{kA}));
  EXPECT_TRUE(plan_mirror_updates(local, {{"refs/heads/main", kA}, {"refs/heads/gone", kB}, {"refs/tags/v1", kB},
                                          {"refs/pull/1/head", kC}}).empty());
}

}  // namespace
}  // namespace slipway
