// Empirical Bayes shrinkage of caseworker effects (../shared/METHODS.md
// sections 2, 3 and 4): a prior G for the true effects theta_j is estimated
// from the estimates themselves, and every estimate is replaced by its
// posterior mean given G.
//
// Model: theta_j ~ G independently; theta^_j | theta_j ~ N(theta_j, s_j^2)
// with s_j the (known) standard error of estimate j, independent across j.
//
// Priors:
//  - Normal (Morris 1983; Kane and Staiger; Walters 2024): G = N(mu, s2).
//    Start from the moment estimate mu = mean theta^, s2 = max(0,
//    J^-1 sum (theta^_j - mu)^2 - J^-1 sum s_j^2), then iterate
//      w_j = 1 / (s2 + s_j^2),  mu = sum w theta^ / sum w,
//      s2 = max(0, sum w [(theta^_j - mu)^2 - s_j^2] / sum w)
//    until |s2_new - s2| <= em_tolerance * (s2_new + mean s_j^2), or
//    max_em_iterations; mu is then recomputed from the final s2, so the
//    returned (mu, s2) satisfy the mu equation exactly. With equal s_j the
//    moment estimate is the fixed point: one iteration confirms it.
//    Posterior: lambda_j = s2 / (s2 + s_j^2), mean mu + lambda_j (theta^_j -
//    mu), variance lambda_j s_j^2 (s2 = 0: every posterior is the point mu).
//  - Nonparametric (Kiefer-Wolfowitz NPMLE, as REBayes GLmix, solved by EM
//    instead of an interior-point method): G = sum_k g_k delta_{v_k} on an
//    equally spaced grid v_1..v_m from min theta^ to max theta^ (no padding is
//    needed: moving mass from outside that range onto its nearest end raises
//    every likelihood term, so the NPMLE puts none outside). With
//    phi_jk = phi((theta^_j - v_k) / s_j) / s_j, EM from uniform weights:
//      g_k <- J^-1 sum_j g_k phi_jk / sum_l g_l phi_jl,
//    which never lowers the marginal log-likelihood
//      l(g) = sum_j log sum_k g_k phi_jk.
//    Plain EM is slow near the optimum (thousands of steps at J = 2000), so
//    by default each iteration is a SQUAREM step (Varadhan and Roland 2008,
//    Scand. J. Statist.; scheme SqS3): from g, g1 = M(g), g2 = M(g1),
//    r = g1 - g, v = g2 - g1 - r, alpha = -|r| / |v|,
//    g' = g - 2 alpha r + alpha^2 v (alpha halved toward -1, where g' = g2,
//    until g' >= 0), then the next iterate is M(g') if l(g') >= l(g1), else
//    g2. Both choices never lower l, so the iterates' log-likelihoods
//    (log_likelihood_trace) never decrease, as with plain EM.
//    Stop when the gain l(g_t) - l(g_{t-1}) over one iteration is
//    <= em_tolerance * max(1, |l(g_t)|), or after max_em_iterations
//    iterations (converged = false). Each phi_jk is scaled by its row
//    maximum; a row whose scaled mixture density underflows is redone in log
//    space (log-sum-exp). Posterior: p_jk = g_k phi_jk / sum_l g_l phi_jl,
//    with its mean and standard deviation. Memory: one G x m matrix.
//
// Posterior draws (METHODS.md section 2): draw b draws every theta_j from its
// posterior, independently across j (normal prior: N(mean_j, sd_j^2);
// NPMLE: v_k with probability p_jk), from the Philox stream (seed, a fixed
// shrinkage domain, b) alone, and ranks the G values within the draw (rank 1 =
// largest). Tied values (a degenerate normal posterior, or two units drawing
// the same grid point) share their places at random: each member of a tie
// group occupying places a..b gets the mid-rank (a + b) / 2 and the share
// #{places <= tau in a..b} / (b - a + 1) of a top place, which is the
// expectation over a uniformly random order of the group. Hence in every draw
// the top shares sum to tau and the ranks to G (G + 1) / 2.
//   prob_top_g[j]      = mean over draws of j's top share (P(rank_j <= tau | data));
//   expected_rank_g[j] = mean over draws of j's rank (the posterior expected
//                        rank, Laird-Louis / Shen-Louis triple-goal ranks).
// These are posterior probabilities given G-hat, not bootstrap frequencies.
//
// Selection (Dawid 1994; METHODS.md section 3 and 4): if G is right, for any
// set S chosen from the data, E[mean_S theta | data] = mean_S posterior mean,
// so posterior means selected on the estimates carry no winner's curse on
// average. PosteriorSelectedMeanGain is the EB policy gain built on this.
//
// Determinism: EM sums over fixed blocks of caseworkers folded in order,
// posterior moments are per caseworker, and the draw summaries sum fixed
// blocks of draws in order, so results are bit-identical for any number of
// threads.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "parallel/parallel.h"

