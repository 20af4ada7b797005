#include "spec/yaml_document.h"

#include <sstream>
#include <string>
#include <string_view>
#include <utility>

#include <fmt/core.h>
#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/parser.h>

#include "base/strings.h"

namespace slipway {
namespace {

// yaml-cpp's wording for the mistakes people actually make, and what to say instead.
const std::pair<std::string_view, std::string_view> kRewordings[] = {
    {"illegal map value", "unexpected ':'; a value containing ': ' must be quoted, e.g. run: \"echo a: b\""},
    {"end of map not found", "this line is not indented like the keys around it"},
    {"end of map flow not found", "a '{' mapping is not closed with '}'"},
    {"end of sequence not found", "this list item is not indented like the items around it"},
    {"end of sequence flow not found", "a '[' list is not closed with ']'"},
    {"illegal flow end", "a closing '}' or ']' without its opening bracket"},
    {"illegal block entry", "a '- ' list item where a key was expected"},
    {"unknown token", "unexpected character"},
    {"illegal EOF in scalar", "unclosed quote: the string runs to the end of the file"},
    {"the referenced anchor is not defined", "an alias '*name' refers to an anchor '&name' that is not defined before it"},
};

std::string reworded(const std::string& message) {
  for (const auto& [original, better] : kRewordings) {
    if (message == original) return std::string(better);
  }
  return message;
}

// The line of `source` at 0-based `line`, or "" past the end.
std::string_view line_at(std::string_view source, int line) {
  size_t start = 0;
  for (int i = 0; i < line; ++i) {
    start = source.find('\n', start);
    if (start == std::string_view::npos) return {};
    ++start;
  }
  return source.substr(start, source.find('\n', start) - start);
}

// Tabs in indentation make yaml-cpp fail later with an unrelated message; look back from the
// error for the culprit so the diagnostic names it.
int tab_indented_line(std::string_view source, int error_line) {
  for (int line = error_line; line >= 0 && line >= error_line - 1; --line) {
    std::string_view text = line_at(source, line);
    size_t indent_end = text.find_first_not_of(" \t");
    if (text.substr(0, indent_end).find('\t') != std::string_view::npos) return line;
  }
  return -1;
}

void report_syntax_error(SpecReader& reader, const YAML::ParserException& error) {
  int tab_line = tab_indented_line(reader.source(), error.mark.line);
  if (tab_line >= 0) {
    YAML::Mark mark;
    mark.line = tab_line;
    mark.column = 0;
    reader.report_at(mark, "invalid YAML: a tab is used for indentation; indent with spaces");
    return;
  }
  reader.report_at(error.mark, fmt::format("invalid YAML: {}", reworded(error.msg)));
}

// True when `node` is a quoted scalar whose closing quote never comes.
bool quote_is_unclosed(std::string_view source, const YAML::Node& node) {
  if (!node.IsScalar() || node.Mark().pos < 0) return false;
  auto start = static_cast<size_t>(node.Mark().pos);
  if (start >= source.size() || (source[start] != '"' && source[start] != '\'')) return false;
  char quote = source[start];
  for (size_t i = start + 1; i < source.size(); ++i) {
    if (quote == '"' && source[i] == '\\') ++i;                              // \" inside "..."
    else if (quote == '\'' && source[i] == '\'' && i + 1 < source.size() && source[i + 1] == '\'') ++i;  // ''
    else if (source[i] == quote) return false;
  }
  return true;
}

// yaml-cpp accepts a quoted string left open at the end of the file and swallows everything
// after the quote into it, so the user would see "missing 'test'" for a forgotten quote. Such a
// string is always the last key or value of the document: follow the last entries down to it.
std::optional<YAML::Node> unclosed_quote(std::string_view source, YAML::Node node) {
  // Bounded, because an alias can make the last entry lead back to where it started.
  for (int depth = 0; depth < 64 && node.size() > 0; ++depth) {
    if (node.IsSequence()) {
      node.reset(node[node.size() - 1]);
      continue;
    }
    if (!node.IsMap()) break;
    YAML::const_iterator last = node.begin();
    for (size_t i = 1; i < node.size(); ++i) ++last;
    YAML::Node key = last->first;
    if (quote_is_unclosed(source, key)) return key;
    node.reset(last->second);
  }
  if (quote_is_unclosed(source, node)) return node;
  return std::nullopt;
}

// Counts the nodes of one document and remembers where it starts.
class DocumentProbe : public YAML::EventHandler {
 public:
  void OnDocumentStart(const YAML::Mark& mark) override { start = mark; }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override { ++nodes; }
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override { ++nodes; }
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override { ++nodes; }
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {
    ++nodes;
  }
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {
    ++nodes;
  }
  void OnMapEnd() override {}

  YAML::Mark start;
  int nodes = 0;
};

// Where a second YAML document starts, if there is one. Not YAML::LoadAll: in yaml-cpp 0.7 it
// loops for ever on some malformed input (a lone ",") adding empty documents until memory runs
// out (upstream issue 1040). Here the parser is asked for at most two documents, and an empty
// "document" after the first is that bug's artefact, not a second document.
std::optional<YAML::Mark> second_document(std::string_view source) {
  std::stringstream input{std::string(source)};
  YAML::Parser parser(input);
  DocumentProbe first;
  if (!parser.HandleNextDocument(first)) return std::nullopt;
  DocumentProbe second;
  if (!parser.HandleNextDocument(second) || second.nodes == 0) return std::nullopt;
  return second.start;
}

}  // namespace

std::optional<YAML::Node> load_root_mapping(SpecReader& reader) {
  std::vector<YAML::Node> documents;
  try {
    if (auto second = second_document(reader.source())) {
      reader.report_at(*second, "the file holds more than one YAML document ('---'); keep only one");
      return std::nullopt;
    }
    documents.push_back(YAML::Load(std::string(reader.source())));
  } catch (const YAML::DeepRecursion& error) {
    reader.report_at(error.mark, "invalid YAML: nested too deeply to be a .slipway.yml");
    return std::nullopt;
  } catch (const YAML::ParserException& error) {
    report_syntax_error(reader, error);
    return std::nullopt;
  }
  if (documents.empty() || documents.front().IsNull()) {
    reader.report_at(YAML::Mark(), "the file is empty: it needs at least 'kind' and 'test', e.g. "
                                   "kind: application / test: { suites: { unit: make test } }");
    return std::nullopt;
  }
  if (auto open = unclosed_quote(reader.source(), documents.back())) {
    reader.report(*open, "unclosed quote: the string that starts here runs to the end of the file");
    return std::nullopt;
  }
  if (!documents.front().IsMap()) {
    reader.report(documents.front(), fmt::format("the file must be a mapping of keys (kind, test, "
                                                 "publish, ...), found {}", describe_value(documents.front())));
    return std::nullopt;
  }
  return documents.front();
}

void read_without_throwing(SpecReader& reader, const std::function<void()>& read) {
  try {
    read();
  } catch (const std::exception& error) {
    reader.report_at(YAML::Mark::null_mark(), fmt::format("could not read the file: {}", error.what()));
  } catch (...) {
    reader.report_at(YAML::Mark::null_mark(), "could not read the file");
  }
}

}  // namespace slipway
