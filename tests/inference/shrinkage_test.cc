// Empirical Bayes shrinkage: the normal prior's moment estimator against its
// closed form and a simulated truth, the limits (no noise: no shrinkage; no
// signal: everything pulled to the mean, rank summaries uniform), the NPMLE
// on a two-point truth (weights, monotone EM, posterior against a direct
// evaluation), Dawid's selection result as the winner's-curse correction,
// the draw identities (top shares sum to tau, ranks to G(G+1)/2), thread
// determinism and input errors.
#include "inference/shrinkage.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>
#include <random>
#include <vector>

#include "core/error.h"

namespace cwfx::inference {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

ShrinkageResult ShrinkRun(const std::vector<double>& est, const std::vector<double>& se, ShrinkageOptions o = {},
                    int threads = 1) {
  return Shrink(est, se, o, parallel::Context(threads));
}

ShrinkageOptions Npmle(int draws = 500) {
  ShrinkageOptions o;
  o.prior = PriorKind::kNonparametric;
  o.posterior_draws = draws;
  return o;
}

// Normal-normal data: theta_j ~ N(mu, sd_theta^2), est_j ~ N(theta_j, se_j^2).
struct Sim {
  std::vector<double> theta, est, se;
};

Sim SimulateNormal(int J, double mu, double sd_theta, const std::vector<double>& se, std::mt19937_64& rng) {
  std::normal_distribution<double> z(0.0, 1.0);
  Sim s;
  s.se = se;
  for (int j = 0; j < J; ++j) {
    s.theta.push_back(mu + sd_theta * z(rng));
    s.est.push_back(s.theta.back() + se[static_cast<size_t>(j)] * z(rng));
  }
  return s;
}

// Indices of the top tau of x (largest first, ties by index).
std::vector<uint8_t> TopSet(const std::vector<double>& x, int tau) {
  std::vector<int> order(x.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return x[static_cast<size_t>(a)] > x[static_cast<size_t>(b)]; });
  std::vector<uint8_t> sel(x.size(), 0);
  for (int i = 0; i < tau; ++i) sel[static_cast<size_t>(order[static_cast<size_t>(i)])] = 1;
  return sel;
}

double SelectedMean(const std::vector<double>& x, const std::vector<uint8_t>& sel) {
  double s = 0.0;
  int n = 0;
  for (size_t j = 0; j < x.size(); ++j)
    if (sel[j]) {
      s += x[j];
      ++n;
    }
  return s / n;
}

double Mean(const std::vector<double>& x) { return std::accumulate(x.begin(), x.end(), 0.0) / static_cast<double>(x.size()); }

bool BitEqual(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0);
}

TEST(Shrinkage, NormalPriorRecoversTheSignalVarianceAndShrinksByLambda) {
  // J = 4000, sigma_theta^2 = 0.5, s = 1 (lambda = 1/3). The moment estimate
  // of sigma_theta^2 has sd about sqrt(2 / J) * 1.5 = 0.034.
  constexpr int J = 4000;
  constexpr double kTrueVar = 0.5, kVarTol = 0.12;
  std::mt19937_64 rng(11);
  const Sim s = SimulateNormal(J, 0.3, std::sqrt(kTrueVar), std::vector<double>(J, 1.0), rng);
  ShrinkageOptions o;
  o.posterior_draws = 50;
  const ShrinkageResult r = ShrinkRun(s.est, s.se, o);
  EXPECT_NEAR(r.prior_variance, kTrueVar, kVarTol);
  EXPECT_NEAR(r.prior_mean, 0.3, 0.1);
  // Equal s: the moment estimate (mean; variance - s^2) is the fixed point,
  // confirmed by the first iteration.
  const double mean = Mean(s.est);
  double ss = 0.0;
  for (double x : s.est) ss += (x - mean) * (x - mean);
  EXPECT_NEAR(r.prior_mean, mean, 1e-12);
  EXPECT_NEAR(r.prior_variance, ss / J - 1.0, 1e-12);
  EXPECT_TRUE(r.converged);
  EXPECT_EQ(r.em_iterations, 1);
  const double lambda = r.prior_variance / (r.prior_variance + 1.0);
  for (size_t j = 0; j < J; ++j) {
    EXPECT_DOUBLE_EQ(r.posterior_mean_g[j], r.prior_mean + lambda * (s.est[j] - r.prior_mean));
    EXPECT_DOUBLE_EQ(r.posterior_sd_g[j], std::sqrt(lambda));
    EXPECT_DOUBLE_EQ(r.shrinkage_g[j], lambda);
  }
  // Equal s: shrinkage is monotone, so the ranks are those of the estimates.
  for (size_t j = 0; j < J; ++j)
    EXPECT_EQ(r.rank_by_posterior_mean_g[j], 1 + std::count_if(s.est.begin(), s.est.end(), [&](double x) {
                                                   return x > s.est[j];
                                                 }));
}

