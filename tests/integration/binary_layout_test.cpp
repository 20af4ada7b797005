// The slipway binary's layout (CMakeLists.txt, src/cli/function-order.txt): the functions a
// server's start runs sit first in the text and together, so that an idle server maps under a
// MiB of its own code instead of nearly all 5 MB of it (docs/performance.md). A build that lost
// the order (no lld, a changed link line, a list gone stale) still works but costs every server
// ~4 MiB; this test says which of those happened.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "base/run_command.h"
#include "base/strings.h"

namespace slipway {
namespace {

// The first group of the list: what a server's start and idle wait run.
std::vector<std::string> start_up_functions() {
  std::ifstream list(std::string(SLIPWAY_SOURCE_DIR) + "/src/cli/function-order.txt");
  std::vector<std::string> names;
  bool in_group = false;
  for (std::string line; std::getline(list, line);) {
    if (line.starts_with("# A server")) in_group = true;
    if (line.starts_with("# What its runs add")) break;
    if (in_group && !line.empty() && !line.starts_with("#")) names.push_back(line);
  }
  return names;
}

struct Span {
  unsigned long long address = 0, size = 0;
};

// The binary's code symbols (nm: local, global and weak text), by name.
std::map<std::string, Span> code_symbols() {
  auto listed = run_command({"nm", "--defined-only", "-S", SLIPWAY_BINARY});
  std::map<std::string, Span> symbols;
  if (!listed || listed->exit_code != 0) return symbols;
  for (const std::string& line : split(listed->out, '\n')) {
    std::vector<std::string> fields = split(line, ' ');
    if (fields.size() != 4 || fields[2].size() != 1 || std::string("tTwW").find(fields[2][0]) == std::string::npos) continue;
    symbols.emplace(fields[3], Span{std::stoull(fields[0], nullptr, 16), std::stoull(fields[1], nullptr, 16)});
  }
  return symbols;
}

TEST(BinaryLayout, TheStartUpFunctionsArePackedAtTheStartOfTheText) {
  std::vector<std::string> listed = start_up_functions();
  ASSERT_GT(listed.size(), 100u) << "src/cli/function-order.txt lists no start-up group";
  std::map<std::string, Span> symbols = code_symbols();
  ASSERT_FALSE(symbols.empty()) << "nm read no symbols from " << SLIPWAY_BINARY;

  std::map<unsigned long long, unsigned long long> present;  // address -> size (aliases once)
  for (const std::string& name : listed) {
    if (auto found = symbols.find(name); found != symbols.end()) present[found->second.address] = found->second.size;
  }
  EXPECT_GE(present.size() * 4, listed.size() * 3)
      << "most of the start-up functions the list names are gone from the binary: run scripts/function-order";
  ASSERT_FALSE(present.empty());

  unsigned long long text_start = ~0ULL, packed = 0;
  for (const auto& [name, span] : symbols) text_start = std::min(text_start, span.address);
  for (const auto& [address, size] : present) packed += size;
  const unsigned long long first = present.begin()->first;
  const unsigned long long end = present.rbegin()->first + present.rbegin()->second;
  // Without the order these functions spread over the whole text (~5 MB for ~0.7 MB of them);
  // with it they span their own size, plus alignment and the few sections they share.
  EXPECT_LE(first - text_start, 64u * 1024) << "the start-up functions do not open the text: is slipway linked by lld?";
  EXPECT_LE(end - first, 2 * packed + 64 * 1024)
      << "the start-up functions are spread over " << (end - first) << " bytes for " << packed
      << " bytes of code: the link did not apply src/cli/function-order.txt";
}

}  // namespace
}  // namespace slipway