namespace cwfx::inference {

enum class PriorKind { kNormal, kNonparametric };

struct ShrinkageOptions {
  PriorKind prior = PriorKind::kNormal;
  int grid_points = 300;          // NPMLE: support grid size m (>= 2); one point if all estimates are equal
  int max_em_iterations = 5000;   // cap on prior-estimation iterations (NPMLE: EM or SQUAREM steps; normal: fixed point)
  bool accelerate = true;         // NPMLE: SQUAREM steps (three EM maps each, monotone); false = plain EM
  double em_tolerance = 1e-8;     // stopping rule of the prior estimation (see the banner), >= 0
  int posterior_draws = 2000;     // draws for prob_top_g and expected_rank_g; 0 = skip them
  uint64_t seed = 1;              // Philox key of the posterior draws (draw b reads stream (seed, domain, b))
  int32_t top_size = 0;           // tau; 0 = floor(G / 4) (the study's top quartile, 28 of 115)
  void Validate() const;          // throws cwfx::Error
};

// CONVENTION: suffix _g length G (caseworkers), _m length m (NPMLE grid).
struct ShrinkageResult {
  PriorKind prior = PriorKind::kNormal;
  double prior_mean = 0;          // normal: mu; NPMLE: mean of G-hat
  double prior_variance = 0;      // normal: s2 (truncated at 0); NPMLE: variance of G-hat
  double log_likelihood = 0;      // marginal log-likelihood of the estimates under G-hat
  std::vector<double> grid_m, grid_weight_m;      // NPMLE only: support points and weights of G-hat
  std::vector<double> log_likelihood_trace;       // NPMLE only: l(g_0), l(g_1), ... (EM never lowers it)
  std::vector<double> posterior_mean_g, posterior_sd_g;
  // Normal: lambda_j. NPMLE: (posterior mean - prior_mean) / (estimate -
  // prior_mean), NaN where the estimate equals prior_mean.
  std::vector<double> shrinkage_g;
  std::vector<double> prob_top_g;                 // P(rank_j <= top_size | data); empty without draws
  std::vector<double> expected_rank_g;            // posterior mean rank (1 = largest); empty without draws
  std::vector<int32_t> rank_by_posterior_mean_g;  // ranks of the posterior means (1 = largest; ties by index)
  int32_t top_size = 0;                           // tau used
  int posterior_draws = 0;
  int em_iterations = 0;                          // prior-estimation iterations done (NPMLE: trace size - 1)
  bool converged = true;                          // false: stopped at max_em_iterations (an outcome, not an error)
};

// estimate_g: G >= 1 finite estimates; std_error_g: their standard errors
// (finite, > 0). Throws cwfx::Error on size mismatch, bad values, invalid
// options or top_size > G. Bit-identical for any ctx.threads().
ShrinkageResult Shrink(std::span<const double> estimate_g, std::span<const double> std_error_g,
                       const ShrinkageOptions& options, const parallel::Context& ctx);

// The EB policy gain (METHODS.md section 4, "EB correction"): the mean
// posterior effect over the selected set minus the weight_g-weighted mean of
// the posterior means,
//   |S|^-1 sum_{j in S} theta*_j - sum_j w_j theta*_j / sum_j w_j,
// the posterior expectation of the true gain of S (Dawid: S may be chosen on
// the estimates). selected_g: 1 = in S (non-empty); weight_g: >= 0 with a
// positive sum (e.g. response shares). Throws cwfx::Error on bad input.
double PosteriorSelectedMeanGain(const ShrinkageResult& result, std::span<const uint8_t> selected_g,
                                 std::span<const double> weight_g);

}  // namespace cwfx::inference
