// Rank confidence sets: exact answers in the limits (tiny and huge noise,
// zero-variance pairs, the two-unit critical value), Monte Carlo coverage
// against known true ranks, the orderings the method guarantees (stepdown
// inside single step, marginal inside simultaneous), determinism across
// thread counts, and input errors.
#include "inference/rank_inference.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "core/error.h"

namespace cwfx::inference {
namespace {

using Sets = RankConfidenceSets;

Sets Compute(const Eigen::VectorXd& theta, const Eigen::MatrixXd& sigma, RankInferenceOptions o = {}, int threads = 1) {
  return ComputeRankConfidenceSets(theta, sigma, o, parallel::Context(threads));
}

// True ranks: r_j = 1 + #{k: theta_k > theta_j} (tied units share a rank).
std::vector<int32_t> TrueRanks(const Eigen::VectorXd& theta) {
  std::vector<int32_t> r(static_cast<size_t>(theta.size()), 1);
  for (Eigen::Index j = 0; j < theta.size(); ++j)
    for (Eigen::Index k = 0; k < theta.size(); ++k) r[static_cast<size_t>(j)] += theta[k] > theta[j];
  return r;
}

// A dense, well-conditioned covariance: scale * (A A' / G + I / 2).
Eigen::MatrixXd RandomCovariance(int G, double scale, std::mt19937_64& rng) {
  std::normal_distribution<double> z(0, 1);
  Eigen::MatrixXd A(G, G);
  for (int i = 0; i < G; ++i)
    for (int k = 0; k < G; ++k) A(i, k) = z(rng);
  return scale * (A * A.transpose() / G + 0.5 * Eigen::MatrixXd::Identity(G, G));
}

Eigen::VectorXd RandomTheta(int G, double sd, std::mt19937_64& rng) {
  std::normal_distribution<double> z(0, sd);
  Eigen::VectorXd t(G);
  for (int g = 0; g < G; ++g) t[g] = z(rng);
  return t;
}

bool Covers(const std::vector<int32_t>& lower, const std::vector<int32_t>& upper, size_t j, int32_t rank) {
  return lower[j] <= rank && rank <= upper[j];
}

TEST(RankInference, EstimatedRanksPutTheLargestFirstAndBreakTiesByIndex) {
  Eigen::VectorXd theta(5);
  theta << 1.0, 2.0, 2.0, 0.0, 3.0;
  const Sets s = Compute(theta, Eigen::MatrixXd::Identity(5, 5));
  EXPECT_EQ(s.rank_g, (std::vector<int32_t>{4, 2, 3, 5, 1}));
}

TEST(RankInference, WellSeparatedEstimatesWithTinyNoiseGiveSingletonsAtTheTrueRank) {
  const int G = 12;
  Eigen::VectorXd theta(G);
  theta << 3, 11, 0, 7, 5, 1, 9, 2, 10, 4, 8, 6;  // distinct, spacing 1
  std::mt19937_64 rng(3);
  const Eigen::MatrixXd sigma = RandomCovariance(G, 1e-6, rng);
  const std::vector<int32_t> truth = TrueRanks(theta);
  for (bool stepdown : {true, false}) {
    RankInferenceOptions o;
    o.stepdown = stepdown;
    o.draws = 300;
    const Sets s = Compute(theta, sigma, o);
    EXPECT_EQ(s.rank_g, truth);
    EXPECT_EQ(s.marginal_lower_g, truth);
    EXPECT_EQ(s.marginal_upper_g, truth);
    EXPECT_EQ(s.simultaneous_lower_g, truth);
    EXPECT_EQ(s.simultaneous_upper_g, truth);
    EXPECT_EQ(s.top_size, 3);  // ceil(12 / 4)
    for (size_t j = 0; j < truth.size(); ++j) EXPECT_EQ(s.could_be_top_g[j], truth[j] <= 3 ? 1 : 0) << j;
  }
}

TEST(RankInference, EqualEstimatesWithLargeNoiseGiveTheWholeRange) {
  const int G = 10;
  std::mt19937_64 rng(5);
  for (const Eigen::VectorXd& theta :
       {Eigen::VectorXd(Eigen::VectorXd::Zero(G)), Eigen::VectorXd(RandomTheta(G, 1e-3, rng))}) {
    const Sets s = Compute(theta, RandomCovariance(G, 1.0, rng));
    for (size_t j = 0; j < static_cast<size_t>(G); ++j) {
      EXPECT_EQ(s.marginal_lower_g[j], 1);
      EXPECT_EQ(s.marginal_upper_g[j], G);
      EXPECT_EQ(s.simultaneous_lower_g[j], 1);
      EXPECT_EQ(s.simultaneous_upper_g[j], G);
      EXPECT_EQ(s.could_be_top_g[j], 1);
    }
    EXPECT_GT(s.simultaneous_critical_value, 2.0);  // a max over 90 pairs at 95%
  }
}

TEST(RankInference, PairsWithoutNoiseAreComparedExactly) {
  Eigen::VectorXd theta(4);
  theta << 0.2, 1e-9, 0.0, -5.0;
  const std::vector<int32_t> truth = {1, 2, 3, 4};
  // Sigma = 0, and Sigma = 11' (perfectly correlated: every difference is exact).
  for (const Eigen::MatrixXd& sigma : {Eigen::MatrixXd(Eigen::MatrixXd::Zero(4, 4)),
                                       Eigen::MatrixXd(Eigen::MatrixXd::Constant(4, 4, 2.5))}) {
    const Sets s = Compute(theta, sigma);
    EXPECT_EQ(s.marginal_lower_g, truth);
    EXPECT_EQ(s.marginal_upper_g, truth);
    EXPECT_EQ(s.simultaneous_lower_g, truth);
    EXPECT_EQ(s.simultaneous_upper_g, truth);
    EXPECT_EQ(s.simultaneous_critical_value, 0.0);
  }
  // Exact ties stay unresolved: units 0 and 1 equal, noise-free.
  theta << 1.0, 1.0, 0.0, -1.0;
  const Sets tie = Compute(theta, Eigen::MatrixXd::Zero(4, 4));
  EXPECT_EQ(tie.simultaneous_lower_g, (std::vector<int32_t>{1, 1, 3, 4}));
  EXPECT_EQ(tie.simultaneous_upper_g, (std::vector<int32_t>{2, 2, 3, 4}));
}

TEST(RankInference, TwoUnitCriticalValueIsTheTwoSidedNormalQuantile) {
  // With two units I = {(0,1), (1,0)}: max = |Z_0 - Z_1| / sigma_01, whose
  // 95% quantile is 1.959964 (90%: 1.644854), whatever the scale.
  Eigen::VectorXd theta(2);
  theta << 0.0, 0.0;
  Eigen::MatrixXd sigma(2, 2);
  sigma << 4.0, 1.0, 1.0, 9.0;
  RankInferenceOptions o;
  o.draws = 40000;
  constexpr double kMonteCarloTol = 0.04;  // ~3 standard errors of the quantile
  EXPECT_NEAR(Compute(theta, sigma, o).simultaneous_critical_value, 1.959964, kMonteCarloTol);
  o.alpha = 0.10;
  EXPECT_NEAR(Compute(theta, 100.0 * sigma, o).simultaneous_critical_value, 1.644854, kMonteCarloTol);
  // A separation of 2.2 sigma is declared; 1.8 sigma is not.
  const double sd = std::sqrt(4.0 + 9.0 - 2.0);
  o.alpha = 0.05;
  theta << 2.2 * sd, 0.0;
  Sets s = Compute(theta, sigma, o);
  EXPECT_EQ(s.simultaneous_lower_g, (std::vector<int32_t>{1, 2}));
  EXPECT_EQ(s.simultaneous_upper_g, (std::vector<int32_t>{1, 2}));
  EXPECT_EQ(s.marginal_lower_g, s.simultaneous_lower_g);
  // 1.8 sigma would pass a one-sided 1.645: the marginal set must use both
  // orientations too.
  theta << 1.8 * sd, 0.0;
  s = Compute(theta, sigma, o);
  EXPECT_EQ(s.simultaneous_lower_g, (std::vector<int32_t>{1, 1}));
  EXPECT_EQ(s.simultaneous_upper_g, (std::vector<int32_t>{2, 2}));
  EXPECT_EQ(s.marginal_lower_g, s.simultaneous_lower_g);
  EXPECT_EQ(s.marginal_upper_g, s.simultaneous_upper_g);
}

// Monte Carlo: theta-hat ~ N(theta, Sigma) with Sigma the rank G - 1
// covariance of centred effects, C D C (C = I - 11'/G), drawn as
// theta + C (s * n) so the test needs no factorisation of its own.
struct Coverage {
  double simultaneous = 0;
  std::vector<double> marginal_g;
};

Coverage SimulateCoverage(const Eigen::VectorXd& theta, const Eigen::VectorXd& sd, int trials, int draws) {
  const auto G = theta.size();
  const Eigen::MatrixXd C = Eigen::MatrixXd::Identity(G, G) - Eigen::MatrixXd::Constant(G, G, 1.0 / G);
  const Eigen::MatrixXd sigma = C * sd.array().square().matrix().asDiagonal() * C;
  const Eigen::VectorXd centred = C * theta;  // the estimand of centred estimates
  const std::vector<int32_t> truth = TrueRanks(centred);
  std::mt19937_64 rng(20240611);
  std::normal_distribution<double> z(0, 1);
  RankInferenceOptions o;
  o.draws = draws;
  Coverage cov;
  cov.marginal_g.assign(static_cast<size_t>(G), 0.0);
  for (int t = 0; t < trials; ++t) {
    Eigen::VectorXd noise(G);
    for (Eigen::Index g = 0; g < G; ++g) noise[g] = sd[g] * z(rng);
    const Eigen::VectorXd theta_hat = centred + C * noise;
    o.seed = static_cast<uint64_t>(t) + 1;
    const Sets s = Compute(theta_hat, sigma, o);
    bool all = true;
    for (size_t j = 0; j < static_cast<size_t>(G); ++j) {
      all = all && Covers(s.simultaneous_lower_g, s.simultaneous_upper_g, j, truth[j]);
      cov.marginal_g[j] += Covers(s.marginal_lower_g, s.marginal_upper_g, j, truth[j]);
    }
    cov.simultaneous += all;
  }
  cov.simultaneous /= trials;
  for (double& m : cov.marginal_g) m /= trials;
  return cov;
}

TEST(RankInference, MonteCarloCoverageOfMarginalAndSimultaneousSets) {
  // Ties, near-ties and clear gaps, unequal noise.
  Eigen::VectorXd theta(12), sd(12);
  theta << 0, 0, 0, 0.5, 0.5, 1, 1.5, 1.5, 2, 3, 3, 4;
  sd << 0.3, 0.5, 0.4, 0.3, 0.6, 0.4, 0.5, 0.3, 0.4, 0.6, 0.3, 0.5;
  const Coverage c = SimulateCoverage(theta, sd, 300, 400);
  constexpr double kMinCoverage = 0.93;  // nominal 0.95 less ~1.5 Monte Carlo SE
  EXPECT_GE(c.simultaneous, kMinCoverage);
  for (size_t j = 0; j < c.marginal_g.size(); ++j) EXPECT_GE(c.marginal_g[j], kMinCoverage) << "unit " << j;
}

TEST(RankInference, CoverageIsNearNominalWhenAllEffectsTie) {
  // All true ranks are 1, so the simultaneous set covers exactly when the
  // first step rejects nothing: probability 1 - alpha, not more. This pins
  // the level of c from both sides.
  const Coverage c = SimulateCoverage(Eigen::VectorXd::Zero(8), Eigen::VectorXd::Constant(8, 1.0), 400, 400);
  EXPECT_GE(c.simultaneous, 0.92);
  EXPECT_LE(c.simultaneous, 0.98);
  for (size_t j = 0; j < c.marginal_g.size(); ++j) EXPECT_GE(c.marginal_g[j], 0.93) << "unit " << j;
}

TEST(RankInference, StepdownSetsAreNeverWiderThanSingleStepSets) {
  std::mt19937_64 rng(11);
  int64_t tighter = 0;
  for (int design = 0; design < 6; ++design) {
    const int G = 10 + 2 * design;
    const Eigen::VectorXd theta = RandomTheta(G, 1.0, rng);
    const Eigen::MatrixXd sigma = RandomCovariance(G, 0.05 * (design + 1), rng);
    RankInferenceOptions o;
    o.draws = 300;
    o.seed = 7 + static_cast<uint64_t>(design);
    const Sets step = Compute(theta, sigma, o);
    o.stepdown = false;
    const Sets single = Compute(theta, sigma, o);
    EXPECT_EQ(step.simultaneous_critical_value, single.simultaneous_critical_value);
    for (size_t j = 0; j < static_cast<size_t>(G); ++j) {
      EXPECT_GE(step.marginal_lower_g[j], single.marginal_lower_g[j]);
      EXPECT_LE(step.marginal_upper_g[j], single.marginal_upper_g[j]);
      EXPECT_GE(step.simultaneous_lower_g[j], single.simultaneous_lower_g[j]);
      EXPECT_LE(step.simultaneous_upper_g[j], single.simultaneous_upper_g[j]);
      tighter += (single.simultaneous_upper_g[j] - single.simultaneous_lower_g[j]) -
                 (step.simultaneous_upper_g[j] - step.simultaneous_lower_g[j]);
    }
  }
  EXPECT_GT(tighter, 0) << "the designs should give the stepdown something to gain";
}

TEST(RankInference, SingleStepMarginalSetsLieInsideSimultaneousSets) {
  // Same draws, and the marginal index set is a subset of all pairs, so its
  // critical value is no larger.
  std::mt19937_64 rng(13);
  const int G = 16;
  const Eigen::VectorXd theta = RandomTheta(G, 1.0, rng);
  RankInferenceOptions o;
  o.stepdown = false;
  o.draws = 300;
  const Sets s = Compute(theta, RandomCovariance(G, 0.1, rng), o);
  for (size_t j = 0; j < static_cast<size_t>(G); ++j) {
    EXPECT_GE(s.marginal_lower_g[j], s.simultaneous_lower_g[j]);
    EXPECT_LE(s.marginal_upper_g[j], s.simultaneous_upper_g[j]);
    EXPECT_LE(s.marginal_lower_g[j], s.rank_g[j]);  // a set contains the estimated rank
    EXPECT_GE(s.marginal_upper_g[j], s.rank_g[j]);
  }
}

TEST(RankInference, CouldBeTopIsEveryUnitWhoseSimultaneousLowerBoundIsWithinTau) {
  std::mt19937_64 rng(17);
  const int G = 20;
  const Eigen::VectorXd theta = RandomTheta(G, 1.0, rng);
  const Eigen::MatrixXd sigma = RandomCovariance(G, 0.05, rng);
  for (int32_t tau : {0, 1, 3, 8}) {
    RankInferenceOptions o;
    o.top_size = tau;
    o.draws = 300;
    const Sets s = Compute(theta, sigma, o);
    EXPECT_EQ(s.top_size, tau == 0 ? 5 : tau);
    int32_t members = 0;
    for (size_t j = 0; j < static_cast<size_t>(G); ++j) {
      EXPECT_EQ(s.could_be_top_g[j], s.simultaneous_lower_g[j] <= s.top_size ? 1 : 0) << j;
      members += s.could_be_top_g[j];
      if (s.rank_g[j] <= s.top_size) {
        EXPECT_EQ(s.could_be_top_g[j], 1) << "estimated top unit " << j;
      }
    }
    EXPECT_GE(members, s.top_size);
    EXPECT_LT(members, G) << "the design should exclude someone";
  }
}

TEST(RankInference, IdenticalResultsAtOneAndTwoThreads) {
  std::mt19937_64 rng(19);
  const int G = 30;
  const Eigen::VectorXd theta = RandomTheta(G, 1.0, rng);
  const Eigen::MatrixXd sigma = RandomCovariance(G, 0.05, rng);
  RankInferenceOptions o;
  o.draws = 500;
  o.seed = 99;
  const Sets a = Compute(theta, sigma, o, 1);
  const Sets b = Compute(theta, sigma, o, 2);
  EXPECT_EQ(a.rank_g, b.rank_g);
  EXPECT_EQ(a.marginal_lower_g, b.marginal_lower_g);
  EXPECT_EQ(a.marginal_upper_g, b.marginal_upper_g);
  EXPECT_EQ(a.simultaneous_lower_g, b.simultaneous_lower_g);
  EXPECT_EQ(a.simultaneous_upper_g, b.simultaneous_upper_g);
  EXPECT_EQ(a.could_be_top_g, b.could_be_top_g);
  EXPECT_EQ(a.simultaneous_critical_value, b.simultaneous_critical_value);  // bit for bit
  // Reproducible for a seed; another seed moves the critical value.
  EXPECT_EQ(Compute(theta, sigma, o, 2).simultaneous_critical_value, a.simultaneous_critical_value);
  o.seed = 100;
  EXPECT_NE(Compute(theta, sigma, o, 1).simultaneous_critical_value, a.simultaneous_critical_value);
}

TEST(RankInference, BadInputIsAnError) {
  Eigen::VectorXd theta = Eigen::VectorXd::LinSpaced(4, 0, 3);
  const Eigen::MatrixXd sigma = Eigen::MatrixXd::Identity(4, 4);
  const auto fails = [](const Eigen::VectorXd& t, const Eigen::MatrixXd& s, RankInferenceOptions o = {}) {
    EXPECT_THROW(Compute(t, s, o), Error);
  };
  Eigen::VectorXd bad = theta;
  bad[2] = std::numeric_limits<double>::quiet_NaN();
  fails(bad, sigma);
  bad[2] = std::numeric_limits<double>::infinity();
  fails(bad, sigma);
  fails(theta, Eigen::MatrixXd::Identity(4, 3));  // not square
  fails(theta, Eigen::MatrixXd::Identity(5, 5));  // wrong size
  fails(Eigen::VectorXd(0), Eigen::MatrixXd(0, 0));
  Eigen::MatrixXd s = sigma;
  s(0, 1) = std::numeric_limits<double>::quiet_NaN();
  fails(theta, s);
  s = sigma;
  s(0, 1) = 0.5;  // not symmetric
  fails(theta, s);
  s = sigma;
  s(2, 2) = -1.0;  // not PSD
  fails(theta, s);
  RankInferenceOptions o;
  o.max_units = 3;  // G = 4 > max_units
  fails(theta, sigma, o);
  o = {};
  o.alpha = 0.0;
  fails(theta, sigma, o);
  o = {};
  o.draws = 0;
  fails(theta, sigma, o);
  o = {};
  o.top_size = 5;  // more than G
  fails(theta, sigma, o);
  try {
    o = {};
    o.max_units = 3;
    Compute(theta, sigma, o);
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("max_units"), std::string::npos) << e.what();
  }
  // Rounding-level asymmetry and negative eigenvalues are accepted.
  s = sigma;
  s(0, 1) = 1e-14;
  EXPECT_NO_THROW(Compute(theta, s));
}

// An indefinite covariance is not the user's input being wrong: the error
// says it is a computation that failed (its own exit code in the CLI), while
// a malformed request stays bad input.
TEST(RankInference, AnIndefiniteCovarianceIsAComputationalFailure) {
  Eigen::VectorXd theta(3);
  theta << 0.0, 1.0, 2.0;
  Eigen::MatrixXd sigma = Eigen::MatrixXd::Identity(3, 3);
  sigma(0, 1) = sigma(1, 0) = 3.0;  // eigenvalue 1 - 3 < 0
  try {
    Compute(theta, sigma);
    ADD_FAILURE() << "an indefinite covariance was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kComputation) << e.what();
    EXPECT_NE(std::string(e.what()).find("positive semi-definite"), std::string::npos) << e.what();
  }
  RankInferenceOptions o;
  o.alpha = 1.5;
  try {
    Compute(theta, Eigen::MatrixXd::Identity(3, 3), o);
    ADD_FAILURE() << "alpha = 1.5 was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kBadInput) << e.what();
  }
}

}  // namespace
}  // namespace cwfx::inference
