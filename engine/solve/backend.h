// The one place that decides how the fixed effects are solved for: the
// one-factor formula, a direct factor, or iteration. Fit, replications and
// leave-out ask this function; it never factorises what the analysis says
// iteration does more cheaply.
//
//   one factor  exact group means (no iteration, no factor).
//   direct      two factors whose Schur complement (the state factor's graph
//               Laplacian) has a Cholesky factor that is cheap by CHOLMOD's
//               symbolic analysis: the factor preconditions the absorber's
//               conjugate gradient, which then converges in 1-2 iterations
//               per column (exact), and serves the effects' standard errors.
//   iterative   conjugate gradient with the Jacobi preconditioner (any number
//               of factors), when the factor would cost more than iterating
//               or more memory than allowed.
//
// COST MODEL (auto). Iterating costs columns/8 blocks x the iterations a
// capped pilot solve of one pseudo-random column needed (x iteration_safety)
// passes over the cells (a block of 8 columns shares each pass at about 3x
// the time of one column's pass, modelled per collapsed cell).
// The factor costs its predicted flops at the BLAS's rate plus, per column,
// two triangular solves over its predicted nonzeros and two passes. Solves
// the caller needs afterwards (state_solves_after) are added to both sides.
// Direct is chosen when it is predicted cheaper and fits max_factor_bytes.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "absorb/absorber.h"
#include "parallel/parallel.h"
#include "solve/schur_factor.h"

namespace cwfx::solve {

enum class BackendKind { kOneFactor, kDirect, kIterative };
enum class BackendRequest { kAuto, kDirect, kIterative };

const char* BackendName(BackendKind k);  // "one-factor", "direct", "iterative"

struct BackendOptions {
  BackendRequest request = BackendRequest::kAuto;
  // The predicted factor (8 bytes per nonzero) must fit in this.
  double max_factor_bytes = 1024.0 * 1024 * 1024;
  // Iterations of Jacobi-preconditioned conjugate gradient are counted by a
  // pilot solve of one column (well-mixed graphs need 10-60, low-mobility
  // graphs thousands), capped at the break-even count and at this; other
  // columns are assumed to need iteration_safety times as many.
  int max_pilot_iterations = 2000;
  double iteration_safety = 1.25;
  // A quick pilot runs before the Schur complement is built: a column that
  // converges within well_connected_iterations shows a well-connected graph,
  // and such a graph has no small separators, so its factor fills in: the
  // top separator alone holds a constant share of the levels. The direct
  // route is then priced as well_connected_fill times a dense factor's
  // flops (the easy fixest panels' factors hold 86% of them) and not
  // analysed when iterating is cheaper. The quick pilot gives up after
  // pilot_probe_iterations when its rate says it will not make it.
  int well_connected_iterations = 40;
  int pilot_probe_iterations = 5;
  double well_connected_fill = 0.125;
  // Factorisation rate of the BLAS (flops per second) on one thread:
  // OpenBLAS reaches 2.6e10 on a nearly dense 5,000-level factor here (less
  // on small supernodes); reference BLAS about 1e9.
  double openblas_flops_per_second = 1.5e10;
  double reference_blas_flops_per_second = 1e9;
  // Seconds per nonzero of the factor and per column, for one forward plus
  // one backward solve.
  double solve_seconds_per_nonzero = 1.5e-9;
  // One column's pass over the collapsed cells (num_cells counts every
  // factor's cells); measured here at about 1.5 ns per cell and column on
  // one core (a block of 8 columns: 3 passes' time).
  double seconds_per_cell_pass = 1.5e-9;
  // Work the caller does after the absorption, priced in the choice: this
  // many further Schur solves (e.g. the effects' standard errors) ...
  int64_t state_solves_after = 0;
  // ... which a direct factor replaces by one selected inversion when this
  // is set and its predicted flops are at most max_selected_inversion_flops
  // (priced at selected_inversion_flops_per_second: no BLAS).
  bool selected_inversion = false;
  double max_selected_inversion_flops = 4e9;
  double selected_inversion_flops_per_second = 1e9;
  // BLAS threads while factorising. More is faster on large factors, but the
  // BLAS then splits its sums by thread, so the factor (and, within the
  // solver's tolerance, the results) would depend on the thread count.
  int factor_threads = 1;
};

struct Backend {
  BackendKind kind = BackendKind::kIterative;
  std::string reason;  // one line for the output: what runs and why
  std::shared_ptr<const SchurFactor> factor;  // direct only
  SchurFactorAnalysis analysis;               // when analysed (two factors)
  double predicted_direct_seconds = -1;
  double predicted_iterative_seconds = -1;
  double seconds = 0;  // spent choosing and preparing (analysis, factorisation)
};

// Chooses the backend for absorbing `columns` columns with `absorber` and
// prepares it: for direct, factorises and installs the factor as the
// absorber's preconditioner. A factor that fails numerically falls back to
// iteration (said in reason). BackendRequest::kDirect forces the factor for
// two factors (three or more: iteration, said in reason).
Backend PrepareBackend(absorb::Absorber& absorber, int64_t columns, const BackendOptions& options,
                       const parallel::Context& ctx);

}  // namespace cwfx::solve