TEST(Shrinkage, NormalPriorWithUnequalErrorsSolvesTheFixedPoint) {
  constexpr int J = 600;
  std::mt19937_64 rng(12);
  std::uniform_real_distribution<double> u(0.4, 2.0);
  std::vector<double> se(J);
  for (double& x : se) x = u(rng);
  const Sim s = SimulateNormal(J, -0.2, 1.0, se, rng);
  ShrinkageOptions o;
  o.posterior_draws = 0;
  o.em_tolerance = 1e-12;
  const ShrinkageResult r = ShrinkRun(s.est, s.se, o);
  ASSERT_TRUE(r.converged);
  const double mu = r.prior_mean, v = r.prior_variance;
  double sw = 0.0, swt = 0.0, swd = 0.0;
  for (size_t j = 0; j < J; ++j) {
    const double w = 1.0 / (v + se[j] * se[j]);
    sw += w;
    swt += w * s.est[j];
    swd += w * ((s.est[j] - mu) * (s.est[j] - mu) - se[j] * se[j]);
  }
  EXPECT_NEAR(mu, swt / sw, 1e-12);
  EXPECT_NEAR(v, swd / sw, 1e-9);
  EXPECT_NEAR(v, 1.0, 0.3);
  for (size_t j = 0; j < J; ++j) {
    const double lambda = v / (v + se[j] * se[j]);
    EXPECT_DOUBLE_EQ(r.posterior_mean_g[j], mu + lambda * (s.est[j] - mu));
    EXPECT_DOUBLE_EQ(r.posterior_sd_g[j], std::sqrt(lambda * se[j] * se[j]));
  }
  EXPECT_TRUE(r.prob_top_g.empty());
  EXPECT_TRUE(r.expected_rank_g.empty());
}

TEST(Shrinkage, NoNoiseLeavesTheEstimatesAlone) {
  constexpr int J = 115;
  std::mt19937_64 rng(13);
  const Sim s = SimulateNormal(J, 0.0, 1.0, std::vector<double>(J, 1e-9), rng);
  const ShrinkageResult r = ShrinkRun(s.est, s.se);
  for (size_t j = 0; j < J; ++j) {
    EXPECT_NEAR(r.posterior_mean_g[j], s.est[j], 1e-12);
    EXPECT_NEAR(r.shrinkage_g[j], 1.0, 1e-12);
  }
  // The posterior draws are the estimates to 1e-9: ranks and top set are
  // certain.
  const auto top = TopSet(s.est, r.top_size);
  for (size_t j = 0; j < J; ++j) {
    EXPECT_EQ(r.prob_top_g[j], top[j] ? 1.0 : 0.0);
    EXPECT_EQ(r.expected_rank_g[j], r.rank_by_posterior_mean_g[j]);
  }
  // NPMLE: the posterior sits on the grid point next to the estimate (the
  // likelihood rows underflow everywhere else).
  const ShrinkageResult n = ShrinkRun(s.est, s.se, Npmle(50));
  const double spacing = n.grid_m[1] - n.grid_m[0];
  for (size_t j = 0; j < J; ++j) EXPECT_LE(std::fabs(n.posterior_mean_g[j] - s.est[j]), 0.5 * spacing + 1e-12);
}

