#include "publish/docker_messages.h"

#include <nlohmann/json.hpp>

#include "base/strings.h"

namespace slipway {

namespace {

// A message longer than this without a newline is not one of the Engine's: pass it on as text
// rather than hold an unbounded buffer.
constexpr size_t kLongestMessage = 1 << 20;

std::string text_of(const nlohmann::json& message, const char* key) {
  auto found = message.find(key);
  return found != message.end() && found->is_string() ? found->get<std::string>() : "";
}

}  // namespace

void DockerMessages::feed(std::string_view chunk) {
  pending_.append(chunk);
  take_complete_lines(pending_, [this](std::string_view message) { handle_message(message); });
  if (pending_.size() > kLongestMessage) {
    handle_message(pending_);
    pending_.clear();
  }
}

void DockerMessages::finish() {
  if (!pending_.empty()) handle_message(pending_);
  pending_.clear();
  flush_stream_text();
}

void DockerMessages::handle_message(std::string_view text) {
  text = trim(text);
  if (text.empty()) return;
  nlohmann::json message = nlohmann::json::parse(text, nullptr, false);
  if (message.is_discarded() || !message.is_object()) {
    emit(text);
    return;
  }
  if (std::string stream = text_of(message, "stream"); !stream.empty()) add_stream_text(stream);
  std::string error = message.contains("errorDetail") && message["errorDetail"].is_object()
                          ? text_of(message["errorDetail"], "message")
                          : "";
  if (error.empty()) error = text_of(message, "error");
  if (error.empty()) error = text_of(message, "message");  // an error answer's body: {"message": ...}
  if (!error.empty()) {
    if (error_.empty()) error_ = error;
    flush_stream_text();
    emit(error);
  }
  if (std::string status = text_of(message, "status"); !status.empty()) {
    last_status_ = status;
    std::string id = text_of(message, "id");
    // Progress bars repeat a status many times a second: the log keeps the status alone.
    if (!message.contains("progressDetail") || message["progressDetail"].empty()) {
      emit(id.empty() ? status : id + ": " + status);
    }
  }
  if (auto aux = message.find("aux"); aux != message.end() && aux->is_object()) {
    if (std::string id = text_of(*aux, "ID"); !id.empty()) image_id_ = id;
  }
}

void DockerMessages::add_stream_text(std::string_view text) {
  stream_text_.append(text);
  take_complete_lines(stream_text_, [this](std::string_view line) { stream_line(line); });
}

void DockerMessages::flush_stream_text() {
  if (!stream_text_.empty()) stream_line(stream_text_);
  stream_text_.clear();
}

void DockerMessages::stream_line(std::string_view line) {
  if (starts_with(line, "Step ")) last_step_ = std::string(trim(line));
  constexpr std::string_view kBuilt = "Successfully built ";
  if (starts_with(line, kBuilt) && image_id_.empty()) image_id_ = std::string(trim(line.substr(kBuilt.size())));
  emit(line);
}

void DockerMessages::emit(std::string_view line) {
  while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.remove_suffix(1);
  if (trim(line).empty() || !on_line_) return;
  on_line_(line);
}

}  // namespace slipway
