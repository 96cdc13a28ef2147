#include "table/table.h"

#include <charconv>
#include <cmath>

#include "core/error.h"
#include "table/number_format.h"

namespace cwfx::table {

int Table::FindIndex(std::string_view name) const {
  for (size_t i = 0; i < columns_.size(); ++i) {
    if (columns_[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

void Table::AddColumn(Column column) {
  if (column.name.empty()) throw Error(Location{source_, -1, ""}, "a column has an empty name");
  if (FindIndex(column.name) >= 0) {
    throw Error(Location{source_, -1, column.name}, "duplicate column name");
  }
  if (!columns_.empty() && column.size() != num_rows_) {
    throw Error(Location{source_, -1, column.name},
                "has " + std::to_string(column.size()) + " values but the table has " +
                    std::to_string(num_rows_) + " rows");
  }
  num_rows_ = column.size();
  columns_.push_back(std::move(column));
}

void Table::AddNumeric(std::string name, std::vector<double> values) {
  Column c;
  c.name = std::move(name);
  c.kind = ColumnKind::kNumeric;
  c.numeric = std::move(values);
  AddColumn(std::move(c));
}

void Table::AddText(std::string name, std::vector<std::string> values) {
  Column c;
  c.name = std::move(name);
  c.kind = ColumnKind::kText;
  c.text = std::move(values);
  AddColumn(std::move(c));
}

bool Table::Has(std::string_view name) const { return FindIndex(name) >= 0; }

const Column& Table::column(std::string_view name) const {
  const int i = FindIndex(name);
  if (i < 0) {
    std::string available;
    for (const auto& c : columns_) {
      if (available.size() > 300) {
        available += ", ...";
        break;
      }
      available += (available.empty() ? "" : ", ") + c.name;
    }
    throw Error(Location{source_, -1, std::string(name)},
                "no such column (available: " + available + ")");
  }
  return columns_[static_cast<size_t>(i)];
}

Column& Table::mutable_column(std::string_view name) {
  return const_cast<Column&>(static_cast<const Table*>(this)->column(name));
}

std::vector<std::string> Table::ColumnNames() const {
  std::vector<std::string> names;
  names.reserve(columns_.size());
  for (const auto& c : columns_) names.push_back(c.name);
  return names;
}

std::span<const double> Table::Numeric(std::string_view name, bool require_finite) const {
  const Column& c = column(name);
  if (c.kind != ColumnKind::kNumeric) {
    // A text column arises when some value is not a number: name the first one.
    for (size_t r = 0; r < c.text.size(); ++r) {
      const std::string& v = c.text[r];
      double parsed = 0;
      if (!v.empty() && !ParseNumberText(v, &parsed)) {
        throw Error(Location{source_, InputRow(static_cast<int64_t>(r)), c.name},
                    "expected a number, found '" + c.text[r] + "'");
      }
      if (IsLongIntegerLiteral(v)) {
        throw Error(Location{source_, InputRow(static_cast<int64_t>(r)), c.name},
                    "'" + v + "' has more digits than a number holds exactly (|x| >= 2^53), so the column is "
                    "text: use it as an id, or rescale it");
      }
    }
    throw Error(Location{source_, -1, c.name}, "expected a numeric column, found text");
  }
  if (require_finite) {
    for (size_t r = 0; r < c.numeric.size(); ++r) {
      if (!std::isfinite(c.numeric[r])) {
        throw Error(Location{source_, InputRow(static_cast<int64_t>(r)), c.name},
                    std::isnan(c.numeric[r]) ? "missing value where a number is required"
                                             : "non-finite value (Inf) where a finite number is required");
      }
    }
  }
  return c.numeric;
}

Table Table::SelectRows(std::span<const int64_t> rows) const {
  Table out(source_);
  for (const auto& c : columns_) {
    Column nc;
    nc.name = c.name;
    nc.kind = c.kind;
    if (c.kind == ColumnKind::kNumeric) {
      nc.numeric.reserve(rows.size());
      for (int64_t r : rows) nc.numeric.push_back(c.numeric.at(static_cast<size_t>(r)));
    } else {
      nc.text.reserve(rows.size());
      for (int64_t r : rows) nc.text.push_back(c.text.at(static_cast<size_t>(r)));
    }
    out.AddColumn(std::move(nc));
  }
  if (columns_.empty()) out.num_rows_ = 0;
  out.input_rows_.reserve(rows.size());
  for (int64_t r : rows) out.input_rows_.push_back(InputRow(r) - 1);
  return out;
}

}  // namespace cwfx::table