TEST(Shrinkage, NoSignalPullsEveryoneToTheMeanAndMakesRanksUniform) {
  // Estimates within 0.01 of each other, s = 1: the variance estimate is
  // truncated at 0, every posterior is the point mu, and every draw is one
  // tie of all G (shares tau / G, mid-rank (G + 1) / 2).
  constexpr int J = 115;
  std::mt19937_64 rng(14);
  std::normal_distribution<double> z(0.0, 0.01);
  std::vector<double> est(J), se(J, 1.0);
  for (double& x : est) x = 0.5 + z(rng);
  const ShrinkageResult r = ShrinkRun(est, se);
  EXPECT_EQ(r.prior_variance, 0.0);
  EXPECT_EQ(r.top_size, 28);  // floor(115 / 4)
  for (size_t j = 0; j < J; ++j) {
    EXPECT_EQ(r.posterior_mean_g[j], r.prior_mean);
    EXPECT_EQ(r.posterior_sd_g[j], 0.0);
    EXPECT_NEAR(r.prob_top_g[j], 28.0 / J, 1e-12);
    EXPECT_NEAR(r.expected_rank_g[j], (J + 1) / 2.0, 1e-9);
  }
  EXPECT_NEAR(r.prior_mean, Mean(est), 1e-12);
  // NPMLE: G-hat lives on [min, max] (width ~0.05), so every posterior is
  // about G-hat itself; each caseworker is a near-exchangeable draw.
  const ShrinkageResult n = ShrinkRun(est, se, Npmle(2000));
  EXPECT_LT(n.prior_variance, 1e-3);
  for (size_t j = 0; j < J; ++j) {
    EXPECT_NEAR(n.posterior_mean_g[j], n.prior_mean, 0.01);
    EXPECT_NEAR(n.prob_top_g[j], 28.0 / J, 0.05);
    EXPECT_NEAR(n.expected_rank_g[j], (J + 1) / 2.0, 5.0);
  }
}

