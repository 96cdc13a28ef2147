// Partialling fixed effects out of many columns at once by accelerated
// alternating projections (the method of alternating projections / Gauss-Seidel
// on the fixed-effect normal equations; Irons-Tuck extrapolation as in
// Berge (2018), fixest).
//
// ALGORITHM (absorber.cc has the details)
// - The iteration runs on the fixed-effect coefficients, never on N-length
//   residual copies: with per-level weighted sums Sx_q[g] = sum_{i in g} w_i x_i
//   computed once per column, one Gauss-Seidel update of factor q is
//     alpha_q[g] = (Sx_q[g] - sum_{i in g} w_i sum_{p != q} alpha_p[code_p(i)]) / W_q[g],
//   which needs only the index structure, not the column. Observations with
//   identical codes are collapsed into weighted cells (per factor, a CSR matrix
//   over its levels), so a sweep costs the number of distinct cells, not N.
// - The state is the coefficients of factors 0..Q-2; one sweep G updates
//   factor Q-1 from them, then factors 0..Q-2 in order. Irons-Tuck extrapolates
//   on the state; conjugate gradient (the default) solves the state's Schur
//   complement system (factor Q-1 eliminated exactly) with the same passes.
// - Q == 1 is exact in one pass (the weighted group mean).
// - Stopping rule for plain and Irons-Tuck sweeps, per column: criterion = max over the state coefficients of
//   |change in one sweep| / scale, scale = the column's weighted standard
//   deviation (max(1, |weighted mean|) for a constant column). A column stops
//   when criterion < tolerance. (Factor Q-1's coefficients are weighted means
//   of the state's, so their change is bounded by the same quantity.) Note this
//   measures the step, not the error: on a poorly mixing graph the error of
//   plain or Irons-Tuck sweeps can be 100-1000x the step (tests measure this);
//   conjugate gradient does not have that weakness to the same degree.
// - Determinism: every level's sum is taken sequentially in a fixed order and
//   every reduction runs over fixed blocks folded in order, so the results are
//   bit-identical for any thread count.
// - Parallelism: over columns (conjugate gradient: over blocks of up to
//   column_block columns that share every pass over the cells), and within a
//   column or block over level ranges of each factor's pass and over
//   observation blocks of the level-sum, scale and residual passes.
// - Memory: the plan holds ~4 N bytes per factor plus 20 bytes per cell and
//   factor (2 factors); each column in flight needs 2 x (total levels) doubles,
//   a conjugate-gradient block another (column_block x total levels) doubles.
//   No N-length copies of a column are made.
#pragma once

#include <Eigen/Dense>
#include <Eigen/SparseCore>

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "absorb/factor.h"
#include "parallel/parallel.h"

