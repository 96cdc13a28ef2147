// End-to-end two-way fit (caseworker + citizen FE, 15 covariates, cluster by
// caseworker, FE standard errors) at 1e5 and 1e6 observations, 1 and 2
// threads; iterative vs direct (CHOLMOD) absorption; and fixed-effect recovery
// by CHOLMOD vs by sweeps. Design: bench/absorb/caseworker_design.h (slowly
// mixing caseworker-citizen graph).
//   fit_benchmark --benchmark_out=fit.json --benchmark_out_format=json
#include <benchmark/benchmark.h>

#include <map>
#include <memory>

#include "absorb/caseworker_design.h"
#include "fit/fit.h"
#include "solve/fixed_effect_solver.h"

namespace cwfx {
namespace {

const fit::Design& GetDesign(int64_t n) {
  static std::map<int64_t, std::unique_ptr<fit::Design>> cache;
  auto& slot = cache[n];
  if (!slot) {
    bench::CaseworkerDesign cd = bench::MakeCaseworkerDesign(n, 16, 7);
    auto d = std::make_unique<fit::Design>();
    for (int j = 0; j < 15; ++j) d->covariate_names.push_back(std::string("x").append(std::to_string(j + 1)));
    d->y_n = cd.columns_nk.col(15);
    d->X_nk = cd.columns_nk.leftCols(15);
    for (int j = 0; j < 15; ++j) d->covariate_names.push_back(std::string("x").append(std::to_string(j + 1)));
    d->factors = cd.factors;
    for (const auto& f : d->factors) {
      std::vector<std::string> labels(static_cast<size_t>(f.num_levels));
      for (int32_t g = 0; g < f.num_levels; ++g) labels[g] = std::to_string(g);
      d->level_labels_q.push_back(std::move(labels));
    }
    d->cluster_name = "caseworker";
    d->cluster_n = d->factors[0].codes_n;
    d->num_clusters = d->factors[0].num_levels;
    d->components = absorb::FindComponents(d->factors);
    slot = std::move(d);
  }
  return *slot;
}

// Args: n, threads, absorb method (0 iterative, 1 direct).
void BM_FitTwoWay(benchmark::State& state) {
  const fit::Design& d = GetDesign(state.range(0));
  parallel::Context ctx(static_cast<int>(state.range(1)));
  fit::FitOptions o;
  o.vcov = fit::VcovType::kCluster;
  o.absorb_method = state.range(2) == 0 ? fit::AbsorbMethod::kIterative : fit::AbsorbMethod::kDirect;
  fit::FitResult r;
  for (auto _ : state) {
    r = fit::Fit(d, o, ctx);
    benchmark::DoNotOptimize(r.coef_k.data());
  }
  state.SetItemsProcessed(state.iterations() * d.num_obs());
  state.counters["absorb_s"] = r.seconds_absorb;
  state.counters["recover_s"] = r.seconds_recover;
  state.counters["fe_se_s"] = r.seconds_std_errors;
  int max_it = 0;
  for (const auto& c : r.absorb_summary.columns) max_it = std::max(max_it, c.iterations);
  state.counters["max_iter"] = max_it;
  state.counters["caseworkers"] = d.factors[0].num_levels;
  state.counters["citizens"] = d.factors[1].num_levels;
  state.SetLabel(r.absorb_summary.AllConverged() ? "converged" : "NOT CONVERGED");
}
BENCHMARK(BM_FitTwoWay)
    ->ArgsProduct({{100000, 1000000}, {1, 2}, {0, 1}})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(1);

// Residual fe part of the outcome for the recovery benchmarks.
const Eigen::VectorXd& FePart(int64_t n) {
  static std::map<int64_t, Eigen::VectorXd> cache;
  auto& v = cache[n];
  if (v.size() == 0) {
    const fit::Design& d = GetDesign(n);
    fit::FitOptions o;
    o.recover_fixed_effects = false;
    o.absorb_method = fit::AbsorbMethod::kDirect;
    const fit::FitResult r = fit::Fit(d, o, parallel::Context(1));
    v = d.y_n - d.X_nk * r.coef_k - r.residual_n;
  }
  return v;
}

// CHOLMOD: setup (C, L, analyse + factorise) in the loop, then one recovery.
void BM_CholmodSetup(benchmark::State& state) {
  const fit::Design& d = GetDesign(state.range(0));
  std::vector<solve::FactorCodes> views;
  for (const auto& f : d.factors) views.push_back({f.codes_n, f.num_levels});
  solve::SolverSummary s;
  for (auto _ : state) {
    solve::FixedEffectSolver solver(views, {});
    s = solver.summary();
  }
  state.counters["setup_s"] = s.setup_seconds;
  state.counters["factorise_s"] = s.factorise_seconds;
  state.counters["L_nnz"] = static_cast<double>(s.laplacian_nnz);
  state.counters["factor_nnz"] = static_cast<double>(s.factor_nnz);
}
BENCHMARK(BM_CholmodSetup)->Arg(100000)->Arg(1000000)->Unit(benchmark::kMillisecond)->UseRealTime();

// Args: n, right-hand sides per call.
void BM_CholmodRecover(benchmark::State& state) {
  const fit::Design& d = GetDesign(state.range(0));
  const Eigen::VectorXd& fe = FePart(state.range(0));
  std::vector<solve::FactorCodes> views;
  for (const auto& f : d.factors) views.push_back({f.codes_n, f.num_levels});
  solve::FixedEffectSolver solver(views, {});
  const int r = static_cast<int>(state.range(1));
  Eigen::MatrixXd many = fe.replicate(1, r);
  for (auto _ : state) {
    auto eff = solver.RecoverMany(many);
    benchmark::DoNotOptimize(eff[0].data());
  }
  state.SetItemsProcessed(state.iterations() * r);
}
BENCHMARK(BM_CholmodRecover)->ArgsProduct({{100000, 1000000}, {1, 64}})->Unit(benchmark::kMillisecond)->UseRealTime();

// Args: n, threads.
void BM_SweepRecover(benchmark::State& state) {
  const fit::Design& d = GetDesign(state.range(0));
  const Eigen::VectorXd& fe = FePart(state.range(0));
  parallel::Context ctx(static_cast<int>(state.range(1)));
  absorb::Absorber absorber(d.factors, {});
  absorb::Absorber::Recovered rec;
  for (auto _ : state) {
    rec = absorber.RecoverEffects(std::span<const double>(fe.data(), static_cast<size_t>(fe.size())), ctx);
    benchmark::DoNotOptimize(rec.effects_q[0].data());
  }
  state.counters["iterations"] = rec.convergence.iterations;
  state.SetLabel(rec.convergence.converged ? "converged" : "NOT CONVERGED");
}
BENCHMARK(BM_SweepRecover)->ArgsProduct({{100000, 1000000}, {1, 2}})->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(1);

}  // namespace
}  // namespace cwfx

BENCHMARK_MAIN();
