// What every table reader shares: the policy for missing values and the
// report of what was read. Kept apart from the readers so that the CSV,
// ReadStat and HDF5 paths apply exactly the same rule (one place decides what
// "missing" means for a register row).
#pragma once

#include <cstdint>
#include <string>

#include "table/table.h"

namespace cwfx::table {

// What a reader does with a row that has a missing value in a kept column.
enum class MissingPolicy {
  kError,    // throw cwfx::Error naming the file, row and column
  kDropRow,  // drop the row and count it in ReadReport::rows_dropped_missing
  kKeep,     // keep it (NaN / ""): the caller applies its own rule, e.g. to some columns only
};

struct ReadReport {
  int64_t rows_read = 0;             // data rows in the file (before dropping)
  int64_t rows_dropped_missing = 0;  // rows dropped under MissingPolicy::kDropRow
  bool read_in_parallel = false;     // CSV: the parallel pass read the whole file (no fallback)
  // The content fingerprint (core/fingerprint.h) of the bytes read, where
  // the reader holds them all (CSV/TSV, a pipe included: it cannot be read
  // again, and a file need not be); empty for the other formats.
  std::string content_fingerprint;
};

// Applies `policy` to a freshly read table: a missing value is NaN in a
// numeric column and "" in a text column. Under kError the first missing
// value (smallest row, then leftmost column) is thrown; under kDropRow the
// rows holding one are removed in place. Row numbers in errors are 1-based
// rows of `table` as read. `report` may be null.
void ApplyMissingPolicy(Table* table, MissingPolicy policy, ReadReport* report);

// Throws cwfx::Error for the first +-Inf in a numeric column: the engine has
// no use for infinite covariates and they usually mean a broken export.
void RejectInfinite(const Table& table);

// Throws cwfx::Error for the first column name or text value that is not
// valid UTF-8 or holds a NUL byte, naming its row and column: such bytes cannot be stored in the
// HDF5 results (declared UTF-8) or the reports. A register in another
// encoding is converted first (iconv -f LATIN1 -t UTF-8).
void RejectInvalidUtf8(const Table& table);

}  // namespace cwfx::table
