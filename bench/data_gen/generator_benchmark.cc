// Generator throughput (responses/s) and peak resident memory, swept over
// register size (10^5, 10^6, 10^7 responses) x threads (1, 2).
// Peak RSS is the process's high-water mark (getrusage), so run one size per
// process for clean memory figures, e.g.
//   datagen_benchmark --benchmark_filter='Generate/1000000/'
#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include <cstdint>

#include "data_gen/generator.h"
#include "parallel/parallel.h"

namespace {

double PeakRssMiB() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;  // ru_maxrss is KiB on Linux
}

void BM_Generate(benchmark::State& state) {
  auto options = cwfx::datagen::GeneratorOptions::Preset("large");
  options.responses_target = state.range(0);
  const cwfx::parallel::Context ctx(static_cast<int>(state.range(1)));
  int64_t rows = 0;
  for (auto _ : state) {
    const auto reg = cwfx::datagen::Generate(options, 20170507, ctx);
    rows = reg.responses.num_rows();
    benchmark::DoNotOptimize(reg.responses.num_rows());
  }
  state.SetItemsProcessed(state.iterations() * rows);
  state.SetBytesProcessed(state.iterations() * rows * 82 * static_cast<int64_t>(sizeof(double)));
  state.counters["rows"] = static_cast<double>(rows);
  state.counters["peak_rss_MiB"] = PeakRssMiB();
}

BENCHMARK(BM_Generate)
    ->ArgNames({"responses", "threads"})
    ->ArgsProduct({{100'000, 1'000'000, 10'000'000}, {1, 2}})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(1);

}  // namespace

BENCHMARK_MAIN();
