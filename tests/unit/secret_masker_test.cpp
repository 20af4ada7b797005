#include "base/secret_masker.h"

#include <gtest/gtest.h>

#include <random>

#include "base/secret_forms.h"

namespace slipway {
namespace {

std::shared_ptr<const SecretMasker> masker_of(std::vector<std::string> secrets) {
  return std::make_shared<const SecretMasker>(secrets);
}

// Feeds `text` to a MaskingStream in the given pieces and returns everything it wrote.
std::string stream_mask(const std::shared_ptr<const SecretMasker>& masker, const std::vector<std::string_view>& pieces) {
  MaskingStream stream(masker);
  std::string out;
  for (auto piece : pieces) stream.feed(piece, out);
  stream.finish(out);
  return out;
}

// The obvious quadratic masker: find every occurrence of every form, merge overlaps, replace.
std::string reference_mask(const std::vector<std::string>& secrets, const std::string& text) {
  std::vector<std::pair<size_t, size_t>> spans;
  for (const auto& secret : secrets) {
    for (const auto& form : secret_forms(secret)) {
      for (size_t at = text.find(form); at != std::string::npos; at = text.find(form, at + 1)) {
        spans.emplace_back(at, at + form.size());
      }
    }
  }
  std::sort(spans.begin(), spans.end());
  std::string out;
  size_t written = 0;
  for (size_t i = 0; i < spans.size();) {
    auto [begin, end] = spans[i];
    for (++i; i < spans.size() && spans[i].first < end; ++i) end = std::max(end, spans[i].second);
    out += text.substr(written, begin - written) + "***";
    written = end;
  }
  return out + text.substr(written);
}

TEST(SecretMasker, MasksExactValue) {
  SecretMasker masker({"hunter2pass"});
  EXPECT_EQ(masker.mask("login with hunter2pass now"), "login with *** now");
  EXPECT_EQ(masker.mask("hunter2pass"), "***");
  EXPECT_EQ(masker.mask("twice hunter2pass hunter2pass."), "twice *** ***.");
}

TEST(SecretMasker, MasksBase64Forms) {
  SecretMasker masker({"hunter2pass"});
  // echo -n hunter2pass | base64
  EXPECT_EQ(masker.mask("token aHVudGVyMnBhc3M= end"), "token *** end");
  // The same value inside a larger base64 blob at each of the three alignments.
  for (std::string prefix : {"", "x", "xy"}) {
    std::string blob = prefix + "hunter2pass" + "trailing";
    auto encoded = base64_forms(blob)[0];
    std::string masked = masker.mask(encoded);
    EXPECT_NE(masked, encoded) << "alignment " << prefix.size();
    EXPECT_NE(masked.find("***"), std::string::npos);
  }
}

TEST(SecretMasker, MasksUrlEncodedForms) {
  SecretMasker masker({"p@ss word/1"});
  EXPECT_EQ(masker.mask("u=p%40ss%20word%2F1&x"), "u=***&x");
  EXPECT_EQ(masker.mask("u=p%40ss+word%2F1&x"), "u=***&x");
  EXPECT_EQ(masker.mask("u=p%40ss%20word%2f1&x"), "u=***&x");
}

TEST(SecretMasker, MasksJsonEscapedForm) {
  SecretMasker masker({"quote\"back\\slash"});
  EXPECT_EQ(masker.mask(R"({"v":"quote\"back\\slash"})"), R"({"v":"***"})");
}

TEST(SecretMasker, MasksSecretSplitAtEveryPoint) {
  auto masker = masker_of({"s3cr3t-value"});
  std::string text = "before s3cr3t-value after";
  for (size_t split = 0; split <= text.size(); ++split) {
    std::string_view view(text);
    EXPECT_EQ(stream_mask(masker, {view.substr(0, split), view.substr(split)}), "before *** after")
        << "split at " << split;
  }
}

TEST(SecretMasker, MasksSecretFedByteByByte) {
  auto masker = masker_of({"s3cr3t-value", "another-one"});
  std::string text = "xs3cr3t-valueyanother-one";
  std::vector<std::string_view> pieces;
  for (size_t i = 0; i < text.size(); ++i) pieces.push_back(std::string_view(text).substr(i, 1));
  EXPECT_EQ(stream_mask(masker, pieces), "x***y***");
}

TEST(SecretMasker, MasksMultiLineSecretWholeAndPerLine) {
  SecretMasker masker({"-----BEGIN KEY-----\nabcdefgh\nxy\n-----END KEY-----"});
  EXPECT_EQ(masker.mask("k=-----BEGIN KEY-----\nabcdefgh\nxy\n-----END KEY-----;"), "k=***;");
  EXPECT_EQ(masker.mask("line abcdefgh alone"), "line *** alone");
  EXPECT_EQ(masker.mask("short line xy stays"), "short line xy stays");
  EXPECT_EQ(masker.mask(R"("-----BEGIN KEY-----\nabcdefgh\nxy\n-----END KEY-----")"), "\"***\"");
}

TEST(SecretMasker, IgnoresValuesShorterThanFourBytes) {
  SecretMasker masker({"abc", "", "yes"});
  EXPECT_TRUE(masker.empty());
  EXPECT_EQ(masker.mask("abc yes"), "abc yes");
  EXPECT_TRUE(secret_forms("abc").empty());
}

TEST(SecretMasker, MasksUnionOfOverlappingSecrets) {
  SecretMasker masker({"abcdef", "defghi", "bcd1"});
  EXPECT_EQ(masker.mask("xxabcdefghiyy"), "xx***yy");
  EXPECT_EQ(masker.mask("xxabcdefyydefghizz"), "xx***yy***zz");
  // A long chain of overlapping matches stays one mask.
  SecretMasker repeated({"aaaa"});
  EXPECT_EQ(repeated.mask("b" + std::string(1000, 'a') + "b"), "b***b");
}

TEST(SecretMasker, MasksNestedSecretInsideLongerOne) {
  SecretMasker masker({"bcde", "abcdefgh"});
  EXPECT_EQ(masker.mask("-abcdefgh-"), "-***-");
  EXPECT_EQ(masker.mask("-abcdefgX-"), "-a***fgX-");
}

TEST(SecretMasker, MasksAtStreamStartAndEnd) {
  auto masker = masker_of({"topsecret"});
  EXPECT_EQ(stream_mask(masker, {"topsecret and more"}), "*** and more");
  EXPECT_EQ(stream_mask(masker, {"more and topsecret"}), "more and ***");
  EXPECT_EQ(stream_mask(masker, {"topsec", "ret"}), "***");
}

TEST(SecretMasker, EmptyMaskerPassesBytesThrough) {
  auto masker = masker_of({});
  EXPECT_TRUE(masker->empty());
  std::string binary("a\0b\xff\n", 5);
  EXPECT_EQ(stream_mask(masker, {binary, "rest"}), binary + "rest");
  EXPECT_EQ(masker->mask(binary), binary);
}

TEST(SecretMasker, HoldsBackLessThanLongestPattern) {
  auto masker = masker_of({"0123456789abcdef"});
  MaskingStream stream(masker);
  std::string out;
  stream.feed("hello 0123456789abcde", out);  // one byte short of the secret
  EXPECT_EQ(out, "hello ");
  EXPECT_LT(std::string("0123456789abcde").size(), masker->longest_pattern());
  stream.feed("X", out);
  EXPECT_EQ(out, "hello 0123456789abcdeX");
}

TEST(SecretMasker, StreamedOutputMatchesWholeMaskOnRandomSplits) {
  std::vector<std::string> secrets = {"alpha-secret", "beta/secret value", "gamma\ngamma-line"};
  auto masker = masker_of(secrets);
  std::mt19937 random(42);
  std::vector<std::string> words = {"alpha-secret", "YWxwaGEtc2VjcmV0", "beta%2Fsecret+value", "gamma-line",
                                    "plain", " ", "\n", "alpha-secre", "gamma\\ngamma-line", "xyz"};
  for (int round = 0; round < 200; ++round) {
    std::string text;
    for (int w = 0; w < 30; ++w) text += words[random() % words.size()];
    std::vector<std::string_view> pieces;
    std::string_view rest(text);
    while (!rest.empty()) {
      size_t size = std::min<size_t>(rest.size(), 1 + random() % 20);
      pieces.push_back(rest.substr(0, size));
      rest.remove_prefix(size);
    }
    std::string streamed = stream_mask(masker, pieces);
    EXPECT_EQ(streamed, reference_mask(secrets, text));
    EXPECT_EQ(streamed.find("alpha-secret"), std::string::npos);
    EXPECT_EQ(streamed.find("gamma-line"), std::string::npos);
  }
}

TEST(SecretMasker, AgreesWithReferenceOnOverlapHeavyText) {
  // A two-letter alphabet makes prefixes, overlaps and near misses everywhere.
  std::vector<std::string> secrets = {"abab", "abba", "aabbb", "babab", "bbbbbbbbba", "ab\nba"};
  auto masker = masker_of(secrets);
  std::mt19937 random(11);
  for (int round = 0; round < 500; ++round) {
    std::string text;
    size_t size = random() % 80;
    for (size_t i = 0; i < size; ++i) text.push_back("ab\n"[random() % (round % 2 ? 2 : 4)]);
    std::string expected = reference_mask(secrets, text);
    ASSERT_EQ(masker->mask(text), expected) << text;
    std::vector<std::string_view> pieces;
    std::string_view rest(text);
    while (!rest.empty()) {
      size_t piece = std::min<size_t>(rest.size(), 1 + random() % 7);
      pieces.push_back(rest.substr(0, piece));
      rest.remove_prefix(piece);
    }
    ASSERT_EQ(stream_mask(masker, pieces), expected) << text;
  }
}

TEST(SecretForms, IncludesEveryEncoding) {
  auto forms = secret_forms("a b/c");
  auto has = [&](const std::string& form) { return std::find(forms.begin(), forms.end(), form) != forms.end(); };
  EXPECT_TRUE(has("a b/c"));
  EXPECT_TRUE(has("YSBiL2M="));
  EXPECT_TRUE(has("a%20b%2Fc"));
  EXPECT_TRUE(has("a+b%2Fc"));
  EXPECT_TRUE(has("a%20b%2fc"));
  for (const auto& form : forms) EXPECT_GE(form.size(), kMinSecretBytes);
}

}  // namespace
}  // namespace slipway
