#include "publish/s3_xml.h"

#include <charconv>
#include <sstream>

#include <fmt/core.h>
#include <pugixml.hpp>

namespace slipway {

namespace {

// The first characters of a body, for error messages about answers that are not what S3 sends.
std::string excerpt(std::string_view text) {
  std::string shown(text.substr(0, 200));
  for (char& c : shown) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return text.size() > 200 ? shown + "…" : shown;
}

Result<pugi::xml_document> load(std::string_view xml, std::string_view expected_root) {
  pugi::xml_document document;
  pugi::xml_parse_result parsed = document.load_buffer(xml.data(), xml.size());
  if (!parsed) {
    return make_error(fmt::format("the answer is not XML ({} at byte {}): {}", parsed.description(), parsed.offset,
                                  excerpt(xml)));
  }
  if (std::string_view(document.document_element().name()) != expected_root) {
    return make_error(fmt::format("expected <{}> in the answer, got: {}", expected_root, excerpt(xml)));
  }
  return document;
}

std::string strip_quotes(std::string etag) {
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') return etag.substr(1, etag.size() - 2);
  return etag;
}

S3ErrorBody error_from(const pugi::xml_node& node) {
  return S3ErrorBody{node.child_value("Code"), node.child_value("Message"), node.child_value("Key"),
                     node.child_value("BucketName")};
}

std::string to_text(const pugi::xml_document& document) {
  std::ostringstream out;
  document.save(out, "", pugi::format_raw);
  return out.str();
}

}  // namespace

std::optional<S3ErrorBody> parse_s3_error(std::string_view xml) {
  pugi::xml_document document;
  if (xml.empty() || !document.load_buffer(xml.data(), xml.size())) return std::nullopt;
  pugi::xml_node error = document.child("Error");
  if (!error) return std::nullopt;
  return error_from(error);
}

Result<S3ListPage> parse_list_objects_v2(std::string_view xml) {
  auto document = load(xml, "ListBucketResult");
  if (!document) return document.error();
  pugi::xml_node root = document->document_element();
  S3ListPage page;
  page.truncated = std::string_view(root.child_value("IsTruncated")) == "true";
  page.next_continuation_token = root.child_value("NextContinuationToken");
  for (pugi::xml_node contents : root.children("Contents")) {
    S3Object object;
    object.key = contents.child_value("Key");
    std::string_view size = contents.child_value("Size");
    auto [end, error] = std::from_chars(size.data(), size.data() + size.size(), object.size);
    if (error != std::errc() || end != size.data() + size.size()) {
      return make_error(fmt::format("the listing gives '{}' a size that is not a number: '{}'", object.key, size));
    }
    object.etag = strip_quotes(contents.child_value("ETag"));
    page.objects.push_back(std::move(object));
  }
  if (page.truncated && page.next_continuation_token.empty()) {
    return make_error("the listing is truncated but gives no NextContinuationToken to read the rest");
  }
  return page;
}

Result<std::string> parse_initiate_multipart_upload(std::string_view xml) {
  auto document = load(xml, "InitiateMultipartUploadResult");
  if (!document) return document.error();
  std::string upload_id = document->document_element().child_value("UploadId");
  if (upload_id.empty()) return make_error("the answer to a multipart upload's start has no UploadId: " + excerpt(xml));
  return upload_id;
}

std::string complete_multipart_upload_body(const std::vector<S3CompletedPart>& parts) {
  pugi::xml_document document;
  pugi::xml_node root = document.append_child("CompleteMultipartUpload");
  root.append_attribute("xmlns") = "http://s3.amazonaws.com/doc/2006-03-01/";
  for (const S3CompletedPart& part : parts) {
    pugi::xml_node node = root.append_child("Part");
    node.append_child("PartNumber").text().set(part.number);
    node.append_child("ETag").text().set(part.etag.c_str());
  }
  return to_text(document);
}

Result<std::string> parse_complete_multipart_upload(std::string_view xml) {
  auto document = load(xml, "CompleteMultipartUploadResult");
  if (!document) return document.error();
  return strip_quotes(document->document_element().child_value("ETag"));
}

std::string delete_objects_body(const std::vector<std::string>& keys) {
  pugi::xml_document document;
  pugi::xml_node root = document.append_child("Delete");
  root.append_attribute("xmlns") = "http://s3.amazonaws.com/doc/2006-03-01/";
  root.append_child("Quiet").text().set("true");
  for (const std::string& key : keys) root.append_child("Object").append_child("Key").text().set(key.c_str());
  return to_text(document);
}

Result<std::vector<S3ErrorBody>> parse_delete_result(std::string_view xml) {
  auto document = load(xml, "DeleteResult");
  if (!document) return document.error();
  std::vector<S3ErrorBody> errors;
  for (pugi::xml_node error : document->document_element().children("Error")) errors.push_back(error_from(error));
  return errors;
}

}  // namespace slipway
