// Fit against a dense regression with explicit dummies (tests/fit/dense_fit.h):
// coefficients, iid / HC1 / cluster variances, R2s, normalised fixed effects,
// CHOLMOD vs sweep recovery, fixed-effect standard errors; collinearity and
// a simulation with known truth.
#include "fit/fit.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "core/error.h"
#include "fit/dense_fit.h"

namespace cwfx::fit {
namespace {

constexpr double kTol = 1e-8;  // agreement with the dense oracle

double MaxAbsDiff(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b) {
  EXPECT_EQ(a.rows(), b.rows());
  EXPECT_EQ(a.cols(), b.cols());
  if (a.rows() != b.rows() || a.cols() != b.cols()) return 1e300;
  return (a - b).cwiseAbs().maxCoeff();
}

struct Case {
  std::vector<int32_t> levels;
  int blocks;
  bool weighted;
  AbsorbMethod method;
  bool cluster_on_factor0;
};

FitOptions TightOptions(AbsorbMethod method) {
  FitOptions o;
  o.absorb.tolerance = 1e-14;
  o.absorb.max_iterations = 100000;
  o.absorb_method = method;
  o.compare_recoveries = true;
  return o;
}

class FitVsDense : public ::testing::TestWithParam<Case> {};

TEST_P(FitVsDense, AgreesWithDummyRegression) {
  const Case c = GetParam();
  const Design d = testing::MakeDesign(360, c.levels, c.blocks, c.weighted, 3, 42, c.cluster_on_factor0);
  const testing::DenseFit ref = testing::DenseReference(d);
  parallel::Context ctx(1);
  for (VcovType vt : {VcovType::kIid, VcovType::kHC1, VcovType::kCluster}) {
    FitOptions o = TightOptions(c.method);
    o.vcov = vt;
    const FitResult r = Fit(d, o, ctx);
    SCOPED_TRACE(VcovName(vt));
    EXPECT_EQ(r.dof_k, ref.K);
    EXPECT_LT(MaxAbsDiff(r.coef_k, ref.beta), kTol);
    EXPECT_NEAR(r.rss, ref.rss, kTol * ref.rss);
    EXPECT_NEAR(r.r2, ref.r2, kTol);
    EXPECT_NEAR(r.adj_r2, ref.adj_r2, kTol);
    EXPECT_NEAR(r.within_r2, ref.within_r2, kTol);
    const Eigen::MatrixXd& v = vt == VcovType::kIid ? ref.v_iid : vt == VcovType::kHC1 ? ref.v_hc1 : ref.v_cluster;
    EXPECT_LT(MaxAbsDiff(r.vcov_kk, v), kTol * v.cwiseAbs().maxCoeff());
    EXPECT_LT(MaxAbsDiff(r.std_error_k, v.diagonal().cwiseSqrt()), kTol);
    if (vt == VcovType::kCluster) {
      EXPECT_EQ(r.dof_cluster_k, ref.K_cluster);
    }
    if (c.levels.size() <= 2) {
      ASSERT_EQ(r.fixed_effects.size(), c.levels.size());
      for (size_t q = 0; q < c.levels.size(); ++q)
        EXPECT_LT(MaxAbsDiff(r.fixed_effects[q].effect_g, ref.effects_q[q]), kTol) << "factor " << q;
      EXPECT_GE(r.recovery_max_abs_diff, 0.0);
      EXPECT_LT(r.recovery_max_abs_diff, kTol);
      ASSERT_EQ(ref.fe0_se.size(), c.levels[0]);
      EXPECT_LT(MaxAbsDiff(r.fixed_effects[0].std_error_g, ref.fe0_se), kTol);
      EXPECT_GT(r.fixed_effects[0].std_error_g.minCoeff(), 0.05);
    }
    EXPECT_TRUE(r.absorb_summary.AllConverged());
    if (c.levels.size() <= 2) {
      EXPECT_TRUE(r.warnings.empty()) << r.warnings.front();
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Designs, FitVsDense,
    ::testing::Values(Case{{30}, 1, false, AbsorbMethod::kIterative, true},
                      Case{{30}, 1, true, AbsorbMethod::kDirect, false},
                      Case{{25, 70}, 1, false, AbsorbMethod::kIterative, true},
                      Case{{25, 70}, 1, true, AbsorbMethod::kDirect, true},
                      Case{{24, 60}, 3, true, AbsorbMethod::kIterative, false},
                      Case{{24, 60}, 3, false, AbsorbMethod::kDirect, true},
                      Case{{80, 20}, 2, true, AbsorbMethod::kDirect, false},
                      Case{{20, 30, 7}, 1, false, AbsorbMethod::kIterative, false},
                      Case{{20, 30, 7}, 1, true, AbsorbMethod::kIterative, true}));

TEST(Fit, R2WithoutFactor) {
  const Design d = testing::MakeDesign(300, {20, 50}, 1, true, 2, 7);
  parallel::Context ctx(1);
  FitOptions o = TightOptions(AbsorbMethod::kDirect);
  o.r2_without_factor = "f0";
  const FitResult r = Fit(d, o, ctx);
  // Oracle: the model with factor 1 only.
  Design d1 = d;
  d1.factors.erase(d1.factors.begin());
  d1.level_labels_q.erase(d1.level_labels_q.begin());
  d1.components = absorb::FindComponents(d1.factors);
  EXPECT_NEAR(r.r2_without, testing::DenseReference(d1).r2, kTol);
  EXPECT_LT(r.r2_without, r.r2);
  // One factor: without it, OLS with an intercept.
  Design d0 = d;
  d0.factors.resize(1);
  d0.level_labels_q.resize(1);
  d0.components = absorb::FindComponents(d0.factors);
  o.r2_without_factor = "f0";
  const FitResult r0 = Fit(d0, o, ctx);
  Eigen::MatrixXd z(d.num_obs(), 3);
  z.col(0).setOnes();
  z.rightCols(2) = d.X_nk;
  Eigen::Map<const Eigen::VectorXd> w(d.weights_n.data(), d.num_obs());
  const Eigen::VectorXd res = testing::DenseResidual(z, d.y_n, w);
  const double ybar = w.dot(d.y_n) / w.sum();
  const double tss = (w.array() * (d.y_n.array() - ybar).square()).sum();
  EXPECT_NEAR(r0.r2_without, 1 - (w.array() * res.array().square()).sum() / tss, kTol);
  EXPECT_NE(FormatRegressionTable(r0).find("R2 without f0"), std::string::npos);
}

TEST(Fit, CollinearCovariateIsDroppedAndNamed) {
  Design d = testing::MakeDesign(300, {20, 40}, 1, false, 2, 9);
  d.X_nk.conservativeResize(Eigen::NoChange, 5);
  d.X_nk.col(2) = d.X_nk.col(0) - 2 * d.X_nk.col(1);  // collinear with x1, x2
  for (int64_t i = 0; i < d.num_obs(); ++i) d.X_nk(i, 3) = 0.1 * d.factors[0].codes_n[i];  // within f0
  d.X_nk.col(4) = Eigen::VectorXd::Constant(d.num_obs(), 3.0);                               // constant
  d.covariate_names = {"x1", "x2", "combo", "by_f0", "const"};
  parallel::Context ctx(1);
  for (AbsorbMethod m : {AbsorbMethod::kIterative, AbsorbMethod::kDirect}) {
    FitOptions o;
    o.absorb_method = m;
    const FitResult r = Fit(d, o, ctx);
    EXPECT_EQ(r.covariate_names, (std::vector<std::string>{"x1", "x2"}));
    EXPECT_EQ(r.dropped_collinear, (std::vector<std::string>{"combo", "by_f0", "const"}));
    bool warned = false;
    for (const auto& wmsg : r.warnings) warned = warned || wmsg.find("combo") != std::string::npos;
    EXPECT_TRUE(warned);
    EXPECT_NE(FormatRegressionTable(r).find("Dropped (collinear): combo by_f0 const"), std::string::npos);
  }
}

TEST(Fit, AllCovariatesCollinearIsAnError) {
  Design d = testing::MakeDesign(200, {20}, 1, false, 2, 10);
  for (int64_t i = 0; i < d.num_obs(); ++i) {
    d.X_nk(i, 0) = d.factors[0].codes_n[i] % 3;
    d.X_nk(i, 1) = 1.0;
  }
  parallel::Context ctx(1);
  try {
    Fit(d, FitOptions{}, ctx);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("all covariates are collinear"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("x1"), std::string::npos);
  }
}

TEST(Fit, ClusterWithoutClusterVariableIsAnError) {
  Design d = testing::MakeDesign(200, {20}, 1, false, 1, 10);
  d.cluster_n.clear();
  d.num_clusters = 0;
  FitOptions o;
  o.vcov = VcovType::kCluster;
  parallel::Context ctx(1);
  EXPECT_THROW(Fit(d, o, ctx), Error);
}

TEST(Fit, NoFactorIsOlsWithIntercept) {
  Design d = testing::MakeDesign(200, {20}, 1, true, 2, 12);
  d.factors.clear();
  d.level_labels_q.clear();
  d.components = absorb::Components{};
  parallel::Context ctx(1);
  const FitResult r = Fit(d, FitOptions{}, ctx);
  Eigen::MatrixXd z(d.num_obs(), 3);
  z.col(0).setOnes();
  z.rightCols(2) = d.X_nk;
  Eigen::Map<const Eigen::VectorXd> w(d.weights_n.data(), d.num_obs());
  const Eigen::MatrixXd h = (z.transpose() * w.asDiagonal() * z).inverse();
  const Eigen::VectorXd b = h * z.transpose() * (w.asDiagonal() * d.y_n);
  EXPECT_LT(MaxAbsDiff(r.coef_k, b.tail(2)), kTol);
  EXPECT_EQ(r.dof_k, 3);
  EXPECT_TRUE(r.fixed_effects.empty());
}

TEST(Fit, ThreadCountDoesNotChangeResults) {
  const Design d = testing::MakeDesign(400, {30, 80}, 1, true, 3, 15);
  FitOptions o;
  const FitResult a = Fit(d, o, parallel::Context(1));
  const FitResult b = Fit(d, o, parallel::Context(2));
  EXPECT_EQ(MaxAbsDiff(a.coef_k, b.coef_k), 0.0);
  EXPECT_EQ(MaxAbsDiff(a.fixed_effects[0].effect_g, b.fixed_effects[0].effect_g), 0.0);
  // Components left empty by the caller are recomputed.
  Design d2 = d;
  d2.components = absorb::Components{};
  const FitResult c = Fit(d2, o, parallel::Context(1));
  EXPECT_EQ(c.absorbed_dof, a.absorbed_dof);
  EXPECT_EQ(MaxAbsDiff(c.fixed_effects[0].effect_g, a.fixed_effects[0].effect_g), 0.0);
}

// Fit(Design&&) absorbs the design's own outcome and covariates instead of a
// copy (the CLI's memory at 1e7 rows): the results are the copying fit's, bit
// for bit, with and without weights; a refit without a factor needs the raw
// data and leaves the design whole.
TEST(Fit, ConsumingTheDesignGivesIdenticalResults) {
  for (const bool weighted : {false, true}) {
    SCOPED_TRACE(weighted);
    const Design d = testing::MakeDesign(600, {40, 90}, 1, weighted, 3, 21);
    FitOptions o;
    o.keep_residuals = true;
    const FitResult a = Fit(d, o, parallel::Context(2));
    Design owned = d;
    const FitResult b = Fit(std::move(owned), o, parallel::Context(2));
    EXPECT_EQ(owned.y_n.size(), 0);
    EXPECT_EQ(owned.X_nk.size(), 0);
    EXPECT_EQ(owned.covariate_names, d.covariate_names);
    EXPECT_EQ(b.n, d.num_obs());
    EXPECT_EQ(MaxAbsDiff(a.coef_k, b.coef_k), 0.0);
    EXPECT_EQ(MaxAbsDiff(a.vcov_kk, b.vcov_kk), 0.0);
    EXPECT_EQ(MaxAbsDiff(a.residual_n, b.residual_n), 0.0);
    EXPECT_EQ(a.r2, b.r2);
    EXPECT_EQ(a.within_r2, b.within_r2);
    for (size_t q = 0; q < a.fixed_effects.size(); ++q) {
      EXPECT_EQ(MaxAbsDiff(a.fixed_effects[q].effect_g, b.fixed_effects[q].effect_g), 0.0);
      ASSERT_EQ(a.fixed_effects[q].std_error_g.size(), b.fixed_effects[q].std_error_g.size());
      if (a.fixed_effects[q].std_error_g.size() > 0) {
        EXPECT_EQ(MaxAbsDiff(a.fixed_effects[q].std_error_g, b.fixed_effects[q].std_error_g), 0.0);
      }
    }
    EXPECT_GT(a.fixed_effects[0].std_error_g.size(), 0);
  }
  const Design d = testing::MakeDesign(600, {40, 90}, 1, false, 3, 22);
  FitOptions o;
  o.r2_without_factor = d.factors[1].name;
  Design owned = d;
  const FitResult b = Fit(std::move(owned), o, parallel::Context(1));
  EXPECT_EQ(owned.y_n.size(), d.y_n.size());
  EXPECT_EQ(b.r2_without, Fit(d, o, parallel::Context(1)).r2_without);
}

// Large enough that the absorber's observation blocks and column blocks are
// split across threads (the small design above fits in one block).
TEST(Fit, ThreadCountDoesNotChangeResultsOnASplitDesign) {
  const Design d = testing::MakeDesign(90000, {1500, 20000}, 1, true, 4, 16);
  FitOptions o;
  o.fixed_effect_std_errors = false;
  const FitResult a = Fit(d, o, parallel::Context(1));
  const FitResult b = Fit(d, o, parallel::Context(2));
  EXPECT_EQ(MaxAbsDiff(a.coef_k, b.coef_k), 0.0);
  EXPECT_EQ(MaxAbsDiff(a.std_error_k, b.std_error_k), 0.0);
  EXPECT_EQ(MaxAbsDiff(a.fixed_effects[0].effect_g, b.fixed_effects[0].effect_g), 0.0);
  EXPECT_EQ(MaxAbsDiff(a.fixed_effects[1].effect_g, b.fixed_effects[1].effect_g), 0.0);
}

// Above max_direct_levels no CHOLMOD factor is built: the effects come from
// sweeps, agree with the direct recovery, and the choice is stated.
TEST(Fit, LargeReducedSideFallsBackToSweepRecovery) {
  const Design d = testing::MakeDesign(400, {30, 80}, 1, false, 3, 17);
  FitOptions direct;
  direct.fixed_effect_std_errors = false;
  direct.recovery = FeRecovery::kCholmod;
  FitOptions capped = direct;
  capped.max_direct_levels = 10;
  const FitResult a = Fit(d, direct, parallel::Context(1));
  const FitResult b = Fit(d, capped, parallel::Context(1));
  EXPECT_EQ(a.fe_recovery, "cholmod");
  EXPECT_EQ(b.fe_recovery, "sweeps");
  bool noted = false;
  for (const auto& w : b.warnings) noted = noted || w.find("max_direct_levels") != std::string::npos;
  EXPECT_TRUE(noted);
  EXPECT_LT(MaxAbsDiff(a.fixed_effects[0].effect_g, b.fixed_effects[0].effect_g), 1e-8);
  EXPECT_LT(MaxAbsDiff(a.fixed_effects[1].effect_g, b.fixed_effects[1].effect_g), 1e-8);
}

// Truth: y = X b + psi_j + e, 100 caseworkers x 60 observations, sd(psi) = 0.1,
// sd(e) = 0.3. The estimate psi_hat_j = psi_j + noise of variance about
// sigma2 / n_j (plus the small covariate term), so
//   corr(psi_hat, psi) ~= sqrt(var psi / (var psi + sigma2 / n_j))
//                       = sqrt(0.01 / (0.01 + 0.09 / 60)) = 0.9325.
// With J = 100 the sampling sd of a correlation near 0.93 is about
// (1 - rho^2) / sqrt(J) ~= 0.013; we allow 0.05 (about 4 sd).
TEST(Fit, RecoversKnownCaseworkerEffects) {
  const int32_t j_count = 100, per = 60;
  const int64_t n = static_cast<int64_t>(j_count) * per;
  std::mt19937_64 rng(2024);
  std::normal_distribution<double> z(0.0, 1.0);
  Design d;
  d.outcome_name = "y";
  d.covariate_names = {"x1", "x2"};
  absorb::Factor f{"caseworker", {}, j_count};
  Eigen::VectorXd psi(j_count);
  for (int32_t j = 0; j < j_count; ++j) psi[j] = 0.1 * z(rng);
  d.X_nk.resize(n, 2);
  d.y_n.resize(n);
  for (int64_t i = 0; i < n; ++i) {
    const int32_t j = static_cast<int32_t>(i / per);
    f.codes_n.push_back(j);
    d.X_nk(i, 0) = z(rng) + 2 * psi[j];
    d.X_nk(i, 1) = z(rng);
    d.y_n[i] = 0.5 * d.X_nk(i, 0) - 0.2 * d.X_nk(i, 1) + psi[j] + 0.3 * z(rng);
  }
  d.factors.push_back(f);
  d.level_labels_q.emplace_back();
  for (int32_t j = 0; j < j_count; ++j) d.level_labels_q[0].push_back("cw" + std::to_string(j));
  d.components = absorb::FindComponents(d.factors);
  const FitResult r = Fit(d, FitOptions{}, parallel::Context(1));
  const Eigen::VectorXd& est = r.fixed_effects[0].effect_g;
  const double ce = (est.array() - est.mean()).matrix().dot((psi.array() - psi.mean()).matrix());
  const double corr = ce / std::sqrt((est.array() - est.mean()).square().sum() * (psi.array() - psi.mean()).square().sum());
  const double expected = std::sqrt(0.01 / (0.01 + 0.09 / per));
  EXPECT_NEAR(corr, expected, 0.05) << "achieved " << corr << " expected " << expected;
  RecordProperty("achieved_correlation", std::to_string(corr));
  std::printf("truth test: corr(psi_hat, psi) = %.4f, expected %.4f\n", corr, expected);
  EXPECT_NEAR(r.coef_k[0], 0.5, 0.02);
  EXPECT_NEAR(std::sqrt(r.sigma2), 0.3, 0.01);
  // Each effect's SE is about sigma / sqrt(60) = 0.0387 (plus the covariate term).
  const double mean_se = r.fixed_effects[0].std_error_g.mean();
  EXPECT_NEAR(mean_se, 0.3 / std::sqrt(per), 0.004);
  // Coverage of the 95% intervals: the intercept is in the effects (one
  // factor), so compare centred values.
  int covered = 0;
  for (int32_t j = 0; j < j_count; ++j)
    covered += std::abs((est[j] - est.mean()) - (psi[j] - psi.mean())) < 1.96 * r.fixed_effects[0].std_error_g[j];
  EXPECT_GE(covered, 88);
}

TEST(Fit, StudentP) {
  EXPECT_NEAR(StudentTwoSidedP(1.959963984540054, 1e9), 0.05, 1e-6);
  EXPECT_NEAR(StudentTwoSidedP(2.228138851986274, 10), 0.05, 1e-10);
  EXPECT_NEAR(StudentTwoSidedP(0.0, 5), 1.0, 1e-12);
  EXPECT_NEAR(StudentTwoSidedP(12.7062047361747, 1), 0.05, 1e-10);
}


// Every route to the first factor's effect SEs (fit/effect_std_errors.h)
// against the dense reference, with the first factor on either side of the
// absorber (eliminated when it has more levels).
struct SeRouteCase {
  std::vector<int32_t> levels;
  AbsorbMethod method;
  int projections;
  const char* method_starts;
  bool exact;
};

class EffectStdErrorRoutes : public ::testing::TestWithParam<SeRouteCase> {};

TEST_P(EffectStdErrorRoutes, AgreeWithTheDenseReference) {
  const SeRouteCase c = GetParam();
  const Design d = testing::MakeDesign(1500, c.levels, 2, true, 2, 91);
  const testing::DenseFit ref = testing::DenseReference(d);
  FitOptions o = TightOptions(c.method);
  o.compare_recoveries = false;
  o.fe_std_error_projections = c.projections;
  const FitResult r = Fit(d, o, parallel::Context(2));
  EXPECT_EQ(r.fe_std_error_method.rfind(c.method_starts, 0), 0u) << r.fe_std_error_method;
  ASSERT_EQ(r.fixed_effects[0].std_error_g.size(), ref.fe0_se.size());
  if (c.exact) {
    EXPECT_LT(MaxAbsDiff(r.fixed_effects[0].std_error_g, ref.fe0_se), kTol);
  } else {
    // Each SE has a relative sd of about 1/sqrt(2p).
    const double sd = 1.0 / std::sqrt(2.0 * c.projections);
    const Eigen::ArrayXd rel = (r.fixed_effects[0].std_error_g.array() / ref.fe0_se.array() - 1.0).abs();
    EXPECT_LT(rel.mean(), 1.2 * sd);
    EXPECT_LT(rel.maxCoeff(), 5.0 * sd);
    EXPECT_GT(rel.maxCoeff(), 0.0);  // an estimate, not the exact value
  }
}

INSTANTIATE_TEST_SUITE_P(
    Routes, EffectStdErrorRoutes,
    ::testing::Values(SeRouteCase{{20, 90}, AbsorbMethod::kIterative, 200, "exact (20 solves)", true},
                      SeRouteCase{{90, 20}, AbsorbMethod::kIterative, 200, "exact (90 solves)", true},
                      SeRouteCase{{90, 20}, AbsorbMethod::kDirect, 200, "exact (90 solves)", true},
                      SeRouteCase{{30, 90}, AbsorbMethod::kDirect, 10, "exact (selected inversion", true},
                      SeRouteCase{{200, 40}, AbsorbMethod::kIterative, 150, "random projections (p = 150", false},
                      SeRouteCase{{200, 40}, AbsorbMethod::kDirect, 150, "random projections (p = 150", false},
                      SeRouteCase{{40, 200}, AbsorbMethod::kIterative, 30, "random projections (p = 30", false}));

}  // namespace
}  // namespace cwfx::fit
