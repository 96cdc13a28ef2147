// Replications per second for each scheme, at 1 and 2 threads, against the
// cost of one cold fit of the same model measured in the same run.
//
//   replicate_throughput [--scale study|1e6] [--replications R] [--wild-replications W]
//                        [--schemes pairs,bayes,wild,permute] [--threads 1,2] [--out FILE.json]
//
// study: the default synthetic register (about 6,200 responses, 117
//   caseworkers, 88 covariates), caseworker effects only.
// 1e6: the generator's large preset at 10^6 responses, caseworker and citizen
//   effects (two-way; the conjugate-gradient absorber per refit).
// Each (scheme, threads) cell runs R replications through the real runner
// into a draw file (journal and HDF5 included) in a temporary directory.
// "cold fit" = fit::Fit with the study's options (what `cwfx study` runs once),
// measured at 1 thread; its ratio to the per-replication time at 1 thread is
// the warm-start gain. Peak RSS is the process's (getrusage).
#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "data_gen/generator.h"
#include "fit/fit.h"
#include "replicate/estimator.h"
#include "replicate/problem.h"
#include "replicate/runner.h"
#include "store/draw_file.h"
#include "study/study.h"

namespace {

using namespace cwfx;
using Clock = std::chrono::steady_clock;

double Since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

double PeakRssGiB() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / (1024.0 * 1024.0);
}

std::vector<std::string> Split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string x;
  while (std::getline(ss, x, ',')) out.push_back(x);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::string scale = "study", out_json;
  int64_t replications = 200, wild_replications = 2000;
  std::vector<std::string> schemes = {"pairs", "bayes", "wild", "permute"};
  std::vector<int> threads = {1, 2};
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--scale") scale = v;
    else if (k == "--replications") replications = std::stoll(v);
    else if (k == "--wild-replications") wild_replications = std::stoll(v);
    else if (k == "--schemes") schemes = Split(v);
    else if (k == "--threads") {
      threads.clear();
      for (const auto& t : Split(v)) threads.push_back(std::stoi(t));
    } else if (k == "--out") out_json = v;
    else {
      std::fprintf(stderr, "unknown argument %s\n", k.c_str());
      return 2;
    }
  }
  const parallel::Context gen_ctx(2);
  datagen::GeneratorOptions go = datagen::GeneratorOptions::Preset(scale == "study" ? "study" : "large");
  study::StudyOptions so;
  so.characterise = false;
  if (scale != "study") {
    go.responses_target = 1000000;
    so.add_citizen_effects = true;
  }
  const table::Table data = datagen::Generate(go, 1, gen_ctx).responses;

  // Cold fit: the study's model, at 1 thread.
  std::vector<std::string> covs;
  const table::Table prepared = study::PrepareStudyTable(data, so, nullptr, &covs);
  const fit::Design design = fit::BuildDesign(prepared, study::StudyDesignSpec(so, covs));
  fit::FitOptions fo;
  fo.vcov = so.vcov;
  fo.absorb.tolerance = so.absorb_tolerance;
  fo.r2_without_factor = so.caseworker_column;
  fo.keep_residuals = false;
  auto t0 = Clock::now();
  const fit::FitResult cold = fit::Fit(design, fo, parallel::Context(1));
  const double cold_fit_s = Since(t0);
  const study::StudyResult st = study::RunStudy(data, so, gen_ctx);
  std::printf("scale %s: %lld responses, %d caseworkers, %zu covariates, %s; cold fit %.4f s (1 thread)\n",
              scale.c_str(), static_cast<long long>(st.responses), st.caseworkers, cold.covariate_names.size(),
              so.add_citizen_effects ? "caseworker + citizen effects" : "caseworker effects", cold_fit_s);

  const auto dir = std::filesystem::temp_directory_path() / ("cwfx_replicate_bench_" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::string json = "{\"scale\": \"" + scale + "\", \"responses\": " + std::to_string(st.responses) +
                     ", \"caseworkers\": " + std::to_string(st.caseworkers) +
                     ", \"covariates\": " + std::to_string(cold.covariate_names.size()) +
                     ", \"cold_fit_seconds\": " + std::to_string(cold_fit_s) + ", \"runs\": [";
  std::printf("%-8s %7s %5s %10s %12s %14s %12s\n", "scheme", "threads", "B", "seconds", "reps/s",
              "rep/cold fit", "speed-up");
  bool first = true;
  for (const std::string& name : schemes) {
    replicate::ReplicationOptions ro;
    ro.scheme = replicate::ParseScheme(name);
    ro.seed = 11;
    const int64_t B = ro.scheme == replicate::Scheme::kWild ? wild_replications : replications;
    const replicate::ReplicationProblem problem = replicate::BuildProblem(data, st, ro, gen_ctx);
    const replicate::ReplicaEstimator est(problem);
    double rate_1 = 0;
    for (int t : threads) {
      const std::string path = (dir / (name + "_" + std::to_string(t) + ".h5")).string();
      std::filesystem::remove(path);
      std::filesystem::remove(path + ".journal");
      const store::DrawIdentity id = replicate::MakeDrawIdentity(problem, "bench", "{}");
      store::DrawFileOptions fopt;
      fopt.chunk_rows = std::max<int64_t>(1, std::min<int64_t>(64, (int64_t{1} << 20) / (8 * problem.num_caseworkers())));
      store::DrawWriter writer = store::DrawWriter::Open(path, id, B, false, fopt);
      std::atomic<bool> stop{false};
      const replicate::RunReport rep = replicate::RunReplications(est, writer, stop, {}, parallel::Context(t));
      writer.Finish();
      const double rate = static_cast<double>(rep.computed) / rep.seconds;
      if (t == 1) rate_1 = rate;
      const double per_rep_over_cold = (1.0 / rate) * t / cold_fit_s;  // CPU-normalised at t threads
      std::printf("%-8s %7d %5lld %10.3f %12.1f %14.3f %12s\n", name.c_str(), t, static_cast<long long>(B),
                  rep.seconds, rate, t == 1 ? 1.0 / rate / cold_fit_s : per_rep_over_cold,
                  t == 1 || rate_1 == 0 ? "" : (std::to_string(rate / rate_1).substr(0, 4) + "x").c_str());
      json += std::string(first ? "" : ", ") + "{\"scheme\": \"" + name + "\", \"threads\": " + std::to_string(t) +
              ", \"replications\": " + std::to_string(B) + ", \"seconds\": " + std::to_string(rep.seconds) +
              ", \"replications_per_second\": " + std::to_string(rate) + "}";
      first = false;
      std::filesystem::remove(path);
    }
  }
  json += "], \"peak_rss_gib\": " + std::to_string(PeakRssGiB()) + "}\n";
  std::printf("peak RSS %.2f GiB\n", PeakRssGiB());
  std::filesystem::remove_all(dir);
  if (!out_json.empty()) {
    FILE* f = std::fopen(out_json.c_str(), "w");
    if (f) {
      std::fputs(json.c_str(), f);
      std::fclose(f);
    }
  }
  return 0;
}
