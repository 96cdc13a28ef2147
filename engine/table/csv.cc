// CSV/TSV reader and writer (dialect and typing rules in csv.h).
//
// The file is memory-mapped and read in windows of kWindowBytes, each cut at
// line ends into chunks of about kChunkBytes that are parsed in parallel: a
// chunk counts its records first (so every record knows its row), then cuts
// them into fields and parses kept numeric fields with fast_float straight
// into their rows of the column vectors (the common record in one pass over
// its bytes, anything unusual through the tokenizer); text
// columns (those whose first value is not a number) collect per chunk and are
// joined in chunk order. A window's pages are handed back once parsed, so a
// long file never sits in memory whole. Chunk boundaries depend on the bytes
// only, and every chunk writes its own rows: the table is the same for any
// thread count.
//
// Anything the parallel pass cannot settle on its own - a quoted field
// holding a line break (a record may then span chunks), a numeric column
// turning to text after its first row, any error - sends the whole file
// through the sequential reader, which is the reference: one pass, and for
// columns that turned to text a short second pass over the rows they had
// already seen; its errors name the file, row and column.
#include "table/csv.h"

#include <algorithm>
#include <exception>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <limits>
#include <new>
#include <string_view>
#include <unordered_map>

#include <fast_float/fast_float.h>

#include "core/error.h"
#include "core/fingerprint.h"
#include "parallel/parallel.h"
#include "table/file_io.h"
#include "table/number_format.h"

namespace cwfx::table {
namespace {

// A field as it appears in the buffer; `quoted` fields exclude the quotes, and
// `escaped` says they contain doubled quotes that must be collapsed.
struct Field {
  const char* begin = nullptr;
  size_t size = 0;
  bool quoted = false;
  bool escaped = false;

