// Linear regression with absorbed fixed effects: coefficients, variance
// (iid / HC1 / one-way cluster, fixest's small-sample conventions), R2
// measures, recovered and normalised fixed effects with analytic standard
// errors, and diagnostics.
//
// CONVENTION: suffix _n observations, _g levels of one factor, _k covariates,
// _q factors.
//
// ---------------------------------------------------------------- the model
// y = X beta + sum_q D_q alpha_q + e, weighted least squares with weights w
// (w = 1 when the design has none). With no absorbed factor an intercept is
// absorbed instead (a one-level pseudo factor). Every column [y X] is
// partialled out of all factors in ONE Absorber::Absorb call (or, with
// AbsorbMethod::kDirect and <= 2 factors, exactly by the CHOLMOD solver);
// beta solves the normal equations of the absorbed data. n = number of
// observations (not the sum of weights).
//
// ------------------------------------------------------------ collinearity
// Covariates are taken in the given order; covariate j is dropped when the
// weighted residual sum of squares of its absorbed column x~_j on the absorbed
// columns kept before it is <= collinearity_tolerance * sum_i w_i (x_ij -
// xbar_j)^2 (its raw weighted centred sum of squares; a constant covariate is
// always dropped). Dropped names are listed in FitResult::dropped_collinear
// and in a warning; if covariates were given and all are dropped, Fit throws.
//
// ------------------------------------------- degrees of freedom and vcov
// Following fixest's ssc(adj = TRUE, fixef.K = "nested", cluster.adj = TRUE)
// with the EXACT count of absorbed parameters (fixest's
// fixef.force_exact = TRUE; identical to fixest's default whenever the factor
// graph is connected):
//   k   = number of kept covariates
//   A   = absorbed degrees of freedom from absorb::AbsorbedDof
//         (1 factor: L_0; 2 factors: L_0 + L_1 - C; 3+: an upper bound, flagged)
//         (no factor: 1, the intercept)
//   K   = k + A
//   H   = (X~' W X~)^-1 (X~ the absorbed, kept covariates), e the residuals
//   iid:     V = s2 H,                       s2 = sum_i w_i e_i^2 / (n - K)
//   HC1:     V = n/(n - K) * H M H,          M = sum_i w_i^2 e_i^2 x~_i x~_i'
//   cluster: V = G/(G-1) * (n-1)/(n-K_c) * H M_c H,
//            M_c = sum_g s_g s_g',  s_g = sum_{i in g} w_i e_i x~_i, G clusters,
//            K_c = max(k + 1, K - sum_{q nested in the cluster} (L_q - 1))
//            (fixef.K = "nested": a factor is nested when every level lies in
//            one cluster; e.g. caseworker FE with caseworker clusters: one
//            factor -> K_c = k + 1; caseworker + citizen, connected -> k + L_1).
// t = beta / se; p-values two-sided from Student t with n - K degrees of
// freedom (iid, HC1) or G - 1 (cluster; fixest's t.df = "min").
//
// -------------------------------------------------------------------- R2
// TSS = sum w (y - ybar_w)^2, RSS = sum w e^2, TSS_within = sum w y~^2:
// r2 = 1 - RSS/TSS; adj_r2 = 1 - (RSS/(n-K)) / (TSS/(n-1));
// within_r2 = 1 - RSS/TSS_within; r2_without = 1 - RSS_f/TSS where RSS_f is
// the residual sum of squares of the refit on the SAME observations without
// factor f (remaining factors absorbed; if none remain, an intercept), with
// its own collinearity check.
//
// --------------------------------------------------------- fixed effects
// fe_n = y - X beta - e (the fixed-effect part of every observation).
// Effects of each factor are recovered (a) by the CHOLMOD FixedEffectSolver
// (1 or 2 factors) or (b) by sweeps (Absorber::RecoverEffects, any number of
// factors), then normalised by absorb::NormaliseEffects with
// Normalisation::kFirstFactorMeanZero: within each connected component the
// first factor's (caseworker's) effects average zero over the component's
// OBSERVATIONS (unweighted by regression weights), the shift goes into factor
// 1 (the citizen), factors q >= 2 average zero over all observations (shift
// into factor 1). With one factor the effects are left as recovered: they
// contain the intercept (psi_j = weighted mean of y - X beta over level j).
//
// Standard errors of the FIRST factor's effects (conditional on the design,
// homoskedastic: s2 and V_beta = s2 H as in the iid vcov, whatever vcov was
// chosen for beta). Let N = D'WD (all factors' dummies), N^- its grounded
// reflexive generalised inverse (one reference level per component deleted,
// see solve/fixed_effect_solver.h), Gm = [N^- D'W X]_0 the first factor's block
// of the effects recovered from each covariate column (one factor: Gm's row j
// is the weighted mean of X in level j). Then the grounded effects have
//   Sigma = s2 [N^-]_00 + Gm V_beta Gm',
// (the cross term vanishes because D'W X~ = 0) and the normalised ones
//   Var(psi_j) = Sigma_jj - 2 (Sigma u_c)_j + u_c' Sigma u_c,
// u_c = (n_g / n_c) over the factor-0 levels g of j's component c (n_g
// observations of level g, n_c of the component): the variance of
// psi_j - u_c' psi, i.e. of the effect under the mean-zero normalisation.
// With one factor u = 0 and Var(psi_j) = s2 / w_j + xbar_j' V_beta xbar_j,
// w_j = sum of weights in level j. The quadratic forms of [N^-]_00 are
// computed exactly (one solve per level, or selected inversion of a direct
// factor) or estimated by random projections, as fit/effect_std_errors.h
// sets out; FitResult::fe_std_error_method says which. Not computed (with a
// warning) with 3+ factors.
#pragma once