namespace cwfx::absorb {

enum class Acceleration {
  kNone,       // plain sweeps (for tests and comparison)
  kIronsTuck,  // Irons-Tuck extrapolation every iteration
  // Default. Preconditioned conjugate gradient on the Schur complement of the
  // state system (factor Q-1 eliminated exactly; its block is diagonal), with
  // the Schur diagonal as Jacobi preconditioner. One iteration costs one
  // sweep; on poorly mixing caseworker-citizen graphs it needs about 10x fewer
  // iterations than Irons-Tuck and lands far closer to the exact solution at
  // the same tolerance. Its criterion: max(|step|_inf, |diag(S)^-1 residual|_inf)
  // / scale. It stops at max(tolerance, 1e-10) at the latest (or after 50
  // iterations without improvement); Irons-Tuck sweeps finish any remaining
  // way to `tolerance` from there (they do not amplify rounding).
  kConjugateGradient,
};

// A preconditioner of the state's Schur complement system (see
// kConjugateGradient): z = M^-1 r for `width` right-hand sides stored
// interleaved, element (l, j) at [l * width + j], l over the state levels.
// Implementations must be deterministic and safe to call concurrently. The
// solve module's CHOLMOD factor of the Schur complement is one (exact: one
// iteration); without one, conjugate gradient uses diag(S) (Jacobi).
class SchurPreconditioner {
 public:
  virtual ~SchurPreconditioner() = default;
  virtual void Apply(const double* r_sw, double* z_sw, int width) const = 0;
};

// The Schur complement of the state system of a two-factor absorber, S =
// A_00 - A_01 W_1^-1 A_10 (a weighted graph Laplacian on the state factor's
// levels, singular once per connected component), as its lower triangle.
struct SchurComplement {
  int state_factor = -1;  // the factor (as given to the Absorber) whose levels S is on
  Eigen::SparseMatrix<double, Eigen::ColMajor, int64_t> lower;
};

struct AbsorbOptions {
  // Scale-free per-column criterion: iteration stops for a column when the
  // largest change of its fixed-effect coefficients in one sweep (conjugate
  // gradient: see kConjugateGradient), relative to the column's weighted
  // standard deviation, falls below this. One factor: exact, no iteration.
  double tolerance = 1e-8;
  // Iterations (sweeps, or conjugate-gradient steps, each one pass over the
  // cells) per column before giving up (non-convergence is reported, not thrown).
  int max_iterations = 10000;
  Acceleration acceleration = Acceleration::kConjugateGradient;
  // Conjugate gradient only: columns solved together, so that every pass over
  // the cell structure serves this many columns (1, 2, 4 or 8; grouping is
  // fixed: columns [0, b), [b, 2b), ...). Results do not depend on it beyond
  // rounding; they never depend on the thread count.
  int column_block = 8;
};

struct ColumnConvergence {
  int iterations = 0;
  double criterion = 0.0;  // the achieved value of the stopping criterion
  bool converged = false;
};

struct AbsorbSummary {
  std::vector<ColumnConvergence> columns;
  bool AllConverged() const;
  // One line per non-converged column, or "all N columns converged in ..".
  std::string BriefReport(const std::vector<std::string>& column_names = {}) const;
};

class Absorber {
 public:
  // Every factor has codes for the same n observations, and every level has at
  // least one observation of positive weight. weights_n empty = unweighted.
  // Throws cwfx::Error on violations. Builds the collapsed cell structure
  // once (O(N log) time, about 4 N bytes per factor plus the cells), shared by
  // copies of the Absorber. Copies and concurrent calls are safe.
  Absorber(std::vector<Factor> factors, std::vector<double> weights_n, AbsorbOptions options = {});
  // The same, building the plan in parallel on ctx (identical result).
  Absorber(std::vector<Factor> factors, std::vector<double> weights_n, AbsorbOptions options,
           const parallel::Context& ctx);

  int64_t num_obs() const;
  int num_factors() const { return static_cast<int>(factors_.size()); }
  const std::vector<double>& weights() const { return weights_n_; }
  const AbsorbOptions& options() const { return options_; }

  // The factor with the most levels is eliminated exactly (whatever the order
  // the factors were given in); the others form the state that the
  // iterations (and a direct factor) work on. With two factors the state is
  // the factor with fewer levels: state_factor() (-1 unless two factors).
  int state_factor() const;
  int64_t num_state() const;
  // Offset of factor q's levels in the effects matrix of Absorb (factors in
  // the order given; level_offset(num_factors()) = all levels).
  int64_t level_offset(int q) const;
  // Collapsed cells summed over factors (the work of one pass).
  int64_t num_cells() const;

  // Two factors only: the Schur complement S explicitly (row-wise products
  // over the eliminated factor's cells; deterministic, parallel on ctx).
  SchurComplement BuildSchurComplement(const parallel::Context& ctx) const;
  // Conjugate gradient uses this preconditioner from now on (null: Jacobi).
  // Set it before sharing the Absorber between threads.
  void set_preconditioner(std::shared_ptr<const SchurPreconditioner> p) { preconditioner_ = std::move(p); }
  bool has_preconditioner() const { return preconditioner_ != nullptr; }

  // Solves S v = b for the columns of b_sr (num_state() x r) by preconditioned
  // conjugate gradient from 0, for b consistent (summing to zero over each
  // connected component; v is then one solution, others differ by a constant
  // per component); it stops when the largest
  // preconditioned residual, relative to the first, is below
  // max(tolerance, 1e-10), `tolerance` being the absorber's unless given
  // (> 0): estimates that are themselves noisy need less.
  // Two factors only. `worst` (optional) gets the worst column's convergence.
  Eigen::MatrixXd SolveSchur(const Eigen::MatrixXd& b_sr, const parallel::Context& ctx,
                             ColumnConvergence* worst = nullptr, double tolerance = 0.0) const;

