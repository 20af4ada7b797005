// Git's wire protocol, version 2, as smart HTTP carries it (gitprotocol-v2, gitprotocol-http,
// gitprotocol-common): the pkt-line framing, the capability advertisement, the `ls-refs` and
// `fetch` commands' requests, and the answers read back. Pure functions over bytes, for the
// mirror's in-process fetch (ci/mirror_http_fetch.h).
//
// What it promises: every answer is the forge's, so untrusted. A length that is not 4 hex digits,
// below 4 where no special packet has that length, or above git's 65520 is an error, never an
// over-read; a ref name git would refuse (check-ref-format) or an object id that is not 40 hex
// digits fails the whole listing; an answer cut short is an error. Only SHA-1 repositories are
// spoken for: a forge that advertises another object format is told apart by its capabilities.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace slipway {

inline constexpr std::string_view kFlushPacket = "0000";
inline constexpr std::string_view kDelimiterPacket = "0001";
inline constexpr size_t kLargestPacket = 65520;  // length included (LARGE_PACKET_MAX)

// One pkt-line: four hex digits of length (its own four included), then `payload`.
std::string pkt_line(std::string_view payload);

// Cuts pkt-lines out of bytes that arrive in pieces (an HTTP body as curl hands it over).
class PktLineReader {
 public:
  enum class Kind { data, flush, delimiter, response_end };
  struct Packet {
    Kind kind = Kind::data;
    std::string_view payload;  // data only; valid until the next feed()
  };
  void feed(std::string_view bytes);
  // The next whole packet; nullopt when more bytes are needed. Error on a malformed length.
  Result<std::optional<Packet>> next();
  // Bytes fed but not yet returned as packets.
  size_t buffered() const { return buffer_.size() - start_; }

 private:
  std::string buffer_;
  size_t start_ = 0;
};

// What `GET info/refs?service=git-upload-pack` with `Git-Protocol: version=2` says.
struct UploadPackCapabilities {
  bool version2 = false;    // the forge answered in version 2 (else it spoke version 0 or 1)
  bool ls_refs = false;
  bool fetch = false;
  bool agent = false;       // it takes an agent= line
  bool object_format_advertised = false;  // it takes an object-format= line (git ≥ 2.28)
  std::string object_format = "sha1";
};
Result<UploadPackCapabilities> parse_capability_advertisement(std::string_view body);

// The capability lines a command sends: "agent=AGENT" and "object-format=sha1", each only when the
// forge advertised it (an older upload-pack refuses a capability it does not know).
std::vector<std::string> request_capabilities(const UploadPackCapabilities& forge, std::string_view agent);

// `command=ls-refs` for the refs under `prefixes` ("refs/heads/").
std::string ls_refs_request(const std::vector<std::string>& capabilities, const std::vector<std::string>& prefixes);

struct RemoteRef {
  std::string name;  // "refs/heads/main"
  std::string id;    // 40 hex digits
};
// The refs of an ls-refs answer, in the forge's order. An "ERR" packet is an error quoting the
// forge (at most one line of it).
Result<std::vector<RemoteRef>> parse_ls_refs(std::string_view body);

// `command=fetch` for `wants`, telling the forge the mirror has `haves`, asking for the pack at
// once ("done": no negotiation round), thin, with offset deltas and no progress.
std::string fetch_request(const std::vector<std::string>& capabilities, const std::vector<std::string>& wants,
                          const std::vector<std::string>& haves);

// Reads a fetch answer as it arrives: sections before "packfile" are skipped, and the pack's
// bytes (side band 1) go to `on_pack` as they come; progress (band 2) is dropped; band 3 or an
// "ERR" packet is an error quoting the forge.
class FetchAnswerReader {
 public:
  explicit FetchAnswerReader(std::function<Status(std::string_view pack_bytes)> on_pack)
      : on_pack_(std::move(on_pack)) {}
  Status feed(std::string_view bytes);
  // Error unless the answer ended: the pack section was seen and closed by a flush packet.
  Status finish() const;

 private:
  PktLineReader reader_;
  std::function<Status(std::string_view)> on_pack_;
  bool in_pack_ = false;
  bool ended_ = false;
};

}  // namespace slipway
