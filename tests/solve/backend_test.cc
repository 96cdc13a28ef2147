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

}  // namespace
}  // namespace cwfx::solve
