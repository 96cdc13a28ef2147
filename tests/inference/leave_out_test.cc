// Leave-out (KSS) variance components: exact leverages against a dense
// oracle with explicit dummy columns (one and two factors, with covariates),
// the one-way closed form of METHODS.md section 1, unbiasedness by Monte Carlo
// under known heteroskedastic noise, the leave-one-out connected set, the
// random projection (JLA) against the exact leverages and across thread
// counts and solvers, the JLA correction variants, and input errors.
#include "inference/leave_out.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "absorb/identify.h"
#include "core/error.h"

namespace cwfx::inference {
namespace {

// Exact leverages and the dense oracle agree to rounding.
constexpr double kExactTol = 1e-8;

// ---------------------------------------------------------------- fixtures

struct Truth {
  Eigen::VectorXd psi_g, alpha_g, delta_k;
  Eigen::VectorXd sigma_n;  // noise standard deviation per observation
};

// Two factors: C citizens with T responses each; the first caseworker is
// uniform over J, each later response moves to a uniform caseworker with
// probability p_move (else stays). k covariates correlated with the
// caseworker effect; heteroskedastic noise (sd depends on the caseworker and
// on x).
fit::Design MakeTwoFactor(int32_t J, int32_t C, int T, double p_move, int k, uint64_t seed, Truth* truth = nullptr) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> z(0.0, 1.0);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::uniform_int_distribution<int32_t> pick(0, J - 1);
  Truth t;
  t.psi_g.resize(J);
  t.alpha_g.resize(C);
  t.delta_k.resize(k);
  for (int32_t g = 0; g < J; ++g) t.psi_g[g] = 0.5 * z(rng);
  for (int32_t c = 0; c < C; ++c) t.alpha_g[c] = z(rng);
  for (int j = 0; j < k; ++j) t.delta_k[j] = 0.3 + 0.2 * j;
  fit::Design d;
  d.source = "synthetic";
  d.outcome_name = "y";
  absorb::Factor cw{"caseworker", {}, J}, ci{"citizen", {}, C};
  for (int32_t c = 0; c < C; ++c) {
    int32_t j = pick(rng);
    for (int s = 0; s < T; ++s) {
      if (s > 0 && u(rng) < p_move) j = pick(rng);
      cw.codes_n.push_back(j);
      ci.codes_n.push_back(c);
    }
  }
  const auto n = static_cast<Eigen::Index>(cw.codes_n.size());
  d.X_nk.resize(n, k);
  d.y_n.resize(n);
  t.sigma_n.resize(n);
  for (Eigen::Index i = 0; i < n; ++i) {
    const int32_t j = cw.codes_n[static_cast<size_t>(i)], c = ci.codes_n[static_cast<size_t>(i)];
    double mean = t.psi_g[j] + t.alpha_g[c];
    for (int q = 0; q < k; ++q) {
      d.X_nk(i, q) = z(rng) + 0.7 * t.psi_g[j] - 0.3 * t.alpha_g[c];
      mean += t.delta_k[q] * d.X_nk(i, q);
    }
    t.sigma_n[i] = 0.4 + 0.6 * (j % 3) + (k > 0 ? 0.3 * std::abs(d.X_nk(i, 0)) : 0.0);
    d.y_n[i] = mean + t.sigma_n[i] * z(rng);
  }
  for (int q = 0; q < k; ++q) d.covariate_names.push_back("x" + std::to_string(q + 1));
  d.factors = {cw, ci};
  d.level_labels_q.resize(2);
  for (Eigen::Index i = 0; i < n; ++i) {
    d.source_row_n.push_back(i);
    d.input_row_n.push_back(i);
  }
  d.components = absorb::FindComponents(d.factors);
  if (truth) *truth = t;
  return d;
}

// One factor: J caseworkers with n_j uniform in [n_min, n_max].
fit::Design MakeOneFactor(int32_t J, int n_min, int n_max, int k, uint64_t seed, Truth* truth = nullptr) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> z(0.0, 1.0);
  std::uniform_int_distribution<int> size(n_min, n_max);
  Truth t;
  t.psi_g.resize(J);
  t.delta_k.resize(k);
  for (int32_t g = 0; g < J; ++g) t.psi_g[g] = 0.5 * z(rng);
  for (int j = 0; j < k; ++j) t.delta_k[j] = 0.5 - 0.2 * j;
  fit::Design d;
  d.source = "synthetic";
  d.outcome_name = "y";
  absorb::Factor cw{"caseworker", {}, J};
  for (int32_t g = 0; g < J; ++g) {
    const int m = size(rng);
    for (int s = 0; s < m; ++s) cw.codes_n.push_back(g);
  }
  const auto n = static_cast<Eigen::Index>(cw.codes_n.size());
  d.X_nk.resize(n, k);
  d.y_n.resize(n);
  t.sigma_n.resize(n);
  for (Eigen::Index i = 0; i < n; ++i) {
    const int32_t j = cw.codes_n[static_cast<size_t>(i)];
    double mean = t.psi_g[j];
    for (int q = 0; q < k; ++q) {
      d.X_nk(i, q) = z(rng) + 0.8 * t.psi_g[j];
      mean += t.delta_k[q] * d.X_nk(i, q);
    }
    t.sigma_n[i] = 0.3 + 0.5 * (j % 4);
    d.y_n[i] = mean + t.sigma_n[i] * z(rng);
  }
  for (int q = 0; q < k; ++q) d.covariate_names.push_back("x" + std::to_string(q + 1));
  d.factors = {cw};
  d.level_labels_q.resize(1);
  d.components = absorb::FindComponents(d.factors);
  if (truth) *truth = t;
  return d;
}

