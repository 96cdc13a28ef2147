// The fixed part of a replication run: the study's analysis sample and model
// (built exactly as study::RunStudy builds them), the clusters that are
// resampled (citizens), the permutation spells and strata, and what the wild
// bootstrap reuses (fitted values, scaled residuals, absorbed covariates).
//
// CONVENTION: suffix _n observations, _k kept covariates, _g caseworkers,
// _c citizens, _s spells.
#pragma once

#include <Eigen/Dense>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absorb/factor.h"
#include "parallel/parallel.h"
#include "replicate/replication_options.h"
#include "study/study.h"
#include "table/table.h"

namespace cwfx::solve {
class FixedEffectSolver;
}
namespace cwfx::absorb {
class Absorber;
struct Components;
}

namespace cwfx::replicate {

struct ReplicationProblem {
  study::StudyOptions study;
  ReplicationOptions options;
  std::string source;                         // the register's file (messages)

  Eigen::VectorXd y_n;
  Eigen::MatrixXd X_nk;                       // the covariates the study's fit kept
  std::vector<std::string> covariate_names;
  // factors[0] = caseworker; then citizen (two-way) and extra factors.
  std::vector<absorb::Factor> factors;
  std::vector<std::string> caseworker_ids;    // per caseworker code
  // Tie-break order of caseworkers (the study's rule: smaller id ranks first).
  std::vector<int32_t> id_order_g;
  std::vector<int32_t> citizen_n;             // resampling cluster of each observation
  int32_t num_citizens = 0;

  // Permutation: spell of each observation, the caseworker of each spell,
  // spells grouped by stratum (CSR offsets into stratum_spells_s).
  std::vector<int32_t> spell_n;
  std::vector<int32_t> spell_caseworker_s;
  std::vector<int64_t> stratum_offset;
  std::vector<int32_t> stratum_spells_s;

  // Full-sample pieces reused by the wild bootstrap.
  Eigen::VectorXd fitted_n;                   // y - residual
  Eigen::VectorXd scaled_residual_n;          // residual * sqrt(n / (n - k - A))
  Eigen::MatrixXd Xt_nk;                      // absorbed covariates
  Eigen::MatrixXd cluster_scores_kc;          // sum over citizen c of Xt_i * u~_i
  Eigen::LDLT<Eigen::MatrixXd> xtx_ldlt;      // of Xt'Xt
  Eigen::VectorXd beta_k;                     // full-sample coefficients
  Eigen::VectorXd psi_hat_g;                  // full-sample caseworker effects (normalised, uncentred)
  // Two or more factors: the components of the factor graph, the absorber
  // (plan built once) and, when the smaller side is small enough, the direct
  // solver: what the wild bootstrap needs to project one column.
  std::shared_ptr<const absorb::Components> components;
  std::shared_ptr<const absorb::Absorber> absorber;
  std::shared_ptr<const solve::FixedEffectSolver> fe_solver;

  // Fixed weights of the smooth contrast (full-sample top quartile mean minus
  // response-weighted mean): sum_g c_g psi_g.
  Eigen::VectorXd fixed_contrast_g;

  // One factor and at most options.max_rank_units caseworkers: the analytic
  // covariance of the centred effects, s2 diag(1/n_g) + Xbar V_beta Xbar'
  // centred by the response shares (study/effect_covariance.h), with
  // V_beta = s2 (Xt'Xt)^-1. Empty otherwise.
  Eigen::MatrixXd analytic_effect_cov_gg;

  int64_t num_obs() const { return y_n.size(); }
  int32_t num_caseworkers() const { return factors[0].num_levels; }
  bool one_factor() const { return factors.size() == 1; }
};

// Builds the problem from the register and the study already run on it
// (its kept covariates and quartiles). Throws cwfx::Error naming the column
// or file on a problem (e.g. a missing stratum column).
ReplicationProblem BuildProblem(const table::Table& register_table, const study::StudyResult& study,
                                const ReplicationOptions& options, const parallel::Context& ctx);

}  // namespace cwfx::replicate
