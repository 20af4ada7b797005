#include "base/secret_masker.h"

#include <algorithm>
#include <set>

#include "base/mask_automaton.h"
#include "base/mask_scanner.h"
#include "base/secret_forms.h"

namespace slipway {

namespace {

std::vector<std::string> all_forms(const std::vector<std::string>& secrets) {
  std::set<std::string> unique;
  for (const auto& secret : secrets) {
    for (auto& form : secret_forms(secret)) unique.insert(std::move(form));
  }
  return {unique.begin(), unique.end()};
}

}  // namespace

SecretMasker::SecretMasker(const std::vector<std::string>& secrets)
    : automaton_(std::make_unique<Automaton>(all_forms(secrets))) {}

SecretMasker::~SecretMasker() = default;

std::shared_ptr<const SecretMasker> make_masker(const std::map<std::string, std::string>& secrets) {
  std::vector<std::string> values;
  for (const auto& [name, value] : secrets) values.push_back(value);
  return std::make_shared<const SecretMasker>(values);
}

bool SecretMasker::empty() const { return automaton_->empty(); }

size_t SecretMasker::longest_pattern() const { return automaton_->longest(); }

std::string SecretMasker::mask(std::string_view text) const {
  std::string out;
  out.reserve(text.size());
  MaskScanner scanner(*automaton_);
  scanner.feed(text, out);
  scanner.finish(out);
  return out;
}

struct MaskingStream::State {
  explicit State(const SecretMasker::Automaton& automaton) : scanner(automaton) {}
  MaskScanner scanner;
};

MaskingStream::MaskingStream(std::shared_ptr<const SecretMasker> masker)
    : masker_(std::move(masker)), state_(std::make_unique<State>(masker_->automaton())) {}

MaskingStream::~MaskingStream() = default;

void MaskingStream::feed(std::string_view bytes, std::string& out) { state_->scanner.feed(bytes, out); }

void MaskingStream::finish(std::string& out) { state_->scanner.finish(out); }

}  // namespace slipway
