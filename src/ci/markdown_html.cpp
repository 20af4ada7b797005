#include "ci/markdown_html.h"

#include <cstdlib>
#include <memory>
#include <vector>

#include <cmark.h>

#include "base/strings.h"

namespace slipway {

namespace {

struct NodeFree {
  void operator()(cmark_node* node) const { cmark_node_free(node); }
};
using NodePointer = std::unique_ptr<cmark_node, NodeFree>;

// Swaps `old_node` for `new_node` in the tree and frees the old one; leaves both as they were
// (and frees the new one) if cmark refuses the swap.
bool replace_node(cmark_node* old_node, cmark_node* new_node) {
  if (!cmark_node_replace(old_node, new_node)) {
    cmark_node_free(new_node);
    return false;
  }
  return true;
}

// Raw HTML becomes literal text (a code block for a block of it), so the reader sees what the
// test wrote, escaped by the renderer like any other text.
void show_raw_html_as_text(cmark_node* node) {
  bool block = cmark_node_get_type(node) == CMARK_NODE_HTML_BLOCK;
  cmark_node* text = cmark_node_new(block ? CMARK_NODE_CODE_BLOCK : CMARK_NODE_TEXT);
  const char* literal = cmark_node_get_literal(node);
  cmark_node_set_literal(text, literal ? literal : "");
  if (replace_node(node, text)) cmark_node_free(node);
}

// An image would be fetched when the page opens; a link to it is fetched only if clicked.
void turn_image_into_link(cmark_node* image) {
  cmark_node* link = cmark_node_new(CMARK_NODE_LINK);
  cmark_node_set_url(link, cmark_node_get_url(image));
  cmark_node_set_title(link, cmark_node_get_title(image));
  if (!replace_node(image, link)) return;
  while (cmark_node* child = cmark_node_first_child(image)) cmark_node_append_child(link, child);
  cmark_node_free(image);
}

void neutralise(cmark_node* document) {
  // The tree is changed after the walk: cmark's iterator must not see a node it has freed.
  std::vector<cmark_node*> raw_html, images;
  cmark_iter* iter = cmark_iter_new(document);
  for (cmark_event_type event; (event = cmark_iter_next(iter)) != CMARK_EVENT_DONE;) {
    if (event != CMARK_EVENT_ENTER) continue;
    cmark_node* node = cmark_iter_get_node(iter);
    cmark_node_type type = cmark_node_get_type(node);
    if (type == CMARK_NODE_HTML_BLOCK || type == CMARK_NODE_HTML_INLINE) raw_html.push_back(node);
    if (type == CMARK_NODE_IMAGE) images.push_back(node);
  }
  cmark_iter_free(iter);
  for (cmark_node* node : raw_html) show_raw_html_as_text(node);
  for (cmark_node* image : images) turn_image_into_link(image);
}

}  // namespace

std::string render_markdown_safely(std::string_view markdown) {
  // CMARK_OPT_SAFE is already cmark 0.30's default; it is spelled out so the intent survives
  // a library change. It drops raw HTML and javascript:/vbscript:/file:/data: links.
  const int options = CMARK_OPT_SAFE | CMARK_OPT_VALIDATE_UTF8;
  std::string text = sanitize_utf8(markdown);
  NodePointer document(cmark_parse_document(text.data(), text.size(), options));
  if (!document) return {};
  neutralise(document.get());
  char* html = cmark_render_html(document.get(), options);
  if (!html) return {};
  std::string out(html);
  std::free(html);  // cmark's default allocator is malloc/free
  return out;
}

}  // namespace slipway
