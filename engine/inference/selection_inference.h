// Inference on the mean effect of a data-selected set (the winner's curse of
// the policy experiment, ../shared/METHODS.md section 4): conditional
// (polyhedral) and hybrid confidence intervals and a median-unbiased
// estimate for eta' psi, where the contrast eta depends on which units were
// selected (e.g. eta = 1_S / |S| - w: the top quartile's mean effect minus the
// response-weighted mean).
//
// CONVENTION: suffix _g length G (units), _gg G x G.
//
// ------------------------------------------------------------------ maths
// psi_hat ~ N(psi, Sigma). The selected set S is the top |S| of psi_hat, so
// the event {S_hat = S} is the polyhedron {A psi_hat <= 0} with one row
// e_k - e_j for every j in S, k not in S (Lee, Sun, Sun and Taylor 2016, AoS,
// "Exact post-selection inference, with application to the lasso").
// With t = eta' psi_hat, s2 = eta' Sigma eta, c = Sigma eta / s2 and
// z = psi_hat - c t (independent of t), the event is
//   (c_k - c_j) t <= z_j - z_k   for all j in S, k not in S,
// so t | {S_hat = S, z} ~ TN(eta' psi, s2; [V-, V+]) with
//   V- = max over rows with c_k < c_j of (z_j - z_k) / (c_k - c_j),
//   V+ = min over rows with c_k > c_j of (z_j - z_k) / (c_k - c_j)
// (rows with |c_k - c_j| <= 1e-12 max|c| do not involve t).
// F(t; mu) = P(T <= t), T ~ TN(mu, s2; [V-, V+]), is decreasing in mu, so
//  * median-unbiased estimate: F(t; mu) = 1/2;
//  * equal-tailed conditional interval: [mu_L, mu_U] with F(t; mu_L) =
//    1 - alpha/2 and F(t; mu_U) = alpha/2 (bisection). An endpoint is
//    infinite when t sits exactly on a truncation point.
// Hybrid (Andrews, Kitagawa and McCloskey 2024, QJE, "Inference on winners";
// adviksh/winference R/conf_int_hybrid_equal_tailed.R): c_beta is the
// 1 - beta quantile of max_j |Z_j| / sqrt(Sigma_jj), Z ~ N(0, Sigma) (units
// with Sigma_jj = 0 are exact and left out), estimated from parametric
// draws; the simultaneous rectangle |psi_hat_j - psi_j| <= c_beta sd_j
// projects onto eta' psi as t -+ c_beta h, h = sum_j |eta_j| sd_j. A value
// mu is kept when it lies in that projection interval and the conditional
// test at level a = (alpha - beta) / (1 - beta) with the truncation
// [max(V-, mu - c_beta h), min(V+, mu + c_beta h)] accepts it (equal-tailed).
// Coverage is at least 1 - alpha: P(miss) <= beta + a (1 - beta) = alpha.
// The hybrid interval always lies strictly inside the projection interval
// and is finite; beta = alpha / 10 by default, as AKM recommend.
//
// Numerics: the truncated-normal CDF is computed from ratios of normal tail
// probabilities in log space, log Q(u) = log phi(u) + log M(u) with the Mills
// ratio M from erfc (u < 30) or Laplace's continued fraction (u >= 30), and
// the differences of standardised points taken from the raw differences
// (t - V-, V+ - t), so it stays accurate with the interval 1e6 sd in a tail.
#pragma once

#include <Eigen/Dense>

#include <cstdint>
#include <span>
#include <vector>

namespace cwfx::inference {

struct SelectionInferenceOptions {
  double alpha = 0.05;          // 1 - confidence level of every interval
  double beta = -1.0;           // hybrid first-stage level; < 0 means alpha / 10; must be < alpha
  int projection_draws = 10000; // parametric draws for c_beta
  uint64_t seed = 1;            // Philox stream of those draws (core/random_stream.h)
  void Validate() const;        // throws cwfx::Error
  double EffectiveBeta() const { return beta < 0 ? alpha / 10.0 : beta; }
};

struct SelectedMeanInference {
  double estimate = 0;          // naive eta' psi_hat
  double std_error = 0;         // sqrt(eta' Sigma eta): ignores the selection
  double naive_lower = 0, naive_upper = 0;            // estimate -+ z_{1-alpha/2} std_error
  double truncation_lower = 0, truncation_upper = 0;  // V-, V+ (may be -inf / +inf)
  int64_t constraints = 0;      // rows of the selection event that involve t
  double median_unbiased = 0;   // F(t; mu) = 1/2
  double conditional_lower = 0, conditional_upper = 0;
  double projection_critical_value = 0;               // c_beta
  double projection_lower = 0, projection_upper = 0;  // t -+ c_beta h
  double hybrid_estimate = 0;   // the hybrid's F = 1/2 point (inside the projection interval)
  double hybrid_lower = 0, hybrid_upper = 0;
  double alpha = 0, beta = 0;
};

// The indices of the `count` largest entries of psi_g (ties by smaller index),
// in decreasing order of psi. Throws cwfx::Error unless 0 < count <= G and
// psi is finite.
std::vector<int32_t> SelectTop(const Eigen::VectorXd& psi_g, int32_t count);

// eta = 1_S / |S| - w: the selected set's mean minus the w-weighted mean.
// Throws cwfx::Error on an empty set, out-of-range or repeated indices, or
// a w of the wrong length.
Eigen::VectorXd SelectedMeanContrast(std::span<const int32_t> selected, const Eigen::VectorXd& w_g);

// Inference on eta' psi after selecting `selected` as the top of psi_hat.
// sigma_gg: covariance of psi_hat, symmetric positive semi-definite up to
// rounding (rank G - 1 for centred effects is fine). `selected` must be the
// top |S| of psi_hat (equal values at the border are accepted), with
// 0 < |S| < G. eta must be finite with eta' Sigma eta > 0.
// Throws cwfx::Error on bad shapes, non-finite values, an invalid set,
// a non-covariance sigma or a degenerate eta. Deterministic for a seed.
SelectedMeanInference InferSelectedMean(const Eigen::VectorXd& psi_hat_g, const Eigen::MatrixXd& sigma_gg,
                                        std::span<const int32_t> selected, const Eigen::VectorXd& eta_g,
                                        const SelectionInferenceOptions& options = {});

// Building blocks, exposed for tests and other callers.

// Standard normal quantile (Acklam's rational approximation refined by one
// Halley step on erfc; relative error ~1e-15). p in (0, 1).
double NormalQuantile(double p);

// P(T <= t) for T ~ N(mu, sd^2) truncated to [lower, upper] (either may be
// infinite; lower < upper, sd > 0). 0 below lower, 1 above upper.
double TruncatedNormalCdf(double t, double mu, double sd, double lower, double upper);

}  // namespace cwfx::inference
