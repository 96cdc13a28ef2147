// One replication's re-estimate of everything the study reports that
// replications are about: coefficients, caseworker effects, their ranks and
// quartiles, the variance of the effects and the policy experiment.
//
// Paths (all give the full-sample fit at unit weights; a test checks it
// against fit::Fit to 1e-8):
//  * weighted (pairs, bayes): observations carry weights >= 0; weight 0 drops
//    an observation, and a caseworker without weight is absent (NaN effect,
//    rank and quartile 0). One factor: the exact within transform, one pass.
//    Two or more: the absorber (conjugate gradient) on the rows with weight.
//  * permuted: new caseworker codes for every observation, unit weights.
//  * wild: the design is fixed, so the estimate is the full-sample one plus a
//    linear map of the perturbed residuals: beta* - beta = (Xt'Xt)^-1 S v
//    with the precomputed cluster scores S, and the effects move by the
//    fixed-effect projection of e* - X (beta* - beta) (group means for one
//    factor; one CHOLMOD solve or one iterative column for two).
//
// Every draw is centred like the study's effects: minus the (replication-)
// weighted mean effect. Ranks and quartiles follow study/quartiles.h over the
// caseworkers present.
#pragma once

#include <Eigen/Dense>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "parallel/parallel.h"
#include "replicate/problem.h"

namespace cwfx::replicate {

// Column labels of ReplicationDraw::policy and ::statistics.
const std::vector<std::string>& PolicyColumns();      // actual, counterfactual, increase
const std::vector<std::string>& StatisticColumns();   // variance_of_effects, sd_of_effects, fixed_contrast,
                                                      // caseworkers_present, status
enum class DrawStatus { kOk = 0, kNotConverged = 1, kFailed = 2 };

struct ReplicationDraw {
  Eigen::VectorXd coef_k;
  std::vector<double> effect_g;     // centred; NaN when absent
  std::vector<int32_t> rank_g;      // 1 = largest; 0 when absent
  std::vector<int32_t> quartile_g;  // 1 bottom .. 4 top; 0 when absent
  double policy[3] = {0, 0, 0};     // actual, counterfactual, increase
  double variance_of_effects = 0;   // response-weighted, of the centred effects
  double sd_of_effects = 0;
  double fixed_contrast = 0;        // problem.fixed_contrast_g' psi
  int32_t caseworkers_present = 0;
  DrawStatus status = DrawStatus::kOk;
  std::string message;              // why, when not kOk
};

// An all-NaN draw with the given status (a replication that could not be
// estimated is stored as such, not dropped).
ReplicationDraw FailedDraw(const ReplicationProblem& problem, const std::string& message);

// Reusable per-thread scratch space.
struct EstimatorWorkspace {
  Eigen::MatrixXd xt_nk;
  Eigen::VectorXd yt_n;
  std::vector<double> level_weight_g, level_y_g;
  Eigen::MatrixXd level_x_gk;
  std::vector<double> weights_n;
  std::vector<int32_t> codes_n;
  std::vector<double> cluster_weight_c;
};

class ReplicaEstimator {
 public:
  explicit ReplicaEstimator(const ReplicationProblem& problem) : p_(problem) {}

  const ReplicationProblem& problem() const { return p_; }

  ReplicationDraw EstimateWeighted(std::span<const double> weights_n, EstimatorWorkspace& ws,
                                   const parallel::Context& ctx) const;
  ReplicationDraw EstimatePermuted(std::span<const int32_t> caseworker_n, EstimatorWorkspace& ws,
                                   const parallel::Context& ctx) const;
  // v_c: one multiplier per citizen.
  ReplicationDraw EstimateWild(std::span<const double> v_c, EstimatorWorkspace& ws,
                               const parallel::Context& ctx) const;

  // Everything after the effects: centring, ranks, quartiles, policy,
  // statistics. psi_g NaN = absent; level_weight_g the weight per caseworker.
  ReplicationDraw Summarise(Eigen::VectorXd coef_k, std::span<const double> psi_g,
                            std::span<const double> level_weight_g, double weighted_outcome_mean) const;

  // Coefficients and caseworker effects (normalised as fit::Fit does,
  // uncentred) for given weights (>= 0) and caseworker codes.
  struct CoreFit {
    Eigen::VectorXd coef_k;
    std::vector<double> psi_g;          // NaN = absent
    std::vector<double> level_weight_g;
    double outcome_mean = 0;
    bool converged = true;
  };
  CoreFit FitCore(std::span<const double> weights_n, std::span<const int32_t> caseworker_n, EstimatorWorkspace& ws,
                  const parallel::Context& ctx) const;

 private:
  CoreFit FitOneFactor(std::span<const double> weights_n, std::span<const int32_t> caseworker_n,
                       EstimatorWorkspace& ws) const;
  CoreFit FitAbsorbed(std::span<const double> weights_n, std::span<const int32_t> caseworker_n,
                      const parallel::Context& ctx) const;

  const ReplicationProblem& p_;
};

// Solves A b = r for the symmetric positive semi-definite A, dropping columns
// without variation and falling back to a rank-revealing solve when A is
// singular (a resample can make a covariate collinear); dropped = 0.
Eigen::VectorXd SolveNormalEquations(const Eigen::MatrixXd& a_kk, const Eigen::VectorXd& r_k);

}  // namespace cwfx::replicate
