// Shortest round-trip text for a double, shared by the CSV writer and the id
// labels so that a number always prints the same way in every output.
#pragma once

#include <charconv>
#include <cmath>
#include <cstdint>
#include <string>

namespace cwfx::table {

// Integral values print as integers ("12", "1000000000000"; never "12.0" or
// "1e+12"); any other value prints in the shortest form std::from_chars reads
// back to the identical double. NaN and Inf print as "nan", "inf", "-inf".
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