fit::Design LeaveOneOut(const fit::Design& d) {
  const LeaveOutSample s = LeaveOneOutConnectedSet(d.factors);
  return RestrictDesign(d, s.keep_n);
}

LeaveOutOptions Exact() {
  LeaveOutOptions o;
  o.leverages = LeverageMethod::kExact;
  o.keep_observation_terms = true;
  return o;
}

LeaveOutOptions Jla(int p, uint64_t seed = 7) {
  LeaveOutOptions o;
  o.leverages = LeverageMethod::kRandomProjection;
  o.projections = p;
  o.seed = seed;
  o.keep_observation_terms = true;
  return o;
}

// ------------------------------------------------------------ dense oracle

// Textbook computation with every dummy column spelled out: caseworker
// dummies (all J), citizen dummies without the last level (its effect is the
// reference 0), covariates; S = X'X inverted densely.
struct Dense {
  Eigen::VectorXd P_n, sigma2_n, sigma2_raw_n;  // sigma2_raw: c = 0
  Eigen::VectorXd B_n[4];                      // weighted, unweighted, citizen, cov
  double plugin[4] = {0, 0, 0, 0};
  double kss[4] = {0, 0, 0, 0};
  double kss_raw[4] = {0, 0, 0, 0};
};

Dense DenseOracle(const fit::Design& d) {
  const Eigen::Index n = d.y_n.size(), k = d.X_nk.cols();
  const bool two = d.factors.size() == 2;
  const int32_t J = d.factors[0].num_levels, C = two ? d.factors[1].num_levels : 0;
  const Eigen::Index ca = two ? C - 1 : 0, K = J + ca + k;
  Eigen::MatrixXd X = Eigen::MatrixXd::Zero(n, K), F = Eigen::MatrixXd::Zero(n, J), D = Eigen::MatrixXd::Zero(n, ca);
  for (Eigen::Index i = 0; i < n; ++i) {
    const int32_t j = d.factors[0].codes_n[static_cast<size_t>(i)];
    X(i, j) = F(i, j) = 1.0;
    if (two) {
      const int32_t c = d.factors[1].codes_n[static_cast<size_t>(i)];
      if (c < C - 1) X(i, J + c) = D(i, c) = 1.0;
    }
  }
  X.rightCols(k) = d.X_nk;
  const Eigen::MatrixXd S = X.transpose() * X;
  const Eigen::MatrixXd Sinv = S.ldlt().solve(Eigen::MatrixXd::Identity(K, K));
  const Eigen::VectorXd beta = Sinv * (X.transpose() * d.y_n);
  const Eigen::VectorXd e = d.y_n - X * beta;
  const Eigen::MatrixXd Cn = Eigen::MatrixXd::Identity(n, n) - Eigen::MatrixXd::Constant(n, n, 1.0 / n);
  const double n1 = static_cast<double>(n - 1);
  Eigen::MatrixXd A[4];
  for (auto& a : A) a = Eigen::MatrixXd::Zero(K, K);
  A[0].topLeftCorner(J, J) = F.transpose() * Cn * F / n1;
  A[1].topLeftCorner(J, J) =
      (Eigen::MatrixXd::Identity(J, J) - Eigen::MatrixXd::Constant(J, J, 1.0 / J)) / static_cast<double>(J);
  if (two) {
    A[2].block(J, J, ca, ca) = D.transpose() * Cn * D / n1;
    const Eigen::MatrixXd cross = F.transpose() * Cn * D / n1;
    A[3].block(0, J, J, ca) = 0.5 * cross;
    A[3].block(J, 0, ca, J) = 0.5 * cross.transpose();
  }
  Dense o;
  const Eigen::MatrixXd XS = X * Sinv;  // row i: (S^-1 x_i)'
  o.P_n = (XS.array() * X.array()).rowwise().sum();
  const double ybar = d.y_n.mean();
  o.sigma2_n = ((d.y_n.array() - ybar) * e.array() / (1.0 - o.P_n.array())).matrix();
  o.sigma2_raw_n = (d.y_n.array() * e.array() / (1.0 - o.P_n.array())).matrix();
  for (int a = 0; a < (two ? 4 : 2); ++a) {
    o.B_n[a] = ((XS * A[a]).array() * XS.array()).rowwise().sum();
    o.plugin[a] = beta.dot(A[a] * beta);
    o.kss[a] = o.plugin[a] - o.B_n[a].dot(o.sigma2_n);
    o.kss_raw[a] = o.plugin[a] - o.B_n[a].dot(o.sigma2_raw_n);
  }
  return o;
}

