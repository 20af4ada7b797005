#include "cd/pause_image.h"

#include <algorithm>
#include <cstdint>
#include <cstring>

#include <fmt/core.h>

#include "base/crypto.h"

namespace slipway {

namespace {

constexpr std::string_view kRepository = "slipway/pod-holder";
constexpr size_t kBlock = 512;

std::string_view program_bytes() {
  std::span<const unsigned char> bytes = pause_program();
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

// An octal header field of `width` bytes: digits, then a NUL.
void put_octal(char* field, size_t width, uint64_t value) {
  std::string digits = fmt::format("{:0{}o}", value, width - 1);
  std::memcpy(field, digits.data(), width - 1);
}

}  // namespace

std::string pause_image_name() {
  return fmt::format("{}:{}", kRepository, sha256_hex(program_bytes()).substr(0, 16));
}

std::string single_file_tar(std::string_view name, std::string_view content, unsigned mode) {
  char header[kBlock] = {};
  std::memcpy(header, name.data(), std::min(name.size(), size_t{99}));
  put_octal(header + 100, 8, mode);
  put_octal(header + 108, 8, 0);  // uid
  put_octal(header + 116, 8, 0);  // gid
  put_octal(header + 124, 12, content.size());
  put_octal(header + 136, 12, 0);  // mtime: fixed, so the archive is the same every time
  header[156] = '0';               // a regular file
  std::memcpy(header + 257, "ustar", 6);
  std::memcpy(header + 263, "00", 2);
  // The checksum is summed with its own field as spaces, then written as six digits, NUL, space.
  std::memset(header + 148, ' ', 8);
  unsigned sum = 0;
  for (unsigned char c : header) sum += c;
  std::string checksum = fmt::format("{:06o}", sum);
  std::memcpy(header + 148, checksum.data(), 6);
  header[154] = '\0';
  std::string tar(header, kBlock);
  tar.append(content);
  tar.append((kBlock - content.size() % kBlock) % kBlock, '\0');
  tar.append(2 * kBlock, '\0');  // the end of the archive
  return tar;
}

Result<std::string> ensure_pause_image(ContainerRuntime& runtime) {
  std::string name = pause_image_name();
  auto present = runtime.has_image(name);
  if (!present) return present.error();
  if (*present) return name;
  std::string tag = name.substr(name.find(':') + 1);
  if (Status imported = runtime.import_image(std::string(kRepository), tag, single_file_tar("pause", program_bytes(), 0755));
      !imported) {
    return imported.error();
  }
  return name;
}

}  // namespace slipway
