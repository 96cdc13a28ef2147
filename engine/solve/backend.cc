// The backend choice (see backend.h for the rule and the cost model).
#include "solve/backend.h"

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
  b.predicted_iterative_seconds = (blocks + after_blocks) * 3.0 * pass * options.assumed_iterations;

  absorb::SchurComplement schur = absorber.BuildSchurComplement(ctx);
  // Before the ordering: the factor holds at least S's own nonzeros, and
  // factorising costs at least sum_j (nonzeros of S's column j)^2 flops.
  {
    double lower_flops = 0;
    const auto* outer = schur.lower.outerIndexPtr();
    for (int64_t j = 0; j < schur.lower.cols(); ++j) {
      const double c = static_cast<double>(outer[j + 1] - outer[j]);
      lower_flops += c * c;
    }
    const double lower_bytes = 8.0 * static_cast<double>(schur.lower.nonZeros());
    const bool too_big = lower_bytes > options.max_factor_bytes;
    const bool too_slow = lower_flops / rate > b.predicted_iterative_seconds;
    if (options.request != BackendRequest::kDirect && (too_big || too_slow)) {
      b.kind = BackendKind::kIterative;
      b.reason = std::string("iterative (conjugate gradient, Jacobi): the Schur complement on factor ") +
                 std::to_string(absorber.state_factor()) + " (" + std::to_string(schur.lower.rows()) + " levels, " +
                 Num(static_cast<double>(schur.lower.nonZeros())) + " nonzeros) already " +
                 (too_big ? "exceeds the factor's memory limit" : "costs more to factorise than iterating") +
                 " (predicted iterative " + Num(b.predicted_iterative_seconds) + " s)";
      b.seconds = seconds();
      return b;
    }
  }
  auto factor = std::make_shared<SchurFactor>(schur);
  schur = absorb::SchurComplement{};
  b.analysis = factor->analysis();
  const double factor_bytes = 8.0 * b.analysis.predicted_nnz;
  b.predicted_direct_seconds = b.analysis.predicted_flops / rate +
                               static_cast<double>(columns) * options.solve_seconds_per_nonzero * b.analysis.predicted_nnz +
                               blocks * 3.0 * pass * 2.0 +
                               (options.selected_inversion &&
                                            b.analysis.predicted_flops <= options.max_selected_inversion_flops
                                    ? b.analysis.predicted_flops / options.selected_inversion_flops_per_second
                                    : static_cast<double>(options.state_solves_after) *
                                              options.solve_seconds_per_nonzero * b.analysis.predicted_nnz +
                                          after_blocks * 3.0 * pass * 2.0);
  const std::string figures = "Schur complement on factor " + std::to_string(absorber.state_factor()) + " (" +
                              std::to_string(b.analysis.levels) + " levels, " +
                              std::to_string(b.analysis.components) + " component(s)): predicted factor " +
                              Num(b.analysis.predicted_nnz) + " nonzeros, " + Num(b.analysis.predicted_flops) +
                              " flops; predicted direct " + Num(b.predicted_direct_seconds) + " s vs iterative " +
                              Num(b.predicted_iterative_seconds) + " s";
  const bool fits = factor_bytes <= options.max_factor_bytes;
  bool direct = false;
  if (options.request == BackendRequest::kDirect) {
    direct = true;
    b.reason = "direct (CHOLMOD-preconditioned conjugate gradient): requested; " + figures;
  } else if (!fits) {
    b.reason = "iterative (conjugate gradient, Jacobi): the factor would need " + Num(factor_bytes / 1048576.0) +
               " MiB, over the limit of " + Num(options.max_factor_bytes / 1048576.0) + " MiB; " + figures;
  } else if (b.predicted_direct_seconds < b.predicted_iterative_seconds) {
    direct = true;
    b.reason = "direct (CHOLMOD-preconditioned conjugate gradient): cheaper; " + figures;
  } else {
    b.reason = "iterative (conjugate gradient, Jacobi): cheaper; " + figures;
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
      b.reason = "iterative (conjugate gradient, Jacobi): the factor failed (" + factor->message() + "); " + figures;
    }
  } else {
    b.kind = BackendKind::kIterative;
  }
  b.seconds = seconds();
  return b;
}

}  // namespace cwfx::solve
