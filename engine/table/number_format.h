// Numbers as text, one rule for the whole engine: the shortest round-trip text
// for a double (CSV writer, id labels) and the parse every reader applies.
#pragma once

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace cwfx::table {

// Integral values print as integers ("12", "1000000000000"; never "12.0" or
// "1e+12"); any other value prints in the shortest form std::from_chars reads
// back to the identical double. NaN and Inf print as "nan", "inf", "-inf".
// Whole-text number parse, as every reader of the engine understands numbers:
// surrounding spaces/tabs and a leading '+' allowed; overflow gives +-HUGE_VAL.
// Returns false when the text is not a number.
inline bool ParseNumberText(std::string_view text, double* out) {
  const char* b = text.data();
  const char* e = text.data() + text.size();
  while (b < e && (*b == ' ' || *b == '\t')) ++b;
  while (e > b && (e[-1] == ' ' || e[-1] == '\t')) --e;
  if (b < e && *b == '+') {
    ++b;
    if (b < e && *b == '-') return false;
  }
  if (b == e) return false;
  const auto [ptr, ec] = std::from_chars(b, e, *out, std::chars_format::general);
  if (ptr != e) return false;
  if (ec == std::errc::result_out_of_range) {
    *out = std::strtod(std::string(b, e).c_str(), nullptr);
    return true;
  }
  return ec == std::errc();
}

inline void AppendNumber(std::string* out, double v) {
  char buf[64];
  std::to_chars_result res;
  // 9.2e18 < 2^63, so the cast cannot overflow; every such integral double is
  // exactly representable as int64.
  if (std::isfinite(v) && v == std::trunc(v) && std::fabs(v) < 9.2e18) {
    res = std::to_chars(buf, buf + sizeof(buf), static_cast<int64_t>(v));
  } else {
    res = std::to_chars(buf, buf + sizeof(buf), v);
  }
  out->append(buf, res.ptr);
}

inline std::string FormatNumber(double v) {
  std::string s;
  AppendNumber(&s, v);
  return s;
}

}  // namespace cwfx::table
