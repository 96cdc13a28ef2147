// The estimators that correct what the study could not (../shared/METHODS.md
// sections 1-4), on the study's own model and sample:
//  * empirical Bayes shrinkage of the caseworker effects (normal prior and the
//    nonparametric NPMLE prior), the posterior probability that each
//    caseworker is in the top quartile and the posterior expected ranks;
//  * the leave-out (KSS) variance of the effects beside the plug-in one;
//  * the policy experiment ("every caseworker as good as the top quartile's
//    mean") corrected for the winner's curse: by empirical Bayes (the
//    selected set's mean posterior effect), by cross-fitting over citizens,
//    and with conditional and hybrid confidence intervals for the selected
//    mean, each beside the naive estimate;
//  * rank confidence sets (MRSW) from the analytic covariance.
//
// CONVENTION: suffix _g caseworkers (the study's caseworker codes, the order
// of study::CaseworkerRanking), _n observations, _c citizens.
//
// ------------------------------------------------------------ definitions
// psi_hat: the study's effects centred by the response-weighted mean; Sigma:
// their analytic covariance (replicate::ReplicationProblem::
// analytic_effect_cov_gg, one-factor model), s_j = sqrt(Sigma_jj).
// S: the study's top quartile (floor(G/4) caseworkers), w: response shares.
// The gain of a set T of caseworkers is mean_{T} psi - sum_j w_j psi_j, the
// increase of Table 1 when T = S.
//  naive        eta' psi_hat, eta = 1_S/|S| - w, SE sqrt(eta' Sigma eta)
//               (Table 1's increase; S taken as fixed).
//  eb_*         mean_{S} theta*_j - sum_j w_j theta*_j with theta* the
//               posterior means (Dawid 1994: no winner's curse if G is right).
//  cross_fit    for each of R random splits of the citizens into halves A and
//               B (within each citizen's first caseworker of the sample,
//               alternating in a random order, so every caseworker keeps half
//               its citizens): select the top quartile S_A of psi^A, evaluate
//               its gain on psi^B (weights: the full sample's responses); swap; average over
//               both directions and all splits. Unbiased for the gain of a set
//               selected on half the data (conservative for S). Its standard
//               error is that of one direction of one split,
//               sqrt(eta_A' Sigma_B eta_A), with Sigma_B approximated by
//               D Sigma D, D = diag(sqrt(n_j / n_j^B)) (the covariance of an
//               estimate from n_j^B of n_j responses; applied to the centred
//               Sigma, an approximation); averaging over splits only lowers
//               the variance, so the interval is conservative for its target.
//  conditional  the polyhedral (Lee et al. 2016) median-unbiased estimate and
//               equal-tailed interval of eta' psi given S was selected, and
//               the hybrid interval of Andrews, Kitagawa and McCloskey
//               (inference/selection_inference.h).
// Variance of the effects: plug-in sum_j w_j (psi_hat_j)^2 (the replication
// engine's variance_of_effects) and the leave-out (KSS) estimate on the
// leave-one-out connected set (inference/leave_out.h), both response-weighted
// over observations, with the unweighted (each caseworker once) versions.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "inference/leave_out.h"
#include "inference/rank_inference.h"
#include "inference/selection_inference.h"
#include "inference/shrinkage.h"
#include "parallel/parallel.h"
#include "replicate/problem.h"
#include "study/study.h"

namespace cwfx::corrections {

struct CorrectionOptions {
  double alpha = 0.05;                 // every interval is 1 - alpha
  uint64_t seed = 1;                   // of every random part (posterior draws, splits, projections)
  bool shrinkage = true;               // normal and NPMLE priors
  int npmle_grid_points = 300;
  double npmle_tolerance = 1e-8;       // the NPMLE's EM stopping rule (inference/shrinkage.h)
  int npmle_max_iterations = 50000;
  int posterior_draws = 2000;          // for the top-quartile probabilities and expected ranks
  int cross_fit_splits = 50;           // R; 0 = no cross-fitting
  bool conditional_inference = true;
  int projection_draws = 10000;        // hybrid interval's first stage
  bool leave_out_variance = true;
  bool rank_sets = true;
  int rank_draws = 1000;
  void Validate() const;               // throws cwfx::Error
};

// Per caseworker, in the study's order.
struct EffectCorrections {
  std::vector<double> effect_g, std_error_g;                 // centred estimate and its analytic SE
  std::vector<double> normal_mean_g, normal_prob_top_g, normal_expected_rank_g;
  std::vector<double> npmle_mean_g, npmle_prob_top_g, npmle_expected_rank_g;
  std::vector<int32_t> normal_rank_g;                        // rank of the normal posterior means (1 = best)
  std::vector<int32_t> marginal_lower_g, marginal_upper_g;   // MRSW marginal rank sets
  std::vector<int32_t> simultaneous_lower_g, simultaneous_upper_g;
  std::vector<uint8_t> could_be_top_g;                       // 1: could be in the top quartile (simultaneous)
};

struct PolicyCorrections {
  static constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  double naive = kNaN, naive_std_error = kNaN, naive_lower = kNaN, naive_upper = kNaN;
  double eb_normal = kNaN, eb_npmle = kNaN;
  double cross_fit = kNaN, cross_fit_std_error = kNaN, cross_fit_lower = kNaN, cross_fit_upper = kNaN;
  int cross_fit_splits = 0;
  // Mean over the cross-fit's selections of 1_{S_A} / |S_A|: the true gain of
  // the half-sample selections is cross_fit_selection_g' psi - w' psi.
  std::vector<double> cross_fit_selection_g;
  double conditional_median = kNaN, conditional_lower = kNaN, conditional_upper = kNaN;
  double hybrid_estimate = kNaN, hybrid_lower = kNaN, hybrid_upper = kNaN;
};

struct VarianceCorrections {
  static constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  double plugin = kNaN, kss = kNaN;                        // response-weighted
  double plugin_unweighted = kNaN, kss_unweighted = kNaN;  // each caseworker once
  double normal_prior = kNaN, npmle_prior = kNaN;          // variance of the estimated prior G
  double citizen_plugin = kNaN, citizen_kss = kNaN;        // two-way model only
  double cov_plugin = kNaN, cov_kss = kNaN;
  int64_t leave_out_obs = 0, leave_out_dropped = 0;
  std::string leverage_method;
};

struct CorrectionResult {
  int32_t top_size = 0;
  double alpha = 0.05;
  EffectCorrections effects;
  PolicyCorrections policy;
  VarianceCorrections variance;
  std::vector<std::string> warnings;   // parts skipped, with the reason
};

// Needs the problem built from `study` (replicate::BuildProblem; its options
// are not used). Effects, shrinkage, conditional inference and rank sets need
// the one-factor model (the analytic covariance); with citizen effects they
// are skipped with a warning and only the leave-out variances are computed.
// Throws cwfx::Error on invalid options. Deterministic for a seed, whatever
// ctx.threads().
CorrectionResult RunCorrections(const replicate::ReplicationProblem& problem, const study::StudyResult& study,
                                const CorrectionOptions& options, const parallel::Context& ctx);

// The cross-fitted gain alone (exposed for tests): R splits as above.
struct CrossFitResult {
  double gain = PolicyCorrections::kNaN, std_error = PolicyCorrections::kNaN;
  int splits_used = 0;                 // directions (two per split) that could select
  std::vector<double> selection_g;     // mean of 1_{S_A} / |S_A| over those directions
};
CrossFitResult CrossFitGain(const replicate::ReplicationProblem& problem, int splits, uint64_t seed,
                            const parallel::Context& ctx);

}  // namespace cwfx::corrections
