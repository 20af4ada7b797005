// Result<T>: a value or an Error, the way every module boundary in Slipway reports failure.
// Errors are values, not exceptions: a caller must look before it takes the value, and the
// message is written for the user (what went wrong, where, what to do). A caller that must
// decide what to do next looks at the error's kind (and, for a failed connection, its cause),
// never at the message's words, which are free to change.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace slipway {

// What kind of failure: the one thing a caller may branch on. The HTTP API maps each kind to
// its status in one place (server/http_router.h, HttpResponse::from_error).
enum class ErrorKind {
  internal,       // a fault of this program or its store: nothing the caller can change
  not_found,      // what was asked for does not exist
  conflict,       // it exists, but its state (or the server's) forbids this now
  invalid_input,  // the request or the input file is wrong; the message says where
  unauthorized,   // credentials missing or refused
  unavailable,    // something outside did not answer (refused, unreachable, not running)
  timeout,        // something outside did not answer in time
};

struct Error {
  std::string message;
  ErrorKind kind = ErrorKind::internal;
  // For unavailable and timeout: the short reason alone ("Connection refused", "Operation timed
  // out after 2000 milliseconds"), for a caller that words its own message. Else empty.
  std::string cause;
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::move(value)) {}
  Result(Error error) : state_(std::move(error)) {}

  bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(state_); }
  const T& value() const& { return std::get<0>(state_); }
  T&& value() && { return std::get<0>(std::move(state_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const { return std::get<1>(state_); }

 private:
  std::variant<T, Error> state_;
};

// Result<void>: success carries nothing.
template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), failed_(true) {}

  bool ok() const { return !failed_; }
  explicit operator bool() const { return ok(); }
  const Error& error() const { return error_; }

 private:
  Error error_;
  bool failed_ = false;
};

using Status = Result<void>;

inline Error make_error(std::string message) { return Error{std::move(message)}; }
inline Error make_error(ErrorKind kind, std::string message, std::string cause = "") {
  return Error{std::move(message), kind, std::move(cause)};
}

}  // namespace slipway
