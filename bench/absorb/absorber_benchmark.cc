// Google Benchmark: one sweep, and a converged absorption, on the two-factor
// caseworker-citizen design, over size x threads.
#include "absorb/absorber.h"

#include <benchmark/benchmark.h>

#include <map>
#include <memory>

#include "absorb/caseworker_design.h"

namespace cwfx::absorb {
namespace {

const bench::CaseworkerDesign& Design(int64_t n) {
  static std::map<int64_t, std::unique_ptr<bench::CaseworkerDesign>> cache;
  auto& d = cache[n];
  if (!d) d = std::make_unique<bench::CaseworkerDesign>(bench::MakeCaseworkerDesign(n));
  return *d;
}

void BM_Sweep(benchmark::State& state) {
  const auto& d = Design(state.range(0));
  const Absorber ab(d.factors, {});
  const parallel::Context ctx(static_cast<int>(state.range(1)));
  for (auto _ : state) ab.RunSweeps(1, ctx);
  state.SetBytesProcessed(state.iterations() * ab.sweep_cost().bytes);
  state.SetItemsProcessed(state.iterations() * ab.sweep_cost().cells);
}
BENCHMARK(BM_Sweep)->ArgsProduct({{100000, 1000000}, {1, 2}})->Unit(benchmark::kMicrosecond)->UseRealTime();

void BM_AbsorbConverged(benchmark::State& state) {
  const auto& d = Design(state.range(0));
  const Absorber ab(d.factors, {});
  const parallel::Context ctx(static_cast<int>(state.range(1)));
  Eigen::MatrixXd x = d.columns_nk.leftCols(state.range(2));
  int max_it = 0;
  for (auto _ : state) {
    state.PauseTiming();
    x = d.columns_nk.leftCols(state.range(2));
    state.ResumeTiming();
    const auto s = ab.Absorb(x, ctx);
    for (const auto& c : s.columns) max_it = std::max(max_it, c.iterations);
  }
  state.counters["iterations"] = max_it;
  state.SetItemsProcessed(state.iterations() * state.range(0) * state.range(2));
}
BENCHMARK(BM_AbsorbConverged)
    ->ArgsProduct({{100000, 1000000}, {1, 2}, {1, 16}})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
}  // namespace cwfx::absorb

BENCHMARK_MAIN();
