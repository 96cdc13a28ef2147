// CSV reader/writer: round trips, dialect details, and every bad-input error
// pointing at the right row and column.
#include "table/csv.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

#include "table/error_matchers.h"
#include "table/temp_dir.h"

namespace cwfx::table {
namespace {

using cwfx::testing::TempDir;
using cwfx::testing::ThrowsAt;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

Table Read(const std::string& path, MissingPolicy missing = MissingPolicy::kError,
           ReadReport* report = nullptr) {
  CsvReadOptions o;
  o.missing = missing;
  return ReadCsv(path, o, report);
}

void ExpectSameTable(const Table& a, const Table& b) {
  ASSERT_EQ(a.num_rows(), b.num_rows());
  ASSERT_EQ(a.ColumnNames(), b.ColumnNames());
  for (int j = 0; j < a.num_columns(); ++j) {
    const Column& x = a.column(j);
    const Column& y = b.column(j);
    ASSERT_EQ(x.kind, y.kind) << x.name;
    if (x.kind == ColumnKind::kText) {
      EXPECT_EQ(x.text, y.text) << x.name;
      continue;
    }
    for (size_t r = 0; r < x.numeric.size(); ++r) {
      if (std::isnan(x.numeric[r])) {
        EXPECT_TRUE(std::isnan(y.numeric[r])) << x.name << " row " << r;
      } else {
        EXPECT_EQ(x.numeric[r], y.numeric[r]) << x.name << " row " << r;  // bit-exact round trip
      }
    }
  }
}

TEST(CsvTest, RoundTripIsExact) {
  TempDir dir;
  std::mt19937_64 rng(42);
  std::normal_distribution<double> normal(0.0, 1e3);
  std::uniform_int_distribution<int64_t> ids(-5, 1000000);
  const int n = 500;
  std::vector<double> x(n), id(n);
  std::vector<std::string> name(n);
  for (int i = 0; i < n; ++i) {
    x[i] = normal(rng) * std::pow(10.0, static_cast<double>(i % 40) - 20);
    id[i] = static_cast<double>(ids(rng));
    name[i] = std::to_string(i);
    name[i].insert(name[i].begin(), 'w');  // not "w" + ...: GCC 12 -Wrestrict false positive
  }
  x[0] = 0.1;
  x[1] = 1e300;
  x[2] = -4.9e-324;  // smallest denormal
  x[3] = 123456789012345678.0;
  x[4] = 1.0 / 3.0;
  name[5] = "with, comma";
  name[6] = "with \"quotes\"";
  name[7] = "line\nbreak";
  name[8] = "NA";
  name[9] = ".";
  name[10] = " padded ";
  name[11] = "caf\xC3\xA9";
  Table t("generated");
  t.AddNumeric("x", x);
  t.AddNumeric("id", id);
  t.AddText("name", name);
  const std::string path = dir.File("rt.csv");
  WriteCsv(t, path);
  ExpectSameTable(t, Read(path));
}

TEST(CsvTest, RoundTripKeepsMissingUnderDrop) {
  TempDir dir;
  Table t("g");
  t.AddNumeric("a", {1, kNaN, 3});
  t.AddText("b", {"x", "y", ""});
  WriteCsv(t, dir.File("m.csv"));
  ReadReport report;
  Table back = Read(dir.File("m.csv"), MissingPolicy::kDropRow, &report);
  EXPECT_EQ(report.rows_read, 3);
  EXPECT_EQ(report.rows_dropped_missing, 2);
  ASSERT_EQ(back.num_rows(), 1);
  EXPECT_EQ(back.column("a").numeric[0], 1.0);
  EXPECT_EQ(back.column("b").text[0], "x");
}

TEST(CsvTest, SingleColumnMissingRoundTrips) {
  TempDir dir;
  Table t("g");
  t.AddNumeric("a", {1, kNaN});
  WriteCsv(t, dir.File("one.csv"));
  ReadReport report;
  Table back = Read(dir.File("one.csv"), MissingPolicy::kDropRow, &report);
  EXPECT_EQ(report.rows_read, 2);
  EXPECT_EQ(back.num_rows(), 1);
}

// It once went on to report "0 rows in file".
TEST(CsvErrorTest, DroppingEveryRowIsAnErrorSayingWhy) {
  TempDir dir;
  const std::string p = dir.Write("allgone.csv", "y,x\n1,\n2,NA\n,3\n");
  EXPECT_TRUE(ThrowsAt([&] { Read(p, MissingPolicy::kDropRow); }, p, -1, "",
                       "every one of the 3 rows has a missing value in a column the model uses ('y', 'x')"));
}

TEST(CsvTest, IntegersWrittenWithoutDecimals) {
  TempDir dir;
  Table t("g");
  t.AddNumeric("a", {12.0, -3.0, 1e12, 0.5});
  WriteCsv(t, dir.File("i.csv"));
  std::ifstream in(dir.File("i.csv"));
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(all, "a\n12\n-3\n1000000000000\n0.5\n");
}

TEST(CsvTest, InfersTypesAndHandlesDialect) {
  TempDir dir;
  // BOM, CRLF, quoted delimiters, doubled quotes, spaces and '+' around
  // numbers, NA and '.' as missing, no final newline.
  const std::string path = dir.Write(
      "d.csv", "\xEF\xBB\xBFid,x,\"note, quoted\"\r\n7, +1.5 ,\"a,b\"\r\n8,2e3,\"say \"\"hi\"\"\"\r\n9,NA,.");
  Table t = Read(path, MissingPolicy::kDropRow);
  ASSERT_EQ(t.num_rows(), 2);
  EXPECT_EQ(t.ColumnNames(), (std::vector<std::string>{"id", "x", "note, quoted"}));
  EXPECT_EQ(t.column("id").kind, ColumnKind::kNumeric);
  EXPECT_EQ(t.column("x").numeric, (std::vector<double>{1.5, 2000.0}));
  EXPECT_EQ(t.column("note, quoted").text, (std::vector<std::string>{"a,b", "say \"hi\""}));
}

TEST(CsvTest, ColumnTurnsTextLateKeepsEarlierRows) {
  TempDir dir;
  std::string body = "k,v\n";
  for (int i = 0; i < 100; ++i) body += std::to_string(i) + "," + std::to_string(i * 2) + "\n";
  body += "x100,200\n";
  Table t = Read(dir.Write("late.csv", body));
  const Column& k = t.column("k");
  ASSERT_EQ(k.kind, ColumnKind::kText);
  ASSERT_EQ(k.text.size(), 101u);
  EXPECT_EQ(k.text[0], "0");
  EXPECT_EQ(k.text[99], "99");
  EXPECT_EQ(k.text[100], "x100");
  EXPECT_EQ(t.column("v").kind, ColumnKind::kNumeric);
}

TEST(CsvTest, NanLiteralInTextColumnIsText) {
  TempDir dir;
  Table t = Read(dir.Write("t.csv", "a\nnan\nabc\n"));
  EXPECT_EQ(t.column("a").kind, ColumnKind::kText);
}

TEST(CsvTest, TabDelimiterAndSubset) {
  TempDir dir;
  CsvReadOptions o;
  o.delimiter = '\t';
  o.columns = {"c", "a"};
  // Column b has a missing value but is not kept, so it does not matter.
  Table t = ReadCsv(dir.Write("t.tsv", "a\tb\tc\n1\t\tz\n2\tq\ty\n"), o);
  EXPECT_EQ(t.ColumnNames(), (std::vector<std::string>{"c", "a"}));
  EXPECT_EQ(t.column("a").numeric, (std::vector<double>{1, 2}));
}

TEST(CsvTest, HeaderOnlyIsZeroRows) {
  TempDir dir;
  Table t = Read(dir.Write("h.csv", "a,b\n"));
  EXPECT_EQ(t.num_rows(), 0);
  EXPECT_EQ(t.num_columns(), 2);
}

TEST(CsvTest, TrailingBlankLinesIgnored) {
  TempDir dir;
  EXPECT_EQ(Read(dir.Write("b.csv", "a,b\n1,2\n\n\r\n")).num_rows(), 1);
}

TEST(CsvTest, QuotedFieldSpanningLines) {
  TempDir dir;
  Table t = Read(dir.Write("q.csv", "a,b\n\"x\ny\",1\n\"z\",2\n"));
  EXPECT_EQ(t.column("a").text, (std::vector<std::string>{"x\ny", "z"}));
}

TEST(CsvTest, NulBytesAreData) {
  TempDir dir;
  Table t = Read(dir.Write("n.csv", std::string("a,b\nx\0y,1\n", 10)));
  EXPECT_EQ(t.column("a").text[0], std::string("x\0y", 3));
}

// ---- errors: each names the file, row and column where it applies ----

TEST(CsvErrorTest, FileNotFound) {
  TempDir dir;
  const std::string p = dir.File("absent.csv");
  EXPECT_TRUE(ThrowsAt([&] { Read(p); }, p, -1, "", "cannot open file"));
}

TEST(CsvErrorTest, Directory) {
  TempDir dir;
  const std::string p = dir.File("");
  EXPECT_TRUE(ThrowsAt([&] { Read(p); }, p, -1, "", "directory"));
}

TEST(CsvErrorTest, EmptyFile) {
  TempDir dir;
  const std::string p = dir.Write("e.csv", "");
  EXPECT_TRUE(ThrowsAt([&] { Read(p); }, p, -1, "", "empty file"));
}

TEST(CsvErrorTest, DuplicateColumn) {
  TempDir dir;
  const std::string p = dir.Write("d.csv", "a,b,a\n1,2,3\n");
  EXPECT_TRUE(ThrowsAt([&] { Read(p); }, p, -1, "a", "duplicate column name"));
}

TEST(CsvErrorTest, EmptyColumnName) {
  TempDir dir;
  const std::string p = dir.Write("d.csv", "a,,c\n1,2,3\n");
  EXPECT_TRUE(ThrowsAt([&] { Read(p); }, p, -1, "", "field 2 is an empty column name"));
}

TEST(CsvErrorTest, TooFewAndTooManyFields) {
  TempDir dir;
  const std::string few = dir.Write("f.csv", "a,b,c\n1,2,3\n4,5,6\n7,8\n");
  EXPECT_TRUE(ThrowsAt([&] { Read(few); }, few, 3, "", "expected 3 fields, found 2"));
  const std::string many = dir.Write("m.csv", "a,b,c\n1,2,3,4\n");
  EXPECT_TRUE(ThrowsAt([&] { Read(many); }, many, 1, "", "expected 3 fields, found 4"));
}

TEST(CsvErrorTest, NonFiniteLiteral) {
  TempDir dir;
  const std::string p = dir.Write("n.csv", "a,b\n1,2\n3,inf\n5,NaN\n");
  EXPECT_TRUE(ThrowsAt([&] { Read(p, MissingPolicy::kDropRow); }, p, 2, "b", "non-finite value (Inf)"));
  const std::string q = dir.Write("q.csv", "a,b\n1,2\nnan,4\n");
  EXPECT_TRUE(ThrowsAt([&] { Read(q); }, q, 2, "a", "non-finite value (NaN)"));
}

TEST(CsvErrorTest, MissingUnderErrorPolicy) {
  TempDir dir;
  const std::string p = dir.Write("m.csv", "a,b,c\n1,2,x\n3,4,y\n5,NA,z\n6,7,\n");
  EXPECT_TRUE(ThrowsAt([&] { Read(p); }, p, 3, "b", "missing value; pass --missing drop"));
  ReadReport report;
  Table t = Read(p, MissingPolicy::kDropRow, &report);
  EXPECT_EQ(t.num_rows(), 2);
  EXPECT_EQ(report.rows_read, 4);
  EXPECT_EQ(report.rows_dropped_missing, 2);
}

TEST(CsvErrorTest, UnknownRequestedColumn) {
  TempDir dir;
  const std::string p = dir.Write("u.csv", "a,b\n1,2\n");
  CsvReadOptions o;
  o.columns = {"a", "zz"};
  EXPECT_TRUE(
      ThrowsAt([&] { ReadCsv(p, o); }, p, -1, "zz", "requested column not in the file (available: a, b)"));
}

TEST(CsvErrorTest, UnterminatedQuoteAndJunkAfterQuote) {
  TempDir dir;
  const std::string p = dir.Write("q.csv", "a,b\n1,2\n3,\"open\n");
  EXPECT_TRUE(ThrowsAt([&] { Read(p); }, p, 2, "", "unterminated quoted field"));
  const std::string j = dir.Write("j.csv", "a,b\n\"x\"y,2\n");
  EXPECT_TRUE(ThrowsAt([&] { Read(j); }, j, 1, "", "unexpected text after the closing quote"));
}

TEST(CsvErrorTest, WriteToMissingDirectoryNamesFile) {
  Table t("g");
  t.AddNumeric("a", {1});
  const std::string p = "/nonexistent_dir_cwfx/out.csv";
  EXPECT_TRUE(ThrowsAt([&] { WriteCsv(t, p); }, p, -1, "", "cannot create file"));
}

TEST(CsvErrorTest, WriteToFullDiskNamesFile) {
  // /dev/full accepts open() but fails every write with ENOSPC; the writer
  // goes through "<path>.tmp", so point a symlink there.
  TempDir dir;
  const std::string p = dir.File("full.csv");
  std::error_code ec;
  std::filesystem::create_symlink("/dev/full", p + ".tmp", ec);
  if (ec) GTEST_SKIP() << "cannot create a symlink to /dev/full";
  Table t("g");
  t.AddNumeric("a", std::vector<double>(1000, 1.5));
  EXPECT_TRUE(ThrowsAt([&] { WriteCsv(t, p); }, p, -1, "", "No space left on device"));
  EXPECT_FALSE(std::filesystem::exists(p));
}

// ---- the parallel pass: several megabytes, so many chunks and threads ----

// A register of `rows` records (about 40 bytes each): numbers of every form,
// a text id, a quoted text column holding delimiters and doubled quotes, and
// missing values (unless !with_missing); line `special_row` (1-based) is replaced by `special_line`.
std::string BigCsv(int rows, int special_row = 0, const std::string& special_line = "", bool with_missing = true) {
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<int> pick(0, 999);
  std::string s = "id,x,name,note,w\n";
  s.reserve(static_cast<size_t>(rows) * 44);
  for (int i = 1; i <= rows; ++i) {
    if (i == special_row) {
      s += special_line;
      continue;
    }
    const int u = pick(rng);
    s += std::to_string(i) + ",";
    s += (with_missing && u % 97 == 0) ? "" : std::to_string(u * 0.37 - 150.0);
    s += ",cw" + std::to_string(u % 50) + ",";
    s += (u % 3 == 0) ? "\"a, \"\"quoted\"\" b\"" : "plain";
    s += "," + std::to_string(u) + ((u % 5 == 0) ? "\r\n" : "\n");
  }
  return s;
}

Table ReadWith(const std::string& path, int threads, bool parallel_pass,
               MissingPolicy missing = MissingPolicy::kKeep, bool* read_in_parallel = nullptr) {
  CsvReadOptions o;
  o.missing = missing;
  o.threads = threads;
  o.parallel_pass = parallel_pass;
  ReadReport report;
  Table t = ReadCsv(path, o, &report);
  if (read_in_parallel != nullptr) *read_in_parallel = report.read_in_parallel;
  return t;
}

TEST(CsvParallelTest, SameTableAsTheSequentialReaderForAnyThreadCount) {
  TempDir dir;
  const std::string path = dir.Write("big.csv", BigCsv(120000));  // about 5 MB
  const Table reference = ReadWith(path, 1, false);
  ASSERT_EQ(reference.num_rows(), 120000);
  EXPECT_EQ(reference.column("name").kind, ColumnKind::kText);
  const auto& notes = reference.column("note").text;
  EXPECT_GT(std::count(notes.begin(), notes.end(), "a, \"quoted\" b"), 30000);
  for (int threads : {1, 2, 4}) {
    SCOPED_TRACE(threads);
    bool read_in_parallel = false;
    ExpectSameTable(ReadWith(path, threads, true, MissingPolicy::kKeep, &read_in_parallel), reference);
    EXPECT_TRUE(read_in_parallel);
  }
}

TEST(CsvParallelTest, ColumnTurningTextInALaterChunkKeepsEveryRow) {
  TempDir dir;
  const std::string path = dir.Write("late.csv", BigCsv(100000, 90000, "X90000,1,cw1,plain,3\n"));
  const Table t = ReadWith(path, 2, true);
  const Column& id = t.column("id");
  ASSERT_EQ(id.kind, ColumnKind::kText);
  ASSERT_EQ(id.text.size(), 100000u);
  EXPECT_EQ(id.text[0], "1");
  EXPECT_EQ(id.text[89998], "89999");
  EXPECT_EQ(id.text[89999], "X90000");
  ExpectSameTable(t, ReadWith(path, 1, false));
}

TEST(CsvParallelTest, QuotedLineBreakInALaterChunkCountsRecordsNotLines) {
  TempDir dir;
  const std::string path = dir.Write("nl.csv", BigCsv(100000, 70000, "70000,1,cw1,\"two\nlines\",3\n"));
  bool read_in_parallel = true;
  const Table t = ReadWith(path, 2, true, MissingPolicy::kKeep, &read_in_parallel);
  EXPECT_FALSE(read_in_parallel);  // a record may span chunks: the sequential reader takes over
  ASSERT_EQ(t.num_rows(), 100000);
  EXPECT_EQ(t.column("note").text[69999], "two\nlines");
  EXPECT_EQ(t.column("id").numeric[99999], 100000.0);
}

TEST(CsvParallelTest, ErrorsInALaterChunkNameTheirRow) {
  TempDir dir;
  const std::string ragged = dir.Write("ragged.csv", BigCsv(100000, 83456, "83456,1,cw1,plain\n"));
  EXPECT_TRUE(ThrowsAt([&] { ReadWith(ragged, 2, true); }, ragged, 83456, "", "fields"));
  const std::string inf = dir.Write("inf.csv", BigCsv(100000, 77777, "77777,inf,cw1,plain,3\n"));
  EXPECT_TRUE(ThrowsAt([&] { ReadWith(inf, 2, true); }, inf, 77777, "x", "non-finite"));
  const std::string gap = dir.Write("gap.csv", BigCsv(100000, 65432, "65432,1,cw1,plain,\n", false));
  EXPECT_TRUE(ThrowsAt([&] { ReadWith(gap, 2, true, MissingPolicy::kError); }, gap, 65432, "w", "missing"));
  const std::string open = dir.Write("open.csv", BigCsv(100000, 99999, "99999,1,cw1,\"never closed,3\n"));
  EXPECT_TRUE(ThrowsAt([&] { ReadWith(open, 2, true); }, open, 99999, "", "unterminated"));
}

// The parallel pass parses a plain record in one pass and hands any other to
// the tokenizer: records of both kinds, interleaved, read as the sequential
// reader reads them, with the values the typing rules give.
TEST(CsvParallelTest, PlainAndUnusualRecordsInterleavedReadAlike) {
  const std::vector<std::string> unusual = {
      " 3 ,a\n", "+4,b\n", "NA,c\n", ".,d\n", ",e\n", "\"5\",f\n", "1e3,\"g, h\"\n", ".5,i\r\n",
      "5.,j\n", "-0,k\n", "6,\"\"\n", "7,NA\n", "8,l\r\n", "9 ,m\n", "10,n \n"};
  std::string csv = "x,name\n";
  for (int r = 0; r < 3000; ++r) {
    csv += r % 7 == 3 ? unusual[static_cast<size_t>(r / 7) % unusual.size()]
                      : std::to_string(r) + "." + std::to_string(r % 10) + ",w" + std::to_string(r) + "\n";
  }
  TempDir dir;
  const std::string path = dir.Write("mixed.csv", csv);
  const Table reference = ReadWith(path, 1, false);
  for (size_t chunk : {size_t{64}, size_t{1000}, size_t{1} << 20}) {
    SCOPED_TRACE(chunk);
    CsvReadOptions o;
    o.threads = 2;
    o.missing = MissingPolicy::kKeep;
    o.parallel_chunk_bytes = chunk;
    ReadReport report;
    ExpectSameTable(ReadCsv(path, o, &report), reference);
    EXPECT_TRUE(report.read_in_parallel);
  }
  const auto& x = reference.column("x").numeric;
  const auto& name = reference.column("name").text;
  EXPECT_EQ(x[3], 3.0);    // " 3 "
  EXPECT_EQ(x[10], 4.0);   // "+4"
  EXPECT_TRUE(std::isnan(x[17]));  // NA
  EXPECT_EQ(x[38], 5.0);   // "\"5\""
  EXPECT_EQ(x[45], 1000.0);
  EXPECT_EQ(name[45], "g, h");
  EXPECT_EQ(x[52], 0.5);
  EXPECT_EQ(name[52], "i");  // CRLF
  EXPECT_EQ(x[4], 4.4);
  EXPECT_EQ(name[4], "w4");
}

// Chunks of a few bytes put a chunk boundary at every position of a small
// file (inside numbers, quotes, CRLF pairs): the table is still the
// sequential reader's (the fuzzer in fuzz/ does the same on any bytes).
TEST(CsvParallelTest, TinyChunksGiveTheSameTable) {
  TempDir dir;
  const std::string path = dir.Write("small.csv", BigCsv(300));
  const Table reference = ReadWith(path, 1, false);
  for (size_t chunk : {1, 2, 3, 7, 40, 41, 97}) {
    SCOPED_TRACE(chunk);
    CsvReadOptions o;
    o.threads = 2;
    o.missing = MissingPolicy::kKeep;
    o.parallel_chunk_bytes = chunk;
    ReadReport report;
    ExpectSameTable(ReadCsv(path, o, &report), reference);
    EXPECT_TRUE(report.read_in_parallel);
  }
}

}  // namespace
}  // namespace cwfx::table