TEST(Shrinkage, NpmleFindsATwoPointTruth) {
  constexpr int J = 2000;
  std::mt19937_64 rng(15);
  std::normal_distribution<double> z(0.0, 0.3);
  std::vector<double> theta(J), est(J), se(J, 0.3);
  for (int j = 0; j < J; ++j) {
    theta[static_cast<size_t>(j)] = (rng() & 1u) ? 1.0 : -1.0;
    est[static_cast<size_t>(j)] = theta[static_cast<size_t>(j)] + z(rng);
  }
  const ShrinkageResult r = ShrinkRun(est, se, Npmle(200), 2);
  double near_minus = 0.0, near_plus = 0.0;
  for (size_t k = 0; k < r.grid_m.size(); ++k) {
    if (std::fabs(r.grid_m[k] + 1.0) <= 0.2) near_minus += r.grid_weight_m[k];
    if (std::fabs(r.grid_m[k] - 1.0) <= 0.2) near_plus += r.grid_weight_m[k];
  }
  EXPECT_GT(near_minus + near_plus, 0.8);
  EXPECT_GT(near_minus, 0.3);
  EXPECT_GT(near_plus, 0.3);
  EXPECT_NEAR(std::accumulate(r.grid_weight_m.begin(), r.grid_weight_m.end(), 0.0), 1.0, 1e-12);
  EXPECT_NEAR(r.prior_mean, 0.0, 0.1);
  EXPECT_NEAR(r.prior_variance, 1.0, 0.15);
  // Neither SQUAREM nor plain EM ever lowers the log-likelihood (up to
  // rounding); SQUAREM converges, and gets further than 200 EM steps.
  ShrinkageOptions plain = Npmle(0);
  plain.accelerate = false;
  plain.max_em_iterations = 200;
  const ShrinkageResult e = ShrinkRun(est, se, plain, 2);
  EXPECT_FALSE(e.converged);
  EXPECT_EQ(e.em_iterations, 200);
  EXPECT_TRUE(r.converged);
  for (const ShrinkageResult* x : {&r, &e}) {
    const auto& trace = x->log_likelihood_trace;
    ASSERT_EQ(trace.size(), static_cast<size_t>(x->em_iterations) + 1);
    for (size_t t = 1; t < trace.size(); ++t) EXPECT_GE(trace[t], trace[t - 1] - 1e-12 * std::fabs(trace[t]));
    EXPECT_GT(trace.back(), trace.front() + 100.0);
    EXPECT_EQ(x->log_likelihood, trace.back());
  }
  EXPECT_GE(r.log_likelihood, e.log_likelihood);
  // Optimality (Lindsay's gradient): D(v_k) = J^-1 sum_j phi_jk / f_j <= 1
  // on the grid at the NPMLE, and l(g*) - l(g-hat) <= J (max_k D - 1).
  const size_t m = r.grid_m.size();
  auto kernel = [&](size_t j, size_t k) {
    const double zz = (est[j] - r.grid_m[k]) / 0.3;
    return std::exp(-0.5 * zz * zz);
  };
  std::vector<double> mix_g(J, 0.0), d(m, 0.0);
  for (size_t j = 0; j < J; ++j)
    for (size_t k = 0; k < m; ++k) mix_g[j] += r.grid_weight_m[k] * kernel(j, k);
  for (size_t j = 0; j < J; ++j)
    for (size_t k = 0; k < m; ++k) d[k] += kernel(j, k) / mix_g[j] / J;
  const double max_d = *std::max_element(d.begin(), d.end());
  EXPECT_LT(max_d, 1.0 + 1e-3);
  // The NPMLE fits a two-point truth better than the normal prior does.
  ShrinkageOptions normal;
  normal.posterior_draws = 0;
  EXPECT_GT(r.log_likelihood, ShrinkRun(est, se, normal).log_likelihood);
  // Posterior classification: the posterior mean has the true sign for
  // almost all (P(|noise| > 1) at s = 0.3 is 0.0009).
  int right = 0;
  for (size_t j = 0; j < J; ++j) right += (r.posterior_mean_g[j] > 0) == (theta[j] > 0);
  EXPECT_GT(right, J - 20);
  // Posterior moments against a direct evaluation from G-hat.
  for (size_t j : {size_t{0}, size_t{7}, size_t{1999}}) {
    double f = 0.0, m1 = 0.0, m2 = 0.0;
    for (size_t k = 0; k < r.grid_m.size(); ++k) {
      const double zz = (est[j] - r.grid_m[k]) / 0.3;
      const double p = r.grid_weight_m[k] * std::exp(-0.5 * zz * zz);
      f += p;
      m1 += p * r.grid_m[k];
      m2 += p * r.grid_m[k] * r.grid_m[k];
    }
    EXPECT_NEAR(r.posterior_mean_g[j], m1 / f, 1e-12);
    EXPECT_NEAR(r.posterior_sd_g[j], std::sqrt(m2 / f - (m1 / f) * (m1 / f)), 1e-7);
    EXPECT_NEAR(r.shrinkage_g[j], (m1 / f - r.prior_mean) / (est[j] - r.prior_mean), 1e-9);
  }
  std::printf("[ info ] NPMLE two-point: SQUAREM iterations %d (converged %d), mass near -1/+1 %.3f/%.3f, "
              "log-lik %.4f (200 EM steps: %.4f), max gradient %.6f\n",
              r.em_iterations, int(r.converged), near_minus, near_plus, r.log_likelihood, e.log_likelihood, max_d);
}

