// CodeIds: codes follow sorted id order (numeric or lexicographic), labels are
// the ids as written, missing ids are errors naming row and column.
#include "table/id_coding.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

#include "table/csv.h"
#include "table/error_matchers.h"
#include "table/number_format.h"
#include "table/temp_dir.h"

namespace cwfx::table {
namespace {

using cwfx::testing::ThrowsAt;

TEST(IdCodingTest, NumericIdsInNumericOrder) {
  Table t("reg.csv");
  t.AddNumeric("worker", {30, 4, 100, 4, -2, 30, 1e12, 2.5});
  const IdCoding c = CodeIds(t, "worker");
  EXPECT_EQ(c.num_levels, 6);
  EXPECT_EQ(c.labels, (std::vector<std::string>{"-2", "2.5", "4", "30", "100", "1000000000000"}));
  EXPECT_EQ(c.codes_n, (std::vector<int32_t>{3, 2, 4, 2, 0, 3, 5, 1}));
}

// Integer ids in a narrow range are coded by direct addressing, others by
// sorting: both must give the ids' ranks, whatever the range.
TEST(IdCodingTest, IntegerIdsAreRankedWhateverTheirRange) {
  std::mt19937_64 rng(7);
  for (const double span : {3.0, 1000.0, 1e7, 1e15}) {
    std::uniform_real_distribution<double> draw(-span, span);
    std::vector<double> ids(500);
    for (double& v : ids) v = std::round(draw(rng) / 2) * 2;  // repeats at small spans
    ids[0] = -0.0;
    Table t("reg.csv");
    t.AddNumeric("id", ids);
    const IdCoding c = CodeIds(t, "id");
    std::vector<double> levels(ids);
    std::sort(levels.begin(), levels.end());
    levels.erase(std::unique(levels.begin(), levels.end()), levels.end());
    ASSERT_EQ(c.num_levels, static_cast<int32_t>(levels.size())) << span;
    for (size_t r = 0; r < ids.size(); ++r) {
      const auto rank = std::lower_bound(levels.begin(), levels.end(), ids[r]) - levels.begin();
      ASSERT_EQ(c.codes_n[r], rank) << "span " << span << " row " << r;
      ASSERT_EQ(c.labels[static_cast<size_t>(rank)], FormatNumber(levels[static_cast<size_t>(rank)] + 0.0)) << span;
    }
  }
}

TEST(IdCodingTest, TextIdsInLexicographicOrder) {
  Table t("reg.csv");
  t.AddText("office", {"b", "a10", "a2", "b", "A"});
  const IdCoding c = CodeIds(t, "office");
  EXPECT_EQ(c.labels, (std::vector<std::string>{"A", "a10", "a2", "b"}));
  EXPECT_EQ(c.codes_n, (std::vector<int32_t>{3, 1, 2, 3, 0}));
  EXPECT_EQ(c.num_levels, 4);
}

TEST(IdCodingTest, CodesDoNotDependOnRowOrder) {
  std::mt19937 rng(7);
  std::vector<double> ids(1000);
  for (auto& v : ids) v = static_cast<double>(rng() % 97);
  Table a("a");
  a.AddNumeric("id", ids);
  std::shuffle(ids.begin(), ids.end(), rng);
  Table b("b");
  b.AddNumeric("id", ids);
  const IdCoding ca = CodeIds(a, "id");
  const IdCoding cb = CodeIds(b, "id");
  EXPECT_EQ(ca.labels, cb.labels);
  for (size_t r = 0; r < ids.size(); ++r)
    EXPECT_EQ(cb.labels[static_cast<size_t>(cb.codes_n[r])], std::to_string(static_cast<int>(ids[r])));
}

TEST(IdCodingTest, NegativeZeroIsZero) {
  Table t("z");
  t.AddNumeric("id", {0.0, -0.0});
  const IdCoding c = CodeIds(t, "id");
  EXPECT_EQ(c.num_levels, 1);
  EXPECT_EQ(c.labels[0], "0");
}

TEST(IdCodingTest, MissingIdsAreErrors) {
  Table t("reg.csv");
  t.AddNumeric("w", {1, 2, std::numeric_limits<double>::quiet_NaN()});
  t.AddText("o", {"x", "", "y"});
  EXPECT_TRUE(ThrowsAt([&] { CodeIds(t, "w"); }, "reg.csv", 3, "w", "missing id"));
  EXPECT_TRUE(ThrowsAt([&] { CodeIds(t, "o"); }, "reg.csv", 2, "o", "missing id"));
  EXPECT_TRUE(ThrowsAt([&] { CodeIds(t, "nope"); }, "reg.csv", -1, "nope", "no such column"));
}

TEST(IdCodingTest, NumericIdsBeyondExactDoublesAreErrors) {
  // 2^53 + 1 is not a double: it would merge with 2^53 into one level.
  Table t("reg.csv");
  t.AddNumeric("id", {1, 9007199254740992.0, 3});
  EXPECT_TRUE(ThrowsAt([&] { CodeIds(t, "id"); }, "reg.csv", 2, "id", "too large"));
  Table ok("reg.csv");
  ok.AddNumeric("id", {1, 9007199254740991.0});
  EXPECT_EQ(CodeIds(ok, "id").num_levels, 2);
}

// One text id anywhere once made "01"/"1" and "2.0"/"2" different ids
// (14 caseworkers instead of 12): a value's id no longer depends on the
// rest of its column.
TEST(IdCodingTest, SpellingsOfOneNumberAreOneIdInATextColumn) {
  Table t("reg.csv");
  t.AddText("cw", {"01", "1", " 1", "+1", "2.0", "2", "x7", "1e0", "007"});
  const IdCoding c = CodeIds(t, "cw");
  EXPECT_EQ(c.labels, (std::vector<std::string>{"1", "2", "7", "x7"}));
  EXPECT_EQ(c.codes_n, (std::vector<int32_t>{0, 0, 0, 0, 1, 1, 3, 0, 2}));
}

TEST(IdCodingTest, LongIntegerIdsStayExactThroughCsv) {
  cwfx::testing::TempDir dir;
  // 2^64 + 1 and 2^64 + 2 are one double; as text they are two ids, and a
  // leading zero or quotes do not make a third.
  const std::string p = dir.Write("long.csv",
                                  "id,y\n18446744073709551617,1\n18446744073709551618,2\n"
                                  "\"018446744073709551617\",3\n7,4\n");
  const Table t = ReadCsv(p, CsvReadOptions{});
  ASSERT_EQ(t.column("id").kind, ColumnKind::kText);
  const IdCoding c = CodeIds(t, "id");
  EXPECT_EQ(c.labels, (std::vector<std::string>{"18446744073709551617", "18446744073709551618", "7"}));
  EXPECT_EQ(c.codes_n, (std::vector<int32_t>{0, 1, 0, 2}));
  EXPECT_TRUE(ThrowsAt([&] { (void)t.Numeric("id"); }, p, 1, "id", "more digits than a number holds"));
}

TEST(IdCodingTest, EmptyTable) {
  Table t("e");
  t.AddNumeric("id", {});
  const IdCoding c = CodeIds(t, "id");
  EXPECT_EQ(c.num_levels, 0);
  EXPECT_TRUE(c.codes_n.empty());
}

}  // namespace
}  // namespace cwfx::table
