// ReadStat adapter (see readstat_io.h). ReadStat is a C library that calls us
// back once per variable and once per value; exceptions must not cross its
// frames, so callbacks catch everything, stash it, and return ABORT; the
// caller rethrows after ReadStat has unwound and freed its state.
#include "table/readstat_io.h"

#include <readstat.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <exception>
#include <filesystem>
#include <limits>
#include <memory>
#include <new>
#include <unordered_map>

#include "core/error.h"
#include "table/file_io.h"
#include "table/path_util.h"

namespace cwfx::table {
namespace {

// Everything the parse callbacks touch.
struct ParseState {
  const std::string* path = nullptr;
  const ReadStatOptions* options = nullptr;
  std::vector<Column> columns;        // in output order
  std::vector<int> slot_of_variable;  // file variable index -> columns index or -1
  int64_t row_hint = -1;
  int64_t num_rows = 0;
  std::string library_message;  // last message from ReadStat's error handler
  std::exception_ptr failure;
};

int OnMetadata(readstat_metadata_t* metadata, void* ctx) {
  auto* st = static_cast<ParseState*>(ctx);
  // A bogus count in a damaged file must not drive a huge allocation.
  const int64_t n = readstat_get_row_count(metadata);
  st->row_hint = (n > 0 && n < (int64_t{1} << 28)) ? n : -1;
  return READSTAT_HANDLER_OK;
}

int OnVariable(int index, readstat_variable_t* variable, const char* /*val_labels*/, void* ctx) {
  auto* st = static_cast<ParseState*>(ctx);
  try {
    const char* raw = readstat_variable_get_name(variable);
    const std::string name = raw != nullptr ? raw : "";
    int slot = -1;
    const auto& wanted = st->options->columns;
    if (wanted.empty()) {
      slot = static_cast<int>(st->columns.size());
      st->columns.emplace_back();
    } else {
      const auto it = std::find(wanted.begin(), wanted.end(), name);
      if (it != wanted.end()) slot = static_cast<int>(it - wanted.begin());
      if (st->columns.size() < wanted.size()) st->columns.resize(wanted.size());
    }
    if (index < 0) throw Error(Location{*st->path, -1, name}, "ReadStat reported a negative variable index");
    if (st->slot_of_variable.size() <= static_cast<size_t>(index)) {
      st->slot_of_variable.resize(static_cast<size_t>(index) + 1, -1);
    }
    st->slot_of_variable[static_cast<size_t>(index)] = slot;
    if (slot < 0) return READSTAT_HANDLER_SKIP_VARIABLE;
    Column& c = st->columns[static_cast<size_t>(slot)];
    if (!c.name.empty()) throw Error(Location{*st->path, -1, name}, "duplicate variable name");
    c.name = name;
    c.kind = readstat_variable_get_type_class(variable) == READSTAT_TYPE_CLASS_STRING ? ColumnKind::kText
                                                                                      : ColumnKind::kNumeric;
    if (st->row_hint > 0) {
      if (c.kind == ColumnKind::kNumeric) {
        c.numeric.reserve(static_cast<size_t>(st->row_hint));
      } else {
        c.text.reserve(static_cast<size_t>(st->row_hint));
      }
    }
    return READSTAT_HANDLER_OK;
  } catch (const std::bad_alloc&) {
    st->failure =
        std::make_exception_ptr(Error(Location{*st->path, -1, ""}, "out of memory reading the file"));
    return READSTAT_HANDLER_ABORT;
  } catch (...) {
    st->failure = std::current_exception();
    return READSTAT_HANDLER_ABORT;
  }
}

int OnValue(int obs_index, readstat_variable_t* variable, readstat_value_t value, void* ctx) {
  auto* st = static_cast<ParseState*>(ctx);
  try {
    const int index = readstat_variable_get_index(variable);
    if (index < 0 || static_cast<size_t>(index) >= st->slot_of_variable.size() || obs_index < 0) {
      throw Error(Location{*st->path, -1, ""}, "ReadStat reported a value outside the declared variables");
    }
    const int slot = st->slot_of_variable[static_cast<size_t>(index)];
    if (slot < 0) return READSTAT_HANDLER_OK;
    Column& c = st->columns[static_cast<size_t>(slot)];
    // Rows arrive in order; a jump means a damaged file (and would drive a
    // huge allocation).
    if (obs_index > st->num_rows) {
      throw Error(Location{*st->path, -1, ""}, "damaged file: row " + std::to_string(obs_index + 1) +
                                                   " reported after row " + std::to_string(st->num_rows));
    }
    const size_t row = static_cast<size_t>(obs_index);
    st->num_rows = std::max<int64_t>(st->num_rows, obs_index + 1);
    const bool missing = readstat_value_is_missing(value, variable) != 0;
    if (c.kind == ColumnKind::kNumeric) {
      double v = std::numeric_limits<double>::quiet_NaN();
      if (!missing) {
        switch (readstat_value_type(value)) {
          case READSTAT_TYPE_INT8:
            v = readstat_int8_value(value);
            break;
          case READSTAT_TYPE_INT16:
            v = readstat_int16_value(value);
            break;
          case READSTAT_TYPE_INT32:
            v = readstat_int32_value(value);
            break;
          case READSTAT_TYPE_FLOAT:
            v = readstat_float_value(value);
            break;
          case READSTAT_TYPE_DOUBLE:
            v = readstat_double_value(value);
            break;
          default:
            break;  // a string in a numeric variable: treat as missing
        }
      }
      if (c.numeric.size() <= row) c.numeric.resize(row + 1, std::numeric_limits<double>::quiet_NaN());
      c.numeric[row] = v;
    } else {
      if (c.text.size() <= row) c.text.resize(row + 1);
      const char* s = missing ? nullptr : readstat_string_value(value);
      c.text[row] = s != nullptr ? s : "";
    }
    return READSTAT_HANDLER_OK;
  } catch (const std::bad_alloc&) {
    st->failure =
        std::make_exception_ptr(Error(Location{*st->path, -1, ""}, "out of memory reading the file"));
    return READSTAT_HANDLER_ABORT;
  } catch (...) {
    st->failure = std::current_exception();
    return READSTAT_HANDLER_ABORT;
  }
}

void OnError(const char* message, void* ctx) {
  if (message != nullptr) static_cast<ParseState*>(ctx)->library_message = message;
}

// A SAS transport (XPORT v5) file is a sequence of 80-byte records and stores
// no row count, so ReadStat reads a file cut short as a shorter register. A
// length that is not a whole number of records is the one sign of a cut
// (a cut exactly at a record boundary cannot be told from a shorter file).
void RejectTruncatedTransportFile(const std::string& path) {
  std::error_code ec;
  const auto bytes = std::filesystem::file_size(path, ec);
  if (ec || !std::filesystem::is_regular_file(path, ec)) return;
  if (bytes % 80 != 0) {
    throw Error(Location{path, -1, ""}, "damaged or truncated SAS transport file: it has " + std::to_string(bytes) +
                                            " bytes, not a whole number of the format's 80-byte records "
                                            "(was the copy cut short?)");
  }
}

struct ParserDeleter {
  void operator()(readstat_parser_t* p) const { readstat_parser_free(p); }
};

// Where a text conversion failed: ReadStat says only "Unable to convert
// string". A second parse keeping every variable records the last value
// delivered; values arrive row by row, variable by variable, so the failing
// one is the next. Empty row/column when the failure came before any value.
struct ConversionFailure {
  int64_t row = -1;
  std::string column;
};

struct LocateState {
  std::vector<std::string> names;
  int64_t last_obs = -1;
  int last_var = -1;
};

ConversionFailure LocateConversionFailure(const std::string& path,
                                          readstat_error_t (*parse)(readstat_parser_t*, const char*, void*)) {
  LocateState st;
  std::unique_ptr<readstat_parser_t, ParserDeleter> parser(readstat_parser_init());
  if (!parser) return {};
  readstat_set_variable_handler(parser.get(), [](int index, readstat_variable_t* v, const char*, void* ctx) {
    auto* s = static_cast<LocateState*>(ctx);
    if (index >= 0 && s->names.size() <= static_cast<size_t>(index)) s->names.resize(static_cast<size_t>(index) + 1);
    const char* name = readstat_variable_get_name(v);
    if (index >= 0) s->names[static_cast<size_t>(index)] = name != nullptr ? name : "";
    return static_cast<int>(READSTAT_HANDLER_OK);
  });
  readstat_set_value_handler(parser.get(), [](int obs, readstat_variable_t* v, readstat_value_t, void* ctx) {
    auto* s = static_cast<LocateState*>(ctx);
    s->last_obs = obs;
    s->last_var = readstat_variable_get_index(v);
    return static_cast<int>(READSTAT_HANDLER_OK);
  });
  parse(parser.get(), path.c_str(), &st);
  if (st.last_obs < 0 || st.names.empty()) return {};
  ConversionFailure f;
  int64_t obs = st.last_obs;
  int var = st.last_var + 1;
  if (var >= static_cast<int>(st.names.size())) var = 0, ++obs;
  f.row = obs + 1;
  f.column = st.names[static_cast<size_t>(var)];
  return f;
}

}  // namespace

Table ReadStatFile(const std::string& path, const ReadStatOptions& options, ReadReport* report) {
  const std::string ext = LowerExtension(path);
  using ParseFn = readstat_error_t (*)(readstat_parser_t*, const char*, void*);
  ParseFn parse = nullptr;
  const char* format = "";
  if (ext == ".dta") {
    parse = readstat_parse_dta, format = "Stata";
  } else if (ext == ".sav" || ext == ".zsav") {
    parse = readstat_parse_sav, format = "SPSS";
  } else if (ext == ".sas7bdat") {
    parse = readstat_parse_sas7bdat, format = "SAS";
  } else if (ext == ".xpt") {
    parse = readstat_parse_xport, format = "SAS transport";
  } else {
    throw Error(Location{path, -1, ""},
                "unsupported extension '" + ext + "' (expected .dta, .sav, .zsav, .sas7bdat or .xpt)");
  }
  // ReadStat's own message for a missing file is vague; check first so the
  // user sees the system's reason (no such file, permission denied).
  if (std::FILE* probe = std::fopen(path.c_str(), "rb")) {
    std::fclose(probe);
  } else {
    ReadWholeFile(path);  // throws with strerror
  }

  ParseState st;
  st.path = &path;
  st.options = &options;
  std::unique_ptr<readstat_parser_t, ParserDeleter> parser(readstat_parser_init());
  if (!parser) throw Error(Location{path, -1, ""}, "out of memory creating the ReadStat parser");
  readstat_set_metadata_handler(parser.get(), OnMetadata);
  readstat_set_variable_handler(parser.get(), OnVariable);
  readstat_set_value_handler(parser.get(), OnValue);
  readstat_set_error_handler(parser.get(), OnError);
  const readstat_error_t rc = parse(parser.get(), path.c_str(), &st);
  parser.reset();
  if (st.failure) std::rethrow_exception(st.failure);
  if (rc != READSTAT_OK) {
    std::string msg = std::string("cannot read ") + format + " file: " + readstat_error_message(rc);
    if (rc == READSTAT_ERROR_READ) {
      // A short read: ReadStat appends whatever errno held, typically a stale
      // "No such file or directory", which would send the user looking for a
      // file that is right there.
      msg = std::string("cannot read ") + format + " file: it ends before its own header says it should "
            "(truncated, damaged, or not a " + format + " file)";
      st.library_message.clear();
    }
    if (rc == READSTAT_ERROR_CONVERT || rc == READSTAT_ERROR_CONVERT_BAD_STRING ||
        rc == READSTAT_ERROR_CONVERT_SHORT_STRING || rc == READSTAT_ERROR_CONVERT_LONG_STRING) {
      const ConversionFailure at = LocateConversionFailure(path, parse);
      throw Error(Location{path, at.row, at.column},
                  std::string("cannot read ") + format + " file: text that is not valid in the file's declared "
                  "encoding (" + readstat_error_message(rc) + "); convert the file to UTF-8 first");
    }
    if (!st.library_message.empty()) {
      std::string detail = st.library_message;
      while (!detail.empty() && (detail.back() == '\n' || detail.back() == ' ')) detail.pop_back();
      msg += " (" + detail + ")";
    }
    throw Error(Location{path, -1, ""}, msg);
  }

  if (ext == ".xpt") RejectTruncatedTransportFile(path);

  Table table(path);
  for (size_t s = 0; s < st.columns.size(); ++s) {
    Column& c = st.columns[s];
    if (c.name.empty()) {
      // Only possible for a requested column the file does not have.
      throw Error(Location{path, -1, options.columns.at(s)}, "requested column not in the file");
    }
    // Trailing all-missing values may never have been delivered.
    if (c.kind == ColumnKind::kNumeric) {
      c.numeric.resize(static_cast<size_t>(st.num_rows), std::numeric_limits<double>::quiet_NaN());
    } else {
      c.text.resize(static_cast<size_t>(st.num_rows));
    }
    table.AddColumn(std::move(c));
  }
  RejectInfinite(table);
  ApplyMissingPolicy(&table, options.missing, report);
  return table;
}

namespace {

// Stata stores doubles above this as missing codes (.,.a-.z).
constexpr double kStataMaxDouble = 8.988465674311579e+307;
constexpr size_t kStataMaxStr = 2045;

struct WriterDeleter {
  void operator()(readstat_writer_t* w) const { readstat_writer_free(w); }
};

struct WriteState {
  AtomicFileWriter* out = nullptr;
  std::exception_ptr failure;
};

ssize_t WriteBytes(const void* data, size_t len, void* ctx) {
  auto* st = static_cast<WriteState*>(ctx);
  try {
    st->out->Write(std::string_view(static_cast<const char*>(data), len));
    return static_cast<ssize_t>(len);
  } catch (...) {
    st->failure = std::current_exception();
    return -1;
  }
}

}  // namespace

void WriteDta(const Table& table, const std::string& path) {
  AtomicFileWriter out(path);
  WriteState st;
  st.out = &out;
  std::unique_ptr<readstat_writer_t, WriterDeleter> w(readstat_writer_init());
  if (!w) throw Error(Location{path, -1, ""}, "out of memory creating the ReadStat writer");

  // Turns a ReadStat status into an Error, preferring our own I/O exception
  // (e.g. "No space left on device") when the byte sink failed.
  auto check = [&](readstat_error_t rc, int64_t row, const std::string& column) {
    if (st.failure) std::rethrow_exception(st.failure);
    if (rc != READSTAT_OK) {
      throw WriteError(Location{path, row, column},
                       std::string("cannot write Stata file: ") + readstat_error_message(rc));
    }
  };

  check(readstat_set_data_writer(w.get(), WriteBytes), -1, "");
  check(readstat_writer_set_file_format_version(w.get(), 118), -1, "");
  std::vector<readstat_variable_t*> vars;
  for (int j = 0; j < table.num_columns(); ++j) {
    const Column& c = table.column(j);
    if (c.kind == ColumnKind::kNumeric) {
      for (size_t r = 0; r < c.numeric.size(); ++r) {
        const double v = c.numeric[r];
        if (!std::isnan(v) && !(std::fabs(v) <= kStataMaxDouble)) {
          throw Error(Location{path, static_cast<int64_t>(r) + 1, c.name},
                      "value " + std::to_string(v) + " cannot be stored in Stata (beyond its double range)");
        }
      }
      vars.push_back(readstat_add_variable(w.get(), c.name.c_str(), READSTAT_TYPE_DOUBLE, 0));
    } else {
      size_t width = 1;
      for (size_t r = 0; r < c.text.size(); ++r) {
        if (c.text[r].size() > kStataMaxStr) {
          throw Error(
              Location{path, static_cast<int64_t>(r) + 1, c.name},
              "text of " + std::to_string(c.text[r].size()) + " bytes; Stata str# holds at most 2045");
        }
        width = std::max(width, c.text[r].size());
      }
      vars.push_back(readstat_add_variable(w.get(), c.name.c_str(), READSTAT_TYPE_STRING, width));
    }
    if (vars.back() == nullptr) throw Error(Location{path, -1, c.name}, "cannot add variable");
  }
  check(readstat_begin_writing_dta(w.get(), &st, static_cast<long>(table.num_rows())), -1, "");
  check(readstat_validate_metadata(w.get()), -1, "");
  for (int j = 0; j < table.num_columns(); ++j) {
    const readstat_error_t rc = readstat_validate_variable(w.get(), vars[static_cast<size_t>(j)]);
    if (rc != READSTAT_OK) {
      throw Error(Location{path, -1, table.column(j).name},
                  std::string("Stata rejects this variable name: ") + readstat_error_message(rc));
    }
  }
  for (int64_t r = 0; r < table.num_rows(); ++r) {
    check(readstat_begin_row(w.get()), r + 1, "");
    for (int j = 0; j < table.num_columns(); ++j) {
      const Column& c = table.column(j);
      readstat_variable_t* var = vars[static_cast<size_t>(j)];
      readstat_error_t rc;
      if (c.kind == ColumnKind::kNumeric) {
        const double v = c.numeric[static_cast<size_t>(r)];
        rc = std::isnan(v) ? readstat_insert_missing_value(w.get(), var)
                           : readstat_insert_double_value(w.get(), var, v);
      } else {
        rc = readstat_insert_string_value(w.get(), var, c.text[static_cast<size_t>(r)].c_str());
      }
      check(rc, r + 1, c.name);
    }
    check(readstat_end_row(w.get()), r + 1, "");
  }
  check(readstat_end_writing(w.get()), -1, "");
  w.reset();
  out.Commit();
}

}  // namespace cwfx::table