TEST(Shrinkage, PosteriorMeansRemoveTheWinnersCurse) {
  // Dawid (1994): with the right prior, the posterior mean of the selected
  // set is unbiased for its true mean however the set was chosen. Normal-
  // normal, J = 115, sigma_theta = s = 1 (lambda = 0.5), top 28 selected on
  // the estimates. Naive bias: (1 - lambda) * E[mean of the top quartile of
  // theta^ - mu] ~ 0.5 * 1.27 * sqrt(2) ~ 0.9.
  constexpr int J = 115, kReps = 400, kTau = 28;
  std::mt19937_64 rng(16);
  ShrinkageOptions o;
  o.posterior_draws = 0;
  const std::vector<double> equal_w(J, 1.0);
  double naive_bias = 0.0, eb_bias = 0.0, eb_gain_bias = 0.0, naive_gain_bias = 0.0;
  for (int rep = 0; rep < kReps; ++rep) {
    const Sim s = SimulateNormal(J, 0.0, 1.0, std::vector<double>(J, 1.0), rng);
    const ShrinkageResult r = ShrinkRun(s.est, s.se, o);
    const auto sel = TopSet(s.est, kTau);
    const double true_sel = SelectedMean(s.theta, sel);
    naive_bias += SelectedMean(s.est, sel) - true_sel;
    eb_bias += SelectedMean(r.posterior_mean_g, sel) - true_sel;
    const double true_gain = true_sel - Mean(s.theta);
    naive_gain_bias += SelectedMean(s.est, sel) - Mean(s.est) - true_gain;
    eb_gain_bias += PosteriorSelectedMeanGain(r, sel, equal_w) - true_gain;
  }
  naive_bias /= kReps;
  eb_bias /= kReps;
  naive_gain_bias /= kReps;
  eb_gain_bias /= kReps;
  std::printf("[ info ] winner's curse over %d reps: naive bias %.4f, EB bias %.4f; gain: naive %.4f, EB %.4f\n",
              kReps, naive_bias, eb_bias, naive_gain_bias, eb_gain_bias);
  EXPECT_GT(naive_bias, 0.6);
  EXPECT_LT(std::fabs(eb_bias), 0.1 * naive_bias);
  EXPECT_GT(naive_gain_bias, 0.6);
  EXPECT_LT(std::fabs(eb_gain_bias), 0.1 * naive_gain_bias);
}

TEST(Shrinkage, PosteriorSelectedMeanGainByHand) {
  ShrinkageResult r;
  r.posterior_mean_g = {1.0, 2.0, 3.0, 6.0};
  // Selected {2, 3}: mean 4.5; weighted mean (1*1 + 1*2 + 2*3 + 0*6) / 4 = 2.25.
  EXPECT_DOUBLE_EQ(PosteriorSelectedMeanGain(r, std::vector<uint8_t>{0, 0, 1, 1}, std::vector<double>{1, 1, 2, 0}),
                   4.5 - 2.25);
}

void ExpectDrawIdentities(const ShrinkageResult& r) {
  const auto G = static_cast<double>(r.posterior_mean_g.size());
  double top = 0.0, ranks = 0.0;
  for (size_t j = 0; j < r.prob_top_g.size(); ++j) {
    EXPECT_GE(r.prob_top_g[j], 0.0);
    EXPECT_LE(r.prob_top_g[j], 1.0);
    EXPECT_GE(r.expected_rank_g[j], 1.0);
    EXPECT_LE(r.expected_rank_g[j], G);
    top += r.prob_top_g[j];
    ranks += r.expected_rank_g[j];
  }
  EXPECT_NEAR(top, r.top_size, 1e-10);
  EXPECT_NEAR(ranks, G * (G + 1) / 2, 1e-9);
}

