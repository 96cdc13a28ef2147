#include "core/error.h"

#include <cstdio>
#include <cstdlib>

namespace cwfx {

std::string Error::Format(const Location& where, const std::string& message) {
  std::string out;
  auto sep = [&out] {
    if (!out.empty()) out += ", ";
  };
  if (!where.file.empty()) out += where.file;
  if (where.row >= 0) {
    sep();
    out += "row " + std::to_string(where.row);
  }
  if (!where.column.empty()) {
    sep();
    out += "column '" + where.column + "'";
  }
  if (!out.empty()) out += ": ";
  out += message;
  // Bytes from a file can be anything: a NUL would cut the message short
  // where it is printed as a C string, other control bytes garble a
  // terminal. They are shown as \xNN (line breaks and tabs stay).
  std::string safe;
  safe.reserve(out.size());
  for (const char ch : out) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f) {
      static const char* kHex = "0123456789abcdef";
      safe += "\\x";
      safe += kHex[c >> 4];
      safe += kHex[c & 15];
    } else {
      safe += ch;
    }
  }
  return safe;
}

void FailCheck(const char* expr, const char* file, int line, const std::string& msg) {
  std::fprintf(stderr, "cwfx internal error: %s:%d: check '%s' failed: %s\n", file, line, expr,
               msg.c_str());
  std::abort();
}

}  // namespace cwfx
