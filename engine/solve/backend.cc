// The backend choice (see backend.h for the rule and the cost model).
#include "solve/backend.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>

namespace cwfx::solve {
namespace {
std::string Num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g", v);
  return buf;
}
}  // namespace

const char* BackendName(BackendKind k) {
  switch (k) {
    case BackendKind::kOneFactor: return "one-factor";
    case BackendKind::kDirect: return "direct";
    case BackendKind::kIterative: return "iterative";
  }
  return "?";
}

Backend PrepareBackend(absorb::Absorber& absorber, int64_t columns, const BackendOptions& options,
                       const parallel::Context& ctx) {
  const auto t0 = std::chrono::steady_clock::now();
  auto seconds = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); };
  Backend b;
  absorber.set_preconditioner(nullptr);
  if (absorber.num_factors() == 1) {
    b.kind = BackendKind::kOneFactor;
    b.reason = "one factor: exact group means";
    return b;
  }
  if (absorber.num_factors() > 2) {
    b.kind = BackendKind::kIterative;
    b.reason = std::string("iterative (conjugate gradient, Jacobi): ") + std::to_string(absorber.num_factors()) +
               " factors" + (options.request == BackendRequest::kDirect ? " (a direct factor needs exactly two)" : "");
    return b;
  }
  if (options.request == BackendRequest::kIterative) {
    b.kind = BackendKind::kIterative;
    b.reason = "iterative (conjugate gradient, Jacobi): requested";
    return b;
  }

  const bool openblas = SetBlasThreads(1) > 0;
  const double rate = openblas ? options.openblas_flops_per_second : options.reference_blas_flops_per_second;
  const double blocks = std::ceil(static_cast<double>(columns) / 8.0);
  // One pass over the cells prices the iterations. It is modelled, not
  // timed, so that the choice (and with it the last bits of the results)
  // never depends on the machine's load or the thread count.
  const double pass = options.seconds_per_cell_pass * static_cast<double>(absorber.num_cells());
  const double after_blocks = std::ceil(static_cast<double>(options.state_solves_after) / 8.0);
  // One iteration of every column the caller will solve, in blocks of 8.
  const double per_iteration = (blocks + after_blocks) * 3.0 * pass;
  const std::string jacobi = "iterative (conjugate gradient, Jacobi)";
  if (options.request == BackendRequest::kAuto) {
    const absorb::ColumnConvergence quick =
        absorber.PilotIterations(options.well_connected_iterations, ctx, options.pilot_probe_iterations);
    if (quick.converged) {
      const double levels = static_cast<double>(absorber.num_state());
      const double fill_in_seconds = options.well_connected_fill * levels * levels * levels / 3.0 / rate;
      b.predicted_iterative_seconds = per_iteration * quick.iterations * options.iteration_safety;
      if (b.predicted_iterative_seconds < fill_in_seconds) {
        b.kind = BackendKind::kIterative;
        b.reason = jacobi + ": cheaper; pilot column converged in " + std::to_string(quick.iterations) +
                   " iterations: a well-connected graph, whose factor on factor " +
                   std::to_string(absorber.state_factor()) + " (" + std::to_string(absorber.num_state()) +
                   " levels) fills in (predicted at least " + Num(fill_in_seconds) + " s, not analysed); predicted iterative " +
                   Num(b.predicted_iterative_seconds) + " s";
        b.seconds = seconds();
        return b;
      }
    }
  }
  absorb::SchurComplement schur = absorber.BuildSchurComplement(ctx);
  const std::string schur_text = "Schur complement on factor " + std::to_string(absorber.state_factor()) + " (" +
                                 std::to_string(schur.lower.rows()) + " levels";
  // Before the ordering: the factor holds at least S's own nonzeros.
  const double lower_bytes = 8.0 * static_cast<double>(schur.lower.nonZeros());
  if (options.request != BackendRequest::kDirect && lower_bytes > options.max_factor_bytes) {
    b.kind = BackendKind::kIterative;
    b.reason = jacobi + ": the " + schur_text + ", " + Num(static_cast<double>(schur.lower.nonZeros())) +
               " nonzeros) already exceeds the factor's memory limit of " +
               Num(options.max_factor_bytes / 1048576.0) + " MiB";
    b.seconds = seconds();
    return b;
  }
  // The iterations are counted, not assumed: a capped pilot solve of one
  // pseudo-random column (deterministic). The cap is where iterating would
  // cost as much as the factor, so the pilot costs a fraction of the cheaper
  // route (it makes one column's passes; the solve makes all columns').
  // First against the direct route's lower bound (factorising costs at least
  // the sum over S's columns of their squared nonzero counts): a pilot that
  // converges under it makes the symbolic analysis unnecessary.
  int pilot_cap = 0;
  absorb::ColumnConvergence pilot;
  auto run_pilot = [&](double direct_seconds) {
    const double break_even = direct_seconds / (per_iteration * options.iteration_safety);
    pilot_cap = static_cast<int>(
        std::clamp(std::ceil(break_even), 5.0, static_cast<double>(options.max_pilot_iterations)));
    pilot = absorber.PilotIterations(pilot_cap, ctx);
      const double k = pilot.converged ? pilot.iterations : std::max<double>(pilot_cap, pilot.iterations) * 2.0;
    b.predicted_iterative_seconds = per_iteration * k * options.iteration_safety;
  };
  if (options.request == BackendRequest::kAuto) {
    double lower_flops = 0;
    const auto* outer = schur.lower.outerIndexPtr();
    for (int64_t j = 0; j < schur.lower.cols(); ++j) {
      const double c = static_cast<double>(outer[j + 1] - outer[j]);
      lower_flops += c * c;
    }
    // ... plus the solves, each over at least S's own nonzeros.
    const double lower_seconds =
        lower_flops / rate + static_cast<double>(columns + options.state_solves_after) *
                                 options.solve_seconds_per_nonzero * static_cast<double>(schur.lower.nonZeros());
    run_pilot(lower_seconds);
    if (pilot.converged && b.predicted_iterative_seconds < lower_seconds) {
      b.kind = BackendKind::kIterative;
      b.reason = jacobi + ": cheaper; " + schur_text + ", " + Num(static_cast<double>(schur.lower.nonZeros())) +
                 " nonzeros): pilot column converged in " + std::to_string(pilot.iterations) +
                 " iterations; predicted iterative " + Num(b.predicted_iterative_seconds) +
                 " s, under the direct route's lower bound of " + Num(lower_seconds) + " s";
      b.seconds = seconds();
      return b;
    }
  }
  auto factor = std::make_shared<SchurFactor>(schur);
  schur = absorb::SchurComplement{};
  b.analysis = factor->analysis();
  const double factor_bytes = 8.0 * b.analysis.predicted_nnz;
  const bool inversion =
      options.selected_inversion && b.analysis.predicted_flops <= options.max_selected_inversion_flops;
  b.predicted_direct_seconds = b.analysis.predicted_flops / rate +
                               static_cast<double>(columns) * options.solve_seconds_per_nonzero * b.analysis.predicted_nnz +
                               blocks * 3.0 * pass * 2.0 +
                               (inversion ? b.analysis.predicted_flops / options.selected_inversion_flops_per_second
                                          : static_cast<double>(options.state_solves_after) *
                                                    options.solve_seconds_per_nonzero * b.analysis.predicted_nnz +
                                                after_blocks * 3.0 * pass * 2.0);
  const bool fits = factor_bytes <= options.max_factor_bytes;
  // A second pilot only when the first stopped short of the new break-even.
  if (options.request == BackendRequest::kAuto && fits && !pilot.converged &&
      b.predicted_direct_seconds / (per_iteration * options.iteration_safety) > pilot_cap)
    run_pilot(b.predicted_direct_seconds);
  const std::string pilot_text =
      pilot_cap == 0 ? std::string()
      : pilot.converged
          ? "; pilot column converged in " + std::to_string(pilot.iterations) + " iterations"
          : "; pilot column not converged in " + std::to_string(pilot_cap) + " iterations";
  const std::string figures = schur_text + ", " + std::to_string(b.analysis.components) +
                              " component(s)): predicted factor " + Num(b.analysis.predicted_nnz) + " nonzeros, " +
                              Num(b.analysis.predicted_flops) + " flops; predicted direct " +
                              Num(b.predicted_direct_seconds) + " s" +
                              (pilot_cap == 0 ? std::string()
                                              : " vs iterative " + Num(b.predicted_iterative_seconds) + " s") +
                              pilot_text;
  bool direct = false;
  if (options.request == BackendRequest::kDirect) {
    direct = true;
    b.reason = "direct (CHOLMOD-preconditioned conjugate gradient): requested; " + figures;
  } else if (!fits) {
    b.reason = jacobi + ": the factor would need " + Num(factor_bytes / 1048576.0) + " MiB, over the limit of " +
               Num(options.max_factor_bytes / 1048576.0) + " MiB; " + figures;
  } else if (b.predicted_direct_seconds < b.predicted_iterative_seconds) {
    direct = true;
    b.reason = "direct (CHOLMOD-preconditioned conjugate gradient): cheaper; " + figures;
  } else {
    b.reason = jacobi + ": cheaper; " + figures;
  }
  if (direct) {
    if (factor->Factorise(options.factor_threads)) {
      b.analysis = factor->analysis();
      b.kind = BackendKind::kDirect;
      b.factor = factor;
      absorber.set_preconditioner(factor);
      b.reason += "; factorised in " + Num(b.analysis.factorise_seconds) + " s";
    } else {
      b.kind = BackendKind::kIterative;
      b.reason = jacobi + ": the factor failed (" + factor->message() + "); " + figures;
    }
  } else {
    b.kind = BackendKind::kIterative;
  }
  b.seconds = seconds();
  return b;
}

}  // namespace cwfx::solve
