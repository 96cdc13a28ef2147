// Direct (sparse Cholesky) solution of the fixed-effect normal equations for
// one or two factors: recovery of the effects from their sum, exact
// two-factor absorption, and the reduced graph Laplacian for standard errors.
//
// CONVENTION: suffix _n observations, _g levels of one factor, _q factors,
// _r right-hand sides / replications.
//
// Maths. Stack the effects theta = (alpha_A, alpha_B) of factors A and B, D
// the n x (G_A + G_B) dummy matrix, W = diag(w). The normal equations of
// min ||W^1/2 (v - D theta)|| are N theta = s with N = D'WD, s = D'Wv:
//   diag(d_A) alpha_A + C' alpha_B = s_A,      C alpha_A + diag(d_B) alpha_B = s_B,
// d_q the per-level weight sums and C (G_B x G_A) the weighted cell counts.
// Eliminating the side with MORE levels (the "eliminated" side e) leaves the
// reduced system on the side with fewer levels (the "reduced" side r):
//   L alpha_r = s_r - C_er' diag(1/d_e) s_e,   L = diag(d_r) - C_er' diag(1/d_e) C_er,
// a weighted graph Laplacian, singular once per connected component of the
// bipartite level graph. One reference level of the reduced side per component
// (the one with the largest weight sum) is grounded (alpha = 0, its row and
// column dropped); the grounded matrix is positive definite and factorised
// once by CHOLMOD (supernodal or simplicial, AMD/METIS ordering by CHOLMOD's
// defaults). Then alpha_e = diag(1/d_e) (s_e - C_er alpha_r).
// This is exactly N^- s for the reflexive generalised inverse N^- obtained by
// deleting the reference rows/columns of N, inverting, and padding zeros, for
// ANY s (consistent or not). Effects returned here are in this "grounded"
// normalisation; renormalise them (identify.h's NormaliseEffects) downstream.
//
// With one factor N = diag(d) and alpha = s / d (no grounding: fully
// identified).
//
// Thread safety: after construction every const method may be called
// concurrently (each solve uses its own CHOLMOD workspace).
#pragma once

#include <Eigen/Dense>
#include <Eigen/SparseCore>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace cwfx::solve {

// One factor's dense codes (values in [0, num_levels)); viewed, not owned.
struct FactorCodes {
  std::span<const int32_t> codes_n;
  int32_t num_levels = 0;
};

struct SolverSummary {
  // False when CHOLMOD found the grounded Laplacian not positive definite
  // (numerically); every solve then throws. Callers fall back to sweeps.
  bool ok = true;
  std::string message;
  int num_factors = 0;
  int reduced_factor = 0;          // index of the factor carrying the Laplacian
  int32_t num_components = 0;      // connected components of the level graph
  int64_t reduced_size = 0;        // rows of the grounded Laplacian
  int64_t laplacian_nnz = 0;       // nonzeros of the grounded lower triangle
  int64_t factor_nnz = 0;          // nonzeros of the Cholesky factor
  double setup_seconds = 0.0;      // build of C and L
  double factorise_seconds = 0.0;  // CHOLMOD analyse + factorise
  std::string BriefReport() const;
};

class FixedEffectSolver {
 public:
  // factors: 1 or 2, same length n; weights_n empty = unweighted, otherwise n
  // positive weights. Every level must carry positive weight. Codes and
  // weights are copied. Throws cwfx::Error on bad input or CHOLMOD failure
  // other than "not positive definite" (reported in summary()).
  FixedEffectSolver(std::span<const FactorCodes> factors, std::span<const double> weights_n);
  ~FixedEffectSolver();
  FixedEffectSolver(FixedEffectSolver&&) noexcept;
  FixedEffectSolver& operator=(FixedEffectSolver&&) noexcept;

  const SolverSummary& summary() const;
  bool ok() const { return summary().ok; }
  int num_factors() const;
  int64_t num_obs() const;
  int32_t num_levels(int q) const;

  // Connected component of each level of factor q (components of the
  // bipartite level graph, numbered 0.. in order of the smallest reduced-side
  // level they contain; with one factor every level is its own component).
  const std::vector<int32_t>& component_g(int q) const;
  // Grounded reference level (of the reduced factor) of each component.
  const std::vector<int32_t>& reference_levels() const;

  // Effects of each factor from fe_n = the fixed-effect part of a column
  // (outcome - X beta - residual): solves N theta = D'W fe_n, grounded
  // normalisation. For fe_n in the span of the dummies, sum_q effect_q[code]
  // reproduces fe_n exactly (to rounding).
  std::vector<Eigen::VectorXd> Recover(std::span<const double> fe_n) const;
  // Same for r columns at once (n x r); result[q] is num_levels(q) x r.
  std::vector<Eigen::MatrixXd> RecoverMany(Eigen::Ref<const Eigen::MatrixXd> fe_nr) const;
  // Same, from the per-level weighted sums s_q = D_q' W v (num_levels(q) x r
  // each): theta = N^- s. Used for standard errors (unit vectors as s).
  std::vector<Eigen::MatrixXd> SolveLevelSums(const std::vector<Eigen::MatrixXd>& sums_q) const;

  // Exact absorption: replaces each column by its weighted residual from the
  // projection onto all factors' dummies (column - fitted fixed effects).
  void Absorb(Eigen::Ref<Eigen::MatrixXd> columns_nr) const;

  // The reduced (reduced-factor) system: returns x with L x = rhs on the
  // non-reference levels and x = 0 at the reference levels (rhs entries at the
  // reference levels are ignored). rhs is num_levels(reduced_factor()) x r.
  // With one factor, L = diag(d).
  Eigen::MatrixXd SolveReduced(Eigen::MatrixXd rhs) const;
  // The full (not grounded) reduced Laplacian L, symmetric.
  const Eigen::SparseMatrix<double>& ReducedLaplacian() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cwfx::solve
