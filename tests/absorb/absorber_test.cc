// Absorption against an independent oracle: the residual of a dense weighted
// least squares on explicit dummy columns.
#include "absorb/absorber.h"

#include <gtest/gtest.h>

#include <cstring>
#include <tuple>

#include "test_designs.h"

namespace cwfx::absorb {
namespace {

using testing::DenseResidual;
using testing::RandomColumns;
using testing::RandomFactors;
using testing::RandomWeights;

constexpr double kRelTol = 1e-8;

double RelErr(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b, const Eigen::MatrixXd& scale) {
  double worst = 0;
  for (int64_t j = 0; j < a.cols(); ++j) {
    const double s = std::max(1e-300, scale.col(j).norm() / std::sqrt(static_cast<double>(a.rows())));
    worst = std::max(worst, (a.col(j) - b.col(j)).cwiseAbs().maxCoeff() / s);
  }
  return worst;
}

// (number of factors, weighted, components, acceleration)
using Param = std::tuple<int, bool, int, Acceleration>;

class AbsorbVsDense : public ::testing::TestWithParam<Param> {};

TEST_P(AbsorbVsDense, MatchesDummyRegressionResidual) {
  const auto [Q, weighted, blocks, accel] = GetParam();
  const int64_t n = 300;
  std::vector<int32_t> levels = {25, 60, 7};
  levels.resize(static_cast<size_t>(Q));
  auto fs = RandomFactors(n, levels, 11 + static_cast<uint64_t>(Q), blocks);
  testing::Compact(fs);
  std::vector<double> w = weighted ? RandomWeights(n, 5) : std::vector<double>{};
  Eigen::MatrixXd X = RandomColumns(n, 4, 3);
  X.col(3).array() += 1000.0;  // a column far from zero mean
  const Eigen::MatrixXd expected = DenseResidual(fs, w, X);

  AbsorbOptions opt;
  opt.tolerance = 1e-11;
  opt.acceleration = accel;
  Absorber ab(fs, w, opt);
  Eigen::MatrixXd got = X;
  const AbsorbSummary s = ab.Absorb(got, parallel::Context(2));
  ASSERT_TRUE(s.AllConverged()) << s.BriefReport();
  EXPECT_LT(RelErr(got, expected, X), kRelTol) << s.BriefReport();
}

INSTANTIATE_TEST_SUITE_P(Designs, AbsorbVsDense,
                         ::testing::Combine(::testing::Values(1, 2, 3), ::testing::Bool(),
                                            ::testing::Values(1, 3),
                                            ::testing::Values(Acceleration::kNone, Acceleration::kIronsTuck,
                                                              Acceleration::kConjugateGradient)));

TEST(Absorb, AccelerationsAgreeWithPlain) {
  const int64_t n = 2000;
  auto fs = RandomFactors(n, {80, 400}, 7);
  testing::Compact(fs);
  const auto w = RandomWeights(n, 9);
  const Eigen::MatrixXd X = RandomColumns(n, 3, 1);
  AbsorbOptions plain;
  plain.acceleration = Acceleration::kNone;
  plain.tolerance = 1e-12;
  plain.max_iterations = 100000;
  AbsorbOptions it = plain;
  it.acceleration = Acceleration::kIronsTuck;
  Eigen::MatrixXd a = X, b = X;
  const auto sa = Absorber(fs, w, plain).Absorb(a, parallel::Context(1));
  const auto sb = Absorber(fs, w, it).Absorb(b, parallel::Context(1));
  ASSERT_TRUE(sa.AllConverged());
  ASSERT_TRUE(sb.AllConverged());
  EXPECT_LT(RelErr(a, b, X), 1e-9);
  AbsorbOptions cg = plain;
  cg.acceleration = Acceleration::kConjugateGradient;
  Eigen::MatrixXd c = X;
  const auto sc = Absorber(fs, w, cg).Absorb(c, parallel::Context(1));
  ASSERT_TRUE(sc.AllConverged());
  EXPECT_LT(RelErr(a, c, X), 1e-9);
  // The accelerated solvers need far fewer sweeps than plain ones here.
  EXPECT_LT(sb.columns[0].iterations, sa.columns[0].iterations);
  EXPECT_LT(sc.columns[0].iterations, sa.columns[0].iterations);
}

// Many columns go through the blocked conjugate gradient (blocks of 8, padded);
// each column must match its own single-column solve.
TEST(Absorb, BlockedColumnsMatchSingleColumnSolves) {
  const auto fs = testing::ChainDesign(20, 10, 0.2, 8);
  const int64_t n = static_cast<int64_t>(fs[0].codes_n.size());
  const auto w = RandomWeights(n, 3);
  const Eigen::MatrixXd X = RandomColumns(n, 11, 2);
  AbsorbOptions opt;
  opt.tolerance = 1e-11;
  const Absorber ab(fs, w, opt);
  Eigen::MatrixXd all = X;
  const auto s = ab.Absorb(all, parallel::Context(2));
  ASSERT_TRUE(s.AllConverged()) << s.BriefReport();
  for (int64_t j = 0; j < X.cols(); ++j) {
    Eigen::MatrixXd one = X.col(j);
    ASSERT_TRUE(ab.Absorb(one, parallel::Context(1)).AllConverged());
    EXPECT_LT(RelErr(all.col(j), one, X.col(j)), 1e-9) << "column " << j;
  }
  EXPECT_LT(RelErr(all, DenseResidual(fs, w, X), X), kRelTol);
}

TEST(Absorb, BitIdenticalAcrossThreadCounts) {
  const int64_t n = 80000;  // large enough that levels and observation blocks are split
  for (int Q : {1, 2, 3}) {
    std::vector<int32_t> levels = {800, 16000, 50};
    levels.resize(static_cast<size_t>(Q));
    auto fs = RandomFactors(n, levels, 21);
    testing::Compact(fs);
    const auto w = RandomWeights(n, 2);
    const Eigen::MatrixXd X = RandomColumns(n, 3, 4);
    for (auto accel : {Acceleration::kNone, Acceleration::kIronsTuck, Acceleration::kConjugateGradient}) {
      AbsorbOptions opt;
      opt.acceleration = accel;
      opt.max_iterations = 200;
      Absorber ab(fs, w, opt);
      const Absorber ab2(fs, w, opt, parallel::Context(2));  // plan built in parallel
      Eigen::MatrixXd a = X, b = X;
      const auto sa = ab.Absorb(a, parallel::Context(1));
      const auto sb = ab2.Absorb(b, parallel::Context(2));
      EXPECT_EQ(0, std::memcmp(a.data(), b.data(), sizeof(double) * static_cast<size_t>(a.size())))
          << "Q=" << Q;
      for (size_t j = 0; j < sa.columns.size(); ++j) {
        EXPECT_EQ(sa.columns[j].iterations, sb.columns[j].iterations);
        EXPECT_EQ(sa.columns[j].criterion, sb.columns[j].criterion);
      }
      // Effects recovery is deterministic too.
      std::vector<double> fe(static_cast<size_t>(n));
      for (int64_t i = 0; i < n; ++i) fe[static_cast<size_t>(i)] = X(i, 0) - a(i, 0);
      const auto ra = ab.RecoverEffects(fe, parallel::Context(1));
      const auto rb = ab.RecoverEffects(fe, parallel::Context(2));
      for (int q = 0; q < Q; ++q) EXPECT_TRUE(ra.effects_q[q] == rb.effects_q[q]);
    }
  }
}

TEST(Absorb, SingleFactorIsExactInOnePass) {
  const int64_t n = 500;
  auto fs = RandomFactors(n, {30}, 3);
  const auto w = RandomWeights(n, 1);
  const Eigen::MatrixXd X = RandomColumns(n, 2, 8);
  Eigen::MatrixXd got = X;
  const auto s = Absorber(fs, w).Absorb(got, parallel::Context(1));
  for (const auto& c : s.columns) {
    EXPECT_TRUE(c.converged);
    EXPECT_EQ(c.iterations, 1);
  }
  EXPECT_LT(RelErr(got, DenseResidual(fs, w, X), X), 1e-12);
}

TEST(Absorb, RecoverEffectsReproducesFixedEffectPart) {
  for (int Q : {1, 2, 3})
  for (auto accel : {Acceleration::kIronsTuck, Acceleration::kConjugateGradient}) {
    const int64_t n = 3000;
    std::vector<int32_t> levels = {60, 700, 5};
    levels.resize(static_cast<size_t>(Q));
    auto fs = RandomFactors(n, levels, 31, 2);
    testing::Compact(fs);
    const auto w = RandomWeights(n, 4);
    // fe_n built from known effects: exactly in the span.
    std::mt19937_64 rng(5);
    std::normal_distribution<double> nd;
    std::vector<double> fe(static_cast<size_t>(n), 0.0);
    for (const auto& f : fs) {
      std::vector<double> eff(static_cast<size_t>(f.num_levels));
      for (auto& e : eff) e = 3.0 * nd(rng);
      for (int64_t i = 0; i < n; ++i) fe[static_cast<size_t>(i)] += eff[static_cast<size_t>(f.codes_n[i])];
    }
    AbsorbOptions opt;
    opt.acceleration = accel;
    Absorber ab(fs, w, opt);
    const auto r = ab.RecoverEffects(fe, parallel::Context(2));
    EXPECT_TRUE(r.convergence.converged);
    ASSERT_EQ(r.effects_q.size(), fs.size());
    double worst = 0, scale = 0;
    for (int64_t i = 0; i < n; ++i) {
      double s = 0;
      for (int q = 0; q < Q; ++q) s += r.effects_q[q](fs[q].codes_n[static_cast<size_t>(i)]);
      worst = std::max(worst, std::abs(s - fe[static_cast<size_t>(i)]));
      scale = std::max(scale, std::abs(fe[static_cast<size_t>(i)]));
    }
    EXPECT_LT(worst / scale, 1e-10) << "Q=" << Q;
  }
}

// A two-factor chain graph (each level of factor 0 linked only to its
// neighbours through factor 1) mixes very slowly: two sweeps cannot converge.
TEST(Absorb, NonConvergenceIsReported) {
  const int32_t L = 400;
  std::vector<Factor> fs(2);
  fs[0].name = "caseworker";
  fs[1].name = "citizen";
  fs[0].num_levels = L;
  fs[1].num_levels = L;
  for (int32_t g = 0; g < L; ++g) {
    for (int rep = 0; rep < 3; ++rep) {
      fs[0].codes_n.push_back(g);
      fs[1].codes_n.push_back(g);
    }
    if (g + 1 < L) {
      fs[0].codes_n.push_back(g + 1);
      fs[1].codes_n.push_back(g);
    }
  }
  const int64_t n = static_cast<int64_t>(fs[0].codes_n.size());
  Eigen::MatrixXd X(n, 1);
  for (int64_t i = 0; i < n; ++i) X(i, 0) = static_cast<double>(fs[0].codes_n[i] % 7) + 0.01 * (i % 13);
  for (auto accel : {Acceleration::kNone, Acceleration::kIronsTuck, Acceleration::kConjugateGradient}) {
    AbsorbOptions opt;
    opt.max_iterations = 2;
    opt.acceleration = accel;
    Eigen::MatrixXd got = X;
    const auto s = Absorber(fs, {}, opt).Absorb(got, parallel::Context(1));
    ASSERT_EQ(s.columns.size(), 1u);
    EXPECT_FALSE(s.columns[0].converged);
    EXPECT_FALSE(s.AllConverged());
    EXPECT_LE(s.columns[0].iterations, 2);
    const std::string report = s.BriefReport({"outcome"});
    EXPECT_NE(report.find("WARNING"), std::string::npos) << report;
    EXPECT_NE(report.find("did not converge"), std::string::npos) << report;
    EXPECT_NE(report.find("outcome"), std::string::npos) << report;
  }
}

// At the default tolerance every method lands close to a tightly converged
// reference on a slowly mixing chain.
TEST(Absorb, DefaultToleranceIsAccurateOnSlowlyMixingDesign) {
  const auto fs = testing::ChainDesign(40, 30, 0.05, 3);
  const int64_t n = static_cast<int64_t>(fs[0].codes_n.size());
  Eigen::MatrixXd X = RandomColumns(n, 2, 6);
  for (int64_t i = 0; i < n; ++i) X(i, 1) += 0.05 * fs[0].codes_n[static_cast<size_t>(i)];  // a trend along the chain
  AbsorbOptions tight;
  tight.acceleration = Acceleration::kConjugateGradient;
  tight.tolerance = 1e-13;
  tight.max_iterations = 100000;
  Eigen::MatrixXd ref = X;
  const auto sref = Absorber(fs, {}, tight).Absorb(ref, parallel::Context(1));
  ASSERT_TRUE(sref.AllConverged()) << sref.BriefReport();
  for (auto accel : {Acceleration::kNone, Acceleration::kIronsTuck, Acceleration::kConjugateGradient}) {
    AbsorbOptions opt;
    opt.acceleration = accel;
    opt.max_iterations = 100000;
    Eigen::MatrixXd got = X;
    const auto s = Absorber(fs, {}, opt).Absorb(got, parallel::Context(1));
    ASSERT_TRUE(s.AllConverged());
    const double err = RelErr(got, ref, X);
    std::printf("accel %d: %d iterations, error %.3g (relative to column RMS)\n", static_cast<int>(accel),
                s.columns[1].iterations, err);
    EXPECT_LT(err, 1e-5);
  }
}

TEST(Absorb, ConstantColumnIsAbsorbedToZero) {
  auto fs = RandomFactors(400, {20, 50}, 2);
  testing::Compact(fs);
  Eigen::MatrixXd X = Eigen::MatrixXd::Constant(400, 1, 42.0);
  for (auto accel : {Acceleration::kNone, Acceleration::kIronsTuck, Acceleration::kConjugateGradient}) {
    AbsorbOptions opt;
    opt.acceleration = accel;
    Eigen::MatrixXd Y = X;
    const auto s = Absorber(fs, {}, opt).Absorb(Y, parallel::Context(1));
    EXPECT_TRUE(s.AllConverged());
    EXPECT_LT(Y.cwiseAbs().maxCoeff(), 1e-10);
  }
}

}  // namespace
}  // namespace cwfx::absorb
