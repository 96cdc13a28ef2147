#include "data_gen/generator.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/error.h"

namespace cwfx::datagen {
namespace {

constexpr uint64_t kSeed = 20170507;

// Exact equality of two tables: names, kinds, and every value bit for bit.
void ExpectIdentical(const table::Table& a, const table::Table& b) {
  ASSERT_EQ(a.ColumnNames(), b.ColumnNames());
  ASSERT_EQ(a.num_rows(), b.num_rows());
  for (int c = 0; c < a.num_columns(); ++c) {
    const table::Column& x = a.column(c);
    const table::Column& y = b.column(c);
    ASSERT_EQ(x.kind, y.kind) << x.name;
    if (x.kind == table::ColumnKind::kNumeric) {
      ASSERT_EQ(0, std::memcmp(x.numeric.data(), y.numeric.data(), x.numeric.size() * sizeof(double))) << x.name;
    } else {
      ASSERT_EQ(x.text, y.text) << x.name;
    }
  }
}

void ExpectIdentical(const Register& a, const Register& b) {
  ExpectIdentical(a.responses, b.responses);
  ExpectIdentical(a.caseworkers, b.caseworkers);
  ExpectIdentical(a.citizens, b.citizens);
  ExpectIdentical(a.coefficients, b.coefficients);
}

GeneratorOptions Medium() {
  GeneratorOptions o = GeneratorOptions::Preset("large");
  o.responses_target = 60'000;  // about 16,000 citizens: several parallel blocks
  return o;
}

TEST(Generator, IdenticalAtOneAndTwoThreads) {
  const GeneratorOptions o = GeneratorOptions::Preset("study");
  ExpectIdentical(Generate(o, kSeed, parallel::Context(1)), Generate(o, kSeed, parallel::Context(2)));
  const GeneratorOptions m = Medium();
  ExpectIdentical(Generate(m, 7, parallel::Context(1)), Generate(m, 7, parallel::Context(2)));
}

TEST(Generator, DifferentSeedsGiveDifferentData) {
  const GeneratorOptions o = GeneratorOptions::Preset("study");
  const Register a = Generate(o, kSeed, parallel::Context(1));
  const Register b = Generate(o, kSeed + 1, parallel::Context(1));
  EXPECT_NE(a.caseworkers.column("true_effect").numeric, b.caseworkers.column("true_effect").numeric);
  EXPECT_NE(a.citizens.column("true_effect").numeric, b.citizens.column("true_effect").numeric);
  const auto& ya = a.responses.column("outcome").numeric;
  const auto& yb = b.responses.column("outcome").numeric;
  EXPECT_TRUE(ya.size() != yb.size() || ya != yb);
}

TEST(Generator, ColumnsAndRanges) {
  const Register reg = Generate(GeneratorOptions::Preset("study"), kSeed, parallel::Context(2));
  const table::Table& t = reg.responses;
  std::vector<std::string> expected = {"response_id", "citizen_id", "caseworker_id", "job_centre_id", "date",
                                       "quarter", "gender", "age", "ethnicity", "civil_status",
                                       "employment_history", "benefit_history", "education"};
  for (int k = 1; k <= 11; ++k) expected.push_back("somatic_" + std::to_string(k));
  for (int k = 1; k <= 10; ++k) expected.push_back("psych_" + std::to_string(k));
  expected.push_back("medicine");
  expected.push_back("doctor_visits");
  for (int k = 1; k <= 11; ++k) expected.push_back("B" + std::to_string(k));
  for (int k = 1; k <= 23; ++k) expected.push_back("S1_" + std::to_string(k));
  for (int k = 2; k <= 12; ++k) expected.push_back("S" + std::to_string(k));
  expected.push_back("outcome");
  ASSERT_EQ(t.ColumnNames(), expected);

  auto in_range = [&](const std::string& name, double lo, double hi, bool integer) {
    for (double v : t.Numeric(name)) {
      ASSERT_GE(v, lo) << name;
      ASSERT_LE(v, hi) << name;
      if (integer) {
        ASSERT_EQ(v, std::round(v)) << name;
      }
    }
  };
  in_range("gender", 0, 1, true);
  in_range("age", 18, 70, true);
  in_range("ethnicity", 0, 2, true);
  in_range("education", 0, 2, true);
  in_range("employment_history", 0, 1, false);
  in_range("benefit_history", 0, 1, false);
  in_range("doctor_visits", 0, 1000, true);
  in_range("outcome", 0, 1, true);
  in_range("job_centre_id", 1, 10, true);
  for (int k = 1; k <= 11; ++k) in_range("B" + std::to_string(k), 1, 5, true);
  for (int k = 1; k <= 23; ++k) in_range("S1_" + std::to_string(k), 0, 1, true);
  for (int k = 2; k <= 12; ++k) in_range("S" + std::to_string(k), 1, 5, true);

  // Ids, dates and quarters; responses per citizen; changes of caseworker.
  const auto rid = t.Numeric("response_id");
  const auto cid = t.Numeric("citizen_id");
  const auto wid = t.Numeric("caseworker_id");
  const auto jid = t.Numeric("job_centre_id");
  const auto date = t.Numeric("date");
  const auto quarter = t.Numeric("quarter");
  const auto cw_centre = reg.caseworkers.Numeric("job_centre_id");
  std::map<double, int> responses_of;
  std::map<double, std::set<double>> caseworkers_of;
  for (int64_t r = 0; r < t.num_rows(); ++r) {
    const size_t u = static_cast<size_t>(r);
    ASSERT_EQ(rid[u], static_cast<double>(r + 1));
    ASSERT_EQ(jid[u], cw_centre[static_cast<size_t>(wid[u]) - 1]);
    if (r > 0 && cid[u] == cid[u - 1]) {
      ASSERT_GT(date[u], date[u - 1]);
    }
    if (r > 0) {
      ASSERT_GE(cid[u], cid[u - 1]);
    }
    const int year = static_cast<int>(quarter[u]) / 10;
    const int q = static_cast<int>(quarter[u]) % 10;
    ASSERT_GE(year, 2014);
    ASSERT_GE(q, 1);
    ASSERT_LE(q, 4);
    ++responses_of[cid[u]];
    caseworkers_of[cid[u]].insert(wid[u]);
  }
  EXPECT_EQ(static_cast<int64_t>(responses_of.size()), reg.options.num_citizens);
  int singles = 0, movers = 0;
  for (const auto& [c, n] : responses_of) singles += n == 1 ? 1 : 0;
  for (const auto& [c, s] : caseworkers_of) movers += s.size() > 1 ? 1 : 0;
  EXPECT_GT(singles, 100);
  EXPECT_GT(movers, 1000);
}

TEST(Generator, QuarterCodes) {
  // Day 0 = 2014-01-01 (Q1), day 90 = 2014-04-01 (Q2), day 365 = 2015-01-01.
  GeneratorOptions o = GeneratorOptions::Preset("study");
  o.num_citizens = 200;
  o.max_responses = 1;
  const Register reg = Generate(o, 1, parallel::Context(1));
  const auto date = reg.responses.Numeric("date");
  const auto quarter = reg.responses.Numeric("quarter");
  for (size_t r = 0; r < date.size(); ++r) {
    const int d = static_cast<int>(date[r]);
    int expected;
    if (d < 90) expected = 20141;
    else if (d < 181) expected = 20142;
    else if (d < 273) expected = 20143;
    else if (d < 365) expected = 20144;
    else if (d < 455) expected = 20151;
    else if (d < 546) expected = 20152;
    else if (d < 638) expected = 20153;
    else if (d < 730) expected = 20154;
    else if (d < 821) expected = 20161;
    else expected = 20162;
    ASSERT_EQ(quarter[r], expected) << "day " << d;
  }
}

// Oracle for the outcome model: recompute each response's index from the
// columns and the truth tables, then compare mean outcome with mean
// clip(index) within bins of the index.
TEST(Generator, OutcomeFollowsTheStatedTruth) {
  const Register reg = Generate(Medium(), 11, parallel::Context(2));
  const table::Table& t = reg.responses;
  std::map<std::string, double> delta;
  const auto& names = reg.coefficients.column("name").text;
  const auto values = reg.coefficients.Numeric("value");
  for (size_t k = 0; k < names.size(); ++k) delta[names[k]] = values[k];
  ASSERT_EQ(names.size(), 1u + 9u + 11u + 10u + 2u + 22u);

  const int64_t n = t.num_rows();
  std::vector<double> index(static_cast<size_t>(n), delta.at("intercept"));
  for (const auto& [name, d] : delta) {
    if (name == "intercept" || name.rfind("dB", 0) == 0) continue;
    const size_t eq = name.find('=');
    if (eq != std::string::npos) {
      const auto v = t.Numeric(name.substr(0, eq));
      const double level = std::stod(name.substr(eq + 1));
      for (int64_t r = 0; r < n; ++r) index[static_cast<size_t>(r)] += v[static_cast<size_t>(r)] == level ? d : 0.0;
    } else {
      const auto v = t.Numeric(name);
      for (int64_t r = 0; r < n; ++r) index[static_cast<size_t>(r)] += d * v[static_cast<size_t>(r)];
    }
  }
  const auto cid = t.Numeric("citizen_id");
  for (int k = 1; k <= 11; ++k) {
    const auto b = t.Numeric("B" + std::to_string(k));
    const double d = delta.at("dB" + std::to_string(k));
    for (int64_t r = 1; r < n; ++r) {
      const size_t u = static_cast<size_t>(r);
      if (cid[u] == cid[u - 1]) index[u] += d * (b[u] - b[u - 1]);
    }
  }
  const auto wid = t.Numeric("caseworker_id");
  const auto psi = reg.caseworkers.Numeric("true_effect");
  const auto alpha = reg.citizens.Numeric("true_effect");
  const auto y = t.Numeric("outcome");
  std::vector<std::pair<double, double>> py;  // (clipped index, outcome)
  for (int64_t r = 0; r < n; ++r) {
    const size_t u = static_cast<size_t>(r);
    const double idx = index[u] + psi[static_cast<size_t>(wid[u]) - 1] + alpha[static_cast<size_t>(cid[u]) - 1];
    py.emplace_back(std::clamp(idx, 0.0, 1.0), y[u]);
  }
  std::sort(py.begin(), py.end());
  constexpr int kBins = 5;
  for (int b = 0; b < kBins; ++b) {
    const size_t lo = py.size() * static_cast<size_t>(b) / kBins;
    const size_t hi = py.size() * static_cast<size_t>(b + 1) / kBins;
    double sp = 0, sy = 0;
    for (size_t k = lo; k < hi; ++k) {
      sp += py[k].first;
      sy += py[k].second;
    }
    const double m = static_cast<double>(hi - lo);
    const double se = std::sqrt(std::max(sp / m * (1 - sp / m), 1e-4) / m);
    EXPECT_NEAR(sy / m, sp / m, 4.5 * se + 1e-3) << "bin " << b;
  }
}

// REPORT.md figures 4-19: the activity mix and ratings of the top quartile of
// caseworkers (by true effect) against the bottom quartile.
TEST(Generator, CaseworkerBehaviourFollowsEffectiveness) {
  const Register reg = Generate(Medium(), 3, parallel::Context(2));
  const table::Table& t = reg.responses;
  const auto psi = reg.caseworkers.Numeric("true_effect");
  std::vector<double> sorted(psi.begin(), psi.end());
  std::sort(sorted.begin(), sorted.end());
  const double q1 = sorted[sorted.size() / 4];
  const double q3 = sorted[sorted.size() * 3 / 4];
  const auto wid = t.Numeric("caseworker_id");
  auto mean_by = [&](const std::string& col, bool top) {
    const auto v = t.Numeric(col);
    double s = 0, m = 0;
    for (size_t r = 0; r < v.size(); ++r) {
      const double e = psi[static_cast<size_t>(wid[r]) - 1];
      if (top ? e >= q3 : e <= q1) {
        s += v[r];
        m += 1;
      }
    }
    return s / m;
  };
  for (const char* more : {"S1_1", "S1_13", "S1_17", "S1_19", "S1_22", "S2", "S4", "S8", "S12"}) {
    EXPECT_GT(mean_by(more, true), mean_by(more, false)) << more;
  }
  for (const char* less : {"S1_4", "S1_6", "S1_8", "S1_9", "S1_10", "S1_11", "S1_15", "S1_16", "S7"}) {
    EXPECT_LT(mean_by(less, true), mean_by(less, false)) << less;
  }
}

TEST(GeneratorOptions, PresetsAndValidation) {
  EXPECT_NO_THROW(GeneratorOptions::Preset("study").Validate());
  EXPECT_NO_THROW(GeneratorOptions::Preset("large").Resolved().Validate());
  EXPECT_THROW(GeneratorOptions::Preset("huge"), Error);
  auto bad = [](auto mutate) {
    GeneratorOptions o;
    mutate(o);
    EXPECT_THROW(o.Validate(), Error);
    EXPECT_THROW(Generate(o, 1, parallel::Context(1)), Error);
  };
  bad([](GeneratorOptions& o) { o.sorting = 1.5; });
  bad([](GeneratorOptions& o) { o.num_citizens = 0; });
  bad([](GeneratorOptions& o) { o.caseworker_change_rate = -0.1; });
  bad([](GeneratorOptions& o) { o.days_jitter = o.days_between_responses; });
  bad([](GeneratorOptions& o) { o.max_responses = 0; });
  bad([](GeneratorOptions& o) { o.b_persistence = 1.0; });
  bad([](GeneratorOptions& o) {
    o.regular_caseworkers_per_centre = 0;
    o.occasional_caseworkers_per_centre = 0;
  });
}

TEST(GeneratorOptions, LargePresetHitsTheResponseTarget) {
  GeneratorOptions o = GeneratorOptions::Preset("large");
  o.responses_target = 40'000;
  const Register reg = Generate(o, 5, parallel::Context(2));
  EXPECT_NEAR(static_cast<double>(reg.responses.num_rows()), 40'000.0, 2'000.0);
  EXPECT_EQ(reg.options.num_job_centres,
            static_cast<int>(std::llround(static_cast<double>(reg.options.num_citizens) / o.citizens_per_job_centre)));
  EXPECT_NE(reg.options.ToJson().find("\"responses_target\":40000"), std::string::npos);
}

}  // namespace
}  // namespace cwfx::datagen
