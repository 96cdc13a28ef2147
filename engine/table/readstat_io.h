// Registers in statistical-package formats (Stata .dta, SPSS .sav/.zsav,
// SAS .sas7bdat and transport .xpt), read and written through ReadStat.
//
// Numeric variables of every storage type become double columns; string
// variables become text. System missing, Stata's extended missing (.a-.z)
// and SPSS user-defined missing values all become NaN (numeric) or "" (text)
// and are then handled by the MissingPolicy, exactly as for CSV. Value labels
// and formats are not read: columns carry the stored codes.
#pragma once

#include <string>
#include <vector>

#include "table/read_options.h"
#include "table/table.h"

namespace cwfx::table {

struct ReadStatOptions {
  // What to do with a row holding a missing value in a kept column.
  MissingPolicy missing = MissingPolicy::kError;
  // Columns to keep, in this order; empty keeps every variable in file order.
  std::vector<std::string> columns;
};

// The format is chosen by the extension (case-insensitive): .dta, .sav, .zsav,
// .sas7bdat, .xpt. Throws cwfx::Error naming the file for an unknown extension
// or any ReadStat failure (its message included), and naming the row and
// column for missing values under kError or infinite values. `report` may be
// null.
Table ReadStatFile(const std::string& path, const ReadStatOptions& options, ReadReport* report = nullptr);

// Writes a Stata 14+ (format 118, UTF-8) file. Numeric columns are stored as
// double (NaN -> system missing '.'); text as str# sized to the longest value.
// Throws cwfx::Error naming the file and, where it applies, the row and column:
// names Stata rejects (at most 32 characters, letters/digits/_ , not starting
// with a digit), text longer than 2045 bytes, infinite values or values beyond
// Stata's double range (about 8.99e307). Written to "<path>.tmp" and renamed on
// success, so a failure leaves no partial file at `path`.
void WriteDta(const Table& table, const std::string& path);

}  // namespace cwfx::table
