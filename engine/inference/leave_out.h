// Leave-one-out (KSS) bias-corrected variance components of caseworker and
// citizen effects: Kline, Saggio and Soelvsten, "Leave-out estimation of
// variance components", Econometrica 2020 (../shared/METHODS.md section 1;
// the reference code rsaggio87/LeaveOutTwoWay, codes/leave_out_KSS.m,
// leverages.m, kss_quadratic_form.m, doc/improved_JLA.tex).
//
// CONVENTION: suffix _n observations, _g levels of one factor, _k covariates,
// _q factors.
//
// ------------------------------------------------------------------ the model
// y = X delta + F psi [+ D alpha] + e, unweighted least squares; F the
// caseworker dummies (factor 0 of the design), D the citizen dummies (factor
// 1, optional), X the covariates. Stack beta = (psi, alpha, delta) and the
// full design row x_i; S = sum_i x_i x_i' (a generalised inverse S^- with two
// factors: every quantity below is invariant to its choice on a connected
// graph). Each target is a quadratic form theta = beta' A beta:
//   var_caseworker             A = F'(I - 11'/n)F / (n - 1)    (response-weighted variance
//                                  of psi_j(i) over observations; kss_quadratic_form.m)
//   var_caseworker_unweighted  A = (I - 11'/J)/J on psi        (each caseworker once)
//   var_citizen                A = D'(I - 11'/n)D / (n - 1)
//   cov                        F'(I - 11'/n)D / (n - 1), symmetrised
// Plug-in: theta_hat = beta_hat' A beta_hat (beta_hat the OLS fit). Its bias
// is E[theta_hat] - theta = sum_i B_ii sigma_i^2 with B_ii = x_i' S^- A S^- x_i
// (sigma_i^2 = Var(e_i), independent, any heteroskedasticity). The KSS
// estimator subtracts an unbiased estimate of that sum:
//   theta_KSS = theta_hat - sum_i B_ii sigma_hat_i^2,
//   sigma_hat_i^2 = (y_i - c) e_hat_i / M_ii,  M_ii = 1 - P_ii,  P_ii = x_i' S^- x_i,
// e_hat_i / M_ii = y_i - x_i' beta_hat_{-i} (the leave-one-out residual).
// Which c (SigmaCentering): the paper's c = 0 makes sigma_hat_i^2 exactly
// unbiased; the reference code's c = ybar (leave_out_KSS.m) costs an O(1/n)
// bias per term (ybar contains y_i), i.e. O(sigma^2 tr(A S^-)/n) in theta,
// negligible, and makes theta_KSS exactly invariant to adding a constant to y
// (the plug-in is: the constant is absorbed). With c = 0 a shift of y by m
// adds m sum_i B_ii e_hat_i / M_ii, mean zero but noise growing with |m|.
// Default c = ybar. With one factor and no covariates both give the same
// number (sum_{i in j} y_i e_hat_i = sum_{i in j} (y_i - ybar) e_hat_i), the
// closed form of METHODS.md:
//   unweighted: J^-1 sum_j (psi_j - psibar)^2 - (1 - 1/J) J^-1 sum_j s_j^2 / n_j.
// Every observation needs M_ii > 0: estimate on the leave-one-out connected
// set (LeaveOneOutConnectedSet below).
//
// ------------------------------------------------------- exact leverages
// Frisch-Waugh-Lovell: with X~ = X with the fixed effects partialled out and
// H = (X~'X~)^-1, P_ii = [D N^- D']_ii + x~_i' H x~_i (N = the dummies' Gram
// matrix), and the effect block of S^- x_i is theta_i - Q H x~_i with
// theta_i = N^- d_i (d_i = x_i's dummy part) and Q = N^- D'X (the effects of
// every covariate column).
// - One factor: [D N^- D']_ii = 1/n_j, theta_i = e_j/n_j, Q = the caseworker
//   means of X; each B_ii is a closed k x k quadratic form (O(n k^2) total).
// - Two factors: theta_i from the CHOLMOD FixedEffectSolver (reduced graph
//   Laplacian), 64 observations per solve, in parallel over blocks; B_ii from
//   the n-vectors F psi_i and D alpha_i (O(n^2) in total: fine below 10^4
//   observations, the default limit of exact leverages).
//
// --------------------------------------------- random projection (JLA)
// For p draws s (Rademacher vectors from Philox streams, draw s its own
// stream, so the result does not depend on the thread count):
//   Z_s = P q_s (q_s in {-1,1}^n): P_hat_ii = mean_s Z_si^2,
//   M_hat_ii = mean_s (q_si - Z_si)^2; constrained P_bar = P_hat/(P_hat + M_hat),
//   M_bar = 1 - P_bar (both in [0, 1]; doc/improved_JLA.tex);
//   B_hat_ii = mean_s (x_i' S^- X_A' r~_s)^2 with r~_s = r_s - mean(r_s), X_A the
//   target's effect block (for the covariance the product of the caseworker and
//   citizen terms of the same r_s, as leverages.m); the unweighted caseworker
//   target uses its own J-vector draws.
// One projection per right-hand side: the direct FixedEffectSolver, or, for
// registers whose reduced Laplacian is too large to factorise, the iterative
// Absorber (a right-hand side of level sums b is turned into an observation
// vector v with D'v = b on a spanning forest of the caseworker-citizen graph;
// then D N^- b = v - M_D v). Covariates add X~ H X~'q_s (or -X~ H X'g).
// Non-linearity correction: E[1/M_bar] != 1/M, so
//   sigma_hat_i^2 = (y_i - c) e_hat_i / M_bar_ii * (1 - V_i/M_bar^2 + sgn * B_i/M_bar),
//   V_i = p^-1 (M_bar^2 m(P^2) + P_bar^2 m(M^2) - 2 P_bar M_bar m(PM)),
//   B_i = p^-1 (M_bar m(P^2) - P_bar m(M^2) + c (M_bar - P_bar) m(PM)),
// m(P^2) = mean_s Z^4, m(M^2) = mean_s (q - Z)^4, m(PM) = mean_s Z^2 (q - Z)^2.
// The sources disagree on (c, sgn): improved_JLA.tex (1, +), leverages.m
// (2, +), pytwoway fe.py (sign flip on B: sgn = -). Second-order expansion of
// M_bar = (M + b)/(1 + a + b) (a, b the errors of P_hat, M_hat) gives
// E[M_bar] - M = M Var(P_hat) - P Var(M_hat) + (M - P) Cov(P_hat, M_hat),
// and plugging in Var(P_hat) = (m(P^2) - P^2)/p etc. the P^2 M^2 terms cancel
// exactly, leaving B_i with c = 1; E[1/M_bar] = (1 - B/M + V/M^2)/M, so the
// correction is 1 + B/M - V/M^2 (sgn = +). The SIMULATION agrees (below).
//
// HOW THE VARIANT WAS SETTLED (bench/inference/leave_out_jla_bench.cc and the
// test LeaveOut.JlaVariantsAgainstExact). Three low-mobility two-factor
// registers, on their leave-one-out connected sets: a (n = 2836, 118
// caseworkers, 950 citizens, mean P_ii 0.38, 3.6% above 0.7), b (n = 3692,
// 228 x 1846, mean P_ii 0.56, 16.8% above 0.7), c (n = 3250, 89 x 813, two
// covariates, mean P_ii 0.28). The outcome is fixed; 1000 JLA seeds per p;
// every variant is evaluated on the same draws. Command (release, 1 thread,
// about 5 minutes):
//   <build>/bench/inference/leave_out_jla_bench --seeds 1000 --projections 50,200
// rel = mean_i M_ii f_i / M_bar_ii - 1, the relative error of the estimate
// of 1/M_ii (f_i the variant's factor; with the control variate
// (P (M_hat - M) - M (P_hat - P)) / M, mean exactly 0), x 1e4. Monte Carlo
// SE 0.2 / 0.04 / 0.3 / 0.06 / 0.1 / 0.02 by column:
//                  a p=50  a p=200   b p=50  b p=200   c p=50  c p=200
//   none           +141.1    +33.9   +243.4    +58.1    +85.1    +20.5
//   c=1,+B (kC1)     +0.1     -0.0     -5.9     -0.4     +0.6     +0.0
//   c=2,+B           +2.7     +0.8    -18.1     -3.0    +11.2     +2.7
//   c=1,-B          +42.1    +10.8    -40.5     -8.7    +46.3    +11.6
//   c=2,-B          +39.5     +9.9    -28.3     -6.1    +35.7     +8.9
// dev = KSS_JLA - KSS_exact of the response-weighted caseworker variance, all
// JLA ingredients (P_bar, M_bar, B_hat, factor), x 1e4, Monte Carlo SE in
// brackets. The exact KSS values are 0.2226 / 0.4789 / 0.0228, and the
// corrections (plug-in - KSS) are 0.96 / 0.66 / 0.52:
//                  a p=50       a p=200     b p=50       b p=200     c p=50       c p=200
//   none           -247.9 (17)  -59.9 (8)   -206.4 (8)   -52.9 (4)   -112.2 (9)   -28.7 (4)
//   c=1,+B (kC1)    +14.6 (17)   +4.1 (8)     +8.1 (8)    -0.6 (4)     -9.9 (8)    -4.2 (4)
//   c=2,+B          +41.8 (16)   +9.9 (8)    +39.9 (8)    +6.2 (4)     -7.9 (8)    -3.9 (4)
//   c=1,-B          +75.8 (16)  +18.3 (8)    +91.7 (8)   +19.7 (4)     -8.4 (8)    -4.3 (4)
//   c=2,-B          +48.6 (16)  +12.6 (8)    +60.0 (8)   +12.8 (4)    -10.4 (8)    -4.6 (4)
// The variants share their draws, so their differences are far more precise
// than the brackets. The citizen variance and the covariance behave the same
// way (the covariance with the opposite sign).
// Verdict: the default stays kC1 (c = 1, +B, as in improved_JLA.tex). It is
// the least biased variant for 1/M_ii in every cell. Its remaining error,
// -5.9e-4 at p = 50 on b, is of order 1/p^2. It is also the least biased for
// the KSS estimate on a and b, within 1 SE of 0 there. On c the leverages are
// small and the four corrections cannot be told apart in dev. Without a
// correction (kNone) the KSS estimate is too low by 2-3% of the correction
// at p = 50 (0.5-0.8% at p = 200).
// The sign flip (pytwoway) is off by 2B/M. c = 2 (leverages.m) adds
// (M - P) m(PM) / (p M), which the expansion above does not have; the
// simulation confirms this: it errs in the direction of M - P.
//
// Determinism: every parallel loop writes disjoint outputs, reductions are
// folded in a fixed order, the draws come from per-draw Philox streams and
// the projections are grouped independently of the thread count, so the
// results are bit-identical for any ctx.threads() (tested).
#pragma once