#include <Eigen/Dense>

#include <cstdint>
#include <string>
#include <vector>

#include "absorb/absorber.h"
#include "absorb/identify.h"
#include "core/distributions.h"
#include "fit/design.h"
#include "parallel/parallel.h"
#include "solve/backend.h"

namespace cwfx::fit {

enum class VcovType { kIid, kHC1, kCluster };
enum class FeRecovery {
  // Default. From the absorption itself: its converged state holds every
  // column's effect coefficients, and by linearity the effects of
  // y - X beta are y's minus beta times each covariate's. No extra solve.
  kAbsorption,
  kCholmod,  // the FixedEffectSolver (1-2 factors); falls back to sweeps, with a warning, otherwise
  kSweeps,   // Absorber::RecoverEffects
};
enum class AbsorbMethod {
  kAuto,       // Default: solve::PrepareBackend decides (one factor / direct / iterative, see backend.h)
  kIterative,  // conjugate gradient with the Jacobi preconditioner, any number of factors
  kDirect,     // the CHOLMOD factor of the Schur complement as preconditioner (exactly 2 factors; otherwise iterative, said)
};

const char* VcovName(VcovType v);  // "iid", "HC1", "cluster"

struct FitOptions {
  VcovType vcov = VcovType::kIid;         // kCluster needs Design::cluster_n
  absorb::AbsorbOptions absorb;           // tolerance and iterations of the sweeps
  AbsorbMethod absorb_method = AbsorbMethod::kAuto;
  solve::BackendOptions backend;          // the cost model of kAuto (request is set from absorb_method)
  FeRecovery recovery = FeRecovery::kAbsorption;
  // Also run the other recovery and report the largest difference of the
  // normalised effects (FitResult::recovery_max_abs_diff) - a cross-check.
  bool compare_recoveries = false;
  double collinearity_tolerance = 1e-10;  // relative, see the banner
  // Name of an absorbed factor: also report R2 without it ("" = skip).
  std::string r2_without_factor;
  bool recover_fixed_effects = true;
  bool fixed_effect_std_errors = true;    // for the first factor
  // Two factors, more first-factor levels than this and no factor on them:
  // the diagonal of the inverse is estimated from this many random projections (each SE then has a relative
  // standard deviation of about 1 / sqrt(2 p); stated in the output).
  int fe_std_error_projections = 200;
  uint64_t fe_std_error_seed = 20240101;
  // Two factors: exact standard errors by selected inversion of the direct
  // factor up to this many first-factor levels (projections above); its cost
  // is bounded by the factor's predicted flops (EffectStdErrorOptions), so
  // the level count only guards the O(levels) vectors.
  int32_t max_levels_for_std_errors = 1000000;
  // Two factors: the CHOLMOD factor of the reduced Laplacian is built only when
  // its side (the factor with fewer levels) has at most this many levels; its
  // fill grows with the graph's mixing and can exceed memory beyond that (a
  // 10^7-row register with 1.4 million caseworkers needed > 20 GiB). Above it,
  // effects are recovered by sweeps (noted in the warnings). At 82,000
  // caseworkers of a 10^6-row register, factorising took 12 s against 2.3 s
  // for the whole iterative absorption.
  int32_t max_direct_levels = 20000;
  absorb::Normalisation normalisation = absorb::Normalisation::kFirstFactorMeanZero;
  bool keep_residuals = true;             // fill FitResult::residual_n

