// Confidence sets for ranks (Mogstad, Romano, Shaikh and Wilhelm, "Inference
// for ranks with applications to mobility across neighbourhoods and academic
// achievement across countries", REStud 2024; the csranks R package 1.2.3),
// from estimates theta_g and their covariance Sigma_gg (analytic or bootstrap).
//
// Rank convention: r_j = 1 + #{k != j: theta_k > theta_j} (best = rank 1).
// Bootstrap percentiles of ranks are NOT valid rank intervals (ranks are not
// smooth in theta); these sets are, because they come from a max-t
// statistic on pairwise differences (smooth functionals).
//
// Method (../shared/METHODS.md section 2):
//  1. sigma_ab = sqrt(S_aa + S_bb - 2 S_ab).
//  2. Index set I of ordered pairs: marginal set for j: {(j,k), (k,j): k != j};
//     simultaneous: all ordered pairs (a, b), a != b.
//  3. c(I) = (1 - alpha) quantile of max_{(a,b) in I} (Z_a - Z_b) / sigma_ab,
//     Z ~ N(0, Sigma), `draws` parametric draws (the same draws for every set).
//     Quantile rule: R's type 7 (linear interpolation between the order
//     statistics at h = (draws - 1)(1 - alpha)), as csranks' quantile() call;
//     c is floored at 0 so a pair and its reverse can never both be rejected.
//     Because I holds both orientations of every pair, the one-sided max is
//     the two-sided max |t| at the first step; the stepdown then drops each
//     orientation on its own (csranks' switch to "lower" bounds).
//     Pairs with sigma_ab == 0 (relative to S_aa + S_bb) stay out of the max
//     and are rejected exactly when theta_a > theta_b.
//  4. L_ab = theta_a - theta_b - sigma_ab c(I); (a, b) rejected when L_ab > 0
//     (theta_a > theta_b established).
//  5. Stepdown: drop rejected pairs from I, recompute c, repeat until no new
//     rejection.
//  6. N-_j = #{k: L_kj > 0}, N+_j = #{k: L_jk > 0}; the set is
//     [1 + N-_j, G - N+_j].
// The caseworkers who could be among the top tau (csranks' cstaubest): those
// whose simultaneous lower rank bound is <= tau. The bound is the two-sided
// simultaneous one above (cstaubest runs a one-sided set, which is a little
// tighter; this set is valid and never smaller).
#pragma once

#include <Eigen/Dense>

#include <cstdint>
#include <vector>

#include "parallel/parallel.h"

namespace cwfx::inference {

struct RankInferenceOptions {
  double alpha = 0.05;
  int draws = 1000;            // parametric draws of Z for the critical values
  uint64_t seed = 1;           // the draws' Philox stream (core/random_stream.h)
  bool stepdown = true;
  int32_t top_size = 0;        // tau for the top set; 0 = ceil(G / 4)
  // Above this many units the G x G work is refused (cwfx::Error): a marginal
  // set alone needs draws x 2G x G operations.
  int32_t max_units = 5000;
  void Validate() const;       // throws cwfx::Error
};

struct RankConfidenceSets {
  std::vector<int32_t> rank_g;                 // estimated ranks (1 = largest theta; ties by index)
  std::vector<int32_t> marginal_lower_g, marginal_upper_g;
  std::vector<int32_t> simultaneous_lower_g, simultaneous_upper_g;
  std::vector<uint8_t> could_be_top_g;         // 1: simultaneous lower bound <= top_size
  int32_t top_size = 0;
  double simultaneous_critical_value = 0;      // c(I) of the first simultaneous step
  double alpha = 0.05;
  int draws = 0;
};

// theta_g: G estimates (finite); sigma_gg: their G x G covariance (symmetric,
// positive semi-definite up to rounding: contrasts such as centred effects
// have rank G - 1, which is fine). Pairs with sigma_ab == 0 are compared
// exactly. Deterministic for a given seed, whatever ctx.threads().
// Throws cwfx::Error on bad shapes, non-finite input or G > max_units.
RankConfidenceSets ComputeRankConfidenceSets(const Eigen::VectorXd& theta_g, const Eigen::MatrixXd& sigma_gg,
                                             const RankInferenceOptions& options, const parallel::Context& ctx);

}  // namespace cwfx::inference
