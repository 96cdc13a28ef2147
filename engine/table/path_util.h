// File-name helpers shared by the readers (the format dispatch in
// store::ReadAnyTable and the ReadStat reader).
#pragma once

#include <cctype>
#include <string>

namespace cwfx::table {

// The extension of the last path component, dot included and lower-cased
// ("/a/B.DTA" -> ".dta"); "" when the file name has no dot.
inline std::string LowerExtension(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  const size_t dot = path.find_last_of('.');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) return "";
  std::string ext = path.substr(dot);
  for (char& ch : ext) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return ext;
}

}  // namespace cwfx::table
