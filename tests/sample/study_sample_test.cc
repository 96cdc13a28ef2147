#include "sample/study_sample.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "core/error.h"
#include "data_gen/generator.h"

namespace cwfx::sample {
namespace {

table::Table StudyRegister(uint64_t seed) {
  return datagen::Generate(datagen::GeneratorOptions::Preset("study"), seed, parallel::Context(1)).responses;
}

// Brute-force recount of every step with ordered maps and sets.
TEST(StudySample, CountsEqualABruteForceRecount) {
  const table::Table t = StudyRegister(20170507);
  const auto cid = t.Numeric("citizen_id");
  const auto wid = t.Numeric("caseworker_id");
  const auto date = t.Numeric("date");
  const auto rid = t.Numeric("response_id");
  const size_t n = static_cast<size_t>(t.num_rows());

  std::map<double, std::set<double>> citizens_of;
  for (size_t r = 0; r < n; ++r) citizens_of[wid[r]].insert(cid[r]);
  std::vector<size_t> step1;
  for (size_t r = 0; r < n; ++r) {
    if (citizens_of[wid[r]].size() >= 10) step1.push_back(r);
  }
  std::map<double, int> responses_of;
  for (size_t r : step1) ++responses_of[cid[r]];
  std::vector<size_t> step2;
  for (size_t r : step1) {
    if (responses_of[cid[r]] > 1) step2.push_back(r);
  }
  std::map<double, std::pair<double, size_t>> first_of;  // citizen -> (date, row) of the earliest
  for (size_t r : step2) {
    auto it = first_of.find(cid[r]);
    if (it == first_of.end() || std::make_pair(date[r], r) < it->second) first_of[cid[r]] = {date[r], r};
  }
  std::set<double> kept_ids, kept_cw, kept_ci;
  for (size_t r : step2) {
    if (first_of[cid[r]].second == r) continue;
    kept_ids.insert(rid[r]);
    kept_cw.insert(wid[r]);
    kept_ci.insert(cid[r]);
  }

  SampleReport rep;
  const table::Table s = ApplyStudySample(t, SampleOptions{}, &rep);
  ASSERT_EQ(rep.steps.size(), 3u);
  EXPECT_EQ(rep.steps[0].rows_before, static_cast<int64_t>(n));
  EXPECT_EQ(rep.steps[0].rows_after, static_cast<int64_t>(step1.size()));
  EXPECT_EQ(rep.steps[1].rows_after, static_cast<int64_t>(step2.size()));
  EXPECT_EQ(rep.steps[2].rows_after, static_cast<int64_t>(kept_ids.size()));
  for (const SampleStep& st : rep.steps) EXPECT_EQ(st.removed, st.rows_before - st.rows_after);
  EXPECT_EQ(rep.responses, static_cast<int64_t>(kept_ids.size()));
  EXPECT_EQ(rep.caseworkers, static_cast<int64_t>(kept_cw.size()));
  EXPECT_EQ(rep.citizens, static_cast<int64_t>(kept_ci.size()));
  EXPECT_EQ(rep.steps[1].rows_after - rep.steps[2].rows_after, static_cast<int64_t>(first_of.size()));
  const auto out_ids = s.Numeric("response_id");
  EXPECT_EQ(std::set<double>(out_ids.begin(), out_ids.end()), kept_ids);
  EXPECT_TRUE(std::is_sorted(out_ids.begin(), out_ids.end()));  // input order kept
  EXPECT_FALSE(rep.Summary().empty());
}

// Each change equals B minus B at the latest earlier response of the same
// citizen among the rows that survive steps 1 and 2 (recomputed directly).
TEST(StudySample, ChangesEqualADirectRecomputation) {
  const table::Table t = StudyRegister(4);
  SampleOptions no_drop;
  no_drop.drop_first_response = false;
  no_drop.add_changes = false;
  const table::Table pool = ApplyStudySample(t, no_drop);  // rows after steps 1 and 2
  const table::Table s = ApplyStudySample(t, SampleOptions{});
  const auto pc = pool.Numeric("citizen_id");
  const auto pd = pool.Numeric("date");
  const auto sc = s.Numeric("citizen_id");
  const auto sd = s.Numeric("date");
  for (int k = 1; k <= 11; ++k) {
    const std::string b = "B" + std::to_string(k);
    const auto pb = pool.Numeric(b);
    const auto sb = s.Numeric(b);
    const auto change = s.Numeric("d" + b);
    for (size_t r = 0; r < sc.size(); ++r) {
      double best_date = -1e300, prev = std::nan("");
      for (size_t q = 0; q < pc.size(); ++q) {
        if (pc[q] == sc[r] && pd[q] < sd[r] && pd[q] > best_date) {
          best_date = pd[q];
          prev = pb[q];
        }
      }
      ASSERT_FALSE(std::isnan(prev)) << "row " << r;
      ASSERT_EQ(change[r], sb[r] - prev) << b << " row " << r;
    }
  }
}

// A hand-built register: text ids and ISO dates given out of order.
TEST(StudySample, SmallHandBuiltExample) {
  table::Table t("hand");
  // Caseworkers a, b, c, d with 2 citizens each; citizen x1 has 3 responses.
  t.AddText("citizen_id", {"x1", "x1", "x1", "x2", "x3", "x3", "x4", "x4", "x5", "x5", "x6", "x7", "x7", "x8", "x8"});
  t.AddText("caseworker_id", {"a", "a", "a", "a", "b", "b", "b", "b", "c", "c", "c", "d", "d", "d", "d"});
  t.AddText("date", {"2015-03-01", "2014-06-01", "2014-09-01", "2014-01-01", "2014-01-01", "2014-04-01",
                     "2014-01-01", "2014-04-01", "2014-01-01", "2014-04-01", "2014-01-01", "2014-01-01",
                     "2014-04-01", "2014-01-01", "2014-04-01"});
  t.AddNumeric("B1", {5, 1, 3, 2, 2, 4, 1, 1, 3, 2, 1, 1, 5, 2, 2});
  SampleOptions o;
  o.min_citizens_per_caseworker = 2;
  o.change_columns = {"B1"};
  SampleReport rep;
  const table::Table s = ApplyStudySample(t, o, &rep);
  // Step 2 drops x2 and x6 (one response each); step 4 drops 6 first responses.
  EXPECT_EQ(rep.steps[1].rows_after, 13);
  EXPECT_EQ(rep.steps[2].rows_after, 7);
  EXPECT_EQ(rep.caseworkers, 4);
  EXPECT_EQ(rep.citizens, 6);
  const auto& ids = s.column("citizen_id").text;
  const auto d = s.Numeric("dB1", false);
  // x1: 2014-06-01 (1) -> 2014-09-01 (3) -> 2015-03-01 (5): kept rows 0 and 2 in input order.
  ASSERT_EQ(ids[0], "x1");
  EXPECT_EQ(s.column("date").text[0], "2015-03-01");
  EXPECT_EQ(d[0], 2.0);
  EXPECT_EQ(s.column("date").text[1], "2014-09-01");
  EXPECT_EQ(d[1], 2.0);
  EXPECT_EQ(d[2], 2.0);   // x3: 2 -> 4
  EXPECT_EQ(d[3], 0.0);   // x4
  EXPECT_EQ(d[4], -1.0);  // x5
  EXPECT_EQ(d[5], 4.0);   // x7
  EXPECT_EQ(d[6], 0.0);   // x8

  o.min_citizens_per_caseworker = 3;  // every caseworker has 2 citizens: none remains
  EXPECT_THROW(ApplyStudySample(t, o), Error);
}

TEST(StudySample, NonIsoTextDatesAreRefusedNotMisordered) {
  // 01-03-2015 sorts before 02-01-2014 as text: ordering such dates as text
  // would drop the wrong "first" response, so the sample refuses them.
  table::Table t("reg.csv");
  t.AddText("citizen_id", {"x1", "x1"});
  t.AddText("caseworker_id", {"a", "a"});
  t.AddText("date", {"2014-01-02", "01-03-2015"});
  t.AddNumeric("B1", {1, 2});
  SampleOptions o;
  o.min_citizens_per_caseworker = 1;
  o.min_caseworkers_remaining = 1;
  o.change_columns = {"B1"};
  try {
    ApplyStudySample(t, o);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.where().row, 2);
    EXPECT_EQ(e.where().column, "date");
    EXPECT_NE(std::string(e.what()).find("ISO"), std::string::npos) << e.what();
  }
}

TEST(StudySample, FewerThanFourCaseworkersIsAnError) {
  // k caseworkers with 10 citizens of 2 responses each.
  auto make = [](int k) {
    table::Table t("few");
    std::vector<double> c, w, d, b;
    for (int j = 0; j < k; ++j) {
      for (int i = 0; i < 10; ++i) {
        for (int r = 0; r < 2; ++r) {
          c.push_back(j * 100 + i);
          w.push_back(j);
          d.push_back(r * 91);
          for (int x = 0; x < 1; ++x) b.push_back(r + 1);
        }
      }
    }
    t.AddNumeric("citizen_id", c);
    t.AddNumeric("caseworker_id", w);
    t.AddNumeric("date", d);
    for (int k2 = 1; k2 <= 11; ++k2) t.AddNumeric("B" + std::to_string(k2), b);
    return t;
  };
  EXPECT_THROW(ApplyStudySample(make(3), SampleOptions{}), Error);
  SampleReport rep;
  const table::Table s = ApplyStudySample(make(4), SampleOptions{}, &rep);
  EXPECT_EQ(rep.caseworkers, 4);
  EXPECT_EQ(s.num_rows(), 40);
  for (double v : s.Numeric("dB7")) EXPECT_EQ(v, 1.0);
}

TEST(StudySample, OptionsAndInputErrors) {
  SampleOptions o;
  o.min_citizens_per_caseworker = -1;
  EXPECT_THROW(o.Validate(), Error);
  table::Table t = StudyRegister(1);
  SampleOptions missing_column;
  missing_column.date_column = "when";
  EXPECT_THROW(ApplyStudySample(t, missing_column), Error);
  // Disabling every step returns the input rows unchanged.
  SampleOptions none;
  none.min_citizens_per_caseworker = 0;
  none.min_responses_per_citizen = 0;
  none.drop_first_response = false;
  none.add_changes = false;
  SampleReport rep;
  EXPECT_EQ(ApplyStudySample(t, none, &rep).num_rows(), t.num_rows());
  EXPECT_TRUE(rep.steps.empty());
}

}  // namespace
}  // namespace cwfx::sample
