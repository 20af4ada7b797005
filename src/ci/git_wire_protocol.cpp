#include "ci/git_wire_protocol.h"

#include <fmt/core.h>

#include "base/strings.h"
#include "ci/run_queue_git.h"

namespace slipway {

namespace {

// A forge's words in an error: one line of printable characters, at most 200 of them.
std::string forge_words(std::string_view text) {
  std::string words;
  for (char c : text.substr(0, std::min<size_t>(text.find('\n'), 200))) {
    words += (c >= 0x20 && c < 0x7f) ? c : '?';
  }
  return words;
}

bool is_lowercase_sha1(std::string_view text) {
  return text.size() == 40 && text.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

// A payload without the one line feed git ends text packets with.
std::string_view text_of(std::string_view payload) {
  return payload.ends_with('\n') ? payload.substr(0, payload.size() - 1) : payload;
}

Result<int> packet_length(std::string_view digits) {
  int length = 0;
  for (char c : digits) {
    int value = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
    if (value < 0) return make_error("the forge's answer is not in git's pkt-line format");
    length = length * 16 + value;
  }
  if (length == 3 || static_cast<size_t>(length) > kLargestPacket) {
    return make_error(fmt::format("the forge's answer holds a packet of impossible length {}", length));
  }
  return length;
}

// Every packet of a whole answer, until its flush; Error when it is cut short or malformed.
Status for_each_packet(std::string_view body, const std::function<Status(const PktLineReader::Packet&)>& each) {
  PktLineReader reader;
  reader.feed(body);
  while (true) {
    auto packet = reader.next();
    if (!packet) return packet.error();
    if (!*packet) return make_error("the forge's answer ended before its flush packet");
    if ((*packet)->kind == PktLineReader::Kind::flush) return {};
    if (Status handled = each(**packet); !handled) return handled;
  }
}

Status forge_error(std::string_view payload) {
  return make_error(fmt::format("the forge answered: {}", forge_words(text_of(payload).substr(4))));
}

// "command=NAME", the capability lines, and the delimiter before the command's arguments.
std::string command_start(std::string_view name, const std::vector<std::string>& capabilities) {
  std::string request = pkt_line(fmt::format("command={}\n", name));
  for (const std::string& line : capabilities) request += pkt_line(line + "\n");
  return request + std::string(kDelimiterPacket);
}

}  // namespace

std::string pkt_line(std::string_view payload) { return fmt::format("{:04x}{}", payload.size() + 4, payload); }

void PktLineReader::feed(std::string_view bytes) {
  if (start_ > 0 && start_ == buffer_.size()) {
    buffer_.clear();
    start_ = 0;
  } else if (start_ > 65536) {
    buffer_.erase(0, start_);
    start_ = 0;
  }
  buffer_.append(bytes);
}

Result<std::optional<PktLineReader::Packet>> PktLineReader::next() {
  if (buffered() < 4) return std::optional<Packet>();
  auto length = packet_length(std::string_view(buffer_).substr(start_, 4));
  if (!length) return length.error();
  if (*length < 4) {
    start_ += 4;
    Kind kinds[] = {Kind::flush, Kind::delimiter, Kind::response_end};
    return std::optional<Packet>(Packet{kinds[*length], {}});
  }
  if (buffered() < static_cast<size_t>(*length)) return std::optional<Packet>();
  Packet packet{Kind::data, std::string_view(buffer_).substr(start_ + 4, static_cast<size_t>(*length) - 4)};
  start_ += static_cast<size_t>(*length);
  return std::optional<Packet>(packet);
}

Result<UploadPackCapabilities> parse_capability_advertisement(std::string_view body) {
  UploadPackCapabilities capabilities;
  // Smart HTTP starts with "# service=git-upload-pack" and a flush; version 2 follows.
  if (body.size() >= 4 && body.substr(4).starts_with("# service=")) {
    PktLineReader reader;
    reader.feed(body);
    for (int i = 0; i < 2; ++i) {
      auto packet = reader.next();
      if (!packet) return packet.error();
      if (!*packet) return make_error("the forge's capability advertisement is cut short");
    }
    body.remove_prefix(body.size() - reader.buffered());
  }
  bool first = true;
  Status read = for_each_packet(body, [&](const PktLineReader::Packet& packet) -> Status {
    if (packet.kind != PktLineReader::Kind::data) return make_error("the forge's capability advertisement is malformed");
    std::string_view line = text_of(packet.payload);
    if (first) {
      first = false;
      capabilities.version2 = line == "version 2";
      return {};
    }
    std::string_view name = line.substr(0, line.find('='));
    if (name == "ls-refs") capabilities.ls_refs = true;
    if (name == "fetch") capabilities.fetch = true;
    if (name == "agent") capabilities.agent = true;
    if (name == "object-format" && line.size() > name.size()) {
      capabilities.object_format_advertised = true;
      capabilities.object_format = line.substr(name.size() + 1);
    }
    return {};
  });
  // A version 0 or 1 listing is not read further: the caller only needs to know it is not 2.
  if (!capabilities.version2) return capabilities;
  if (!read) return read.error();
  return capabilities;
}

std::vector<std::string> request_capabilities(const UploadPackCapabilities& forge, std::string_view agent) {
  std::vector<std::string> lines;
  if (forge.agent) lines.push_back(fmt::format("agent={}", agent));
  if (forge.object_format_advertised) lines.push_back("object-format=sha1");
  return lines;
}

std::string ls_refs_request(const std::vector<std::string>& capabilities, const std::vector<std::string>& prefixes) {
  std::string request = command_start("ls-refs", capabilities);
  for (const std::string& prefix : prefixes) request += pkt_line(fmt::format("ref-prefix {}\n", prefix));
  return request + std::string(kFlushPacket);
}

Result<std::vector<RemoteRef>> parse_ls_refs(std::string_view body) {
  std::vector<RemoteRef> refs;
  Status read = for_each_packet(body, [&](const PktLineReader::Packet& packet) -> Status {
    if (packet.kind != PktLineReader::Kind::data) return make_error("the forge's ref listing is malformed");
    if (packet.payload.starts_with("ERR ")) return forge_error(packet.payload);
    std::string_view line = text_of(packet.payload);
    // "<id> <name>[ <attribute>...]"; attributes (symref-target:, peeled:) are not asked for.
    std::vector<std::string> fields = split(std::string(line), ' ');
    if (fields.size() < 2 || !is_lowercase_sha1(fields[0])) {
      return make_error(fmt::format("the forge's ref listing holds a malformed line '{}'", forge_words(line)));
    }
    if (!fields[1].starts_with("refs/") || !check_branch_name(fields[1])) {
      return make_error(fmt::format("the forge's ref listing holds a name git refuses: '{}'", forge_words(fields[1])));
    }
    refs.push_back(RemoteRef{fields[1], fields[0]});
    return {};
  });
  if (!read) return read.error();
  return refs;
}

std::string fetch_request(const std::vector<std::string>& capabilities, const std::vector<std::string>& wants,
                          const std::vector<std::string>& haves) {
  std::string request = command_start("fetch", capabilities) + pkt_line("thin-pack\n") + pkt_line("no-progress\n") +
                        pkt_line("ofs-delta\n");
  for (const std::string& want : wants) request += pkt_line(fmt::format("want {}\n", want));
  for (const std::string& have : haves) request += pkt_line(fmt::format("have {}\n", have));
  return request + pkt_line("done\n") + std::string(kFlushPacket);
}

Status FetchAnswerReader::feed(std::string_view bytes) {
  reader_.feed(bytes);
  while (true) {
    auto packet = reader_.next();
    if (!packet) return packet.error();
    if (!*packet) return {};
    if (ended_) return make_error("the forge sent more after the end of its pack");
    const PktLineReader::Packet& p = **packet;
    if (p.kind == PktLineReader::Kind::flush && in_pack_) {
      ended_ = true;
      continue;
    }
    if (p.kind != PktLineReader::Kind::data) {
      if (in_pack_ || p.kind != PktLineReader::Kind::delimiter) return make_error("the forge's fetch answer is malformed");
      continue;  // between sections
    }
    if (p.payload.starts_with("ERR ")) return forge_error(p.payload);
    if (!in_pack_) {
      in_pack_ = text_of(p.payload) == "packfile";
      continue;  // acknowledgments, shallow-info, wanted-refs: nothing asked for needs them
    }
    if (p.payload.empty()) return make_error("the forge's pack holds an empty packet");
    std::string_view data = p.payload.substr(1);
    if (p.payload[0] == 1) {
      if (Status taken = on_pack_(data); !taken) return taken;
    } else if (p.payload[0] == 3) {
      return make_error(fmt::format("the forge answered: {}", forge_words(data)));
    } else if (p.payload[0] != 2) {
      return make_error("the forge's pack is on an unknown side band");
    }
  }
}

Status FetchAnswerReader::finish() const {
  if (!ended_) return make_error("the forge's fetch answer ended before its pack did");
  if (reader_.buffered() > 0) return make_error("the forge sent more after the end of its pack");
  return {};
}

}  // namespace slipway
