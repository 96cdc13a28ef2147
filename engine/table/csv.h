// Delimited text registers (CSV/TSV) to and from Tables.
//
// Dialect: RFC 4180 with a configurable delimiter. Fields may be quoted with
// '"'; a quote inside a quoted field is doubled (""). Quoted fields may hold
// delimiters and line breaks. LF and CRLF line endings are both accepted, the
// final line break is optional, a UTF-8 byte order mark is skipped, and blank
// lines at the very end of the file are ignored. Text is kept exactly as
// written (store::ReadAnyTable then refuses bytes that are not UTF-8).
//
// Types: a column is numeric when every non-missing field parses completely as
// a number (std::from_chars, surrounding spaces and a leading '+' allowed);
// otherwise it is text. A text column whose values all look like numbers (e.g.
// zero-padded ids "007") therefore reads back as numeric. An integer literal
// of 2^53 or more (16+ digits, e.g. a national id) is not a number here: a
// double would lose its digits, so its column stays text.
//
// Missing values: an empty field, NA, or a lone '.' (unquoted). They become NaN
// in numeric columns and "" in text columns and are then handled by
// CsvReadOptions::missing. A NaN or Inf literal in a numeric column is an error
// ("non-finite value") under either policy.
//
// Rows in errors are 1-based data records (the header is not counted), which is
// the file line minus one unless a quoted field spans lines.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "table/read_options.h"
#include "table/table.h"

namespace cwfx::table {

struct CsvReadOptions {
  // Field separator; ReadAnyTable uses '\t' for .tsv files.
  char delimiter = ',';
  // What to do with a row holding a missing value in a kept column.
  MissingPolicy missing = MissingPolicy::kError;
  // Columns to keep, in this order; empty keeps every column in file order.
  // Dropped columns are still tokenised (field counts are checked) but never
  // parsed or checked for missing values.
  std::vector<std::string> columns;
  // Threads for parsing (the table is the same for any count).
  int threads = 1;
  // false reads with the sequential reference reader only (for comparisons;
  // the parallel pass falls back to it by itself whenever it must).
  bool parallel_pass = true;
  // Bytes per chunk of the parallel pass; 0 = the default (1 MB). Tests and
  // the fuzzer set a few bytes, to cross chunk boundaries in small files.
  size_t parallel_chunk_bytes = 0;
};

// Reads the whole file. Throws cwfx::Error (file, row, column) on unreadable or
// empty files, bad headers, ragged rows, non-finite numbers, missing values
// under kError, and unknown requested columns. `report` may be null.
Table ReadCsv(const std::string& path, const CsvReadOptions& options, ReadReport* report = nullptr);

struct CsvWriteOptions {
  // Field separator.
  char delimiter = ',';
};

// Writes a header and one line per row (LF endings). Numbers use the shortest
// form that reads back to the identical double (integers have no decimals);
// NaN is written as an empty field. Text is quoted when needed so that it
// reads back unchanged (including literal "NA" and "."). The file is written
// to "<path>.tmp" and renamed over `path` only when complete, so a failed
// write (e.g. a full disk, reported as cwfx::Error) never leaves a truncated
// file at `path`.
void WriteCsv(const Table& table, const std::string& path, const CsvWriteOptions& options = {});

}  // namespace cwfx::table
