// Number formatting shared by the report's sections (not installed): every
// function returns HTML-safe text, and NaN prints as an en dash so no "nan"
// ever reaches the page.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace cwfx::report::internal {

// The report's style sheet (<style> element), shared by every page.
std::string Css();

// Quartile colours, bottom (light) to top (dark); labels bottom first.
inline const std::vector<std::string> kQuartileColors = {"#a9c1e0", "#7298cb", "#3f6fae", "#173f78"};
inline const std::vector<std::string> kQuartileLabels = {"Q1 (bottom)", "Q2", "Q3", "Q4 (top)"};

// printf of one double; NaN or infinity: "&ndash;".
inline std::string F(const char* fmt, double v) {
  if (!std::isfinite(v)) return "&ndash;";
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, v);
  return buf;
}

// An integer with thousands separators.
inline std::string I(int64_t v) {
  std::string s = std::to_string(v < 0 ? -v : v), out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i > 0 && (s.size() - i) % 3 == 0) out += ',';
    out += s[i];
  }
  return v < 0 ? "-" + out : out;
}

// A p-value: "0.123", "0.0012" or "&lt; 0.0001".
inline std::string P(double p) {
  if (std::isnan(p)) return "&ndash;";
  if (p < 0.0001) return "&lt; 0.0001";
  return F(p < 0.01 ? "%.4f" : "%.3f", p);
}

// "= 0.012" or "&lt; 0.0001".
inline std::string PEq(double p) {
  const std::string v = P(p);
  return v.rfind("&lt;", 0) == 0 ? v : "= " + v;
}

}  // namespace cwfx::report::internal