  // Throws cwfx::Error on an invalid combination (e.g. tolerance <= 0).
  void Validate() const;
};

struct FixedEffectEstimates {
  std::string name;
  std::vector<std::string> labels;   // original ids
  Eigen::VectorXd effect_g;          // normalised, from the chosen recovery
  Eigen::VectorXd std_error_g;       // first factor only (empty otherwise / if skipped)
  std::vector<int64_t> n_obs_g;      // observations per level
  std::vector<int32_t> component_g;  // component id per level (-1: spans several, q >= 2)
};

struct FitResult {
  // Coefficients of the KEPT covariates.
  std::string outcome_name;
  std::vector<std::string> covariate_names;
  std::vector<std::string> dropped_collinear;
  Eigen::VectorXd coef_k, std_error_k, t_k, p_k;
  Eigen::MatrixXd vcov_kk;
  VcovType vcov_type = VcovType::kIid;
  std::string cluster_name;
  int32_t num_clusters = 0;
  double t_dof = 0;  // degrees of freedom of the t distribution used for p_k

  // Sample and degrees of freedom.
  int64_t n = 0;
  int64_t absorbed_dof = 0;       // A
  bool absorbed_dof_exact = true;
  std::string absorbed_dof_rule;
  int64_t dof_k = 0;              // K = k + A
  int64_t dof_cluster_k = 0;      // K_c (cluster vcov only)
  int64_t residual_dof = 0;       // n - K
  double sigma2 = 0;              // RSS / (n - K)
  double sum_weights = 0;

  // Fit measures.
  double rss = 0, tss = 0, tss_within = 0;
  double r2 = 0, adj_r2 = 0, within_r2 = 0;
  std::string r2_without_factor;  // "" if not requested
  double r2_without = 0;

  // Fixed effects, one entry per factor of the design (empty with no factor).
  std::vector<FixedEffectEstimates> fixed_effects;
  std::string fe_recovery;        // "absorption", "cholmod" or "sweeps" (what was used)
  std::string fe_std_error_method;  // "exact", "projections (p = ..)" or "" (not computed)
  std::string backend;             // "one-factor", "direct" or "iterative"
  std::string backend_reason;      // why (solve::Backend::reason)
  std::string fe_normalisation;   // the rule in words
  double recovery_max_abs_diff = -1;  // compare_recoveries: max |cholmod - sweeps|, else -1
  absorb::ColumnConvergence sweep_recovery;  // when sweeps were run

  // Diagnostics.
  std::vector<std::string> factor_names;
  std::vector<int32_t> factor_levels_q;
  int32_t num_components = 0;
  DesignReport design_report;
  absorb::AbsorbSummary absorb_summary;  // columns: outcome, then every covariate given
  std::string absorb_method;            // "iterative" or "direct"
  std::string solver_report;            // SolverSummary::BriefReport() when the solver was built
  double seconds_backend = 0, seconds_absorb = 0, seconds_recover = 0, seconds_std_errors = 0, seconds_total = 0;
  std::vector<std::string> warnings;

  Eigen::VectorXd residual_n;           // e (weighted LS residuals), if kept
};

// Throws cwfx::Error for: all covariates collinear, no residual degrees of
// freedom (n <= K), cluster vcov without a cluster variable or with one
// cluster, an unknown r2_without_factor name.
FitResult Fit(const Design& design, const FitOptions& options, const parallel::Context& ctx);

// The same fit, consuming the design's data: its outcome and covariates are
// absorbed in place instead of copied (n x (k+1) doubles less at the peak),
// so design.y_n and design.X_nk are left empty; its other members (factors,
// labels, names, input rows) stay for writing the results. Identical results
// to the copying fit, bit for bit. (The refit without a factor and effects
// recovered by CHOLMOD or sweeps need the raw data: they copy as above.)
FitResult Fit(Design&& design, const FitOptions& options, const parallel::Context& ctx);

// A readable summary in the spirit of fixest's etable / reghdfe: coefficient,
// std. error, t, p, stars; N, fixed effects with level counts, vcov type, R2,
// within R2, R2 without a factor, diagnostics and warnings.
std::string FormatRegressionTable(const FitResult& result);

// Two-sided p-value of a t statistic with dof degrees of freedom (the one
// implementation lives in core/distributions.h).
using cwfx::StudentTwoSidedP;

}  // namespace cwfx::fit
