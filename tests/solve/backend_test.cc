// The backend choice (solve/backend.h) and the Schur factor
// (solve/schur_factor.h) against dense linear algebra: S from the explicit
// dummies, its grounded inverse, and conjugate-gradient solves.
#include <gtest/gtest.h>

#include <Eigen/Dense>

#include <algorithm>
#include <random>

#include "absorb/absorber.h"
#include "absorb/identify.h"
#include "solve/backend.h"
#include "solve/dense_reference.h"
#include "solve/schur_factor.h"

namespace cwfx::solve {
namespace {

struct Problem {
  testing::RandomFactors f;
  std::vector<absorb::Factor> factors;
  std::vector<double> w;
};

Problem MakeProblem(int64_t n, std::vector<int32_t> levels, int blocks, bool weighted, uint64_t seed) {
  Problem p;
  p.f = testing::MakeFactors(n, levels, blocks, seed);
  for (size_t q = 0; q < levels.size(); ++q)
    p.factors.push_back(absorb::Factor{"f" + std::to_string(q), p.f.codes_q_n[q], levels[q]});
  if (weighted) {
    std::mt19937_64 rng(seed + 7);
    std::uniform_real_distribution<double> u(0.3, 2.5);
    for (int64_t i = 0; i < n; ++i) p.w.push_back(u(rng));
  }
  return p;
}

// S = Ds'W Ds - Ds'W De (De'W De)^-1 De'W Ds, on the absorber's state factor.
Eigen::MatrixXd DenseSchur(const Problem& p, int state) {
  const int elim = 1 - state;
  const Eigen::MatrixXd ds = testing::Dummies(p.f.codes_q_n[state], p.f.levels_q[state]);
  const Eigen::MatrixXd de = testing::Dummies(p.f.codes_q_n[elim], p.f.levels_q[elim]);
  const Eigen::VectorXd w = p.w.empty() ? Eigen::VectorXd::Ones(ds.rows())
                                        : Eigen::Map<const Eigen::VectorXd>(p.w.data(), ds.rows()).eval();
  const Eigen::MatrixXd dee = de.transpose() * w.asDiagonal() * de;
  const Eigen::MatrixXd c = ds.transpose() * w.asDiagonal() * de;
  return ds.transpose() * w.asDiagonal() * ds - c * dee.diagonal().cwiseInverse().asDiagonal() * c.transpose();
}

Eigen::MatrixXd Full(const absorb::SchurComplement& s) {
  Eigen::MatrixXd lower = Eigen::MatrixXd(s.lower.cast<double>());
  Eigen::MatrixXd full = lower + lower.transpose();
  full.diagonal() = lower.diagonal();
  return full;
}

TEST(SchurComplement, EqualsTheDenseSchurComplementOnTheFactorWithFewerLevels) {
  for (bool weighted : {false, true}) {
    // Given in either order: the factor with more levels is eliminated.
    for (auto levels : {std::vector<int32_t>{12, 40}, std::vector<int32_t>{40, 12}}) {
      const Problem p = MakeProblem(300, levels, 2, weighted, 11);
      absorb::Absorber a(p.factors, p.w);
      const int state = levels[0] < levels[1] ? 0 : 1;
      ASSERT_EQ(a.state_factor(), state);
      const absorb::SchurComplement s = a.BuildSchurComplement(parallel::Context(2));
      EXPECT_LT((Full(s) - DenseSchur(p, state)).cwiseAbs().maxCoeff(), 1e-12);
    }
  }
}

// The grounded inverse: S with each reference's row and column removed,
// inverted, zeros at the references.
Eigen::MatrixXd DenseGroundedInverse(const Eigen::MatrixXd& s, const std::vector<int64_t>& refs) {
  const Eigen::Index m = s.rows();
  std::vector<char> is_ref(static_cast<size_t>(m), 0);
  for (int64_t r : refs) is_ref[static_cast<size_t>(r)] = 1;
  std::vector<Eigen::Index> keep;
  for (Eigen::Index i = 0; i < m; ++i)
    if (!is_ref[static_cast<size_t>(i)]) keep.push_back(i);
  Eigen::MatrixXd sub(keep.size(), keep.size());
  for (size_t i = 0; i < keep.size(); ++i)
    for (size_t j = 0; j < keep.size(); ++j) sub(i, j) = s(keep[i], keep[j]);
  const Eigen::MatrixXd inv = sub.inverse();
  Eigen::MatrixXd out = Eigen::MatrixXd::Zero(m, m);
  for (size_t i = 0; i < keep.size(); ++i)
    for (size_t j = 0; j < keep.size(); ++j) out(keep[i], keep[j]) = inv(i, j);
  return out;
}

TEST(SchurFactor, DiagonalOfInverseAndSolvesEqualTheDenseGroundedInverse) {
  for (int blocks : {1, 3}) {
    const Problem p = MakeProblem(600, {30, 90}, blocks, true, 23 + blocks);
    absorb::Absorber a(p.factors, p.w);
    const absorb::SchurComplement s = a.BuildSchurComplement(parallel::Context(1));
    SchurFactor factor(s);
    EXPECT_EQ(factor.analysis().components, blocks);
    EXPECT_GT(factor.analysis().predicted_nnz, 0);
    ASSERT_TRUE(factor.Factorise(1)) << factor.message();
    const Eigen::MatrixXd dense_inv = DenseGroundedInverse(Full(s), factor.reference_levels());
    EXPECT_LT((factor.DiagonalOfInverse() - dense_inv.diagonal()).cwiseAbs().maxCoeff(), 1e-10);
    std::mt19937_64 rng(5);
    std::normal_distribution<double> z;
    Eigen::MatrixXd rhs(30, 3);
    for (Eigen::Index i = 0; i < rhs.size(); ++i) rhs.data()[i] = z(rng);
    EXPECT_LT((factor.Solve(rhs) - dense_inv * rhs).cwiseAbs().maxCoeff(), 1e-10);
  }
}

// Right-hand sides that sum to zero over each component (consistent).
Eigen::MatrixXd ConsistentRightHandSides(const Eigen::MatrixXd& s, int cols, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> z;
  Eigen::MatrixXd x(s.rows(), cols);
  for (Eigen::Index i = 0; i < x.size(); ++i) x.data()[i] = z(rng);
  return s * x;  // in S's range
}

TEST(Absorber, SolveSchurSolvesConsistentSystemsWithAndWithoutAFactor) {
  const Problem p = MakeProblem(800, {40, 120}, 2, false, 31);
  absorb::AbsorbOptions o;
  o.tolerance = 1e-12;
  absorb::Absorber a(p.factors, p.w, o);
  const Eigen::MatrixXd s = Full(a.BuildSchurComplement(parallel::Context(1)));
  const Eigen::MatrixXd b = ConsistentRightHandSides(s, 11, 3);
  const Eigen::MatrixXd expected = s.completeOrthogonalDecomposition().pseudoInverse() * b;
  for (bool with_factor : {false, true}) {
    if (with_factor) {
      const BackendOptions forced{.request = BackendRequest::kDirect};
      ASSERT_EQ(PrepareBackend(a, 1, forced, parallel::Context(1)).kind, BackendKind::kDirect);
    }
    absorb::ColumnConvergence worst;
    const Eigen::MatrixXd v = a.SolveSchur(b, parallel::Context(2), &worst);
    EXPECT_TRUE(worst.converged);
    if (with_factor) {
      EXPECT_LE(worst.iterations, 3);
    }
    // The residual vanishes, and v differs from the minimum-norm solution
    // by a constant on each component (S's null space).
    EXPECT_LT((s * v - b).cwiseAbs().maxCoeff(), 1e-8 * b.cwiseAbs().maxCoeff());
    const absorb::Components comps = absorb::FindComponents(p.factors);
    const auto& comp = comps.of_level_q[a.state_factor()];
    for (Eigen::Index k = 0; k < b.cols(); ++k)
      for (Eigen::Index g = 0; g < v.rows(); ++g) {
        const Eigen::Index first = std::find(comp.begin(), comp.end(), comp[g]) - comp.begin();
        EXPECT_NEAR(v(g, k) - expected(g, k), v(first, k) - expected(first, k), 1e-7);
      }
  }
}

TEST(Backend, OneFactorAndThreeFactorsNeedNoAnalysis) {
  const Problem one = MakeProblem(200, {15}, 1, false, 1);
  absorb::Absorber a1(one.factors, one.w);
  const Backend b1 = PrepareBackend(a1, 3, BackendOptions{}, parallel::Context(1));
  EXPECT_EQ(b1.kind, BackendKind::kOneFactor);
  EXPECT_EQ(b1.factor, nullptr);

  const Problem three = MakeProblem(300, {10, 20, 5}, 1, false, 2);
  absorb::Absorber a3(three.factors, three.w);
  const Backend b3 = PrepareBackend(a3, 3, BackendOptions{.request = BackendRequest::kDirect}, parallel::Context(1));
  EXPECT_EQ(b3.kind, BackendKind::kIterative);
  EXPECT_NE(b3.reason.find("exactly two"), std::string::npos) << b3.reason;
  EXPECT_FALSE(a3.has_preconditioner());
}

TEST(Backend, AutoFactorisesACheapGraphAndIteratesWhenTheFactorIsTooLarge) {
  const Problem p = MakeProblem(2000, {50, 400}, 1, false, 3);
  absorb::Absorber a(p.factors, p.w);
  const Backend cheap = PrepareBackend(a, 4, BackendOptions{}, parallel::Context(1));
  EXPECT_EQ(cheap.kind, BackendKind::kDirect) << cheap.reason;
  EXPECT_NE(cheap.factor, nullptr);
  EXPECT_TRUE(a.has_preconditioner());
  EXPECT_LT(cheap.predicted_direct_seconds, cheap.predicted_iterative_seconds);
  EXPECT_NE(cheap.reason.find("cheaper"), std::string::npos) << cheap.reason;

  const Backend limited = PrepareBackend(a, 4, BackendOptions{.max_factor_bytes = 64}, parallel::Context(1));
  EXPECT_EQ(limited.kind, BackendKind::kIterative) << limited.reason;
  EXPECT_EQ(limited.factor, nullptr);
  EXPECT_FALSE(a.has_preconditioner());
  EXPECT_NE(limited.reason.find("limit"), std::string::npos) << limited.reason;

  const Backend asked = PrepareBackend(a, 4, BackendOptions{.request = BackendRequest::kIterative},
                                       parallel::Context(1));
  EXPECT_EQ(asked.kind, BackendKind::kIterative);
  EXPECT_NE(asked.reason.find("requested"), std::string::npos) << asked.reason;
}

TEST(Backend, TheChoiceDoesNotDependOnTheThreadCount) {
  const Problem p = MakeProblem(3000, {60, 500}, 1, true, 4);
  absorb::Absorber a(p.factors, p.w);
  const Backend one = PrepareBackend(a, 5, BackendOptions{}, parallel::Context(1));
  const Backend two = PrepareBackend(a, 5, BackendOptions{}, parallel::Context(2));
  EXPECT_EQ(one.kind, two.kind);
  EXPECT_EQ(one.predicted_direct_seconds, two.predicted_direct_seconds);
  EXPECT_EQ(one.predicted_iterative_seconds, two.predicted_iterative_seconds);
}

// Two factors from explicit (first, second) level pairs, one observation each.
std::vector<absorb::Factor> PairFactors(const std::vector<std::pair<int32_t, int32_t>>& obs, int32_t l0, int32_t l1) {
  std::vector<int32_t> a, b;
  for (const auto& [x, y] : obs) a.push_back(x), b.push_back(y);
  return {absorb::Factor{"first", a, l0}, absorb::Factor{"second", b, l1}};
}

TEST(Backend, ThePilotCountsMoreIterationsOnAChainThanOnAWellMixedGraph) {
  // 150 first-factor levels (the state); second-factor levels each join two.
  const int32_t levels = 150;
  std::vector<std::pair<int32_t, int32_t>> chain, mixed;
  std::mt19937_64 rng(5);
  std::uniform_int_distribution<int32_t> pick(0, levels - 1);
  for (int32_t h = 0; h < 4 * levels; ++h) {
    const int32_t g = h % (levels - 1);
    chain.push_back({g, h});
    chain.push_back({g + 1, h});
    const int32_t x = pick(rng);
    int32_t y = pick(rng);
    if (y == x) y = (x + 1) % levels;
    mixed.push_back({x, h});
    mixed.push_back({y, h});
  }
  absorb::Absorber on_chain(PairFactors(chain, levels, 4 * levels), {});
  absorb::Absorber on_mixed(PairFactors(mixed, levels, 4 * levels), {});
  const absorb::ColumnConvergence c = on_chain.PilotIterations(2000, parallel::Context(1));
  const absorb::ColumnConvergence m = on_mixed.PilotIterations(2000, parallel::Context(1));
  ASSERT_TRUE(c.converged);
  ASSERT_TRUE(m.converged);
  EXPECT_GT(c.iterations, 3 * m.iterations) << c.iterations << " vs " << m.iterations;
  // Deterministic: the same count and criterion on any thread count; capped.
  const absorb::ColumnConvergence c2 = on_chain.PilotIterations(2000, parallel::Context(2));
  EXPECT_EQ(c.iterations, c2.iterations);
  EXPECT_EQ(c.criterion, c2.criterion);
  const absorb::ColumnConvergence capped = on_chain.PilotIterations(5, parallel::Context(1));
  EXPECT_FALSE(capped.converged);
  EXPECT_LE(capped.iterations, 5);
  // A probe gives up early only where the rate says the cap is out of reach.
  ASSERT_GT(c.iterations, 40);
  const absorb::ColumnConvergence probed = on_chain.PilotIterations(40, parallel::Context(1), 5);
  EXPECT_FALSE(probed.converged);
  EXPECT_EQ(probed.iterations, 5);
  ASSERT_LE(m.iterations, 40);
  const absorb::ColumnConvergence quick = on_mixed.PilotIterations(40, parallel::Context(1), 5);
  EXPECT_TRUE(quick.converged);
  EXPECT_EQ(quick.iterations, m.iterations);
  EXPECT_EQ(quick.criterion, m.criterion);
}

// A pilot converging within well_connected_iterations settles the choice
// before the Schur complement is built or analysed, when a factor filled in
// to an eighth of a dense one would cost more; a slowly converging pilot
// never does.
TEST(Backend, AWellConnectedGraphIsIteratedWithoutAnalysingItsFactor) {
  const int32_t levels = 150;
  std::vector<std::pair<int32_t, int32_t>> chain, mixed;
  std::mt19937_64 rng(9);
  std::uniform_int_distribution<int32_t> pick(0, levels - 1);
  for (int32_t h = 0; h < 4 * levels; ++h) {
    chain.push_back({h % (levels - 1), h});
    chain.push_back({h % (levels - 1) + 1, h});
    const int32_t x = pick(rng);
    const int32_t y = (x + 1 + pick(rng) % (levels - 1)) % levels;
    mixed.push_back({x, h});
    mixed.push_back({y, h});
  }
  BackendOptions slow_blas;  // a dense factor of 150 levels then costs about 140 s
  slow_blas.openblas_flops_per_second = slow_blas.reference_blas_flops_per_second = 1e3;
  absorb::Absorber on_mixed(PairFactors(mixed, levels, 4 * levels), {});
  const Backend well = PrepareBackend(on_mixed, 4, slow_blas, parallel::Context(1));
  EXPECT_EQ(well.kind, BackendKind::kIterative) << well.reason;
  EXPECT_NE(well.reason.find("well-connected"), std::string::npos) << well.reason;
  EXPECT_NE(well.reason.find("not analysed"), std::string::npos) << well.reason;
  EXPECT_EQ(well.analysis.predicted_nnz, 0.0) << "the factor was analysed";
  EXPECT_GT(well.predicted_iterative_seconds, 0.0);
  // With a fast BLAS the same graph's small factor is worth pricing.
  const Backend fast = PrepareBackend(on_mixed, 4, BackendOptions{}, parallel::Context(1));
  EXPECT_EQ(fast.reason.find("well-connected"), std::string::npos) << fast.reason;
  EXPECT_GT(fast.analysis.predicted_nnz, 0.0) << fast.reason;

  absorb::Absorber on_chain(PairFactors(chain, levels, 4 * levels), {});
  const Backend chain_choice = PrepareBackend(on_chain, 4, slow_blas, parallel::Context(1));
  EXPECT_EQ(chain_choice.reason.find("well-connected"), std::string::npos) << chain_choice.reason;
  EXPECT_NE(chain_choice.reason.find("Schur complement"), std::string::npos) << chain_choice.reason;
}

TEST(Backend, AutoIteratesWhenThePilotConvergesBeforeTheFactorWouldPayOff) {
  const Problem p = MakeProblem(4000, {80, 800}, 1, false, 6);
  absorb::Absorber a(p.factors, p.w);
  // A BLAS this slow makes any factor dearer than a converging pilot.
  BackendOptions slow_blas;
  slow_blas.openblas_flops_per_second = slow_blas.reference_blas_flops_per_second = 1e3;
  const Backend b = PrepareBackend(a, 4, slow_blas, parallel::Context(1));
  EXPECT_EQ(b.kind, BackendKind::kIterative) << b.reason;
  EXPECT_EQ(b.factor, nullptr);
  EXPECT_FALSE(a.has_preconditioner());
  EXPECT_NE(b.reason.find("pilot column converged"), std::string::npos) << b.reason;
  EXPECT_GT(b.predicted_iterative_seconds, 0.0);
}

}  // namespace
}  // namespace cwfx::solve
