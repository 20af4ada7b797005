#include "ci/git_ref_files.h"

#include "base/files.h"
#include "base/object_id.h"
#include "base/strings.h"

namespace slipway {

namespace fs = std::filesystem;

bool is_hex_sha(std::string_view text) { return text.size() == 40 && is_full_object_id(text); }

std::map<std::string, std::string> read_packed_refs(const fs::path& git_dir) {
  std::map<std::string, std::string> refs;
  auto packed = read_file(git_dir / "packed-refs");
  if (!packed) return refs;
  for (const std::string& line : split(*packed, '\n')) {
    if (line.size() > 41 && line[40] == ' ' && is_hex_sha(std::string_view(line).substr(0, 40))) {
      refs[line.substr(41)] = line.substr(0, 40);
    }
  }
  return refs;
}

std::map<std::string, std::string> read_refs(const fs::path& git_dir, const std::vector<std::string>& folders) {
  std::map<std::string, std::string> refs;
  for (auto& [name, id] : read_packed_refs(git_dir)) {
    for (const std::string& folder : folders) {
      if (name.starts_with(folder + "/")) refs[name] = id;
    }
  }
  for (const std::string& folder : folders) {
    std::error_code error;
    for (fs::recursive_directory_iterator it(git_dir / folder, error), end; !error && it != end; it.increment(error)) {
      if (!it->is_regular_file(error) || it->path().extension() == ".lock") continue;
      auto content = read_file(it->path());
      if (!content || !is_hex_sha(trim(*content))) continue;
      refs[it->path().lexically_relative(git_dir).generic_string()] = std::string(trim(*content));
    }
  }
  return refs;
}

}  // namespace slipway
