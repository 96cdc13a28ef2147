#include "table/number_format.h"

#include <fast_float/fast_float.h>

namespace cwfx::table {

// fast_float, not std::from_chars: the same correctly rounded result, but
// inlined into the reader's loop (libstdc++'s out-of-line from_chars was a
// seventh of a CSV read). Out-of-range values round to +-inf or to zero or a
// subnormal, as strtod does.
bool ParseNumberText(std::string_view text, double* out) {
  const char* b = text.data();
  const char* e = text.data() + text.size();
  while (b < e && (*b == ' ' || *b == '\t')) ++b;
  while (e > b && (e[-1] == ' ' || e[-1] == '\t')) --e;
  if (b < e && *b == '+') {
    ++b;
    if (b < e && *b == '-') return false;
  }
  if (b == e) return false;
  const fast_float::from_chars_result r = fast_float::from_chars(b, e, *out, fast_float::chars_format::general);
  if (r.ptr != e) return false;
  if (r.ec == std::errc::result_out_of_range) {
    *out = std::strtod(std::string(b, e).c_str(), nullptr);
    return true;
  }
  return r.ec == std::errc();
}

}  // namespace cwfx::table