#include <Eigen/Dense>

#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include "absorb/absorber.h"
#include "absorb/factor.h"
#include "fit/design.h"
#include "parallel/parallel.h"

namespace cwfx::inference {

// ------------------------------------------- the leave-one-out connected set

struct LeaveOutSample {
  std::vector<uint8_t> keep_n;         // 1 = in the leave-one-out connected set
  int64_t dropped_component = 0;       // outside the largest connected component (any round)
  int64_t dropped_bridges = 0;         // two factors: observations that were the only link (bridges)
  int64_t dropped_single = 0;          // one factor: the only observation of their caseworker
  int rounds = 0;                      // rounds of bridge removal that removed something
  int64_t kept = 0;
};

// The leave-one-out connected set, on which every observation has P_ii < 1
// as far as the fixed effects go (covariates can still create leverage 1;
// LeaveOutVariance checks):
// - one factor: caseworkers with a single observation are dropped (P_ii = 1);
// - two factors: the largest connected component of the caseworker-citizen
//   multigraph (one edge per observation), then repeatedly: drop every bridge
//   (an edge whose removal disconnects the graph: an observation that is the
//   only link between two parts, e.g. the only response of a citizen; an edge
//   of multiplicity > 1 is never one), keep the largest component, until no
//   bridge is left (bipartitepandas' leave_out_observation, with
//   igraph's bridges; KSS's MATLAB default is leave-match-out). Removing
//   every bridge leaves 2-edge-connected pieces, so a second round finds none;
//   the loop is kept as a guard.
// Ties between components: the smaller id (absorb::KeepLargestComponent).
// Throws cwfx::Error with zero or more than two factors or inconsistent
// lengths/codes.
LeaveOutSample LeaveOneOutConnectedSet(const std::vector<absorb::Factor>& factors);

// The design on the rows with keep_n != 0, factors re-coded densely (levels
// keep their relative order), components recomputed. Throws cwfx::Error if
// keep_n has the wrong length or keeps nothing.
fit::Design RestrictDesign(const fit::Design& design, std::span<const uint8_t> keep_n);

// ---------------------------------------------------------------- options

enum class LeverageMethod {
  kAuto,              // exact when n <= LeaveOutOptions::exact_max_obs, else random projection
  kExact,
  kRandomProjection,  // JLA with `projections` draws
};

// The non-linearity correction of the JLA sigma_hat_i^2 (see the banner).
enum class JlaCorrection {
  kNone,          // sigma_hat_i^2 = (y_i - c) e_hat_i / M_bar (no correction)
  kC1,            // c = 1, +B  (doc/improved_JLA.tex)   <- default, settled by simulation
  kC2,            // c = 2, +B  (codes/leverages.m)
  kC1SignFlip,    // c = 1, -B  (pytwoway's sign)
  kC2SignFlip,    // c = 2, -B
};
const char* JlaCorrectionName(JlaCorrection c);

enum class SigmaCentering {
  kSampleMean,  // (y_i - ybar) e_i / M_ii (the reference code; location invariant) - default
  kNone,        // y_i e_i / M_ii (the paper; exactly unbiased)
};

enum class ProjectionSolver {
  kAuto,       // two factors: direct when the reduced side has <= max_direct_levels levels
  kDirect,     // CHOLMOD FixedEffectSolver (always used by exact leverages with two factors)
  kIterative,  // absorb::Absorber (random projection only)
};

struct LeaveOutOptions {
  LeverageMethod leverages = LeverageMethod::kAuto;
  // kAuto: exact leverages up to this many observations (leave_out_KSS.m
  // switches at 10,000).
  int64_t exact_max_obs = 10000;
  // JLA draws p (leave_out_KSS.m: 200). Error of the leverages ~ 1/sqrt(p).
  int projections = 200;
  // Seed of the Rademacher draws: draw s reads the Philox stream
  // (seed, domain "KSSL", s) (core/random_stream.h).
  uint64_t seed = 1;
  JlaCorrection jla_correction = JlaCorrection::kC1;
  SigmaCentering sigma_centering = SigmaCentering::kSampleMean;
  ProjectionSolver solver = ProjectionSolver::kAuto;
  int32_t max_direct_levels = 20000;  // see fit::FitOptions::max_direct_levels
  // The iterative projections (random projection with kIterative); the JLA
  // needs far less than the fit's accuracy (KSS's pcg uses 1e-6).
  absorb::AbsorbOptions absorb;
  // Covariate j is dropped when its absorbed residual sum of squares on the
  // kept covariates before it is <= this times its centred sum of squares
  // (the rule of fit::FitOptions::collinearity_tolerance).
  double collinearity_tolerance = 1e-10;
  // Exact leverages: an observation with P_ii > 1 - leverage_tolerance cannot
  // be left out (cwfx::Error naming it).
  double leverage_tolerance = 1e-9;
  // Fill VarianceComponents::terms with the per-observation quantities.
  bool keep_observation_terms = false;

