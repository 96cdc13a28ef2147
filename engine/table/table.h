// Columnar in-memory table: the engine's one representation of a register.
// A column is numeric (double; missing = NaN) or text. Readers (csv.h,
// readstat_io.h, and the HDF5 codec in store/) produce Tables; id columns are
// turned into dense int32 codes by CodeIds (id_coding.h).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace cwfx::table {

enum class ColumnKind { kNumeric, kText };

struct Column {
  std::string name;
  ColumnKind kind = ColumnKind::kNumeric;
  std::vector<double> numeric;     // used when kind == kNumeric; NaN marks missing
  std::vector<std::string> text;   // used when kind == kText; "" marks missing

  int64_t size() const {
    return kind == ColumnKind::kNumeric ? static_cast<int64_t>(numeric.size())
                                        : static_cast<int64_t>(text.size());
  }
};

class Table {
 public:
  Table() = default;
  explicit Table(std::string source) : source_(std::move(source)) {}

  // The file (or generator) this table came from; used in error messages.
  const std::string& source() const { return source_; }
  void set_source(std::string s) { source_ = std::move(s); }

  int64_t num_rows() const { return num_rows_; }
  int num_columns() const { return static_cast<int>(columns_.size()); }

  // Throw cwfx::Error on a duplicate name or a length that differs from the
  // table's row count.
  void AddNumeric(std::string name, std::vector<double> values);
  void AddText(std::string name, std::vector<std::string> values);
  void AddColumn(Column column);

  bool Has(std::string_view name) const;
  // Throws cwfx::Error naming the missing column and the file.
  const Column& column(std::string_view name) const;
  const Column& column(int i) const { return columns_.at(static_cast<size_t>(i)); }
  Column& mutable_column(std::string_view name);
  std::vector<std::string> ColumnNames() const;

  // The values of a numeric column. Throws cwfx::Error (file, row, column,
  // offending text) if the column is text, and, when require_finite is set,
  // if any value is missing or non-finite.
  std::span<const double> Numeric(std::string_view name, bool require_finite = true) const;

  // A new table holding the given rows (in the given order) of every column.
  // It remembers which input row each of its rows came from.
  Table SelectRows(std::span<const int64_t> rows) const;

  // The 1-based row of the input file that row r (0-based) of this table came
  // from: r + 1 for a table as read, the original row after rows were dropped
  // or selected. Every error message names rows this way.
  int64_t InputRow(int64_t r) const {
    return input_rows_.empty() ? r + 1 : input_rows_[static_cast<size_t>(r)] + 1;
  }
  // 0-based input rows of this table's rows (identity when empty).
  const std::vector<int64_t>& input_rows() const { return input_rows_; }
  void set_input_rows(std::vector<int64_t> rows) { input_rows_ = std::move(rows); }

 private:
  int FindIndex(std::string_view name) const;

  std::string source_;
  int64_t num_rows_ = 0;
  std::vector<Column> columns_;
  std::vector<int64_t> input_rows_;  // empty = identity
};

}  // namespace cwfx::table
