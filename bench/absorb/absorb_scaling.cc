// Scaling of the two-factor absorption (caseworker x citizen, 15 covariates +
// outcome) over observations x threads: seconds, sweeps, peak RSS, and sweep
// efficiency = (bytes one sweep must move / sweep time) / copy bandwidth
// measured in the same run (STREAM-like: a[i] = b[i], 16 bytes per element).
//
//   absorb_scaling [--max-n N] [--threads 1,2] [--sweeps S] [--accel it,cg,cg1,none] (cg1 = one column at a time)
// Sizes 1e5, 1e6, 1e7 up to --max-n (default 1e6, so CI never runs 1e7).
// par_x = the speed-up a compute-bound loop got on the same context just then:
// on a shared machine it tells how many cores the row really had.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

#include "absorb/absorber.h"
#include "absorb/caseworker_design.h"

namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

double CpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         1e-6 * static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

double PeakRssMb() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB on Linux
}

// Best of 5 parallel copies of 2 x 256 MiB, in bytes per second.
double CopyBandwidth(const cwfx::parallel::Context& ctx) {
  const int64_t n = int64_t{32} << 20;
  std::vector<double> a(static_cast<size_t>(n), 1.0), b(static_cast<size_t>(n), 2.0);
  double best = 1e30;
  for (int rep = 0; rep < 5; ++rep) {
    const auto t0 = Clock::now();
    cwfx::parallel::ParallelFor(ctx, 0, n, int64_t{1} << 20, [&](int64_t lo, int64_t hi) {
      std::memcpy(a.data() + lo, b.data() + lo, static_cast<size_t>(hi - lo) * sizeof(double));
    });
    best = std::min(best, Seconds(t0, Clock::now()));
    b[static_cast<size_t>(rep)] = a[static_cast<size_t>(n - 1 - rep)];  // keep the copies alive
  }
  return 16.0 * static_cast<double>(n) / best;
}

// Speed-up a compute-bound loop gets on ctx right now (vs one thread): on a
// shared machine this says how many cores the run actually had.
double AvailableSpeedup(const cwfx::parallel::Context& ctx) {
  auto work = [](const cwfx::parallel::Context& c) {
    std::vector<double> out(64);
    const auto t0 = Clock::now();
    cwfx::parallel::ParallelFor(c, 0, 64, 1, [&](int64_t lo, int64_t hi) {
      for (int64_t b = lo; b < hi; ++b) {
        double s = 0.0;
        for (int i = 0; i < 1000000; ++i) s += static_cast<double>(i + b) * 1e-9;
        out[static_cast<size_t>(b)] = s;
      }
    });
    const double t = Seconds(t0, Clock::now());
    return out[7] > -1.0 ? t : 0.0;
  };
  const double serial = work(cwfx::parallel::Context(1));
  return serial / work(ctx);
}

}  // namespace

int main(int argc, char** argv) {
  int64_t max_n = 1000000;
  std::vector<int> threads = {1, 2};
  int sweeps = 20;
  std::vector<std::string> accels = {"it", "cg"};
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--max-n" && i + 1 < argc) {
      max_n = static_cast<int64_t>(std::atof(argv[++i]));
    } else if (arg == "--threads" && i + 1 < argc) {
      threads.clear();
      std::stringstream ss(argv[++i]);
      std::string t;
      while (std::getline(ss, t, ',')) threads.push_back(std::atoi(t.c_str()));
    } else if (arg == "--accel" && i + 1 < argc) {
      accels.clear();
      std::stringstream ss(argv[++i]);
      std::string t;
      while (std::getline(ss, t, ',')) accels.push_back(t);
    } else if (arg == "--sweeps" && i + 1 < argc) {
      sweeps = std::atoi(argv[++i]);
    } else {
      std::fprintf(stderr, "usage: absorb_scaling [--max-n N] [--threads 1,2] [--sweeps S] [--accel it,cg,cg1,none] (cg1 = one column at a time)\n");
      return 2;
    }
  }
  std::printf("%10s %5s %4s %8s %8s %9s %8s %8s %7s %6s %9s %8s %9s %6s %6s\n", "n", "accel", "thr", "cw", "citizens",
              "cells", "setup_s", "absorb_s", "cpu_s", "iters", "sweep_ms", "GB/s", "copyGB/s", "eff", "par_x");
  for (int64_t n : {int64_t{100000}, int64_t{1000000}, int64_t{10000000}}) {
    if (n > max_n) break;
    const auto design = cwfx::bench::MakeCaseworkerDesign(n);
    const auto cost = cwfx::absorb::Absorber(design.factors, {}).sweep_cost();
    for (const std::string& accel : accels)
    for (int t : threads) {
      cwfx::absorb::AbsorbOptions opt;
      opt.column_block = accel == "cg1" ? 1 : 8;
      opt.acceleration = accel.rfind("cg", 0) == 0 ? cwfx::absorb::Acceleration::kConjugateGradient
                         : accel == "it" ? cwfx::absorb::Acceleration::kIronsTuck
                                         : cwfx::absorb::Acceleration::kNone;
      const cwfx::parallel::Context ctx(t);
      const auto s0 = Clock::now();
      const cwfx::absorb::Absorber ab(design.factors, {}, opt, ctx);
      const double setup = Seconds(s0, Clock::now());
      const double copy_bw = CopyBandwidth(ctx);
      ab.RunSweeps(2, ctx);  // warm up
      const auto w0 = Clock::now();
      ab.RunSweeps(sweeps, ctx);
      const double sweep_s = Seconds(w0, Clock::now()) / sweeps;
      Eigen::MatrixXd x = design.columns_nk;
      const auto a0 = Clock::now();
      const double c0 = CpuSeconds();
      const auto summary = ab.Absorb(x, ctx);
      const double absorb_s = Seconds(a0, Clock::now());
      const double absorb_cpu = CpuSeconds() - c0;
      int max_it = 0;
      for (const auto& c : summary.columns) max_it = std::max(max_it, c.iterations);
      const double bw = static_cast<double>(cost.bytes) / sweep_s;
      std::printf("%10lld %5s %4d %8d %8d %9lld %8.3f %8.3f %7.3f %6d %9.3f %8.2f %9.2f %6.2f %6.2f\n", static_cast<long long>(n),
                  accel.c_str(), t,
                  design.factors[0].num_levels, design.factors[1].num_levels, static_cast<long long>(cost.cells),
                  setup, absorb_s, absorb_cpu, max_it, sweep_s * 1e3, bw / 1e9, copy_bw / 1e9, bw / copy_bw,
                  AvailableSpeedup(ctx));
      if (!summary.AllConverged()) std::printf("%s\n", summary.BriefReport().c_str());
      std::fflush(stdout);
    }
    std::printf("peak RSS so far: %.0f MiB\n", PeakRssMb());
  }
  return 0;
}
