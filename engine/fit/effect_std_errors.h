// Standard errors of the first factor's normalised effects (the formulas are
// in fit.h's banner): Var(psi_j) = s2 b_j' N^- b_j + c_j' V_beta c_j, with
// b_j = e_j - u_c the contrast of the normalisation on the first factor's
// levels and c_j its covariate part. b_j is in the range of N (it sums to 0
// within its component), so b_j' N^- b_j is the same for every generalised
// inverse and is found by one of three routes, chosen in this order:
//
//   solves       g0 <= projections: one Schur solve per level with right-hand
//                side b_j (through the prepared backend: 1-2 iterations with a
//                direct factor). Exact, and cheaper than the projections.
//   selected     a direct factor on the first factor's levels: the diagonal of
//   inversion    the grounded inverse by Takahashi's recurrences. Exact.
//   projections  otherwise: b_j' N^- b_j ~= sum_k (b_j' Y_k)^2 with
//                Y = N^- D'W^1/2 R', R a p x n Rademacher matrix scaled by
//                1/sqrt(p) (Johnson-Lindenstrauss); unbiased, each SE with a
//                relative sd of about 1/sqrt(2p), stated in the output.
//
// When the first factor is the one the absorber eliminates (it has more
// levels), N^-'s first block is D_e^-1 + D_e^-1 C S^+ C' D_e^-1 (C the
// cross-tabulation of the two factors, S the Schur complement on the other
// factor), so each route works with the right-hand side C' D_e^-1 b_j on the
// state factor and adds b_j' D_e^-1 b_j.
#pragma once

#include <Eigen/Dense>

#include <cstdint>
#include <string>
#include <vector>

#include "absorb/absorber.h"
#include "absorb/identify.h"
#include "fit/design.h"
#include "parallel/parallel.h"
#include "solve/backend.h"

namespace cwfx::fit {

struct EffectStdErrorOptions {
  absorb::Normalisation normalisation = absorb::Normalisation::kFirstFactorMeanZero;
  int projections = 200;
  uint64_t seed = 20240101;
  // The projections' solves stop at this relative residual: each SE already
  // carries the estimator's relative sd of 1/sqrt(2p) (5% at p = 200), which
  // a solve error of 1e-6 does not move; the full tolerance doubled the cost.
  double projection_tolerance = 1e-6;
  // Selected inversion only up to this many first-factor levels, and only
  // when the factor's predicted flops are at most this (the recurrences run
  // column by column without BLAS, about 1 GFlop/s: a nearly dense factor
  // of 5,000 levels would take a minute, its projections seconds).
  int32_t max_levels_for_selected_inversion = 1000000;
  double max_selected_inversion_flops = 4e9;
};

struct EffectStdErrors {
  Eigen::VectorXd se_g;               // empty when not computed
  std::string method;                 // how (for the output), "" when not computed
  std::vector<std::string> warnings;  // why not, or the projections' accuracy
};

enum class EffectStdErrorRoute { kNone, kOneFactor, kSolves, kSelectedInversion, kProjections };

// The route the rules above take; factor = the direct factor's analysis
// (null: no factor). Before the backend exists, fit asks with a factor of
// unknown cost (predicted_flops 0) to price the work in the backend choice.
EffectStdErrorRoute ChooseEffectStdErrorRoute(const Design& design, const absorb::Absorber& absorber,
                                              const solve::SchurFactorAnalysis* factor,
                                              const EffectStdErrorOptions& options);

// sigma2 and v_beta (kk x kk) are the iid residual variance and the
// covariates' vcov; gm_gk the first factor's block of the effects of each kept
// covariate column (levels x kk); n_obs_g the first factor's observations per
// level; comps the design's connected components.
EffectStdErrors FirstFactorStdErrors(const Design& design, const absorb::Components& comps,
                                     const std::vector<int64_t>& n_obs_g, double sigma2,
                                     const Eigen::MatrixXd& v_beta, const Eigen::MatrixXd& gm_gk,
                                     const absorb::Absorber& absorber, const solve::Backend& backend,
                                     const EffectStdErrorOptions& options, const parallel::Context& ctx);

}  // namespace cwfx::fit
