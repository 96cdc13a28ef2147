// A sparse Cholesky factor of the absorber's Schur complement (the weighted
// graph Laplacian of the state factor, absorb::SchurComplement), used as the
// exact preconditioner of the absorber's conjugate gradient: with it every
// column converges in one or two iterations.
//
// Two steps, so that the caller can decide in between (solve/backend.h):
//   Analyse    CHOLMOD's symbolic analysis (fill-reducing ordering, predicted
//              nonzeros and flops of the factor) - no numeric work, cheap.
//   Factorise  the numeric factorisation (supernodal, through BLAS: build with
//              OpenBLAS; its threads are set to the engine's for this call
//              and to one afterwards, so that solves inside oneTBB tasks do
//              not oversubscribe the cores).
//
// Grounding: S is singular once per connected component of its graph. One
// reference level per component (the largest diagonal; ties: the smallest
// level) is fixed at 0, its row and column are dropped, and the rest is
// positive definite. Apply(r) returns z = S^- r for this reflexive
// generalised inverse (z = 0 at the references), which is exact for every
// consistent r (r summing to zero over each component).
#pragma once

#include <Eigen/Dense>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absorb/absorber.h"

namespace cwfx::solve {

struct SchurFactorAnalysis {
  int64_t levels = 0;           // rows of S
  int32_t components = 0;       // connected components of S's graph (references)
  int64_t matrix_nnz = 0;       // nonzeros of S's lower triangle
  double predicted_nnz = 0;     // nonzeros of the Cholesky factor (CHOLMOD's analysis)
  double predicted_flops = 0;   // flops of the numeric factorisation
  bool supernodal = false;
  double analyse_seconds = 0;
  double factorise_seconds = 0;  // 0 until Factorise
};

class SchurFactor : public absorb::SchurPreconditioner {
 public:
  // Symbolic analysis of `schur` (lower triangle, as from
  // Absorber::BuildSchurComplement). Throws cwfx::Error on CHOLMOD failure.
  explicit SchurFactor(const absorb::SchurComplement& schur);
  ~SchurFactor() override;
  SchurFactor(const SchurFactor&) = delete;
  SchurFactor& operator=(const SchurFactor&) = delete;

  const SchurFactorAnalysis& analysis() const;
  // Numeric factorisation with `threads` BLAS threads. Returns false (and
  // says why in message()) when the grounded matrix is not numerically
  // positive definite; throws cwfx::Error on other CHOLMOD failures.
  bool Factorise(int threads);
  bool factorised() const;
  const std::string& message() const;

  // z = S^- r for `width` interleaved columns (absorb::SchurPreconditioner).
  void Apply(const double* r_sw, double* z_sw, int width) const override;
  // The same for a column-major block (levels x r).
  Eigen::MatrixXd Solve(const Eigen::MatrixXd& rhs) const;
  // The diagonal of S^- (0 at the references), exactly, by selected inversion
  // (Takahashi's recurrences on a simplicial LDL' copy of the factor): cost
  // about sum_j |column j of L|^2, no dense solves.
  Eigen::VectorXd DiagonalOfInverse() const;
  // Component of each level, and each component's reference level.
  const std::vector<int32_t>& component_of_level() const;
  const std::vector<int64_t>& reference_levels() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Sets the BLAS library's thread count if it has one to set (OpenBLAS);
// returns the previous count, or 0 when the BLAS has no such control.
int SetBlasThreads(int threads);

}  // namespace cwfx::solve