TEST(Shrinkage, TopSharesSumToTauAndRanksToTheTriangularNumber) {
  constexpr int J = 115;
  std::mt19937_64 rng(17);
  std::uniform_real_distribution<double> u(0.5, 1.5);
  std::vector<double> se(J);
  for (double& x : se) x = u(rng);
  const Sim s = SimulateNormal(J, 0.0, 1.0, se, rng);
  ShrinkageOptions o;
  o.posterior_draws = 1000;
  const ShrinkageResult r = ShrinkRun(s.est, se, o);
  ExpectDrawIdentities(r);
  // The NPMLE posterior is discrete: ties in the draws are common.
  ShrinkageOptions n = Npmle(1000);
  n.grid_points = 40;
  ExpectDrawIdentities(ShrinkRun(s.est, se, n));
  // An explicit tau.
  o.top_size = 5;
  const ShrinkageResult r5 = ShrinkRun(s.est, se, o);
  EXPECT_EQ(r5.top_size, 5);
  ExpectDrawIdentities(r5);
  // Higher posterior mean with the same s goes with a higher P(top) here in
  // bulk: the top caseworker by posterior mean is likelier top than the median.
  const auto best = std::min_element(r.rank_by_posterior_mean_g.begin(), r.rank_by_posterior_mean_g.end()) -
                    r.rank_by_posterior_mean_g.begin();
  EXPECT_GT(r.prob_top_g[static_cast<size_t>(best)], 0.5);
}

TEST(Shrinkage, TiesInADrawShareTheirPlaces) {
  // Four equal estimates with big noise: every posterior is the point mu,
  // each draw is one 4-way tie.
  ShrinkageOptions o;
  o.top_size = 1;
  o.posterior_draws = 3;
  const ShrinkageResult r = ShrinkRun({2.0, 2.0, 2.0, 2.0}, {1.0, 1.0, 1.0, 1.0}, o);
  for (size_t j = 0; j < 4; ++j) {
    EXPECT_EQ(r.prob_top_g[j], 0.25);
    EXPECT_EQ(r.expected_rank_g[j], 2.5);
    EXPECT_EQ(r.rank_by_posterior_mean_g[j], static_cast<int32_t>(j) + 1);
  }
  // G < 4: the study's top quartile is empty.
  ShrinkageOptions d;
  const ShrinkageResult r3 = ShrinkRun({1.0, 2.0, 3.0}, {1.0, 1.0, 1.0}, d);
  EXPECT_EQ(r3.top_size, 0);
  for (double p : r3.prob_top_g) EXPECT_EQ(p, 0.0);
  // A single caseworker: no signal, the posterior is the estimate's value.
  const ShrinkageResult r1 = ShrinkRun({0.7}, {0.2}, Npmle(10));
  EXPECT_EQ(r1.grid_m.size(), 1u);
  EXPECT_EQ(r1.posterior_mean_g[0], 0.7);
  EXPECT_EQ(r1.expected_rank_g[0], 1.0);
}

TEST(Shrinkage, BitIdenticalAcrossThreadCounts) {
  constexpr int J = 700;
  std::mt19937_64 rng(18);
  std::uniform_real_distribution<double> u(0.3, 1.2);
  std::vector<double> se(J);
  for (double& x : se) x = u(rng);
  const Sim s = SimulateNormal(J, 0.0, 0.8, se, rng);
  for (PriorKind kind : {PriorKind::kNormal, PriorKind::kNonparametric}) {
    ShrinkageOptions o;
    o.prior = kind;
    o.posterior_draws = 300;
    o.grid_points = 100;
    o.max_em_iterations = 300;
    o.seed = 99;
    const ShrinkageResult a = ShrinkRun(s.est, se, o, 1), b = ShrinkRun(s.est, se, o, 2);
    EXPECT_EQ(a.prior_mean, b.prior_mean);
    EXPECT_EQ(a.prior_variance, b.prior_variance);
    EXPECT_EQ(a.em_iterations, b.em_iterations);
    EXPECT_TRUE(BitEqual(a.grid_weight_m, b.grid_weight_m));
    EXPECT_TRUE(BitEqual(a.log_likelihood_trace, b.log_likelihood_trace));
    EXPECT_TRUE(BitEqual(a.posterior_mean_g, b.posterior_mean_g));
    EXPECT_TRUE(BitEqual(a.posterior_sd_g, b.posterior_sd_g));
    EXPECT_TRUE(BitEqual(a.shrinkage_g, b.shrinkage_g));
    EXPECT_TRUE(BitEqual(a.prob_top_g, b.prob_top_g));
    EXPECT_TRUE(BitEqual(a.expected_rank_g, b.expected_rank_g));
    EXPECT_EQ(a.rank_by_posterior_mean_g, b.rank_by_posterior_mean_g);
    // Another seed gives other draws.
    o.seed = 100;
    EXPECT_FALSE(BitEqual(a.prob_top_g, ShrinkRun(s.est, se, o, 2).prob_top_g));
  }
}

