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

// Integral values below 2^53 print as integers ("12", "1000000000000"; never
// "12.0" or "1e+12"); any other value prints in the shortest form std::from_chars reads
// back to the identical double. NaN and Inf print as "nan", "inf", "-inf".
// Whole-text number parse, as every reader of the engine understands numbers:
// surrounding spaces/tabs and a leading '+' allowed; overflow gives +-HUGE_VAL.
// Returns false when the text is not a number.
bool ParseNumberText(std::string_view text, double* out);

// Magnitude from which a double no longer holds every integer exactly.
inline constexpr double kExactIntegerLimit = 9007199254740992.0;  // 2^53

// The text, without surrounding spaces/tabs and a leading '+', when it is an
// integer literal ([-]digits); empty otherwise.
inline std::string_view IntegerLiteral(std::string_view text) {
  size_t b = text.find_first_not_of(" \t");
  if (b == std::string_view::npos) return {};
  const size_t e = text.find_last_not_of(" \t") + 1;
  text = text.substr(b, e - b);
  if (!text.empty() && text[0] == '+') text.remove_prefix(1);
  const size_t digits_from = !text.empty() && text[0] == '-' ? 1 : 0;
  if (text.size() == digits_from) return {};
  for (size_t i = digits_from; i < text.size(); ++i)
    if (text[i] < '0' || text[i] > '9') return {};
  return text;
}

// An integer literal too long for a double (|value| >= 2^53, e.g. a national
// id): readers keep such a column as text so that no digit is lost.
inline bool IsLongIntegerLiteral(std::string_view text) {
  const std::string_view digits = IntegerLiteral(text);
  if (digits.empty()) return false;
  double v = 0;
  std::from_chars(digits.data(), digits.data() + digits.size(), v);
  return std::fabs(v) >= kExactIntegerLimit;
}

// One spelling per id value, so that a text id column codes "01", "1", " 1"
// and "1.0" as one id, as a numeric column does: numbers in their shortest
// form (integer literals of any length exactly, without leading zeros), any
// other text unchanged.
inline std::string CanonicalIdText(std::string_view text);

inline void AppendNumber(std::string* out, double v) {
  char buf[64];
  std::to_chars_result res;
  // Integer digits only below 2^53: a longer integer literal reads back as
  // text (IsLongIntegerLiteral), so larger values keep the shortest
  // round-trip form (1.2345e+17).
  if (std::isfinite(v) && v == std::trunc(v) && std::fabs(v) < kExactIntegerLimit) {
    res = std::to_chars(buf, buf + sizeof(buf), static_cast<int64_t>(v));
  } else if (std::isfinite(v) && std::fabs(v) >= kExactIntegerLimit) {
    res = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::scientific);  // never an integer literal
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

inline std::string CanonicalIdText(std::string_view text) {
  const std::string_view digits = IntegerLiteral(text);
  if (!digits.empty()) {
    const bool negative = digits[0] == '-';
    std::string_view body = digits.substr(negative ? 1 : 0);
    while (body.size() > 1 && body[0] == '0') body.remove_prefix(1);
    if (body == "0") return "0";
    return (negative ? "-" : "") + std::string(body);
  }
  double v = 0;
  if (ParseNumberText(text, &v) && std::isfinite(v) && std::fabs(v) < kExactIntegerLimit) return FormatNumber(v);
  return std::string(text);
}

}  // namespace cwfx::table
