// Id columns of any type (numeric or text) coded to dense int32 codes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "table/table.h"

namespace cwfx::table {

struct IdCoding {
  std::vector<int32_t> codes_n;     // one code per row, in [0, num_levels)
  std::vector<std::string> labels;  // labels[code] = the id (numbers in their shortest form)
  int32_t num_levels = 0;
};

// Codes are assigned in sorted order of the ids (numeric order for numeric
// columns, lexicographic for text), so they do not depend on row order.
// In a text column, spellings of one number are one id ("01", "1", "1.0"),
// as they are in a numeric column: the coding of a value never depends on
// the rest of its column. Integer ids of any length stay exact as text (CSV
// keeps a column holding a 16+ digit integer as text).
// A missing id throws cwfx::Error naming the file, row and column.
IdCoding CodeIds(const Table& table, const std::string& column);

}  // namespace cwfx::table