  std::string_view view() const { return {begin, size}; }
};

// Makes bytes from the file safe to print in a one-line message.
std::string Printable(std::string_view s) {
  constexpr size_t kMaxShown = 40;
  std::string out;
  for (size_t i = 0; i < s.size() && i < kMaxShown; ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      static const char* kHex = "0123456789abcdef";
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  if (s.size() > kMaxShown) out += "...";
  return out;
}

class Tokenizer {
 public:
  Tokenizer(const std::string& path, const char* begin, const char* end, char delimiter)
      : path_(path), p_(begin), end_(end), delimiter_(delimiter) {}

  const char* position() const { return p_; }

  // Cuts the next record into `fields`; false at end of input. `row` is only
  // for error messages (-1 = the header).
  bool Next(int64_t row, std::vector<Field>* fields) {
    fields->clear();
    if (p_ >= end_) return false;
    for (;;) {
      Field f;
      if (*p_ == '"') {
        ++p_;
        f.begin = p_;
        f.quoted = true;
        for (;;) {
          const char* q = static_cast<const char*>(std::memchr(p_, '"', static_cast<size_t>(end_ - p_)));
          if (q == nullptr) {
            throw Error(Location{path_, row, ""},
                        std::string(row < 0 ? "header: " : "") + "unterminated quoted field (field " +
                            std::to_string(fields->size() + 1) + " opens a quote that is never closed)");
          }
          if (q + 1 < end_ && q[1] == '"') {
            f.escaped = true;
            p_ = q + 2;
            continue;
          }
          f.size = static_cast<size_t>(q - f.begin);
          p_ = q + 1;
          break;
        }
      } else {
        f.begin = p_;
        while (p_ < end_ && *p_ != delimiter_ && *p_ != '\n') ++p_;
        f.size = static_cast<size_t>(p_ - f.begin);
        // CRLF: the CR belongs to the line ending, not to the last field.
        if ((p_ == end_ || *p_ == '\n') && f.size > 0 && f.begin[f.size - 1] == '\r') --f.size;
      }
      fields->push_back(f);
      if (p_ >= end_) return true;
      if (*p_ == delimiter_) {
        ++p_;
        if (p_ == end_) fields->push_back(Field{p_, 0, false, false});  // "a,b," ends in an empty field
        if (p_ == end_) return true;
        continue;
      }
      if (*p_ == '\n') {
        ++p_;
        return true;
      }
      if (*p_ == '\r' && (p_ + 1 == end_ || p_[1] == '\n')) {
        p_ += (p_ + 1 == end_) ? 1 : 2;
        return true;
      }
      // Only a closing quote can be followed by anything else.
      throw Error(
          Location{path_, row, ""},
          std::string(row < 0 ? "header: " : "") + "unexpected text after the closing quote of field " +
              std::to_string(fields->size()) + ": '" +
              Printable(std::string_view(p_, std::min<size_t>(10, static_cast<size_t>(end_ - p_)))) + "'");
    }
  }

 private:
  const std::string& path_;
  const char* p_;
  const char* end_;
  char delimiter_;
};

std::string Unescape(const Field& f) {
  if (!f.escaped) return std::string(f.begin, f.size);
  std::string out;
  out.reserve(f.size);
  for (size_t i = 0; i < f.size; ++i) {
    out += f.begin[i];
    if (f.begin[i] == '"' && i + 1 < f.size && f.begin[i + 1] == '"') ++i;
  }
  return out;
}

bool IsMissingToken(const Field& f) {
  if (f.size == 0) return true;
  if (f.quoted) return false;
  const std::string_view v = f.view();
  return v == "NA" || v == ".";
}

// Whole-field number parse. Returns false when the field is not a number.
bool ParseNumber(const Field& f, double* out) {
  if (f.escaped) return false;  // a number never contains a quote
  if (!ParseNumberText(f.view(), out)) return false;
  // A 16+ digit integer (an id) would lose digits as a double: text.
  return !(std::fabs(*out) >= kExactIntegerLimit && IsLongIntegerLiteral(f.view()));
}

struct ColumnBuilder {
  ColumnBuilder(std::string n, int index) : name(std::move(n)), file_index(index) {}
  std::string name;
  int file_index = -1;
  bool numeric = true;
  std::vector<double> numbers;
  std::vector<std::string> text;
  int64_t text_from_row = 0;      // 0-based first row held in `text`
  int64_t first_non_finite = -1;  // 0-based row of the first NaN/Inf literal
};

void AddField(const Field& f, int64_t row0, ColumnBuilder* c) {
  if (IsMissingToken(f)) {
    if (c->numeric) {
      c->numbers.push_back(std::numeric_limits<double>::quiet_NaN());
    } else {
      c->text.emplace_back();
    }
    return;
  }
  if (c->numeric) {
    double v;
    if (ParseNumber(f, &v)) {
      if (!std::isfinite(v) && c->first_non_finite < 0) c->first_non_finite = row0;
      c->numbers.push_back(v);
      return;
    }
    // First non-number: the column is text from here on; earlier rows are
    // re-read later (BackfillText).
    c->numeric = false;
    c->numbers = {};
    c->text_from_row = row0;
  }
  c->text.push_back(Unescape(f));
}

void CheckFieldCount(const std::string& path, int64_t row, size_t expected, size_t found) {
  if (found != expected) {
    throw Error(Location{path, row, ""},
                "expected " + std::to_string(expected) + " fields, found " + std::to_string(found));
  }
}

}  // namespace

namespace {

constexpr size_t kWindowBytes = size_t{64} << 20;
constexpr size_t kChunkBytes = size_t{1} << 20;

// The end of the line holding `p` (one past its '\n'), or `end`.
const char* PastLineEnd(const char* p, const char* end) {
  if (p >= end) return end;
  const void* nl = std::memchr(p, '\n', static_cast<size_t>(end - p));
  return nl == nullptr ? end : static_cast<const char*>(nl) + 1;
}

// What one chunk of the parallel pass found (per kept column where a vector).
struct ChunkResult {
  const char* begin = nullptr;
  const char* end = nullptr;
  int64_t row0 = 0;     // 0-based first data row
  int64_t rows = 0;     // records counted by line ends
  int64_t parsed = 0;   // records the tokenizer cut (must equal rows)
  std::vector<std::vector<std::string>> text;
  std::vector<int64_t> first_non_finite;
  bool needs_sequential = false;  // quoted line break, a number column turning text, or an error
};

// The sequential reader (the reference; see the file comment). Fills cols
// and returns the number of data rows.
int64_t ReadSequential(const std::string& path, const char* data_begin, const char* end, char delim,
                       size_t num_fields, const std::vector<int>& slot_of, std::vector<ColumnBuilder>* cols_out) {
  std::vector<ColumnBuilder>& cols = *cols_out;
  std::vector<Field> fields;
  Tokenizer tok(path, data_begin, end, delim);
  int64_t num_rows = 0;
  while (tok.Next(num_rows + 1, &fields)) {
    CheckFieldCount(path, num_rows + 1, num_fields, fields.size());
    for (size_t j = 0; j < num_fields; ++j) {
      const int s = slot_of[j];
      if (s >= 0) AddField(fields[j], num_rows, &cols[static_cast<size_t>(s)]);
    }
    ++num_rows;
  }

  // Second, partial pass for columns that turned to text after row 1.
  int64_t backfill_rows = 0;
  for (const auto& c : cols) {
    if (!c.numeric) backfill_rows = std::max(backfill_rows, c.text_from_row);
  }
  if (backfill_rows > 0) {
    std::vector<std::vector<std::string>> prefix(cols.size());
    Tokenizer again(path, data_begin, end, delim);
    for (int64_t r = 0; r < backfill_rows && again.Next(r + 1, &fields); ++r) {
      for (size_t s = 0; s < cols.size(); ++s) {
        if (cols[s].numeric || r >= cols[s].text_from_row) continue;
        const Field& f = fields[static_cast<size_t>(cols[s].file_index)];
        prefix[s].push_back(IsMissingToken(f) ? std::string() : Unescape(f));
      }
    }
    for (size_t s = 0; s < cols.size(); ++s) {
      if (prefix[s].empty()) continue;
      auto& t = cols[s].text;
      t.insert(t.begin(), std::make_move_iterator(prefix[s].begin()),
               std::make_move_iterator(prefix[s].end()));
    }
  }
  return num_rows;
}

// The common record in one pass over its bytes: unquoted fields, each
// number parsed where it starts and checked to end at its delimiter
// (tokenising first and parsing after read every byte twice). Returns the
// position after the record, or nullptr when anything is unusual - a quote,
// a missing or non-finite value, spaces or text in a number column, a long
// integer, a field count other than num_fields - and the tokenizer then
// takes the record; nothing is written to `text` unless the record is taken
// here, and a number written is the number the tokenizer would write.
const char* ParseRecordFast(const char* p, const char* end, char delim, size_t num_fields, const std::vector<int>& slot_of,
                            const std::vector<char>& is_text, double* const* numbers, int64_t row,
                            std::vector<std::vector<std::string>>* text, std::vector<std::string_view>* pending) {
  pending->clear();
  for (size_t j = 0; j < num_fields; ++j) {
    const bool last = j + 1 == num_fields;
    const int s = slot_of[j];
    const char* field_end;
    if (s >= 0 && !is_text[static_cast<size_t>(s)]) {
      double v;
      const fast_float::from_chars_result r = fast_float::from_chars(p, end, v, fast_float::chars_format::general);
      if (r.ptr == p || r.ec != std::errc() || !(std::fabs(v) < kExactIntegerLimit)) return nullptr;
      numbers[s][row] = v;
      field_end = r.ptr;
    } else {
      field_end = p;
      while (field_end < end && *field_end != delim && *field_end != '\n') ++field_end;
      if (field_end > p && *p == '"') return nullptr;
      if (s >= 0) {
        std::string_view f(p, static_cast<size_t>(field_end - p));
        if (last && !f.empty() && f.back() == '\r') f.remove_suffix(1);
        if (f.empty() || f == "NA" || f == "." || f.find('"') != std::string_view::npos) return nullptr;
        pending->push_back(f);
      }
    }
    if (!last) {
      if (field_end == end || *field_end != delim) return nullptr;
      p = field_end + 1;
      continue;
    }
    if (field_end < end && *field_end == '\r') ++field_end;
    if (field_end < end && *field_end != '\n') return nullptr;
    p = field_end < end ? field_end + 1 : end;
  }
  size_t k = 0;
  for (size_t j = 0; j < num_fields; ++j) {
    const int s = slot_of[j];
    if (s >= 0 && is_text[static_cast<size_t>(s)]) (*text)[static_cast<size_t>(s)].emplace_back((*pending)[k++]);
  }
  return p;
}

// One chunk of whole records of the parallel pass: numbers into their rows
// of numbers[slot], text into r->text[slot].
void ParseChunk(const std::string& path, char delim, size_t num_fields, const std::vector<int>& slot_of,
                const std::vector<char>& is_text, double* const* numbers, ChunkResult* r) {
  const size_t kept = is_text.size();
  r->text.assign(kept, {});
  r->first_non_finite.assign(kept, -1);
  std::vector<Field> fields;
  fields.reserve(num_fields);
  std::vector<std::string_view> pending;
  pending.reserve(num_fields);
  int64_t row = r->row0;
  const char* p = r->begin;
  while (p < r->end) {
    if (const char* next = ParseRecordFast(p, r->end, delim, num_fields, slot_of, is_text, numbers, row, &r->text, &pending)) {
      p = next;
      ++row;
      continue;
    }
    Tokenizer tok(path, p, r->end, delim);
    if (!tok.Next(row + 1, &fields)) break;
    p = tok.position();
    if (fields.size() != num_fields) {
      r->needs_sequential = true;
      return;
    }
    for (size_t j = 0; j < num_fields; ++j) {
      const Field& f = fields[j];
      if (f.quoted && std::memchr(f.begin, '\n', f.size) != nullptr) {
        r->needs_sequential = true;
        return;
      }
      const int s = slot_of[j];
      if (s < 0) continue;
      const auto slot = static_cast<size_t>(s);
      if (is_text[slot]) {
        r->text[slot].push_back(IsMissingToken(f) ? std::string() : Unescape(f));
        continue;
      }
      double v = std::numeric_limits<double>::quiet_NaN();
      if (!IsMissingToken(f)) {
        if (!ParseNumber(f, &v)) {
          r->needs_sequential = true;  // the column turns to text here
          return;
        }
        if (!std::isfinite(v) && r->first_non_finite[slot] < 0) r->first_non_finite[slot] = row;
      }
      numbers[slot][row] = v;
    }
    ++row;
  }
  r->parsed = row - r->row0;
}

// The parallel pass (see the file comment). Returns the number of data rows,
// or -1 when the file needs the sequential reader (cols are then reset).
int64_t ReadParallel(const std::string& path, const InputBytes& bytes, const char* data_begin, const char* end,
                     char delim, size_t chunk_bytes, size_t num_fields, const std::vector<int>& slot_of, std::vector<ColumnBuilder>* cols_out,
                     const parallel::Context& ctx) {
  std::vector<ColumnBuilder>& cols = *cols_out;
  const size_t kept = cols.size();
  if (data_begin >= end) return 0;
  // Text columns: those whose first data value is present and not a number.
  std::vector<char> is_text(kept, 0);
  {
    std::vector<Field> first;
    // Bounded by the first line end: a quoted line break there throws, and
    // the sequential reader then reads (or reports) the file.
    Tokenizer tok(path, data_begin, PastLineEnd(data_begin, end), delim);
    try {
      if (!tok.Next(1, &first) || first.size() != num_fields) return -1;
    } catch (const Error&) {
      return -1;
    }
    for (size_t j = 0; j < num_fields; ++j) {
      double v;
      const int s = slot_of[j];
      if (s >= 0 && !IsMissingToken(first[j]) && !ParseNumber(first[j], &v)) is_text[static_cast<size_t>(s)] = 1;
    }
  }
  for (size_t s = 0; s < kept; ++s) cols[s].numeric = !is_text[s];

  int64_t num_rows = 0;
  std::vector<ChunkResult> chunks;
  std::vector<double*> numbers(kept, nullptr);
  for (const char* ws = data_begin; ws < end;) {
    const char* we = ws + std::min(kWindowBytes, static_cast<size_t>(end - ws));
    if (we < end) we = PastLineEnd(we - 1, end);
    chunks.clear();
    for (const char* c = ws; c < we;) {
      const char* ce = c + std::min(chunk_bytes, static_cast<size_t>(we - c));
      if (ce < we) ce = PastLineEnd(ce - 1, we);
      ChunkResult r;
      r.begin = c;
      r.end = ce;
      chunks.push_back(std::move(r));
      c = ce;
    }
    const auto nc = static_cast<int64_t>(chunks.size());
    parallel::ParallelFor(ctx, 0, nc, 1, [&](int64_t c0, int64_t c1) {
      for (int64_t c = c0; c < c1; ++c) {
        ChunkResult& r = chunks[static_cast<size_t>(c)];
        r.rows = std::count(r.begin, r.end, '\n') + (r.end == end ? 1 : 0);
      }
    });
    int64_t window_rows = 0;
    for (ChunkResult& r : chunks) {
      r.row0 = num_rows + window_rows;
      window_rows += r.rows;
    }
    // Grow the numeric columns by at least half their size at a time.
    for (size_t s = 0; s < kept; ++s) {
      if (is_text[s]) continue;
      std::vector<double>& v = cols[s].numbers;
      const auto need = static_cast<size_t>(num_rows + window_rows);
      if (v.capacity() < need) {
        const double est = static_cast<double>(num_rows + window_rows) * static_cast<double>(end - data_begin) /
                           static_cast<double>(we - data_begin);
        v.reserve(std::max(need, static_cast<size_t>(est * 1.02) + 16));
      }
      v.resize(need);
      numbers[s] = v.data();
    }
    std::vector<std::exception_ptr> errors(chunks.size());
    parallel::ParallelFor(ctx, 0, nc, 1, [&](int64_t c0, int64_t c1) {
      for (int64_t c = c0; c < c1; ++c) {
        try {
          ParseChunk(path, delim, num_fields, slot_of, is_text, numbers.data(), &chunks[static_cast<size_t>(c)]);
        } catch (...) {
          errors[static_cast<size_t>(c)] = std::current_exception();
        }
      }
    });
    for (size_t c = 0; c < chunks.size(); ++c) {
      const ChunkResult& r = chunks[c];
      if (errors[c] || r.needs_sequential || r.parsed != r.rows) {
        for (ColumnBuilder& col : cols) col = ColumnBuilder(col.name, col.file_index);
        return -1;
      }
    }
    for (ChunkResult& r : chunks) {
      for (size_t s = 0; s < kept; ++s) {
        if (r.first_non_finite[s] >= 0 && cols[s].first_non_finite < 0) cols[s].first_non_finite = r.first_non_finite[s];
        if (!is_text[s]) continue;
        auto& t = cols[s].text;
        t.insert(t.end(), std::make_move_iterator(r.text[s].begin()), std::make_move_iterator(r.text[s].end()));
      }
    }
    num_rows += window_rows;
    bytes.Release(ws, we);
    ws = we;
  }
  return num_rows;
}

Table ReadCsvImpl(const std::string& path, const CsvReadOptions& options, ReadReport* report) {
  const char delim = options.delimiter;
  if (delim == '"' || delim == '\n' || delim == '\r' || delim == '\0') {
    throw Error(Location{path, -1, ""}, "invalid CSV delimiter");
  }
  const InputBytes bytes(path);
  // The bytes read are the ones fingerprinted: standard input cannot be
  // opened again, and reading a file twice costs a second pass over it.
  if (report != nullptr) {
    ContentFingerprint fingerprint;
    fingerprint.Update({bytes.data(), bytes.size()});
    report->content_fingerprint = fingerprint.Text();
  }
  const char* begin = bytes.data();
  const char* end = bytes.data() + bytes.size();
  if (end - begin >= 3 && std::memcmp(begin, "\xEF\xBB\xBF", 3) == 0) begin += 3;
  while (end > begin && (end[-1] == '\n' || end[-1] == '\r')) --end;
  if (begin == end) throw Error(Location{path, -1, ""}, "empty file (no header line)");
  // Binary data is refused at once, not scanned as one endless header line
  // (a sparse file of zeros costs no disk but its size in memory).
  const size_t head = std::min<size_t>(static_cast<size_t>(end - begin), size_t{1} << 16);
  const void* first_break = std::memchr(begin, '\n', head);
  const size_t header_bytes = first_break != nullptr ? static_cast<size_t>(static_cast<const char*>(first_break) - begin) : head;
  if (const void* nul = std::memchr(begin, '\0', header_bytes)) {
    throw Error(Location{path, -1, ""}, "binary data (a NUL byte at byte " +
                                            std::to_string(static_cast<const char*>(nul) - begin + 1) +
                                            "): not a CSV or TSV text file");
  }
  constexpr size_t kMaxHeaderBytes = size_t{16} << 20;
  if (static_cast<size_t>(end - begin) > kMaxHeaderBytes && std::memchr(begin, '\n', kMaxHeaderBytes) == nullptr) {
    throw Error(Location{path, -1, ""}, "no line break in the first 16 MiB: not a CSV or TSV text file");
  }

  Tokenizer tok(path, begin, end, delim);
  std::vector<Field> fields;
  tok.Next(-1, &fields);
  const char* data_begin = tok.position();

  std::vector<std::string> header;
  std::unordered_map<std::string, int> index_of;
  for (size_t j = 0; j < fields.size(); ++j) {
    std::string name = Unescape(fields[j]);
    if (name.empty()) {
      throw Error(Location{path, -1, ""},
                  "the header's field " + std::to_string(j + 1) + " is an empty column name");
    }
    if (!index_of.emplace(name, static_cast<int>(j)).second) {
      throw Error(Location{path, -1, Printable(name)}, "duplicate column name in the header");
    }
    header.push_back(std::move(name));
  }
  const size_t num_fields = header.size();

  std::vector<ColumnBuilder> cols;
  if (options.columns.empty()) {
    for (size_t j = 0; j < num_fields; ++j) cols.emplace_back(header[j], static_cast<int>(j));
  } else {
    for (const std::string& want : options.columns) {
      const auto it = index_of.find(want);
      if (it == index_of.end()) {
        std::string available;
        for (const auto& h : header) available += (available.empty() ? "" : ", ") + Printable(h);
        throw Error(Location{path, -1, want},
                    "requested column not in the file (available: " + available + ")");
      }
      for (const auto& c : cols) {
        if (c.name == want) throw Error(Location{path, -1, want}, "column requested twice");
      }
      cols.emplace_back(want, it->second);
    }
  }
  // slot_of[file column] = builder index, or -1 when the column is dropped.
  std::vector<int> slot_of(num_fields, -1);
  for (size_t s = 0; s < cols.size(); ++s)
    slot_of[static_cast<size_t>(cols[s].file_index)] = static_cast<int>(s);

  const parallel::Context ctx(std::max(1, options.threads));
  int64_t num_rows =
      options.parallel_pass
          ? ReadParallel(path, bytes, data_begin, end, delim,
                         options.parallel_chunk_bytes > 0 ? options.parallel_chunk_bytes : kChunkBytes, num_fields,
                         slot_of, &cols, ctx)
          : -1;
  if (report != nullptr) report->read_in_parallel = num_rows >= 0;
  if (num_rows < 0) num_rows = ReadSequential(path, data_begin, end, delim, num_fields, slot_of, &cols);

  // Non-finite literals only matter in columns that ended up numeric.
  int64_t bad_row = -1;
  const ColumnBuilder* bad_col = nullptr;
  for (const auto& c : cols) {
    if (c.numeric && c.first_non_finite >= 0 && (bad_row < 0 || c.first_non_finite < bad_row)) {
      bad_row = c.first_non_finite;
      bad_col = &c;
    }
  }
  if (bad_col != nullptr) {
    const double v = bad_col->numbers[static_cast<size_t>(bad_row)];
    throw Error(Location{path, bad_row + 1, bad_col->name}, std::string("non-finite value (") +
                                                                (std::isnan(v) ? "NaN"
                                                                 : v > 0       ? "Inf"
                                                                               : "-Inf") +
                                                                ") in a numeric column");
  }

  Table table(path);
  for (auto& c : cols) {
    if (c.numeric) {
      // The parallel pass reserves by an estimate; a copy only for real slack.
      if (c.numbers.capacity() > c.numbers.size() + c.numbers.size() / 16 + 1024) c.numbers.shrink_to_fit();
      table.AddNumeric(std::move(c.name), std::move(c.numbers));
    } else {
      table.AddText(std::move(c.name), std::move(c.text));
    }
  }
  ApplyMissingPolicy(&table, options.missing, report);
  return table;
}

}  // namespace

Table ReadCsv(const std::string& path, const CsvReadOptions& options, ReadReport* report) {
  try {
    return ReadCsvImpl(path, options, report);
  } catch (const std::bad_alloc&) {
    throw Error(Location{path, -1, ""}, "out of memory reading the file");
  }
}

namespace {

bool NeedsQuotes(std::string_view s, char delim) {
  if (s == "NA" || s == ".") return true;
  if (!s.empty() && s.front() == '"') return true;
  for (char ch : s) {
    if (ch == delim || ch == '"' || ch == '\n' || ch == '\r') return true;
  }
  // Leading/trailing blanks or a trailing CR would otherwise be trimmed or
  // taken as a line ending by readers.
  return !s.empty() && (s.front() == ' ' || s.back() == ' ' || s.front() == '\t' || s.back() == '\t');
}

void AppendText(std::string* out, std::string_view s, char delim) {
  if (!NeedsQuotes(s, delim)) {
    out->append(s);
    return;
  }
  out->push_back('"');
  for (char ch : s) {
    if (ch == '"') out->push_back('"');
    out->push_back(ch);
  }
  out->push_back('"');
}

}  // namespace

void WriteCsv(const Table& table, const std::string& path, const CsvWriteOptions& options) {
  const char delim = options.delimiter;
  if (delim == '"' || delim == '\n' || delim == '\r' || delim == '\0') {
    throw Error(Location{path, -1, ""}, "invalid CSV delimiter");
  }
  if (table.num_columns() == 0) throw Error(Location{path, -1, ""}, "cannot write a table with no columns");
  // With one column an empty field would make an empty line, which readers
  // (ours included, at the end of a file) skip; spell missing out instead.
  const bool single = table.num_columns() == 1;
  AtomicFileWriter writer(path);
  std::string buf;
  constexpr size_t kFlushBytes = size_t{1} << 20;
  for (int j = 0; j < table.num_columns(); ++j) {
    if (j > 0) buf.push_back(delim);
    AppendText(&buf, table.column(j).name, delim);
  }
  buf.push_back('\n');
  const int64_t n = table.num_rows();
  for (int64_t r = 0; r < n; ++r) {
    for (int j = 0; j < table.num_columns(); ++j) {
      if (j > 0) buf.push_back(delim);
      const Column& c = table.column(j);
      if (c.kind == ColumnKind::kNumeric) {
        const double v = c.numeric[static_cast<size_t>(r)];
        if (!std::isnan(v)) {
          AppendNumber(&buf, v);
        } else if (single) {
          buf += "NA";
        }
      } else {
        const std::string& t = c.text[static_cast<size_t>(r)];
        if (t.empty() && single) {
          buf += "\"\"";
        } else {
          AppendText(&buf, t, delim);
        }
      }
    }
    buf.push_back('\n');
    if (buf.size() >= kFlushBytes) {
      writer.Write(buf);
      buf.clear();
    }
  }
  writer.Write(buf);
  writer.Commit();
}

}  // namespace cwfx::table
