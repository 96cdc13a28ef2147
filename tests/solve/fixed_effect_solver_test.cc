// FixedEffectSolver against dense oracles: explicit dummies, QR projections,
// the grounded inverse of the dense normal matrix.
#include "solve/fixed_effect_solver.h"

#include <gtest/gtest.h>

#include <random>
#include <thread>

#include "core/error.h"
#include "solve/dense_reference.h"

namespace cwfx::solve {
namespace {

using testing::AllDummies;
using testing::DenseResidual;
using testing::MakeFactors;
using testing::RandomFactors;

constexpr double kTol = 1e-9;

std::vector<FactorCodes> Views(const RandomFactors& f) {
  std::vector<FactorCodes> v;
  for (size_t q = 0; q < f.levels_q.size(); ++q) v.push_back({f.codes_q_n[q], f.levels_q[q]});
  return v;
}

Eigen::VectorXd RandomWeights(int64_t n, bool weighted, uint64_t seed) {
  if (!weighted) return {};
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0.2, 3.0);
  Eigen::VectorXd w(n);
  for (int64_t i = 0; i < n; ++i) w[i] = u(rng);
  return w;
}

struct Case {
  int32_t g0, g1;
  int blocks;
  bool weighted;
};

class TwoFactorTest : public ::testing::TestWithParam<Case> {};

TEST_P(TwoFactorTest, AbsorbMatchesDenseProjection) {
  const Case c = GetParam();
  const int64_t n = 400;
  RandomFactors f = MakeFactors(n, {c.g0, c.g1}, c.blocks, 11);
  Eigen::VectorXd w = RandomWeights(n, c.weighted, 5);
  FixedEffectSolver solver(Views(f), std::span<const double>(w.data(), static_cast<size_t>(w.size())));
  ASSERT_TRUE(solver.ok()) << solver.summary().message;
  EXPECT_EQ(solver.summary().num_components, c.blocks);
  Eigen::MatrixXd v = Eigen::MatrixXd::Random(n, 3);
  Eigen::MatrixXd res = v;
  solver.Absorb(res);
  Eigen::MatrixXd dense = DenseResidual(AllDummies(f), v, w);
  EXPECT_LT((res - dense).cwiseAbs().maxCoeff(), kTol);
}

TEST_P(TwoFactorTest, RecoverReproducesFixedEffectPart) {
  const Case c = GetParam();
  const int64_t n = 400;
  RandomFactors f = MakeFactors(n, {c.g0, c.g1}, c.blocks, 12);
  Eigen::VectorXd w = RandomWeights(n, c.weighted, 6);
  FixedEffectSolver solver(Views(f), std::span<const double>(w.data(), static_cast<size_t>(w.size())));
  Eigen::VectorXd a = Eigen::VectorXd::Random(c.g0), b = Eigen::VectorXd::Random(c.g1);
  Eigen::VectorXd fe(n);
  for (int64_t i = 0; i < n; ++i) fe[i] = a[f.codes_q_n[0][i]] + b[f.codes_q_n[1][i]];
  auto eff = solver.Recover(std::span<const double>(fe.data(), n));
  ASSERT_EQ(eff.size(), 2u);
  for (int64_t i = 0; i < n; ++i)
    EXPECT_NEAR(eff[0][f.codes_q_n[0][i]] + eff[1][f.codes_q_n[1][i]], fe[i], kTol);
  // Within a component, differences of factor-0 effects are identified.
  const auto& comp = solver.component_g(0);
  for (int32_t g = 1; g < c.g0; ++g)
    for (int32_t h = 0; h < g; ++h)
      if (comp[g] == comp[h]) {
        EXPECT_NEAR(eff[0][g] - eff[0][h], a[g] - a[h], kTol);
      }
  // References are zero on the reduced side.
  const int r = solver.summary().reduced_factor;
  for (int32_t ref : solver.reference_levels()) EXPECT_EQ(eff[r][ref], 0.0);
  // Many right-hand sides agree with one at a time.
  Eigen::MatrixXd many(n, 2);
  many.col(0) = fe;
  many.col(1) = 2 * fe;
  auto eff2 = solver.RecoverMany(many);
  EXPECT_LT((eff2[0].col(0) - eff[0]).cwiseAbs().maxCoeff(), 1e-12);
  EXPECT_LT((eff2[1].col(1) - 2 * eff[1]).cwiseAbs().maxCoeff(), 1e-12);
}

TEST_P(TwoFactorTest, SolveLevelSumsIsGroundedInverse) {
  const Case c = GetParam();
  const int64_t n = 300;
  RandomFactors f = MakeFactors(n, {c.g0, c.g1}, c.blocks, 13);
  Eigen::VectorXd w = RandomWeights(n, c.weighted, 7);
  FixedEffectSolver solver(Views(f), std::span<const double>(w.data(), static_cast<size_t>(w.size())));
  Eigen::MatrixXd d = AllDummies(f);
  Eigen::MatrixXd nmat = w.size() ? Eigen::MatrixXd(d.transpose() * w.asDiagonal() * d)
                                  : Eigen::MatrixXd(d.transpose() * d);
  const int r = solver.summary().reduced_factor;
  const int32_t off_r = r == 0 ? 0 : c.g0;
  std::vector<int> keep;
  std::vector<bool> is_ref(static_cast<size_t>(c.g0 + c.g1), false);
  for (int32_t ref : solver.reference_levels()) is_ref[off_r + ref] = true;
  for (int j = 0; j < c.g0 + c.g1; ++j)
    if (!is_ref[j]) keep.push_back(j);
  Eigen::MatrixXd sub = nmat(keep, keep);
  Eigen::MatrixXd inv_sub = sub.ldlt().solve(Eigen::MatrixXd::Identity(sub.rows(), sub.cols()));
  Eigen::MatrixXd ginv = Eigen::MatrixXd::Zero(nmat.rows(), nmat.cols());
  ginv(keep, keep) = inv_sub;
  Eigen::MatrixXd s = Eigen::MatrixXd::Random(c.g0 + c.g1, 4);
  auto theta = solver.SolveLevelSums({s.topRows(c.g0), s.bottomRows(c.g1)});
  Eigen::MatrixXd expect = ginv * s;
  EXPECT_LT((theta[0] - expect.topRows(c.g0)).cwiseAbs().maxCoeff(), kTol);
  EXPECT_LT((theta[1] - expect.bottomRows(c.g1)).cwiseAbs().maxCoeff(), kTol);
  // Reduced Laplacian is the Schur complement, and SolveReduced inverts it grounded.
  const Eigen::MatrixXd lap(solver.ReducedLaplacian());
  EXPECT_LT((lap.rowwise().sum()).cwiseAbs().maxCoeff(), 1e-9);  // Laplacian: rows sum to 0
  Eigen::MatrixXd rhs = Eigen::MatrixXd::Random(lap.rows(), 2);
  Eigen::MatrixXd x = solver.SolveReduced(rhs);
  for (Eigen::Index g = 0; g < lap.rows(); ++g) {
    bool ref = false;
    for (int32_t rr : solver.reference_levels()) ref = ref || rr == g;
    if (ref) {
      EXPECT_EQ(x(g, 0), 0.0);
    } else {
      EXPECT_LT(((lap * x).row(g) - rhs.row(g)).cwiseAbs().maxCoeff(), kTol);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Designs, TwoFactorTest,
                         ::testing::Values(Case{20, 60, 1, false}, Case{20, 60, 1, true},
                                           Case{24, 60, 3, false}, Case{24, 60, 3, true},
                                           Case{60, 12, 2, true}));

TEST(OneFactor, DiagonalRecovery) {
  const int64_t n = 200;
  RandomFactors f = MakeFactors(n, {17}, 1, 3);
  Eigen::VectorXd w = RandomWeights(n, true, 9);
  FixedEffectSolver solver(Views(f), std::span<const double>(w.data(), static_cast<size_t>(w.size())));
  Eigen::MatrixXd v = Eigen::MatrixXd::Random(n, 2);
  Eigen::MatrixXd res = v;
  solver.Absorb(res);
  EXPECT_LT((res - DenseResidual(AllDummies(f), v, w)).cwiseAbs().maxCoeff(), kTol);
  Eigen::VectorXd a = Eigen::VectorXd::Random(17);
  Eigen::VectorXd fe(n);
  for (int64_t i = 0; i < n; ++i) fe[i] = a[f.codes_q_n[0][i]];
  auto eff = solver.Recover(std::span<const double>(fe.data(), n));
  EXPECT_LT((eff[0] - a).cwiseAbs().maxCoeff(), 1e-12);
}

TEST(Concurrency, ConstSolvesFromSeveralThreads) {
  const int64_t n = 2000;
  RandomFactors f = MakeFactors(n, {50, 400}, 2, 21);
  FixedEffectSolver solver(Views(f), {});
  Eigen::MatrixXd v = Eigen::MatrixXd::Random(n, 3);
  const auto expect = solver.RecoverMany(v);
  std::vector<double> err(4, 1.0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      double e = 0;
      for (int rep = 0; rep < 20; ++rep) {
        const auto got = solver.RecoverMany(v);
        for (int q = 0; q < 2; ++q) e = std::max(e, (got[q] - expect[q]).cwiseAbs().maxCoeff());
      }
      err[t] = e;
    });
  for (auto& th : threads) th.join();
  for (double e : err) EXPECT_EQ(e, 0.0);
}

TEST(Errors, BadInput) {
  std::vector<int32_t> codes = {0, 1, 1};
  std::vector<FactorCodes> one = {{codes, 3}};  // level 2 has no observation
  EXPECT_THROW(FixedEffectSolver(one, {}), Error);
  std::vector<FactorCodes> none;
  EXPECT_THROW(FixedEffectSolver(none, {}), Error);
  std::vector<FactorCodes> ok = {{codes, 2}};
  std::vector<double> w = {1.0, -1.0, 1.0};
  EXPECT_THROW(FixedEffectSolver(ok, w), Error);
}

}  // namespace
}  // namespace cwfx::solve
