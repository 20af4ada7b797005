// Small string helpers shared by every layer. Pure functions, no allocation surprises.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace slipway {

std::vector<std::string> split(std::string_view text, char separator);
std::string join(const std::vector<std::string>& parts, std::string_view separator);
std::string_view trim(std::string_view text);
// The last line of `text`, trimmed: where a program's stderr gives its diagnosis.
std::string_view last_line(std::string_view text);
bool starts_with(std::string_view text, std::string_view prefix);
bool ends_with(std::string_view text, std::string_view suffix);
// The first 12 hex digits of a digest ("sha256:3f2a…" → "3f2a1c9e0b4d"), how people name images.
std::string short_digest(std::string_view digest);


// Edit distance (insertions, deletions, substitutions, and swaps of two neighbouring
// characters — the commonest typo — each counting one), for "did you mean" suggestions.
size_t edit_distance(std::string_view a, std::string_view b);

// The candidate closest to `word` when it is close enough to be a plausible typo, else "".
std::string closest_match(std::string_view word, const std::vector<std::string>& candidates);

// Replaces every byte sequence that is not valid UTF-8 with U+FFFD, so logs, JSON and HTML
// can carry any program's output.
std::string sanitize_utf8(std::string_view bytes);

// Escapes text for inclusion in HTML element content or attribute values.
std::string html_escape(std::string_view text);

// Quotes a string for a POSIX shell, for printing commands a user can paste. Never used to
// build a command that is executed: commands run through argv, not a shell string.
std::string shell_quote(std::string_view text);

// The value of a hexadecimal digit (either case), or -1 for any other character.
int hex_digit_value(char c);

// A size for people: "1 GiB", "1.5 MiB", "512 KiB", "300 bytes" (powers of 1024, as the
// configuration's 512m / 1g are).
std::string format_byte_size(uint64_t bytes);

// For text that arrives in chunks: hands each complete line of `pending` to `on_line` (without
// its '\n'), then keeps only the unfinished rest in `pending`.
void take_complete_lines(std::string& pending, const std::function<void(std::string_view)>& on_line);

}  // namespace slipway
