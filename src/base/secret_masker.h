// SecretMasker: replaces every occurrence of a registered secret in a byte stream with "***".
// Each secret is registered with its exact text and its base64, URL-encoded and JSON-escaped
// forms; a multi-line secret is masked as a whole (and each of its lines of 4+ characters on its
// own). Values shorter than 4 characters are not masked (they would blank out ordinary text).
// The masker is immutable once built and may be shared by many MaskingStreams and threads.
//
// It is the one masker for everything that leaves a process Slipway started: step logs and
// reports (ci/), task-run logs, deploy.verify output and deployment reasons (cd/), and the chat
// notices built from them (server/). It lives in base/ so that every layer uses the same forms.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace slipway {

class SecretMasker {
 public:
  explicit SecretMasker(const std::vector<std::string>& secrets);
  ~SecretMasker();

  bool empty() const;
  size_t longest_pattern() const;  // in bytes, over all registered forms

  // Masks a complete text in one go.
  std::string mask(std::string_view text) const;

  struct Automaton;
  const Automaton& automaton() const { return *automaton_; }

 private:
  std::unique_ptr<Automaton> automaton_;
};

// The masker for a set of named secrets (name → value): every value, in every form.
std::shared_ptr<const SecretMasker> make_masker(const std::map<std::string, std::string>& secrets);

// Streaming state over a SecretMasker: bytes fed in pieces come out masked even when a secret
// straddles two pieces. It holds back at most longest_pattern()-1 bytes until more arrive or
// finish() is called, so memory stays bounded whatever the stream's size.
class MaskingStream {
 public:
  explicit MaskingStream(std::shared_ptr<const SecretMasker> masker);
  ~MaskingStream();

  // Appends the masked bytes that are now safe to emit to `out`.
  void feed(std::string_view bytes, std::string& out);
  // Emits everything still held back.
  void finish(std::string& out);

 private:
  struct State;
  std::shared_ptr<const SecretMasker> masker_;
  std::unique_ptr<State> state_;
};

}  // namespace slipway