TEST(Shrinkage, BadInputThrows) {
  const std::vector<double> est = {0.1, 0.2, 0.3}, se = {1.0, 1.0, 1.0};
  EXPECT_THROW(ShrinkRun(est, {1.0, 1.0}), Error);
  EXPECT_THROW(ShrinkRun({}, {}), Error);
  EXPECT_THROW(ShrinkRun(est, {1.0, 0.0, 1.0}), Error);
  EXPECT_THROW(ShrinkRun(est, {1.0, -1.0, 1.0}), Error);
  EXPECT_THROW(ShrinkRun(est, {1.0, kNaN, 1.0}), Error);
  EXPECT_THROW(ShrinkRun(est, {1.0, kInf, 1.0}), Error);
  EXPECT_THROW(ShrinkRun({0.1, kNaN, 0.3}, se), Error);
  EXPECT_THROW(ShrinkRun({0.1, -kInf, 0.3}, se), Error);
  for (PriorKind kind : {PriorKind::kNormal, PriorKind::kNonparametric}) {
    ShrinkageOptions o;
    o.prior = kind;
    o.top_size = 4;
    EXPECT_THROW(ShrinkRun(est, se, o), Error);
  }
  auto bad = [&](auto&& edit) {
    ShrinkageOptions o;
    edit(o);
    EXPECT_THROW(o.Validate(), Error);
    EXPECT_THROW(ShrinkRun(est, se, o), Error);
  };
  bad([](ShrinkageOptions& o) { o.grid_points = 1; });
  bad([](ShrinkageOptions& o) { o.max_em_iterations = 0; });
  bad([](ShrinkageOptions& o) { o.em_tolerance = -1.0; });
  bad([](ShrinkageOptions& o) { o.em_tolerance = kNaN; });
  bad([](ShrinkageOptions& o) { o.posterior_draws = -1; });
  bad([](ShrinkageOptions& o) { o.top_size = -1; });
  const ShrinkageResult r = ShrinkRun(est, se);
  const std::vector<double> w = {1.0, 1.0, 1.0};
  EXPECT_THROW(PosteriorSelectedMeanGain(r, std::vector<uint8_t>{1, 0}, w), Error);
  EXPECT_THROW(PosteriorSelectedMeanGain(r, std::vector<uint8_t>{0, 0, 0}, w), Error);
  EXPECT_THROW(PosteriorSelectedMeanGain(r, std::vector<uint8_t>{1, 0, 0}, std::vector<double>{0, 0, 0}), Error);
  EXPECT_THROW(PosteriorSelectedMeanGain(r, std::vector<uint8_t>{1, 0, 0}, std::vector<double>{1, -1, 1}), Error);
  EXPECT_THROW(PosteriorSelectedMeanGain(r, std::vector<uint8_t>{1, 0, 0}, std::vector<double>{1, kNaN, 1}), Error);
}

}  // namespace
}  // namespace cwfx::inference
