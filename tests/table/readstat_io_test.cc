// Stata round trip through ReadStat, and its errors.
#include "table/readstat_io.h"

#include <gtest/gtest.h>
#include <readstat.h>

#include <cmath>
#include <cstdio>
#include <limits>
#include <utility>

#include "table/error_matchers.h"
#include "table/temp_dir.h"

namespace cwfx::table {
namespace {

using cwfx::testing::TempDir;
using cwfx::testing::ThrowsAt;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

Table Sample() {
  Table t("g");
  t.AddNumeric("worker", {1, 2, 3, 1234567890123.0});
  t.AddNumeric("x", {0.1, -1e-300, 1e300, 1.0 / 3.0});
  t.AddText("office", {"north", "caf\xC3\xA9", "with \"quote\"", "a,b"});
  return t;
}

TEST(ReadStatTest, DtaRoundTripIsExact) {
  TempDir dir;
  const Table t = Sample();
  const std::string p = dir.File("s.dta");
  WriteDta(t, p);
  ReadReport report;
  const Table back = ReadStatFile(p, {}, &report);
  EXPECT_EQ(report.rows_read, 4);
  ASSERT_EQ(back.ColumnNames(), t.ColumnNames());
  EXPECT_EQ(back.column("worker").numeric, t.column("worker").numeric);
  EXPECT_EQ(back.column("x").numeric, t.column("x").numeric);
  EXPECT_EQ(back.column("office").text, t.column("office").text);
  EXPECT_FALSE(std::filesystem::exists(p + ".tmp"));
}

TEST(ReadStatTest, MissingValuesAndSubset) {
  TempDir dir;
  Table t("g");
  t.AddNumeric("a", {1, kNaN, 3});
  t.AddNumeric("b", {4, 5, 6});
  t.AddText("c", {"x", "y", "z"});
  const std::string p = dir.File("m.dta");
  WriteDta(t, p);
  EXPECT_TRUE(ThrowsAt([&] { ReadStatFile(p, {}); }, p, 2, "a", "missing value"));
  ReadStatOptions o;
  o.missing = MissingPolicy::kDropRow;
  ReadReport report;
  Table back = ReadStatFile(p, o, &report);
  EXPECT_EQ(back.column("b").numeric, (std::vector<double>{4, 6}));
  EXPECT_EQ(report.rows_dropped_missing, 1);
  o.missing = MissingPolicy::kError;
  o.columns = {"c", "b"};
  back = ReadStatFile(p, o);
  EXPECT_EQ(back.ColumnNames(), (std::vector<std::string>{"c", "b"}));
  EXPECT_EQ(back.num_rows(), 3);
  o.columns = {"zz"};
  EXPECT_TRUE(ThrowsAt([&] { ReadStatFile(p, o); }, p, -1, "zz", "requested column not in the file"));
}

TEST(ReadStatTest, Errors) {
  TempDir dir;
  const std::string absent = dir.File("absent.dta");
  EXPECT_TRUE(ThrowsAt([&] { ReadStatFile(absent, {}); }, absent, -1, "", "cannot open file"));
  const std::string junk = dir.Write("junk.sav", "this is not an SPSS file at all");
  EXPECT_TRUE(ThrowsAt([&] { ReadStatFile(junk, {}); }, junk, -1, "", "cannot read SPSS file"));
  // A file too short for its header: said so, not the stale errno ReadStat
  // appends ("No such file or directory" for a file that is there).
  const std::string tiny = dir.Write("tiny.sas7bdat", "hello");
  EXPECT_TRUE(ThrowsAt([&] { ReadStatFile(tiny, {}); }, tiny, -1, "", "ends before its own header"));
  try {
    ReadStatFile(tiny, {});
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()).find("No such file"), std::string::npos) << e.what();
  }
  const std::string ext = dir.Write("x.foo", "");
  EXPECT_TRUE(ThrowsAt([&] { ReadStatFile(ext, {}); }, ext, -1, "", "unsupported extension"));

  Table bad_name("g");
  bad_name.AddNumeric("1abc", {1});
  const std::string p = dir.File("bad.dta");
  EXPECT_TRUE(ThrowsAt([&] { WriteDta(bad_name, p); }, p, -1, "1abc", "Stata rejects this variable name"));
  EXPECT_FALSE(std::filesystem::exists(p));
  EXPECT_FALSE(std::filesystem::exists(p + ".tmp"));

  Table inf("g");
  inf.AddNumeric("a", {1, std::numeric_limits<double>::infinity()});
  EXPECT_TRUE(ThrowsAt([&] { WriteDta(inf, p); }, p, 2, "a", "beyond its double range"));
}

TEST(ReadStatTest, FullDiskNamesFile) {
  TempDir dir;
  const std::string p = dir.File("full.dta");
  std::error_code ec;
  std::filesystem::create_symlink("/dev/full", p + ".tmp", ec);
  if (ec) GTEST_SKIP() << "cannot create a symlink to /dev/full";
  Table t("g");
  t.AddNumeric("a", std::vector<double>(100000, 1.5));
  EXPECT_TRUE(ThrowsAt([&] { WriteDta(t, p); }, p, -1, "", "No space left on device"));
  EXPECT_FALSE(std::filesystem::exists(p));
}

}  // namespace
}  // namespace cwfx::table