  // How many iterations the current conjugate gradient (Jacobi unless a
  // preconditioner is set) needs on a pseudo-random column (a fixed
  // function of the observation index: deterministic), stopped after `cap`.
  // The backend choice prices iteration with it. Two or more factors.
  // With `probe_at` > 0 the pilot gives up at that iteration when its
  // progress so far (the criterion's geometric rate since the start) says it
  // would not converge within `cap`: a hopeless pilot costs `probe_at`
  // iterations, not `cap`.
  ColumnConvergence PilotIterations(int cap, const parallel::Context& ctx, int probe_at = 0) const;

  // Replaces every column (n x k, column-major) by its (weighted) residual
  // from the projection onto the span of all factors' dummies. Columns run in
  // parallel, and each column's passes run in parallel over levels and
  // observation blocks; results are bit-identical for any ctx.threads().
  // effects_lk (optional) receives each column's fixed-effect coefficients
  // (level_offset(num_factors()) x k, factors in the order given): the
  // converged state and the exactly eliminated factor, not normalised. By
  // linearity the effects of y - X b are column 0 minus X's columns times b.
  AbsorbSummary Absorb(Eigen::Ref<Eigen::MatrixXd> columns_nk, const parallel::Context& ctx,
                       Eigen::MatrixXd* effects_lk = nullptr) const;
  // The same for columns that need not be adjacent (each of num_obs()
  // doubles), e.g. an outcome vector and a covariate matrix absorbed in place
  // in one pass without first copying them into one matrix.
  AbsorbSummary Absorb(std::span<double* const> columns, const parallel::Context& ctx,
                       Eigen::MatrixXd* effects_lk = nullptr) const;

  // Given fe_n = the fixed-effect part of a column (outcome - X*beta - residual),
  // finds per-factor effects alpha_q with sum_q alpha_q[code_q(i)] = fe_n(i)
  // (the weighted least-squares fit of fe_n on the dummies, exact when fe_n is
  // in their span) with the configured method at tolerance
  // clamp(options.tolerance * 1e-4, 1e-14, 1e-12) and 10 x max_iterations.
  // Effects are NOT normalised here (see NormaliseEffects in identify.h); with
  // one factor they are the weighted group means of fe_n.
  struct Recovered {
    std::vector<Eigen::VectorXd> effects_q;  // effects_q[q] has factors()[q].num_levels entries
    ColumnConvergence convergence;
  };
  Recovered RecoverEffects(std::span<const double> fe_n, const parallel::Context& ctx) const;

  // Diagnostics for benchmarks. cells = collapsed (level, other levels) cells
  // summed over factors; bytes = what one sweep of one column must read and
  // write: per cell its other level indices (4 bytes each), its weight (8) and
  // the gathered coefficients (8 per other level), per level its row offset,
  // weighted sum, inverse weight and the written coefficient (32).
  struct SweepCost {
    int64_t cells = 0;
    int64_t bytes = 0;
  };
  SweepCost sweep_cost() const;
  // Runs `count` plain sweeps of one column (zero data) on a workspace: the
  // kernel that dominates Absorb, timed alone.
  void RunSweeps(int count, const parallel::Context& ctx) const;

 private:
  std::vector<Factor> factors_;  // internal order: the factor with the most levels last
  std::vector<int> given_q_;     // given_q_[internal q] = the factor's index as given
  std::vector<int64_t> given_offset_q_;  // level offsets in the order given
  std::vector<double> weights_n_;
  AbsorbOptions options_;
  std::shared_ptr<const SchurPreconditioner> preconditioner_;
  // Collapsed cell structure and observation orderings (absorber.cc).
  struct Plan;
  struct Workspace;
  std::shared_ptr<const Plan> plan_;

  // Level sums of x_n into ws (in the plan's fixed order).
  void ComputeLevelSums(const double* x_n, Workspace& ws, const parallel::Context& ctx) const;
  // 1 / the column's weighted standard deviation (see the stopping rule).
  double InverseScale(const double* x_n, Workspace& ws, const parallel::Context& ctx) const;
  // One column from start to end. With `prepared` (level sums and, if
  // cg_done, a conjugate-gradient state already in it, and the column's
  // inverse scale), continues from there.
  ColumnConvergence SolveColumn(const double* x_n, double* residual_n, double tolerance, int max_iterations,
                                double* alpha_out, const parallel::Context& ctx, Workspace* prepared = nullptr,
                                const ColumnConvergence* cg_done = nullptr, double inv_scale = 0.0) const;
};

}  // namespace cwfx::absorb
