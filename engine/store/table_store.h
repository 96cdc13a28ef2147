// Tables in HDF5, and the one entry point that reads a register from any
// supported file format.
//
// HDF5 table schema (one group per table):
//   <group>/                      group
//     @columns                    attribute, 1-D variable-length UTF-8 strings:
//                                 the column names in column order
//     @cwfx_table_version         attribute, int64 = 1
//     <group>/<name>              one 1-D dataset per column, all of equal length
//                                   numeric column: IEEE double (NaN = missing)
//                                   text column: UTF-8 strings ("" = missing)
// Column names must be valid HDF5 link names (non-empty, no '/', not ".").
// Readers accept groups written by other tools too: without @columns, every
// 1-D dataset in the group is a column, in name order; integer and float
// datasets of any width become numeric columns, fixed- or variable-length
// strings become text.
#pragma once

#include <string>
#include <vector>

#include "store/h5_file.h"
#include "table/read_options.h"
#include "table/table.h"

namespace cwfx::store {

// Writes `table` as `group` (created, with parents). Throws cwfx::Error if
// the group already exists or a column name cannot be a link name.
void WriteTable(H5File& file, const std::string& group, const table::Table& table,
                const H5WriteOptions& options = {});

// Reads the table in `group`; the Table's source is "<file>:<group>". Throws
// cwfx::Error naming the file, group and column on a schema violation
// (missing group or column dataset, unequal lengths, unsupported types).
// With `columns` non-empty only those datasets are read, in that order (a
// missing or repeated name throws naming it), so a model that uses 17 of a
// register's 82 columns reads 17.
table::Table ReadTable(const H5File& file, const std::string& group,
                       const std::vector<std::string>& columns = {});

struct ReadAnyOptions {
  // What to do with a row holding a missing value in a kept column.
  table::MissingPolicy missing = table::MissingPolicy::kError;
  // Columns to keep, in this order; empty keeps all.
  std::vector<std::string> columns;
  // Columns `missing` applies to; empty = every kept column. The other kept
  // columns keep their missing values (NaN / "") for the caller to handle.
  // Names that are not in the table are ignored (the caller's own checks
  // report a column it needs and does not find).
  std::vector<std::string> missing_policy_columns;
  // Group holding the table in .h5/.hdf5 files.
  std::string hdf5_group = "/register";
  // Delimiter for .csv/.txt files; .tsv always uses a tab.
  char csv_delimiter = ',';
  // Threads for parsing CSV/TSV (the table is the same for any count).
  int threads = 1;
};

// Dispatches on the extension (case-insensitive):
//   .csv .txt -> ReadCsv;  .tsv -> ReadCsv with '\t'
//   .h5 .hdf5 -> ReadTable(options.hdf5_group)
//   .dta .sav .zsav .sas7bdat .xpt -> ReadStatFile
// Every format gets the same missing-value rule (on the same columns) and
// rejects Inf. Throws
// cwfx::Error for an unknown extension, listing the supported ones.
table::Table ReadAnyTable(const std::string& path, const ReadAnyOptions& options,
                          table::ReadReport* report = nullptr);

// The extensions ReadAnyTable understands, e.g. for --help text.
std::vector<std::string> SupportedTableExtensions();

}  // namespace cwfx::store
