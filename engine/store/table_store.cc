// Table <-> HDF5 codec and the format dispatcher (schema in table_store.h).
#include "store/table_store.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <new>
#include <numeric>
#include <utility>

#include "core/error.h"
#include "table/csv.h"
#include "table/path_util.h"
#include "table/readstat_io.h"

namespace cwfx::store {
namespace {

constexpr int64_t kTableSchemaVersion = 1;

std::string Join(const std::string& group, const std::string& name) {
  return (group.empty() || group.back() != '/') ? group + "/" + name : group + name;
}

}  // namespace

void WriteTable(H5File& file, const std::string& group, const table::Table& t,
                const H5WriteOptions& options) {
  if (file.Exists(group)) {
    throw Error(Location{file.path(), -1, ""}, "cannot write table: '" + group + "' already exists");
  }
  for (int j = 0; j < t.num_columns(); ++j) {
    const std::string& name = t.column(j).name;
    if (name.empty() || name == "." || name.find('/') != std::string::npos) {
      throw Error(Location{file.path(), -1, name}, "column name cannot be stored in HDF5 (contains '/')");
    }
  }
  file.CreateGroup(group);
  for (int j = 0; j < t.num_columns(); ++j) {
    const table::Column& c = t.column(j);
    if (c.kind == table::ColumnKind::kNumeric) {
      file.WriteDoubles(Join(group, c.name), c.numeric, options);
    } else {
      file.WriteStrings(Join(group, c.name), c.text, options);
    }
  }
  const std::vector<std::string> names = t.ColumnNames();
  file.SetAttribute(group, "columns", std::span<const std::string>(names));
  file.SetAttribute(group, "cwfx_table_version", kTableSchemaVersion);
}

table::Table ReadTable(const H5File& file, const std::string& group, const std::vector<std::string>& columns) {
  const std::string source = file.path() + ":" + group;
  if (!file.IsGroup(group)) {
    throw Error(Location{file.path(), -1, ""}, "no table group '" + group + "' in the file");
  }
  std::vector<std::string> names;
  if (file.HasAttribute(group, "columns")) {
    names = file.GetStringListAttribute(group, "columns");
  } else {
    for (const std::string& child : file.List(group)) {
      const std::string p = Join(group, child);
      if (!file.IsGroup(p) && file.Shape(p).size() == 1) names.push_back(child);
    }
  }
  if (!columns.empty()) {
    for (size_t i = 0; i < columns.size(); ++i) {
      for (size_t j = 0; j < i; ++j) {
        if (columns[j] == columns[i]) throw Error(Location{source, -1, columns[i]}, "column requested twice");
      }
      if (std::find(names.begin(), names.end(), columns[i]) == names.end()) {
        std::string available;
        for (const auto& nm : names) {
          if (available.size() > 300) {
            available += ", ...";
            break;
          }
          available += (available.empty() ? "" : ", ") + nm;
        }
        throw Error(Location{source, -1, columns[i]}, "no such column (available: " + available + ")");
      }
    }
    names = columns;
  }
  table::Table out(source);
  for (const std::string& name : names) {
    const std::string p = Join(group, name);
    if (name.empty() || name.find('/') != std::string::npos || !file.Exists(p) || file.IsGroup(p)) {
      throw Error(Location{source, -1, name}, "listed in @columns but there is no such dataset");
    }
    switch (file.Kind(p)) {
      case H5File::ElementKind::kFloat:
      case H5File::ElementKind::kInteger:
        out.AddNumeric(name, file.ReadDoubles(p));
        break;
      case H5File::ElementKind::kString:
        out.AddText(name, file.ReadStrings(p));
        break;
      default:
        throw Error(Location{source, -1, name}, "dataset type is neither numeric nor string");
    }
  }
  return out;
}

std::vector<std::string> SupportedTableExtensions() {
  return {".csv", ".txt", ".tsv", ".h5", ".hdf5", ".dta", ".sav", ".zsav", ".sas7bdat", ".xpt"};
}

namespace {

// Applies `policy` to the columns of `t` named in `names` only: the policy
// runs on a projection of those columns plus the row numbers, so errors name
// the same file, row and column as a policy over the whole table would.
void ApplyMissingPolicyToColumns(table::Table* t, table::MissingPolicy policy,
                                 const std::vector<std::string>& names, table::ReadReport* report) {
  table::Table projected(t->source());
  for (const std::string& name : names) {
    if (t->Has(name) && !projected.Has(name)) projected.AddColumn(t->column(name));
  }
  std::vector<double> row_n(static_cast<size_t>(t->num_rows()));
  std::iota(row_n.begin(), row_n.end(), 0.0);
  // Appended last: it is never missing, so it never changes which column an
  // error names; its name only has to differ from the projected ones.
  std::string row_name = "/row";
  while (projected.Has(row_name)) row_name += '_';
  projected.AddNumeric(row_name, std::move(row_n));
  table::ApplyMissingPolicy(&projected, policy, report);
  if (projected.num_rows() == t->num_rows()) return;
  const std::span<const double> kept = projected.column(row_name).numeric;
  std::vector<int64_t> rows(kept.size());
  std::transform(kept.begin(), kept.end(), rows.begin(), [](double r) { return static_cast<int64_t>(r); });
  *t = t->SelectRows(rows);
}

// How a path is read: by its extension when it is a regular file; a pipe
// ("-" is standard input) is CSV (TSV when named .tsv), the only format
// that can be read as it arrives; devices are refused (/dev/zero would be
// read until memory runs out).
enum class InputKind { kByExtension, kCsvStream };

InputKind ClassifyInput(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return InputKind::kByExtension;  // the reader names the error
  if (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)) return InputKind::kByExtension;
  if (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)) {
    const std::string ext = table::LowerExtension(path);
    for (const std::string& e : SupportedTableExtensions())
      if (ext == e && ext != ".csv" && ext != ".txt" && ext != ".tsv")
        throw Error(Location{path, -1, ""}, "a pipe can only carry CSV or TSV; write the " + ext +
                                                " file to disk and give its path");
    return InputKind::kCsvStream;
  }
  throw Error(Location{path, -1, ""}, path == "/dev/stdin" && ::isatty(STDIN_FILENO)
                                          ? "standard input is a terminal: pipe or redirect a CSV file into it"
                                          : "not a regular file or a pipe (a device cannot hold a register)");
}

