// The one exception type of the engine. Bad input and impossible requests are
// thrown as cwfx::Error carrying where it happened (file, row, column) and what
// was expected; the CLI catches it and exits non-zero. Numerical outcomes
// (non-convergence, dropped singletons, collinearity) are NOT errors: they are
// reported in each algorithm's summary struct.
//
// Two failures are not the user's input and say so by their kind, so that a
// script can tell them apart (each has its own exit code): a computation that
// could not be carried out on valid input (a factorisation that failed, a
// covariance that is not positive semi-definite), and an output that could
// not be written (disk full, I/O error).
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

namespace cwfx {

// Where a problem was found. Empty/negative members are omitted from messages.
struct Location {
  std::string file;
  int64_t row = -1;  // 1-based data row (the header is not counted)
  std::string column;
};

enum class ErrorKind {
  kBadInput,     // the data, a flag or a file given is wrong (the default)
  kComputation,  // valid input, but a numerical step failed
  kWrite,        // an output could not be written
};

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(Format(Location{}, message)) {}
  Error(const Location& where, const std::string& message)
      : std::runtime_error(Format(where, message)), where_(where) {}
  Error(ErrorKind kind, const Location& where, const std::string& message)
      : std::runtime_error(Format(where, message)), where_(where), kind_(kind) {}

  const Location& where() const { return where_; }
  ErrorKind kind() const { return kind_; }

  // "file.csv, row 17, column 'age': expected a number, found 'abc'"
  static std::string Format(const Location& where, const std::string& message);

 private:
  Location where_;
  ErrorKind kind_ = ErrorKind::kBadInput;
};

// A numerical step failed on valid input (see ErrorKind::kComputation).
inline Error ComputationError(const std::string& message) {
  return Error(ErrorKind::kComputation, Location{}, message);
}
// An output could not be written (see ErrorKind::kWrite).
inline Error WriteError(const Location& where, const std::string& message) {
  return Error(ErrorKind::kWrite, where, message);
}

// Programmer errors (violated preconditions inside the engine) are assertions;
// CWFX_CHECK stays on in release builds because these guard memory safety.
[[noreturn]] void FailCheck(const char* expr, const char* file, int line, const std::string& msg);

}  // namespace cwfx

#define CWFX_CHECK(cond, msg)                                       \
  do {                                                              \
    if (!(cond)) ::cwfx::FailCheck(#cond, __FILE__, __LINE__, msg); \
  } while (0)
