// Missing-value policy shared by all readers (see read_options.h).
#include "table/read_options.h"

#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"
#include "core/utf8.h"

namespace cwfx::table {
namespace {

bool IsMissing(const Column& c, size_t r) {
  return c.kind == ColumnKind::kNumeric ? std::isnan(c.numeric[r]) : c.text[r].empty();
}

template <typename T>
void Compact(std::vector<T>* values, const std::vector<char>& keep_n) {
  size_t out = 0;
  for (size_t r = 0; r < values->size(); ++r) {
    if (keep_n[r]) {
      if (out != r) (*values)[out] = std::move((*values)[r]);
      ++out;
    }
  }
  values->resize(out);
  values->shrink_to_fit();
}

}  // namespace

void ApplyMissingPolicy(Table* table, MissingPolicy policy, ReadReport* report) {
  const size_t n = static_cast<size_t>(table->num_rows());
  if (report != nullptr) report->rows_read = table->num_rows();
  if (policy == MissingPolicy::kKeep) return;

  if (policy == MissingPolicy::kError) {
    // Column-major scan (cache friendly); the earliest row wins, then the
    // leftmost column, so the message points at the first problem in the file.
    int64_t first_row = -1;
    int first_col = -1;
    for (int j = 0; j < table->num_columns(); ++j) {
      const Column& c = table->column(j);
      const size_t limit = first_row < 0 ? n : static_cast<size_t>(first_row);
      for (size_t r = 0; r < limit; ++r) {
        if (IsMissing(c, r)) {
          first_row = static_cast<int64_t>(r);
          first_col = j;
          break;
        }
      }
    }
    if (first_row >= 0) {
      throw Error(Location{table->source(), table->InputRow(first_row), table->column(first_col).name},
                  "missing value; pass --missing drop to drop rows with missing values");
    }
    return;
  }

  std::vector<char> keep_n(n, 1);
  int64_t dropped = 0;
  for (int j = 0; j < table->num_columns(); ++j) {
    const Column& c = table->column(j);
    for (size_t r = 0; r < n; ++r) {
      if (keep_n[r] && IsMissing(c, r)) {
        keep_n[r] = 0;
        ++dropped;
      }
    }
  }
  if (report != nullptr) report->rows_dropped_missing = dropped;
  if (dropped == 0) return;
  if (static_cast<size_t>(dropped) == n) {
    // Said here, where it is known, rather than as "0 rows" further on.
    std::vector<std::string> with_missing;
    for (int j = 0; j < table->num_columns(); ++j) {
      const Column& c = table->column(j);
      for (size_t r = 0; r < n; ++r)
        if (IsMissing(c, r)) {
          with_missing.push_back("'" + c.name + "'");
          break;
        }
    }
    std::string cols;
    for (const auto& c : with_missing) cols += (cols.empty() ? "" : ", ") + c;
    throw Error(Location{table->source(), -1, ""}, "every one of the " + std::to_string(n) +
                                                       " rows has a missing value in a column the model uses (" +
                                                       cols + "), so dropping them (--missing drop) leaves nothing");
  }

  // Rebuild the table from its own columns, moved and compacted in place, so a
  // large register is never held twice.
  Table out(table->source());
  std::vector<int64_t> kept_input_rows;
  kept_input_rows.reserve(n - static_cast<size_t>(dropped));
  for (size_t r = 0; r < n; ++r) {
    if (keep_n[r]) kept_input_rows.push_back(table->InputRow(static_cast<int64_t>(r)) - 1);
  }
  for (const std::string& name : table->ColumnNames()) {
    Column c = std::move(table->mutable_column(name));
    if (c.kind == ColumnKind::kNumeric) {
      Compact(&c.numeric, keep_n);
    } else {
      Compact(&c.text, keep_n);
    }
    out.AddColumn(std::move(c));
  }
  out.set_input_rows(std::move(kept_input_rows));
  *table = std::move(out);
}

void RejectInfinite(const Table& table) {
  for (int j = 0; j < table.num_columns(); ++j) {
    const Column& c = table.column(j);
    if (c.kind != ColumnKind::kNumeric) continue;
    for (size_t r = 0; r < c.numeric.size(); ++r) {
      if (std::isinf(c.numeric[r])) {
        throw Error(Location{table.source(), table.InputRow(static_cast<int64_t>(r)), c.name},
                    "non-finite value (" + std::string(c.numeric[r] > 0 ? "Inf" : "-Inf") + ")");
      }
    }
  }
}

namespace {
std::string HexBytes(std::string_view text, size_t at) {
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (size_t i = at; i < text.size() && i < at + 4; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    out += "\\x";
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}
constexpr const char* kConvertAdvice = "; convert the file to UTF-8 first (e.g. iconv -f LATIN1 -t UTF-8)";
}  // namespace

void RejectInvalidUtf8(const Table& table) {
  for (int j = 0; j < table.num_columns(); ++j) {
    const Column& c = table.column(j);
    const size_t bad_name = FindInvalidUtf8(c.name);
    if (bad_name != std::string_view::npos) {
      throw Error(Location{table.source(), -1, ""}, "column " + std::to_string(j + 1) +
                                                        "'s name is not valid UTF-8 (bytes " +
                                                        HexBytes(c.name, bad_name) + ")" + kConvertAdvice);
    }
    if (c.kind != ColumnKind::kText) continue;
    for (size_t r = 0; r < c.text.size(); ++r) {
      const size_t nul = c.text[r].find('\0');
      if (nul != std::string::npos) {
        // "A\0B" and "A\0C" would both read back as "A" from an HDF5 string.
        throw Error(Location{table.source(), table.InputRow(static_cast<int64_t>(r)), c.name},
                    "a NUL byte at byte " + std::to_string(nul + 1) + " of the value: not text");
      }
      const size_t at = FindInvalidUtf8(c.text[r]);
      if (at != std::string_view::npos) {
        throw Error(Location{table.source(), table.InputRow(static_cast<int64_t>(r)), c.name},
                    "not valid UTF-8 (bytes " + HexBytes(c.text[r], at) + " at byte " + std::to_string(at + 1) +
                        ")" + kConvertAdvice);
      }
    }
  }
}

}  // namespace cwfx::table