table::Table ReadAnyTableImpl(const std::string& given_path, const ReadAnyOptions& options,
                              table::ReadReport* report) {
  const std::string path = given_path == "-" ? "/dev/stdin" : given_path;
  // "-" is CSV whatever standard input is: a pipe, or a file redirected in.
  const InputKind kind = given_path == "-" && ClassifyInput(path) == InputKind::kByExtension
                             ? InputKind::kCsvStream
                             : ClassifyInput(path);
  // With a column subset for the policy, the readers keep every missing value
  // and the policy runs afterwards on those columns only.
  const bool subset = !options.missing_policy_columns.empty();
  const table::MissingPolicy reader_policy = subset ? table::MissingPolicy::kKeep : options.missing;
  table::Table t;
  const std::string ext = table::LowerExtension(path);
  if (kind == InputKind::kCsvStream || ext == ".csv" || ext == ".txt" || ext == ".tsv") {
    table::CsvReadOptions o;
    o.delimiter = ext == ".tsv" ? '\t' : options.csv_delimiter;
    o.missing = reader_policy;
    o.columns = options.columns;
    o.threads = options.threads;
    t = table::ReadCsv(path, o, report);
  } else if (ext == ".dta" || ext == ".sav" || ext == ".zsav" || ext == ".sas7bdat" || ext == ".xpt") {
    table::ReadStatOptions o;
    o.missing = reader_policy;
    o.columns = options.columns;
    t = table::ReadStatFile(path, o, report);
  } else if (ext == ".h5" || ext == ".hdf5") {
    const H5File file = H5File::OpenReadOnly(path);
    t = ReadTable(file, options.hdf5_group, options.columns);
    table::RejectInfinite(t);
    table::ApplyMissingPolicy(&t, reader_policy, report);
  } else {
    std::string supported;
    for (const std::string& e : SupportedTableExtensions()) supported += (supported.empty() ? "" : " ") + e;
    throw Error(Location{path, -1, ""},
                "unsupported file extension '" + ext + "' (supported: " + supported + ")");
  }
  if (subset) ApplyMissingPolicyToColumns(&t, options.missing, options.missing_policy_columns, report);
  table::RejectInvalidUtf8(t);
  return t;
}

}  // namespace

table::Table ReadAnyTable(const std::string& path, const ReadAnyOptions& options, table::ReadReport* report) {
  try {
    return ReadAnyTableImpl(path, options, report);
  } catch (const std::bad_alloc&) {
    throw Error(Location{path, -1, ""}, "out of memory reading the file");
  }
}

}  // namespace cwfx::store
