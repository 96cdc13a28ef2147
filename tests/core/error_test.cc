#include "core/error.h"

#include <gtest/gtest.h>

#include <limits>

#include "table/table.h"

namespace cwfx {
namespace {

TEST(ErrorTest, FormatsFileRowAndColumn) {
  Error e(Location{"reg.csv", 17, "age"}, "expected a number, found 'abc'");
  EXPECT_STREQ(e.what(), "reg.csv, row 17, column 'age': expected a number, found 'abc'");
  EXPECT_EQ(e.where().row, 17);
}

// A NUL byte from a file once cut the message short where it was printed.
TEST(ErrorTest, ControlBytesAreShownNotPrinted) {
  const Error e(Location{"reg.csv", 4, std::string("i\0d", 3)}, std::string("found 'a\0b\x1b'", 12));
  EXPECT_STREQ(e.what(), "reg.csv, row 4, column 'i\\x00d': found 'a\\x00b\\x1b'");
}

TEST(ErrorTest, OmitsEmptyParts) {
  EXPECT_STREQ(Error(Location{"", -1, "x"}, "m").what(), "column 'x': m");
  EXPECT_STREQ(Error("plain").what(), "plain");
}

TEST(TableTest, RejectsDuplicateAndMismatchedColumns) {
  table::Table t("t.csv");
  t.AddNumeric("a", {1, 2, 3});
  EXPECT_THROW(t.AddNumeric("a", {1, 2, 3}), Error);
  EXPECT_THROW(t.AddNumeric("b", {1, 2}), Error);
  EXPECT_EQ(t.num_rows(), 3);
}

TEST(TableTest, NumericNamesTheOffendingRow) {
  table::Table t("t.csv");
  t.AddText("age", {"31", "abc", "x"});
  try {
    t.Numeric("age");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.where().row, 2);
    EXPECT_EQ(e.where().column, "age");
  }
  t.AddNumeric("w", {1.0, std::numeric_limits<double>::infinity(), 2.0});
  try {
    t.Numeric("w");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.where().row, 2);
    EXPECT_NE(std::string(e.what()).find("non-finite"), std::string::npos);
  }
}

TEST(TableTest, NumericSkipsValuesTheReadersAcceptAsNumbers) {
  // " 1" and "+2" are numbers to every reader; the culprit is the third row.
  table::Table t("t.csv");
  t.AddText("x", {" 1", "+2", "abc"});
  try {
    t.Numeric("x");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.where().row, 3);
  }
}

TEST(TableTest, MissingColumnListsAvailable) {
  table::Table t("reg.h5");
  t.AddNumeric("outcome", {1});
  try {
    t.column("outcom");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("available: outcome"), std::string::npos);
  }
}

TEST(TableTest, SelectRowsKeepsOrder) {
  table::Table t;
  t.AddNumeric("x", {10, 11, 12, 13});
  t.AddText("s", {"a", "b", "c", "d"});
  std::vector<int64_t> rows{3, 1};
  auto s = t.SelectRows(rows);
  ASSERT_EQ(s.num_rows(), 2);
  EXPECT_EQ(s.column("x").numeric[0], 13);
  EXPECT_EQ(s.column("s").text[1], "b");
}

}  // namespace
}  // namespace cwfx
