// The replication estimator against fit::Fit: at unit weights it must give
// the study's estimates, with integer weights the fit of the data with rows
// repeated, for the wild bootstrap the refit of the perturbed outcome, and a
// permutation must keep every stratum's caseworker labels.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "core/error.h"
#include "fit/fit.h"
#include "replicate/estimator.h"
#include "replicate/schemes.h"
#include "replicate_fixture.h"

namespace cwfx::replicate {
namespace {

using testing::MakeProblem;
using testing::SharedStudy;

// Fit of the problem's data with observation i repeated count_n[i] times.
fit::FitResult FitRepeated(const ReplicationProblem& p, const std::vector<int>& count_n, const Eigen::VectorXd& y_n) {
  fit::Design d;
  d.source = "test";
  d.outcome_name = "y";
  d.covariate_names = p.covariate_names;
  int64_t m = 0;
  for (int c : count_n) m += c;
  d.y_n.resize(m);
  d.X_nk.resize(m, p.X_nk.cols());
  d.factors = p.factors;
  for (auto& f : d.factors) f.codes_n.clear();
  int64_t r = 0;
  for (int64_t i = 0; i < p.num_obs(); ++i) {
    for (int k = 0; k < count_n[static_cast<size_t>(i)]; ++k, ++r) {
      d.y_n[r] = y_n[i];
      d.X_nk.row(r) = p.X_nk.row(i);
      for (size_t q = 0; q < p.factors.size(); ++q) d.factors[q].codes_n.push_back(p.factors[q].codes_n[static_cast<size_t>(i)]);
    }
  }
  // Levels without observations are dropped and recoded by Fit's caller
  // normally; here every level keeps at least one row (checked by callers).
  for (auto& f : d.factors) {
    for (int32_t g = 0; g < f.num_levels; ++g) d.level_labels_q.push_back({});
  }
  d.level_labels_q.assign(d.factors.size(), {});
  for (size_t q = 0; q < d.factors.size(); ++q) {
    for (int32_t g = 0; g < d.factors[q].num_levels; ++g) d.level_labels_q[q].push_back(std::to_string(g));
  }
  d.components = absorb::FindComponents(d.factors);
  fit::FitOptions o;
  o.absorb.tolerance = 1e-12;
  o.fixed_effect_std_errors = false;
  o.keep_residuals = false;
  o.recovery = fit::FeRecovery::kSweeps;
  return fit::Fit(d, o, parallel::Context(2));
}

// Effects centred by the weighted mean, as the draws are.
std::vector<double> Centred(const Eigen::VectorXd& psi_g, const std::vector<double>& weight_g) {
  double ws = 0, wp = 0;
  for (Eigen::Index g = 0; g < psi_g.size(); ++g) {
    ws += weight_g[static_cast<size_t>(g)];
    wp += weight_g[static_cast<size_t>(g)] * psi_g[g];
  }
  std::vector<double> out(static_cast<size_t>(psi_g.size()));
  for (Eigen::Index g = 0; g < psi_g.size(); ++g) out[static_cast<size_t>(g)] = psi_g[g] - wp / ws;
  return out;
}

class EstimatorTest : public ::testing::TestWithParam<bool> {};

TEST_P(EstimatorTest, UnitWeightsReproduceTheStudy) {
  const bool two_way = GetParam();
  const ReplicationProblem p = MakeProblem(two_way, Scheme::kPairs);
  const study::StudyResult& s = SharedStudy(two_way).study;
  const ReplicaEstimator est(p);
  EstimatorWorkspace ws;
  const std::vector<double> ones(static_cast<size_t>(p.num_obs()), 1.0);
  const ReplicationDraw d = est.EstimateWeighted(ones, ws, parallel::Context(1));
  ASSERT_EQ(d.status, DrawStatus::kOk) << d.message;
  const double tol = two_way ? 1e-7 : 1e-9;
  ASSERT_EQ(d.coef_k.size(), s.fit.coef_k.size());
  for (Eigen::Index k = 0; k < d.coef_k.size(); ++k) EXPECT_NEAR(d.coef_k[k], s.fit.coef_k[k], tol) << k;
  for (size_t g = 0; g < d.effect_g.size(); ++g) {
    EXPECT_NEAR(d.effect_g[g], s.ranking.effect_g[g] - s.effect_centre, tol) << g;
    EXPECT_EQ(d.rank_g[g], s.ranking.rank_g[g]) << g;
    EXPECT_EQ(d.quartile_g[g], s.ranking.quartile_g[g]) << g;
  }
  EXPECT_NEAR(d.policy[0], s.table1.actual, 1e-12);
  EXPECT_NEAR(d.policy[1], s.table1.counterfactual, tol);
  EXPECT_NEAR(d.policy[2], s.table1.increase, tol);
  // The fixed contrast at the full sample is the study's increase.
  EXPECT_NEAR(d.fixed_contrast, s.table1.increase, tol);
  EXPECT_EQ(d.caseworkers_present, s.caseworkers);
}

TEST_P(EstimatorTest, IntegerWeightsEqualTheFitOfRepeatedRows) {
  const bool two_way = GetParam();
  const ReplicationProblem p = MakeProblem(two_way, Scheme::kPairs);
  const ReplicaEstimator est(p);
  EstimatorWorkspace ws;
  // A pairs-bootstrap draw (citizens drawn with replacement).
  random::Stream rng = ReplicationStream(3, Scheme::kPairs, 11);
  std::vector<double> count_c;
  DrawCitizenCounts(rng, p.num_citizens, count_c);
  std::vector<double> w(static_cast<size_t>(p.num_obs()));
  std::vector<int> count_n(w.size());
  for (size_t i = 0; i < w.size(); ++i) {
    w[i] = count_c[static_cast<size_t>(p.citizen_n[i])];
    count_n[i] = static_cast<int>(w[i]);
  }
  const ReplicationDraw d = est.EstimateWeighted(w, ws, parallel::Context(1));
  ASSERT_EQ(d.status, DrawStatus::kOk) << d.message;
  // Keep every level in the repeated design: give absent levels' rows weight
  // 1 is not allowed (it changes the fit), so require none is absent.
  std::vector<double> weight_g(static_cast<size_t>(p.num_caseworkers()), 0.0);
  for (size_t i = 0; i < w.size(); ++i) weight_g[static_cast<size_t>(p.factors[0].codes_n[i])] += w[i];
  for (double x : weight_g) ASSERT_GT(x, 0) << "draw with an absent caseworker; pick another stream";
  if (two_way) {
    // Citizens drawn zero times have no rows: drop their level from the
    // dense check by comparing only through the caseworker effects.
    std::vector<int32_t> remap(static_cast<size_t>(p.factors[1].num_levels), -1);
    ReplicationProblem q = p;
    int32_t next = 0;
    for (size_t i = 0; i < w.size(); ++i) {
      if (w[i] > 0 && remap[static_cast<size_t>(p.factors[1].codes_n[i])] < 0) {
        remap[static_cast<size_t>(p.factors[1].codes_n[i])] = next++;
      }
    }
    for (size_t i = 0; i < w.size(); ++i) {
      const int32_t c = remap[static_cast<size_t>(p.factors[1].codes_n[i])];
      q.factors[1].codes_n[i] = c < 0 ? 0 : c;  // rows with count 0 are not copied
    }
    q.factors[1].num_levels = next;
    const fit::FitResult f = FitRepeated(q, count_n, p.y_n);
    for (Eigen::Index k = 0; k < f.coef_k.size(); ++k) EXPECT_NEAR(d.coef_k[k], f.coef_k[k], 1e-7) << k;
    // A resample can split the graph; effects are then comparable within a
    // component only: compare differences to each component's first caseworker.
    const std::vector<int32_t>& comp = f.fixed_effects[0].component_g;
    std::map<int32_t, size_t> first;
    for (size_t g = 0; g < comp.size(); ++g) first.emplace(comp[g], g);
    EXPECT_GE(first.size(), 1u);
    for (size_t g = 0; g < comp.size(); ++g) {
      const size_t r = first[comp[g]];
      EXPECT_NEAR(d.effect_g[g] - d.effect_g[r], f.fixed_effects[0].effect_g[g] - f.fixed_effects[0].effect_g[r], 1e-7)
          << g;
    }
  } else {
    const fit::FitResult f = FitRepeated(p, count_n, p.y_n);
    for (Eigen::Index k = 0; k < f.coef_k.size(); ++k) EXPECT_NEAR(d.coef_k[k], f.coef_k[k], 1e-9) << k;
    const std::vector<double> want = Centred(f.fixed_effects[0].effect_g, weight_g);
    for (size_t g = 0; g < want.size(); ++g) EXPECT_NEAR(d.effect_g[g], want[g], 1e-9) << g;
  }
}

TEST_P(EstimatorTest, WildDrawEqualsTheRefitOfThePerturbedOutcome) {
  const bool two_way = GetParam();
  const ReplicationProblem p = MakeProblem(two_way, Scheme::kWild);
  const ReplicaEstimator est(p);
  EstimatorWorkspace ws;
  random::Stream rng = ReplicationStream(5, Scheme::kWild, 2);
  std::vector<double> v_c;
  DrawWildWeights(rng, WildWeights::kWebb, p.num_citizens, v_c);
  const ReplicationDraw d = est.EstimateWild(v_c, ws, parallel::Context(1));
  ASSERT_EQ(d.status, DrawStatus::kOk) << d.message;
  Eigen::VectorXd y_star = p.fitted_n;
  for (int64_t i = 0; i < p.num_obs(); ++i) y_star[i] += v_c[static_cast<size_t>(p.citizen_n[static_cast<size_t>(i)])] * p.scaled_residual_n[i];
  const fit::FitResult f = FitRepeated(p, std::vector<int>(static_cast<size_t>(p.num_obs()), 1), y_star);
  const double tol = two_way ? 1e-7 : 1e-9;
  for (Eigen::Index k = 0; k < f.coef_k.size(); ++k) EXPECT_NEAR(d.coef_k[k], f.coef_k[k], tol) << k;
  std::vector<double> weight_g(static_cast<size_t>(p.num_caseworkers()), 0.0);
  for (int32_t g : p.factors[0].codes_n) weight_g[static_cast<size_t>(g)] += 1.0;
  const std::vector<double> want = Centred(f.fixed_effects[0].effect_g, weight_g);
  for (size_t g = 0; g < want.size(); ++g) EXPECT_NEAR(d.effect_g[g], want[g], tol) << g;
  EXPECT_NEAR(d.policy[0], y_star.mean(), 1e-12);
}

INSTANTIATE_TEST_SUITE_P(OneAndTwoWay, EstimatorTest, ::testing::Values(false, true),
                         [](const auto& param_info) { return param_info.param ? "TwoWay" : "OneWay"; });

TEST(Permutation, KeepsEveryStratumsLabelsAndSpellCounts) {
  const ReplicationProblem p = MakeProblem(false, Scheme::kPermute);
  ASSERT_GT(p.stratum_offset.size(), 2u);
  random::Stream rng = ReplicationStream(9, Scheme::kPermute, 0);
  std::vector<int32_t> labels, cw_n;
  DrawPermutedCaseworkers(rng, p, labels, cw_n);
  int64_t moved = 0;
  for (size_t s = 0; s + 1 < p.stratum_offset.size(); ++s) {
    std::vector<int32_t> before, after;
    for (int64_t k = p.stratum_offset[s]; k < p.stratum_offset[s + 1]; ++k) {
      const auto spell = static_cast<size_t>(p.stratum_spells_s[static_cast<size_t>(k)]);
      before.push_back(p.spell_caseworker_s[spell]);
      after.push_back(labels[spell]);
      moved += before.back() != after.back();
    }
    std::sort(before.begin(), before.end());
    std::sort(after.begin(), after.end());
    EXPECT_EQ(before, after) << "stratum " << s;
  }
  EXPECT_GT(moved, 0);
  // Observations follow their spell.
  for (size_t i = 0; i < cw_n.size(); ++i) EXPECT_EQ(cw_n[i], labels[static_cast<size_t>(p.spell_n[i])]);
}

TEST(Permutation, MissingStratumColumnNamesIt) {
  ReplicationOptions o;
  o.scheme = Scheme::kPermute;
  o.permute_strata = {"no_such_column"};
  const auto& c = SharedStudy(false);
  try {
    BuildProblem(c.data, c.study, o, parallel::Context(1));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no_such_column"), std::string::npos) << e.what();
  }
}

TEST(Schemes, WildWeightsHaveMeanZeroAndUnitVariance) {
  for (WildWeights kind : {WildWeights::kRademacher, WildWeights::kWebb}) {
    random::Stream rng = ReplicationStream(1, Scheme::kWild, 0);
    std::vector<double> v;
    DrawWildWeights(rng, kind, 200000, v);
    double m = 0, m2 = 0;
    for (double x : v) {
      m += x;
      m2 += x * x;
    }
    m /= static_cast<double>(v.size());
    m2 /= static_cast<double>(v.size());
    EXPECT_NEAR(m, 0.0, 0.01);
    EXPECT_NEAR(m2, 1.0, 0.01);
  }
}

TEST(Schemes, PairsCountsSumToTheNumberOfCitizens) {
  random::Stream rng = ReplicationStream(1, Scheme::kPairs, 4);
  std::vector<double> c;
  DrawCitizenCounts(rng, 1000, c);
  double total = 0, zeros = 0;
  for (double x : c) {
    total += x;
    zeros += x == 0;
  }
  EXPECT_EQ(total, 1000.0);
  EXPECT_NEAR(zeros / 1000.0, std::exp(-1.0), 0.05);  // (1 - 1/C)^C
}

TEST(Schemes, BootstrapStandardErrorsOfEffectsAgreeWithTheAnalyticOnes) {
  const ReplicationProblem p = MakeProblem(false, Scheme::kPairs);
  const ReplicaEstimator est(p);
  EstimatorWorkspace ws;
  const int B = 200;
  const int32_t G = p.num_caseworkers();
  std::vector<double> sum(static_cast<size_t>(G), 0), sum2(static_cast<size_t>(G), 0), n(static_cast<size_t>(G), 0);
  for (int r = 0; r < B; ++r) {
    const ReplicationDraw d = RunReplication(est, r, ws, parallel::Context(1));
    ASSERT_NE(d.status, DrawStatus::kFailed) << d.message;
    for (int32_t g = 0; g < G; ++g) {
      const double e = d.effect_g[static_cast<size_t>(g)];
      if (!std::isfinite(e)) continue;
      sum[static_cast<size_t>(g)] += e;
      sum2[static_cast<size_t>(g)] += e * e;
      n[static_cast<size_t>(g)] += 1;
    }
  }
  // Median ratio of bootstrap to analytic standard errors: near 1 (the
  // analytic ones assume homoskedastic errors; the LPM is not, mildly).
  std::vector<double> ratio;
  for (int32_t g = 0; g < G; ++g) {
    const double k = n[static_cast<size_t>(g)];
    const double var = (sum2[static_cast<size_t>(g)] - sum[static_cast<size_t>(g)] * sum[static_cast<size_t>(g)] / k) / (k - 1);
    ratio.push_back(std::sqrt(var) / std::sqrt(p.analytic_effect_cov_gg(g, g)));
  }
  std::nth_element(ratio.begin(), ratio.begin() + G / 2, ratio.end());
  EXPECT_GT(ratio[static_cast<size_t>(G / 2)], 0.8);
  EXPECT_LT(ratio[static_cast<size_t>(G / 2)], 1.25);
}

}  // namespace
}  // namespace cwfx::replicate
