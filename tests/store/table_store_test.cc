// Tables through HDF5 and the format dispatcher: exact round trips, schema,
// missing-value policy on HDF5 NaNs, and errors naming file/row/column.
#include "store/table_store.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "table/csv.h"
#include "table/error_matchers.h"
#include "table/readstat_io.h"
#include "table/temp_dir.h"

namespace cwfx::store {
namespace {

using cwfx::testing::TempDir;
using cwfx::testing::ThrowsAt;
using table::Column;
using table::ColumnKind;
using table::MissingPolicy;
using table::ReadReport;
using table::Table;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

Table Sample(int n) {
  Table t("generated");
  std::vector<double> worker(n), y(n);
  std::vector<std::string> office(n);
  for (int i = 0; i < n; ++i) {
    worker[i] = static_cast<double>((i * 7919) % 1000);
    y[i] = std::sin(i) * 1e5 + 1.0 / (i + 3);
    office[i] = (i % 3 == 0) ? "caf\xC3\xA9" : "office_" + std::to_string(i % 11);
  }
  t.AddNumeric("worker", worker);
  t.AddText("office", office);
  t.AddNumeric("y", y);
  return t;
}

void ExpectSameValues(const Table& a, const Table& b) {
  ASSERT_EQ(a.ColumnNames(), b.ColumnNames());
  ASSERT_EQ(a.num_rows(), b.num_rows());
  for (int j = 0; j < a.num_columns(); ++j) {
    const Column& x = a.column(j);
    const Column& y = b.column(j);
    ASSERT_EQ(x.kind, y.kind) << x.name;
    if (x.kind == ColumnKind::kNumeric) {
      EXPECT_EQ(x.numeric, y.numeric) << x.name;
    } else {
      EXPECT_EQ(x.text, y.text) << x.name;
    }
  }
}

TEST(TableStoreTest, Hdf5RoundTripIsExact) {
  TempDir dir;
  const Table t = Sample(200000);  // several chunks per column
  const std::string p = dir.File("reg.h5");
  {
    H5File f = H5File::Create(p);
    WriteTable(f, "/register", t);
    f.Close();
  }
  const H5File f = H5File::OpenReadOnly(p);
  EXPECT_EQ(f.GetStringListAttribute("/register", "columns"), t.ColumnNames());
  EXPECT_EQ(f.GetInt64Attribute("/register", "cwfx_table_version"), 1);
  const Table back = ReadTable(f, "/register");
  EXPECT_EQ(back.source(), p + ":/register");
  ExpectSameValues(t, back);
}

TEST(TableStoreTest, ReadAnyTableAllFormatsAgree) {
  TempDir dir;
  const Table t = Sample(50);
  table::WriteCsv(t, dir.File("r.csv"));
  table::CsvWriteOptions tab;
  tab.delimiter = '\t';
  table::WriteCsv(t, dir.File("r.TSV"), tab);
  table::WriteDta(t, dir.File("r.dta"));
  {
    H5File f = H5File::Create(dir.File("r.h5"));
    WriteTable(f, "/register", t);
    f.Close();
  }
  for (const char* name : {"r.csv", "r.TSV", "r.dta", "r.h5"}) {
    SCOPED_TRACE(name);
    ReadReport report;
    ExpectSameValues(t, ReadAnyTable(dir.File(name), {}, &report));
    EXPECT_EQ(report.rows_read, 50);
  }
  ReadAnyOptions subset;
  subset.columns = {"y", "worker"};
  EXPECT_EQ(ReadAnyTable(dir.File("r.h5"), subset).ColumnNames(), (std::vector<std::string>{"y", "worker"}));
}

// Invalid UTF-8 in a text column (a Latin-1 export) is refused where it is
// read, naming the row and column, in every format: it was accepted by one
// command and broke another's JSON with no row named.
TEST(TableStoreTest, InvalidUtf8IsRefusedNamingRowAndColumn) {
  TempDir dir;
  const std::string csv = dir.Write("latin1.csv", "caseworker_id,y\nJensen,1\nS\xF8rensen,0\n");
  EXPECT_TRUE(ThrowsAt([&] { ReadAnyTable(csv, {}); }, csv, 2, "caseworker_id", "not valid UTF-8 (bytes \\xf8"));
  const std::string header = dir.Write("latin1_header.csv", "caseworker_id,st\xF8rrelse\nJensen,1\n");
  EXPECT_TRUE(ThrowsAt([&] { ReadAnyTable(header, {}); }, header, -1, "", "column 2's name is not valid UTF-8"));
  table::Table t("g");
  t.AddText("caseworker_id", {"a", "b", "S\xF8rensen"});
  t.AddNumeric("y", {1, 2, 3});
  const std::string dta = dir.File("latin1.dta");
  table::WriteDta(t, dta);
  EXPECT_TRUE(ThrowsAt([&] { ReadAnyTable(dta, {}); }, dta, 3, "caseworker_id", "not valid UTF-8"));
  const std::string fine = dir.Write("utf8.csv", "caseworker_id,y\nS\xC3\xB8rensen,1\n");
  EXPECT_EQ(ReadAnyTable(fine, {}).column("caseworker_id").text[0], "S\xC3\xB8rensen");
}

TEST(TableStoreTest, ZeroRowsAndZeroColumns) {
  TempDir dir;
  const std::string p = dir.File("z.h5");
  Table rows0("g");
  rows0.AddNumeric("a", {});
  rows0.AddText("b", {});
  const Table cols0("g");
  {
    H5File f = H5File::Create(p);
    WriteTable(f, "/rows0", rows0);
    WriteTable(f, "/cols0", cols0);
    f.Close();
  }
  const H5File f = H5File::OpenReadOnly(p);
  ExpectSameValues(rows0, ReadTable(f, "/rows0"));
  EXPECT_EQ(ReadTable(f, "/cols0").num_columns(), 0);
}

TEST(TableStoreTest, ForeignGroupWithoutColumnsAttribute) {
  TempDir dir;
  const std::string p = dir.File("foreign.h5");
  {
    H5File f = H5File::Create(p);
    f.WriteInt32("/data/b_count", std::vector<int32_t>{1, 2});
    H5WriteOptions variable;  // as h5py writes str arrays
    variable.fixed_length_strings = false;
    f.WriteStrings("/data/a_name", std::vector<std::string>{"x", "y"}, variable);
    f.WriteMatrix("/data/z_matrix", std::vector<double>{1, 2, 3, 4}, 2, 2);  // not 1-D: ignored
    f.Close();
  }
  const Table t = ReadTable(H5File::OpenReadOnly(p), "/data");
  EXPECT_EQ(t.ColumnNames(), (std::vector<std::string>{"a_name", "b_count"}));
  EXPECT_EQ(t.column("b_count").numeric, (std::vector<double>{1, 2}));
}

TEST(TableStoreTest, MissingPolicyAppliesToHdf5) {
  TempDir dir;
  const std::string p = dir.File("m.h5");
  {
    H5File f = H5File::Create(p);
    Table t("g");
    t.AddNumeric("a", {1, 2, 3, 4});
    t.AddNumeric("b", {1, kNaN, 3, kNaN});
    WriteTable(f, "/register", t);
    f.Close();
  }
  const std::string src = p + ":/register";
  EXPECT_TRUE(ThrowsAt([&] { ReadAnyTable(p, {}); }, src, 2, "b", "missing value"));
  ReadAnyOptions drop;
  drop.missing = MissingPolicy::kDropRow;
  ReadReport report;
  const Table t = ReadAnyTable(p, drop, &report);
  EXPECT_EQ(t.column("a").numeric, (std::vector<double>{1, 3}));
  EXPECT_EQ(report.rows_read, 4);
  EXPECT_EQ(report.rows_dropped_missing, 2);
  drop.columns = {"a"};
  EXPECT_EQ(ReadAnyTable(p, drop).num_rows(), 4);  // b not kept: its NaNs do not count
}

TEST(TableStoreTest, Errors) {
  TempDir dir;
  const std::string unknown = dir.Write("r.xlsx", "x");
  EXPECT_TRUE(ThrowsAt([&] { ReadAnyTable(unknown, {}); }, unknown, -1, "", "supported: .csv .txt .tsv .h5"));

  const std::string p = dir.File("e.h5");
  {
    H5File f = H5File::Create(p);
    Table t("g");
    t.AddNumeric("a/b", {1});
    EXPECT_TRUE(ThrowsAt([&] { WriteTable(f, "/t", t); }, p, -1, "a/b", "cannot be stored in HDF5"));
    Table ok("g");
    ok.AddNumeric("a", {1, std::numeric_limits<double>::infinity()});
    WriteTable(f, "/register", ok);
    EXPECT_TRUE(ThrowsAt([&] { WriteTable(f, "/register", ok); }, p, -1, "", "already exists"));
    f.WriteDoubles("/ragged/x", std::vector<double>{1, 2});
    f.WriteDoubles("/ragged/y", std::vector<double>{1});
    f.Close();
  }
  EXPECT_TRUE(ThrowsAt([&] { ReadAnyTable(p, {}); }, p + ":/register", 2, "a", "non-finite value (Inf)"));
  ReadAnyOptions o;
  o.hdf5_group = "/absent";
  EXPECT_TRUE(ThrowsAt([&] { ReadAnyTable(p, o); }, p, -1, "", "no table group '/absent'"));
  o.hdf5_group = "/ragged";
  EXPECT_TRUE(ThrowsAt([&] { ReadAnyTable(p, o); }, p + ":/ragged", -1, "y",
                       "has 1 values but the table has 2 rows"));
  o.hdf5_group = "/register";
  o.columns = {"zz"};
  EXPECT_TRUE(ThrowsAt([&] { ReadAnyTable(p, o); }, p + ":/register", -1, "zz", "no such column"));
}

}  // namespace
}  // namespace cwfx::store