// Bit-identical (NaN equals NaN).
bool Same(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

double MaxAbs(const Eigen::VectorXd& v) { return v.cwiseAbs().maxCoeff(); }

void ExpectNear(double got, double want, double tol, const std::string& what) {
  EXPECT_NEAR(got, want, tol * std::max(1.0, std::abs(want))) << what;
}

void ExpectVectorNear(const Eigen::VectorXd& got, const Eigen::VectorXd& want, double tol, const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  const double scale = std::max(MaxAbs(want), std::numeric_limits<double>::min());
  EXPECT_LE(MaxAbs(got - want), tol * scale) << what;
}

void CompareWithDense(const fit::Design& d, const VarianceComponents& v, const Dense& o, bool raw = false) {
  const bool two = d.factors.size() == 2;
  ExpectVectorNear(v.terms.leverage_n, o.P_n, kExactTol, "P_ii");
  ExpectVectorNear(v.terms.sigma2_n, raw ? o.sigma2_raw_n : o.sigma2_n, kExactTol, "sigma_i^2");
  ExpectVectorNear(v.terms.b_caseworker_n, o.B_n[0], kExactTol, "B_ii caseworker (weighted)");
  ExpectVectorNear(v.terms.b_caseworker_unweighted_n, o.B_n[1], kExactTol, "B_ii caseworker (unweighted)");
  const double* kss = raw ? o.kss_raw : o.kss;
  ExpectNear(v.var_caseworker_plugin, o.plugin[0], kExactTol, "plug-in var caseworker");
  ExpectNear(v.var_caseworker_unweighted_plugin, o.plugin[1], kExactTol, "plug-in var caseworker unweighted");
  ExpectNear(v.var_caseworker_kss, kss[0], kExactTol, "KSS var caseworker");
  ExpectNear(v.var_caseworker_unweighted_kss, kss[1], kExactTol, "KSS var caseworker unweighted");
  EXPECT_NEAR(v.max_leverage, o.P_n.maxCoeff(), kExactTol);
  if (two) {
    ExpectVectorNear(v.terms.b_citizen_n, o.B_n[2], kExactTol, "B_ii citizen");
    ExpectVectorNear(v.terms.b_cov_n, o.B_n[3], kExactTol, "B_ii cov");
    ExpectNear(v.var_citizen_plugin, o.plugin[2], kExactTol, "plug-in var citizen");
    ExpectNear(v.cov_plugin, o.plugin[3], kExactTol, "plug-in cov");
    ExpectNear(v.var_citizen_kss, kss[2], kExactTol, "KSS var citizen");
    ExpectNear(v.cov_kss, kss[3], kExactTol, "KSS cov");
  } else {
    EXPECT_TRUE(std::isnan(v.var_citizen_kss));
    EXPECT_TRUE(std::isnan(v.cov_kss));
  }
}

// ------------------------------------------------------------------ tests

TEST(LeaveOut, ExactOneFactorWithCovariatesMatchesDenseOracle) {
  const fit::Design d = LeaveOneOut(MakeOneFactor(25, 2, 14, 3, 11));
  ASSERT_GT(d.num_obs(), 150);
  const VarianceComponents v = LeaveOutVariance(d, Exact(), parallel::Context(1));
  EXPECT_EQ(v.covariates, 3);
  EXPECT_EQ(v.caseworkers, 25);
  EXPECT_EQ(v.citizens, 0);
  EXPECT_EQ(v.leverage_method, "exact");
  CompareWithDense(d, v, DenseOracle(d));
}

TEST(LeaveOut, ExactTwoFactorWithCovariatesMatchesDenseOracle) {
  for (uint64_t seed : {21u, 22u}) {
    const fit::Design d = LeaveOneOut(MakeTwoFactor(15, 110, 3, 0.5, 2, seed));
    ASSERT_GT(d.num_obs(), 200) << seed;
    const VarianceComponents v = LeaveOutVariance(d, Exact(), parallel::Context(1));
    EXPECT_EQ(v.covariates, 2);
    EXPECT_EQ(v.citizens, d.factors[1].num_levels);
    CompareWithDense(d, v, DenseOracle(d));
  }
}

TEST(LeaveOut, ExactTwoFactorWithoutCovariatesAndPaperCentringMatchDenseOracle) {
  const fit::Design d = LeaveOneOut(MakeTwoFactor(12, 120, 3, 0.4, 0, 31));
  LeaveOutOptions o = Exact();
  o.sigma_centering = SigmaCentering::kNone;
  const VarianceComponents v = LeaveOutVariance(d, o, parallel::Context(1));
  CompareWithDense(d, v, DenseOracle(d), /*raw=*/true);
}

TEST(LeaveOut, OneFactorClosedFormWithoutCovariates) {
  const fit::Design d = MakeOneFactor(30, 2, 12, 0, 41);
  const int32_t J = d.factors[0].num_levels;
  Eigen::VectorXd sum = Eigen::VectorXd::Zero(J), cnt = Eigen::VectorXd::Zero(J), ss = Eigen::VectorXd::Zero(J);
  for (Eigen::Index i = 0; i < d.y_n.size(); ++i) {
    sum[d.factors[0].codes_n[static_cast<size_t>(i)]] += d.y_n[i];
    cnt[d.factors[0].codes_n[static_cast<size_t>(i)]] += 1;
  }
  const Eigen::VectorXd psi = sum.cwiseQuotient(cnt);
  for (Eigen::Index i = 0; i < d.y_n.size(); ++i) {
    const int32_t j = d.factors[0].codes_n[static_cast<size_t>(i)];
    ss[j] += (d.y_n[i] - psi[j]) * (d.y_n[i] - psi[j]);
  }
  const double Jd = J, psibar = psi.mean();
  double between = 0, noise = 0;
  for (int32_t j = 0; j < J; ++j) {
    between += (psi[j] - psibar) * (psi[j] - psibar);
    noise += ss[j] / (cnt[j] - 1) / cnt[j];
  }
  const double closed_plugin = between / Jd, closed = closed_plugin - (1.0 - 1.0 / Jd) * noise / Jd;
  for (SigmaCentering c : {SigmaCentering::kSampleMean, SigmaCentering::kNone}) {
    LeaveOutOptions o = Exact();
    o.sigma_centering = c;
    const VarianceComponents v = LeaveOutVariance(d, o, parallel::Context(1));
    EXPECT_NEAR(v.var_caseworker_unweighted_plugin, closed_plugin, kExactTol * closed_plugin);
    EXPECT_NEAR(v.var_caseworker_unweighted_kss, closed, kExactTol * std::abs(closed));
    EXPECT_LT(v.var_caseworker_unweighted_kss, v.var_caseworker_unweighted_plugin);
    for (Eigen::Index i = 0; i < d.y_n.size(); ++i)
      ASSERT_NEAR(v.terms.leverage_n[i], 1.0 / cnt[d.factors[0].codes_n[static_cast<size_t>(i)]], 1e-14);
  }
}

// The KSS estimator is unbiased under heteroskedasticity; the plug-in is
// biased upward by sum_i B_ii sigma_i^2. The design and the effects are
// fixed, the noise is redrawn; the truth is the same quadratic form of the
// true effects.
TEST(LeaveOut, MonteCarloKssIsUnbiasedAndPluginIsNot) {
  constexpr int kReps = 200;
  constexpr double kMaxSe = 4.0;          // |mean KSS - truth| within this many Monte Carlo SEs
  constexpr double kMinPluginBiasSe = 8.0;  // plug-in bias of the variances at least this many SEs
  Truth t;
  const fit::Design d0 = MakeTwoFactor(12, 100, 3, 0.35, 1, 51, &t);
  const LeaveOutSample s = LeaveOneOutConnectedSet(d0.factors);
  fit::Design d = RestrictDesign(d0, s.keep_n);
  std::vector<int64_t> rows;
  for (size_t i = 0; i < s.keep_n.size(); ++i)
    if (s.keep_n[i]) rows.push_back(static_cast<int64_t>(i));
  const Eigen::Index n = d.num_obs();
  // True fixed effects on the kept rows (levels re-coded: take them per row).
  Eigen::VectorXd fpsi(n), falpha(n), mean(n), sd(n);
  std::vector<double> psi_of_level(static_cast<size_t>(d.factors[0].num_levels));
  for (Eigen::Index r = 0; r < n; ++r) {
    const auto i = static_cast<size_t>(rows[static_cast<size_t>(r)]);
    fpsi[r] = t.psi_g[d0.factors[0].codes_n[i]];
    falpha[r] = t.alpha_g[d0.factors[1].codes_n[i]];
    psi_of_level[static_cast<size_t>(d.factors[0].codes_n[static_cast<size_t>(r)])] = fpsi[r];
    mean[r] = fpsi[r] + falpha[r] + d.X_nk.row(r).dot(t.delta_k);
    sd[r] = t.sigma_n[static_cast<Eigen::Index>(i)];
  }
  auto cov = [](const Eigen::VectorXd& a, const Eigen::VectorXd& b) {
    return ((a.array() - a.mean()) * (b.array() - b.mean())).sum() / static_cast<double>(a.size() - 1);
  };
  const Eigen::Map<const Eigen::VectorXd> psi_g(psi_of_level.data(), static_cast<Eigen::Index>(psi_of_level.size()));
  const double truth[4] = {cov(fpsi, fpsi), (psi_g.array() - psi_g.mean()).square().mean(), cov(falpha, falpha),
                           cov(fpsi, falpha)};
  std::mt19937_64 rng(52);
  std::normal_distribution<double> z(0.0, 1.0);
  double sk[2][4] = {}, sk2[2][4] = {}, sp[4] = {}, sp2[4] = {};
  LeaveOutOptions opt[2] = {Exact(), Exact()};
  opt[0].keep_observation_terms = opt[1].keep_observation_terms = false;
  opt[1].sigma_centering = SigmaCentering::kNone;
  for (int r = 0; r < kReps; ++r) {
    for (Eigen::Index i = 0; i < n; ++i) d.y_n[i] = mean[i] + sd[i] * z(rng);
    for (int c = 0; c < 2; ++c) {
      const VarianceComponents v = LeaveOutVariance(d, opt[c], parallel::Context(1));
      const double kss[4] = {v.var_caseworker_kss, v.var_caseworker_unweighted_kss, v.var_citizen_kss, v.cov_kss};
      const double plug[4] = {v.var_caseworker_plugin, v.var_caseworker_unweighted_plugin, v.var_citizen_plugin,
                              v.cov_plugin};
      for (int a = 0; a < 4; ++a) {
        sk[c][a] += kss[a];
        sk2[c][a] += kss[a] * kss[a];
        if (c == 0) {
          sp[a] += plug[a];
          sp2[a] += plug[a] * plug[a];
        }
      }
    }
  }
  const char* names[4] = {"var caseworker", "var caseworker unweighted", "var citizen", "cov"};
  for (int a = 0; a < 4; ++a) {
    for (int c = 0; c < 2; ++c) {
      const double m = sk[c][a] / kReps, se = std::sqrt((sk2[c][a] / kReps - m * m) / (kReps - 1));
      EXPECT_LT(std::abs(m - truth[a]), kMaxSe * se) << names[a] << " centring " << c << ": mean " << m
                                                     << ", truth " << truth[a] << ", se " << se;
    }
    const double m = sp[a] / kReps, se = std::sqrt((sp2[a] / kReps - m * m) / (kReps - 1));
    if (a < 3) {
      EXPECT_GT(m - truth[a], kMinPluginBiasSe * se) << names[a] << " plug-in: mean " << m << ", se " << se;
    }
  }
}

// Two blocks of caseworkers linked only by one citizen with a response in
// each (two bridges), a pendant citizen with a single response (a bridge), and
// a citizen with two responses at the same caseworker (parallel edges: no
// bridge).
TEST(LeaveOut, ConnectedSetDropsBridgesAndKeepsTheLargestPiece) {
  absorb::Factor cw{"caseworker", {}, 6}, ci{"citizen", {}, 0};
  auto add = [&](int32_t j, int32_t c) {
    cw.codes_n.push_back(j);
    ci.codes_n.push_back(c);
    ci.num_levels = std::max(ci.num_levels, c + 1);
  };
  int32_t c = 0;
  // Block A: caseworkers 0, 1, 2; two citizens on each pair (cycles everywhere).
  for (auto [a, b] : {std::pair{0, 1}, std::pair{1, 2}, std::pair{2, 0}})
    for (int rep = 0; rep < 2; ++rep, ++c) {
      add(a, c);
      add(b, c);
    }
  // Block B: caseworkers 3, 4 with two citizens linking them.
  for (int rep = 0; rep < 2; ++rep, ++c) {
    add(3, c);
    add(4, c);
  }
  const int32_t bridge_citizen = c++;
  add(2, bridge_citizen);
  add(3, bridge_citizen);
  const int32_t pendant = c++;
  add(1, pendant);
  const int32_t stayer = c++;
  add(0, stayer);
  add(0, stayer);
  // Caseworker 5, reached only through a citizen who also saw caseworker 0:
  // both of that citizen's edges are bridges.
  const int32_t link5 = c++;
  add(0, link5);
  add(5, link5);
  // An isolated caseworker-citizen pair (its own component).
  cw.num_levels = 7;
  add(6, c++);
  const LeaveOutSample s = LeaveOneOutConnectedSet({cw, ci});
  const size_t n = cw.codes_n.size();
  ASSERT_EQ(n, 24u);
  ASSERT_EQ(s.keep_n.size(), n);
  EXPECT_EQ(s.dropped_bridges, 5);    // two of the bridge citizen, the pendant, two of link5
  EXPECT_EQ(s.dropped_component, 5);  // the isolated pair, then block B's four observations
  EXPECT_EQ(s.rounds, 1);
  EXPECT_EQ(s.kept, 14);
  for (size_t i = 0; i < n; ++i) {
    const int32_t who = ci.codes_n[i];
    const bool in_a = cw.codes_n[i] <= 2 && who != bridge_citizen && who != pendant && who != link5;
    EXPECT_EQ(s.keep_n[i] != 0, in_a) << "observation " << i;
  }

  // On the restricted design every leverage is below 1.
  fit::Design d;
  d.source = "synthetic";
  d.factors = {cw, ci};
  d.y_n = Eigen::VectorXd::LinSpaced(static_cast<Eigen::Index>(n), 0.0, 1.0).array().sin();
  d.X_nk.resize(static_cast<Eigen::Index>(n), 0);
  const fit::Design r = RestrictDesign(d, s.keep_n);
  EXPECT_EQ(r.factors[0].num_levels, 3);
  EXPECT_EQ(r.factors[1].num_levels, 7);
  EXPECT_EQ(r.components.count, 1);
  const VarianceComponents v = LeaveOutVariance(r, Exact(), parallel::Context(1));
  EXPECT_LT(v.max_leverage, 1.0 - 1e-6);
  CompareWithDense(r, v, DenseOracle(r));
  // The unrestricted design has leverage-1 observations (and is disconnected).
  EXPECT_THROW(LeaveOutVariance(d, Exact(), parallel::Context(1)), Error);
}

TEST(LeaveOut, ConnectedSetOnRandomDesignsLeavesNoLeverageOne) {
  for (uint64_t seed : {61u, 62u, 63u}) {
    const fit::Design d0 = MakeTwoFactor(20, 150, 2, 0.2, 0, seed);
    const LeaveOutSample s = LeaveOneOutConnectedSet(d0.factors);
    EXPECT_GT(s.dropped_bridges, 0) << seed;
    const fit::Design d = RestrictDesign(d0, s.keep_n);
    EXPECT_EQ(d.num_obs(), s.kept);
    EXPECT_EQ(d.components.count, 1);
    const LeaveOutSample again = LeaveOneOutConnectedSet(d.factors);
    EXPECT_EQ(again.kept, s.kept) << "the set is a fixed point";
    const VarianceComponents v = LeaveOutVariance(d, Exact(), parallel::Context(1));
    EXPECT_LT(v.max_leverage, 1.0 - 1e-6) << seed;
    // The whole pipeline is the same computation.
    const LeaveOutEstimate e = EstimateLeaveOut(d0, Exact(), parallel::Context(1));
    EXPECT_EQ(e.sample.kept, s.kept);
    EXPECT_EQ(e.components.var_caseworker_kss, v.var_caseworker_kss);
    EXPECT_EQ(e.components.cov_kss, v.cov_kss);
  }
}

TEST(LeaveOut, ConnectedSetDropsSingletonCaseworkersForOneFactor) {
  absorb::Factor cw{"caseworker", {0, 1, 1, 2, 3, 3, 3, 4}, 5};
  const LeaveOutSample s = LeaveOneOutConnectedSet({cw});
  EXPECT_EQ(s.dropped_single, 3);
  EXPECT_EQ(s.kept, 5);
  EXPECT_EQ(s.keep_n, (std::vector<uint8_t>{0, 1, 1, 0, 1, 1, 1, 0}));
  fit::Design d;
  d.factors = {cw};
  d.y_n.resize(8);
  d.y_n << 1, 2, 4, 0, 3, 5, 9, 1;
  d.X_nk.resize(8, 0);
  const fit::Design r = RestrictDesign(d, s.keep_n);
  EXPECT_EQ(r.factors[0].num_levels, 2);
  EXPECT_EQ(r.factors[0].codes_n, (std::vector<int32_t>{0, 0, 1, 1, 1}));
  const VarianceComponents v = LeaveOutVariance(r, Exact(), parallel::Context(1));
  EXPECT_NEAR(v.max_leverage, 0.5, 1e-15);
  EXPECT_THROW(LeaveOutVariance(d, Exact(), parallel::Context(1)), Error);  // leverage 1
}

// With many draws the random projection approaches the exact leverages.
TEST(LeaveOut, RandomProjectionApproachesExactWithManyDraws) {
  constexpr int kDraws = 2000;
  constexpr double kMeanLeverageErr = 0.02;  // mean |P_bar - P| (sd of P_hat ~ P sqrt(2/p) ~ 0.03 P)
  constexpr double kKssErrShare = 0.1;       // |KSS_JLA - KSS| as a share of the exact correction
  const fit::Design d = LeaveOneOut(MakeTwoFactor(15, 110, 3, 0.5, 2, 21));
  const VarianceComponents ex = LeaveOutVariance(d, Exact(), parallel::Context(1));
  const VarianceComponents jl = LeaveOutVariance(d, Jla(kDraws), parallel::Context(2));
  EXPECT_EQ(jl.projections, kDraws);
  EXPECT_NE(jl.leverage_method.find("random projection"), std::string::npos);
  EXPECT_LT((jl.terms.leverage_n - ex.terms.leverage_n).cwiseAbs().mean(), kMeanLeverageErr);
  EXPECT_EQ(jl.var_caseworker_plugin, ex.var_caseworker_plugin);
  const double jla[4] = {jl.var_caseworker_kss, jl.var_caseworker_unweighted_kss, jl.var_citizen_kss, jl.cov_kss};
  const double kss[4] = {ex.var_caseworker_kss, ex.var_caseworker_unweighted_kss, ex.var_citizen_kss, ex.cov_kss};
  const double plug[4] = {ex.var_caseworker_plugin, ex.var_caseworker_unweighted_plugin, ex.var_citizen_plugin,
                          ex.cov_plugin};
  for (int a = 0; a < 4; ++a)
    EXPECT_LT(std::abs(jla[a] - kss[a]), kKssErrShare * std::abs(plug[a] - kss[a]))
        << "target " << a << ": JLA " << jla[a] << ", exact " << kss[a] << ", plug-in " << plug[a];
  // The per-observation B terms too (they are unbiased; mean over observations).
  const double bscale = ex.terms.b_caseworker_n.cwiseAbs().mean();
  EXPECT_LT(std::abs((jl.terms.b_caseworker_n - ex.terms.b_caseworker_n).mean()), 0.05 * bscale);
}

TEST(LeaveOut, BitIdenticalAtOneAndTwoThreads) {
  const fit::Design d2 = LeaveOneOut(MakeTwoFactor(15, 110, 3, 0.5, 2, 23));
  const fit::Design d1 = LeaveOneOut(MakeOneFactor(25, 2, 14, 2, 24));
  LeaveOutOptions iterative = Jla(40);
  iterative.solver = ProjectionSolver::kIterative;
  for (const fit::Design* d : {&d1, &d2})
    for (const LeaveOutOptions& o : {Exact(), Jla(40), iterative}) {
      const VarianceComponents a = LeaveOutVariance(*d, o, parallel::Context(1));
      const VarianceComponents b = LeaveOutVariance(*d, o, parallel::Context(2));
      EXPECT_TRUE(Same(a.var_caseworker_kss, b.var_caseworker_kss)) << a.solver;
      EXPECT_TRUE(Same(a.var_caseworker_unweighted_kss, b.var_caseworker_unweighted_kss)) << a.solver;
      EXPECT_TRUE(Same(a.var_citizen_kss, b.var_citizen_kss)) << a.solver;
      EXPECT_TRUE(Same(a.cov_kss, b.cov_kss)) << a.solver;
      EXPECT_TRUE(Same(a.var_caseworker_plugin, b.var_caseworker_plugin)) << a.solver;
      EXPECT_TRUE(a.terms.leverage_n == b.terms.leverage_n) << a.solver;
      EXPECT_TRUE(a.terms.sigma2_n == b.terms.sigma2_n) << a.solver;
      EXPECT_TRUE(a.terms.b_caseworker_n == b.terms.b_caseworker_n) << a.solver;
    }
}

// The iterative projections (absorber, spanning-forest right-hand sides)
// reproduce the direct ones on the same draws.
TEST(LeaveOut, IterativeProjectionsMatchDirect) {
  constexpr double kSolverTol = 1e-6;
  const fit::Design d = LeaveOneOut(MakeTwoFactor(15, 110, 3, 0.5, 2, 25));
  LeaveOutOptions direct = Jla(48), iterative = Jla(48);
  direct.solver = ProjectionSolver::kDirect;
  iterative.solver = ProjectionSolver::kIterative;
  iterative.absorb.tolerance = 1e-12;
  const VarianceComponents a = LeaveOutVariance(d, direct, parallel::Context(1));
  const VarianceComponents b = LeaveOutVariance(d, iterative, parallel::Context(1));
  EXPECT_NE(a.solver, b.solver);
  EXPECT_TRUE(b.projections_converged);
  ExpectVectorNear(b.terms.leverage_n, a.terms.leverage_n, kSolverTol, "P_bar");
  ExpectVectorNear(b.terms.b_caseworker_n, a.terms.b_caseworker_n, kSolverTol, "B caseworker");
  ExpectVectorNear(b.terms.b_caseworker_unweighted_n, a.terms.b_caseworker_unweighted_n, kSolverTol, "B unweighted");
  ExpectVectorNear(b.terms.b_citizen_n, a.terms.b_citizen_n, kSolverTol, "B citizen");
  ExpectVectorNear(b.terms.b_cov_n, a.terms.b_cov_n, kSolverTol, "B cov");
  ExpectNear(b.var_caseworker_kss, a.var_caseworker_kss, kSolverTol, "KSS");
  ExpectNear(b.var_caseworker_plugin, a.var_caseworker_plugin, kSolverTol, "plug-in");
}

TEST(LeaveOut, JlaCorrectionFactorVariants) {
  // p_bar, m_bar, m_pp, m_mm, m_pm, p
  const double P = 0.7, M = 0.3, mpp = 1.6, mmm = 0.4, mpm = 0.3;
  const int p = 50;
  const double V = (M * M * mpp + P * P * mmm - 2 * P * M * mpm) / p;
  const double B1 = (M * mpp - P * mmm + (M - P) * mpm) / p, B2 = (M * mpp - P * mmm + 2 * (M - P) * mpm) / p;
  EXPECT_EQ(JlaCorrectionFactor(P, M, mpp, mmm, mpm, p, JlaCorrection::kNone), 1.0);
  EXPECT_NEAR(JlaCorrectionFactor(P, M, mpp, mmm, mpm, p, JlaCorrection::kC1), 1 - V / (M * M) + B1 / M, 1e-15);
  EXPECT_NEAR(JlaCorrectionFactor(P, M, mpp, mmm, mpm, p, JlaCorrection::kC2), 1 - V / (M * M) + B2 / M, 1e-15);
  EXPECT_NEAR(JlaCorrectionFactor(P, M, mpp, mmm, mpm, p, JlaCorrection::kC1SignFlip), 1 - V / (M * M) - B1 / M,
              1e-15);
  EXPECT_NEAR(JlaCorrectionFactor(P, M, mpp, mmm, mpm, p, JlaCorrection::kC2SignFlip), 1 - V / (M * M) - B2 / M,
              1e-15);
  EXPECT_STREQ(JlaCorrectionName(JlaCorrection::kC1), "c=1,+B");
}

// The default JLA correction is the least biased of the variants on a
// low-mobility design with large leverages (the settlement of leave_out.h,
// in small). Every variant is evaluated on the same draws (a kNone run keeps
// the moments). The statistic is the relative error of the estimate of
// 1/M_ii, factor_i M_ii / M_bar_ii - 1, averaged over observations, with the
// control variate (P_ii (M_hat_ii - M_ii) - M_ii (P_hat_ii - P_ii)) / M_ii
// added: P_hat and M_hat are exactly unbiased, so its mean is 0, and it
// cancels the first-order noise of M_bar (about 5x smaller Monte Carlo SE).
TEST(LeaveOut, JlaVariantsAgainstExact) {
  constexpr int kSeeds = 100, kDraws = 50;
  constexpr double kNoneMinRatio = 10.0;  // |bias| of no correction vs the default's, at least
  constexpr double kMaxSe = 4.0;          // the default's KSS deviation within this many MC SEs
  constexpr double kRecomputeTol = 1e-12;
  const JlaCorrection variants[] = {JlaCorrection::kNone, JlaCorrection::kC1, JlaCorrection::kC2,
                                    JlaCorrection::kC1SignFlip, JlaCorrection::kC2SignFlip};
  const JlaCorrection def = LeaveOutOptions{}.jla_correction;
  const fit::Design d = LeaveOneOut(MakeTwoFactor(70, 600, 2, 0.25, 0, 81));
  const VarianceComponents ex = LeaveOutVariance(d, Exact(), parallel::Context(1));
  const Eigen::VectorXd& P = ex.terms.leverage_n;
  ASSERT_GT(d.num_obs(), 800);
  ASSERT_GT(P.mean(), 0.5);
  const Eigen::Index n = P.size();
  double rel[5] = {}, dev[5] = {}, dev2[5] = {};
  for (int s = 1; s <= kSeeds; ++s) {
    LeaveOutOptions o = Jla(kDraws, static_cast<uint64_t>(s));
    o.jla_correction = JlaCorrection::kNone;
    const VarianceComponents v = LeaveOutVariance(d, o, parallel::Context(1));
    const ObservationTerms& t = v.terms;
    for (int k = 0; k < 5; ++k) {
      double r = 0, b = 0;
      for (Eigen::Index i = 0; i < n; ++i) {
        const double pbar = t.leverage_n[i], mbar = 1.0 - pbar, M = 1.0 - P[i];
        const double f = JlaCorrectionFactor(pbar, mbar, t.m_pp_n[i], t.m_mm_n[i], t.m_pm_n[i], kDraws, variants[k]);
        r += M * f / mbar - 1.0 + (P[i] * (t.m_hat_n[i] - M) - M * (t.p_hat_n[i] - P[i])) / M;
        b += t.b_caseworker_n[i] * t.sigma2_n[i] * f;
      }
      rel[k] += r / static_cast<double>(n) / kSeeds;
      const double kss = v.var_caseworker_plugin - b;
      dev[k] += (kss - ex.var_caseworker_kss) / kSeeds;
      dev2[k] += (kss - ex.var_caseworker_kss) * (kss - ex.var_caseworker_kss) / kSeeds;
      if (s == 1 && variants[k] == def) {
        // The pipeline applies the default factor exactly as recomputed here.
        const VarianceComponents w = LeaveOutVariance(d, Jla(kDraws, 1), parallel::Context(1));
        EXPECT_NEAR(w.var_caseworker_kss, kss, kRecomputeTol);
      }
    }
  }
  int best = 0;
  for (int k = 1; k < 5; ++k)
    if (std::abs(rel[k]) < std::abs(rel[best])) best = k;
  std::string table;
  for (int k = 0; k < 5; ++k)
    table += std::string("\n  ") + JlaCorrectionName(variants[k]) + ": rel 1/M " + std::to_string(rel[k]) +
             ", KSS deviation " + std::to_string(dev[k]);
  EXPECT_EQ(variants[best], def) << "least biased: " << JlaCorrectionName(variants[best]) << table;
  int def_k = 0;
  for (int k = 0; k < 5; ++k)
    if (variants[k] == def) def_k = k;
  EXPECT_GT(std::abs(rel[0]), kNoneMinRatio * std::abs(rel[def_k]));
  const double se = std::sqrt((dev2[def_k] - dev[def_k] * dev[def_k]) / (kSeeds - 1));
  EXPECT_LT(std::abs(dev[def_k]), kMaxSe * se) << "default KSS deviation " << dev[def_k];
  EXPECT_LT(std::abs(dev[def_k]), std::abs(dev[0])) << "the correction must beat no correction";
}

TEST(LeaveOut, BadInputIsAnError) {
  const parallel::Context ctx(1);
  const fit::Design good = LeaveOneOut(MakeTwoFactor(10, 60, 3, 0.5, 1, 71));
  EXPECT_NO_THROW(LeaveOutVariance(good, Exact(), ctx));
  {
    fit::Design d = good;
    d.factors.clear();
    EXPECT_THROW(LeaveOutVariance(d, Exact(), ctx), Error);
  }
  {
    fit::Design d = good;
    d.factors.push_back(d.factors[0]);
    EXPECT_THROW(LeaveOutVariance(d, Exact(), ctx), Error);
  }
  {
    fit::Design d = good;
    d.weights_n.assign(static_cast<size_t>(d.num_obs()), 1.0);
    d.weights_name = "w";
    EXPECT_THROW(LeaveOutVariance(d, Exact(), ctx), Error);
  }
  {
    fit::Design d = good;
    d.y_n[5] = std::numeric_limits<double>::quiet_NaN();
    try {
      LeaveOutVariance(d, Exact(), ctx);
      ADD_FAILURE() << "no error";
    } catch (const Error& e) {
      EXPECT_EQ(e.where().row, d.input_row_n[5] + 1);
    }
  }
  {
    fit::Design d = good;
    d.X_nk(3, 0) = std::numeric_limits<double>::infinity();
    EXPECT_THROW(LeaveOutVariance(d, Exact(), ctx), Error);
  }
  {
    fit::Design d = good;
    d.factors[0].num_levels += 1;  // an unused level
    EXPECT_THROW(LeaveOutVariance(d, Exact(), ctx), Error);
  }
  {
    fit::Design d = good;
    d.factors[1].codes_n[0] = d.factors[1].num_levels;  // out of range
    EXPECT_THROW(LeaveOutVariance(d, Exact(), ctx), Error);
    EXPECT_THROW(LeaveOneOutConnectedSet(d.factors), Error);
  }
  {
    fit::Design d = good;
    d.factors[1].codes_n.pop_back();
    EXPECT_THROW(LeaveOutVariance(d, Exact(), ctx), Error);
    EXPECT_THROW(LeaveOneOutConnectedSet(d.factors), Error);
  }
  {
    // Two separate copies of the design: disconnected.
    fit::Design d = good;
    const Eigen::Index n = d.num_obs();
    d.y_n.conservativeResize(2 * n);
    d.y_n.tail(n) = good.y_n;
    d.X_nk.conservativeResize(2 * n, Eigen::NoChange);
    d.X_nk.bottomRows(n) = good.X_nk;
    for (int q = 0; q < 2; ++q) {
      for (Eigen::Index i = 0; i < n; ++i)
        d.factors[static_cast<size_t>(q)].codes_n.push_back(good.factors[static_cast<size_t>(q)].codes_n[static_cast<size_t>(i)] +
                                                            good.factors[static_cast<size_t>(q)].num_levels);
      d.factors[static_cast<size_t>(q)].num_levels *= 2;
    }
    d.input_row_n.clear();
    EXPECT_THROW(LeaveOutVariance(d, Exact(), ctx), Error);
  }
  {
    // A covariate that singles out one observation: leverage 1.
    fit::Design d = good;
    d.X_nk.col(0).setZero();
    d.X_nk(4, 0) = 1.0;
    EXPECT_THROW(LeaveOutVariance(d, Exact(), ctx), Error);
  }
  {
    // No more observations than parameters: 3 caseworkers and 3 citizens on
    // a cycle of 6 observations need 5 effects; one covariate makes 6 = n.
    fit::Design d;
    d.factors = {absorb::Factor{"caseworker", {0, 1, 1, 2, 2, 0}, 3}, absorb::Factor{"citizen", {0, 0, 1, 1, 2, 2}, 3}};
    d.y_n = Eigen::VectorXd::LinSpaced(6, 1.0, 2.0).array().square();
    d.X_nk.resize(6, 1);
    d.X_nk.col(0) << 0.3, -1.0, 0.2, 0.8, -0.4, 0.1;
    EXPECT_THROW(LeaveOutVariance(d, Exact(), ctx), Error);
  }
  {
    LeaveOutOptions o = Exact();
    o.projections = 0;
    EXPECT_THROW(LeaveOutVariance(good, o, ctx), Error);
    o = Exact();
    o.leverage_tolerance = 0;
    EXPECT_THROW(LeaveOutVariance(good, o, ctx), Error);
    o = Exact();
    o.exact_max_obs = -1;
    EXPECT_THROW(o.Validate(), Error);
  }
  EXPECT_THROW(RestrictDesign(good, std::vector<uint8_t>(3, 1)), Error);
  EXPECT_THROW(RestrictDesign(good, std::vector<uint8_t>(static_cast<size_t>(good.num_obs()), 0)), Error);
  EXPECT_THROW(LeaveOneOutConnectedSet({}), Error);
}

}  // namespace
}  // namespace cwfx::inference