  void Validate() const;  // throws cwfx::Error
};

// ---------------------------------------------------------------- results

// Per-observation ingredients (only with keep_observation_terms).
struct ObservationTerms {
  Eigen::VectorXd leverage_n;        // P_ii (exact) or P_bar_ii (JLA)
  Eigen::VectorXd residual_n;        // e_hat_i
  Eigen::VectorXd sigma2_n;          // sigma_hat_i^2 as used (JLA: corrected)
  Eigen::VectorXd b_caseworker_n;    // B_ii of each target (JLA: B_hat_ii)
  Eigen::VectorXd b_caseworker_unweighted_n;
  Eigen::VectorXd b_citizen_n;       // two factors only (else empty)
  Eigen::VectorXd b_cov_n;
  // JLA only: the draws' moments (means over draws) behind the correction.
  Eigen::VectorXd p_hat_n, m_hat_n, m_pp_n, m_mm_n, m_pm_n;
};

struct VarianceComponents {
  static constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  double var_caseworker_plugin = kNaN;  // response-weighted (A = F'(I-11'/n)F/(n-1))
  double var_caseworker_kss = kNaN;
  double var_caseworker_unweighted_plugin = kNaN;  // over caseworkers (A = (I-11'/J)/J)
  double var_caseworker_unweighted_kss = kNaN;
  double var_citizen_plugin = kNaN, var_citizen_kss = kNaN;  // two factors
  double cov_plugin = kNaN, cov_kss = kNaN;                  // two factors
  int64_t n = 0;
  int32_t caseworkers = 0, citizens = 0;  // citizens = 0 with one factor
  int covariates = 0;                     // kept covariates
  std::vector<std::string> dropped_collinear;
  std::string leverage_method;            // "exact" or "random projection (p = ..)"
  std::string solver;                     // "closed form (one factor)", "direct (CHOLMOD)", "iterative"
  JlaCorrection jla_correction = JlaCorrection::kC1;  // applied (JLA only)
  int projections = 0;                    // 0 for exact
  double max_leverage = kNaN;             // max P_ii (JLA: max P_bar_ii)
  double mean_sigma2 = kNaN;              // mean of sigma_hat_i^2
  bool projections_converged = true;      // iterative projections: every column converged
  ObservationTerms terms;
  // One line per number, for logs.
  std::string BriefReport() const;
};

// Leave-out variance components on a design already restricted to the
// leave-one-out connected set (LeaveOneOutConnectedSet + RestrictDesign).
// Requirements (cwfx::Error otherwise): 1 or 2 factors (0 = caseworker,
// 1 = citizen), no regression weights, finite y and X, every level used, a
// connected factor graph with two factors, n > number of parameters, and
// (exact leverages) every P_ii <= 1 - leverage_tolerance.
VarianceComponents LeaveOutVariance(const fit::Design& design, const LeaveOutOptions& options,
                                    const parallel::Context& ctx);

// The whole pipeline: leave-one-out connected set, restriction, estimate.
struct LeaveOutEstimate {
  LeaveOutSample sample;
  VarianceComponents components;
};
LeaveOutEstimate EstimateLeaveOut(const fit::Design& design, const LeaveOutOptions& options,
                                  const parallel::Context& ctx);

// The JLA correction factor of one observation (pure; exposed so that every
// variant can be evaluated on the same draws): p_bar, m_bar the constrained
// leverages, m_pp, m_mm, m_pm the draws' moments, p the number of draws.
double JlaCorrectionFactor(double p_bar, double m_bar, double m_pp, double m_mm, double m_pm, int p,
                           JlaCorrection variant);

}  // namespace cwfx::inference