// The SPSS and SAS transport readers, fed files written with ReadStat's own
// writer (we only write .dta ourselves).
namespace cwfx::table {
namespace {

ssize_t AppendToFile(const void* data, size_t len, void* ctx) {
  return static_cast<ssize_t>(std::fwrite(data, 1, len, static_cast<std::FILE*>(ctx)));
}

enum class Format { kSav, kXpt };

void WriteWithReadStat(const std::string& path, Format format, int rows = 3) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  readstat_writer_t* w = readstat_writer_init();
  readstat_set_data_writer(w, AppendToFile);
  readstat_variable_t* num = readstat_add_variable(w, "NUM", READSTAT_TYPE_DOUBLE, 0);
  readstat_variable_t* str = readstat_add_variable(w, "STR", READSTAT_TYPE_STRING, 8);
  ASSERT_EQ(
      format == Format::kSav ? readstat_begin_writing_sav(w, f, rows) : readstat_begin_writing_xport(w, f, rows),
      READSTAT_OK);
  const double nums[3] = {1.5, -2.0, 0.0};
  const char* strs[3] = {"a", "bb", "ccc"};
  for (int r = 0; r < rows; ++r) {
    readstat_begin_row(w);
    if (r == 2) {
      readstat_insert_missing_value(w, num);
    } else {
      readstat_insert_double_value(w, num, r < 3 ? nums[r] : r);
    }
    readstat_insert_string_value(w, str, strs[r % 3]);
    readstat_end_row(w);
  }
  ASSERT_EQ(readstat_end_writing(w), READSTAT_OK);
  readstat_writer_free(w);
  std::fclose(f);
}

TEST(ReadStatTest, SpssAndSasTransport) {
  TempDir dir;
  for (const auto& [name, format] : {std::pair{"r.sav", Format::kSav}, std::pair{"r.XPT", Format::kXpt}}) {
    SCOPED_TRACE(name);
    const std::string p = dir.File(name);
    WriteWithReadStat(p, format);
    EXPECT_TRUE(ThrowsAt([&] { ReadStatFile(p, {}); }, p, 3, "NUM", "missing value"));
    ReadStatOptions o;
    o.missing = MissingPolicy::kDropRow;
    const Table t = ReadStatFile(p, o);
    EXPECT_EQ(t.column("NUM").numeric, (std::vector<double>{1.5, -2.0}));
    EXPECT_EQ(t.column("STR").text, (std::vector<std::string>{"a", "bb"}));
  }
}

TEST(ReadStatTest, ZeroRowsRoundTrip) {
  TempDir dir;
  Table t("g");
  t.AddNumeric("a", {});
  t.AddText("b", {});
  const std::string p = dir.File("z.dta");
  WriteDta(t, p);
  const Table back = ReadStatFile(p, {});
  EXPECT_EQ(back.num_rows(), 0);
  EXPECT_EQ(back.ColumnNames(), t.ColumnNames());
  EXPECT_EQ(back.column("b").kind, ColumnKind::kText);
}

// A file cut short (a copy that stopped half way) is damaged, not a shorter
// register: an .xpt cut in half read as 183 of its 400 rows with exit 0.
TEST(ReadStatTest, TruncatedFilesAreRefused) {
  TempDir dir;
  for (const auto& [name, format] : {std::pair{"cut.sav", Format::kSav}, std::pair{"cut.xpt", Format::kXpt}}) {
    const std::string whole = dir.File(std::string("whole_") + name);
    WriteWithReadStat(whole, format, 400);
    ReadStatOptions o;
    o.missing = MissingPolicy::kDropRow;
    EXPECT_EQ(ReadStatFile(whole, o).num_rows(), 399) << name;
    const auto size = std::filesystem::file_size(whole);
    // (An .xpt cut exactly at one of its 80-byte records cannot be told from
    // a shorter file: the format stores no row count.)
    for (const auto cut : {size / 2 + 7, size - 81, size - 1}) {
      SCOPED_TRACE(std::string(name) + " cut to " + std::to_string(cut) + " of " + std::to_string(size) + " bytes");
      const std::string p = dir.File(name);
      std::filesystem::copy_file(whole, p, std::filesystem::copy_options::overwrite_existing);
      std::filesystem::resize_file(p, cut);
      try {
        const Table t = ReadStatFile(p, o);
        ADD_FAILURE() << "read " << t.num_rows() << " rows from a truncated file";
      } catch (const Error& e) {
        EXPECT_EQ(e.where().file, p);
      }
    }
  }
  Table t("g");
  std::vector<double> v(400);
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<double>(i);
  t.AddNumeric("a", v);
  const std::string dta = dir.File("whole.dta");
  WriteDta(t, dta);
  const auto size = std::filesystem::file_size(dta);
  std::filesystem::resize_file(dta, size / 2);
  EXPECT_THROW(ReadStatFile(dta, {}), Error);
}

}  // namespace
}  // namespace cwfx::table
