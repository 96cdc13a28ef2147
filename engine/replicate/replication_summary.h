// What a run's draws say (../shared/METHODS.md sections 2 and 6), computed
// from a draw file alone plus, optionally, the analytic covariance of the
// effects:
//  * smooth quantities (coefficients, the actual share, the variance of the
//    effects, the fixed-weight contrast): bootstrap standard errors and
//    percentile intervals. The policy experiment's counterfactual and
//    increase re-select the top quartile in every replication; they are
//    summarised too, but flagged: selection is not smooth, so their
//    intervals are not valid confidence intervals (winner's curse).
//  * caseworker effects: bootstrap standard errors and covariance, fed to the
//    rank confidence sets of Mogstad, Romano, Shaikh and Wilhelm (marginal,
//    simultaneous, and who could be in the top quartile); the same from the
//    analytic covariance when given. Bootstrap percentiles of ranks are not
//    rank intervals and are not computed.
//  * quartile stability: the share of replications each caseworker lands in
//    each quartile - a measure of how stable the ranking is, NOT the
//    probability that the caseworker truly belongs there.
//  * permutation: p-values (1 + #{T_b >= T}) / (1 + B) for the variance of
//    the effects and the policy gain under no caseworker effects.
#pragma once

#include <Eigen/Dense>

#include <cstdint>
#include <string>
#include <vector>

#include "inference/rank_inference.h"
#include "inference/summaries.h"
#include "parallel/parallel.h"
#include "store/draw_file.h"

namespace cwfx::replicate {

struct SummaryOptions {
  double alpha = 0.05;
  int rank_draws = 1000;
  uint64_t rank_seed = 1;
  int32_t max_rank_units = 2000;  // rank sets need G x G work
};

struct ReplicationSummary {
  std::string scheme;
  bool bootstrap = true;            // false: permutation (draws under the null)
  int64_t replications = 0, stored = 0, failed = 0, not_converged = 0;
  std::string status;

  std::vector<inference::ScalarSummary> coefficients;
  std::vector<inference::ScalarSummary> smooth;      // actual, variance_of_effects, sd_of_effects, fixed_contrast
  std::vector<inference::ScalarSummary> selection;   // counterfactual, increase (not valid intervals)

  std::vector<std::string> caseworker_ids;
  std::vector<double> effect_g;                      // full-sample centred effects
  std::vector<double> bootstrap_std_error_g;
  Eigen::MatrixXd quartile_share_gq;                 // G x 4, bottom first
  bool have_bootstrap_rank_sets = false, have_analytic_rank_sets = false;
  inference::RankConfidenceSets bootstrap_rank_sets, analytic_rank_sets;

  // Permutation only.
  double permutation_p_variance = 0, permutation_p_increase = 0;
  double observed_variance = 0, observed_increase = 0;
  std::vector<double> null_variance, null_increase;  // the finite draws

  std::vector<std::string> notes;
};

// analytic_effect_cov_gg: the analytic covariance of the centred effects
// (empty = none). Throws cwfx::Error if the draw set lacks a dataset.
ReplicationSummary SummariseDraws(const store::DrawSet& draws, const Eigen::MatrixXd& analytic_effect_cov_gg,
                                  const SummaryOptions& options, const parallel::Context& ctx);

}  // namespace cwfx::replicate
