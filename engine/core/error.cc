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
  return out + message;
}

void FailCheck(const char* expr, const char* file, int line, const std::string& msg) {
  std::fprintf(stderr, "cwfx internal error: %s:%d: check '%s' failed: %s\n", file, line, expr,
               msg.c_str());
  std::abort();
}

}  // namespace cwfx
