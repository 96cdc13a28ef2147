#include "replication_job.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <filesystem>

#include "core/error.h"
#include "replicate/estimator.h"
#include "replicate/problem.h"
#include "store/draw_file.h"

namespace cwfx::cli {
namespace {

std::atomic<bool> g_stop{false};

extern "C" void OnStopSignal(int) {
  g_stop.store(true);
  // A second Ctrl-C ends the program at once (the journal keeps what was stored).
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
}

// Restores the previous handlers when the job ends.
class StopSignals {
 public:
  StopSignals() {
    g_stop.store(false);
    old_int_ = std::signal(SIGINT, OnStopSignal);
    old_term_ = std::signal(SIGTERM, OnStopSignal);
  }
  ~StopSignals() {
    std::signal(SIGINT, old_int_);
    std::signal(SIGTERM, old_term_);
  }
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

 private:
  void (*old_int_)(int);
  void (*old_term_)(int);
};

std::string Clock(double seconds) {
  if (!(seconds >= 0) || seconds > 1e7) return "--:--";
  const auto s = static_cast<long>(seconds + 0.5);
  char buf[32];
  if (s >= 3600) {
    std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
  } else {
    std::snprintf(buf, sizeof buf, "%ld:%02ld", s / 60, s % 60);
  }
  return buf;
}

// A bar redrawn in place on a terminal; otherwise one status line every 10 s.
replicate::ProgressCallback MakeProgressPrinter(const std::string& scheme, bool enabled) {
  if (!enabled) return {};
  const bool tty = isatty(fileno(stderr)) != 0;
  auto last_line = std::make_shared<double>(-1e9);
  return [scheme, tty, last_line](const replicate::Progress& p) {
    const double rate = p.elapsed_seconds > 0 ? static_cast<double>(p.stored_this_run) / p.elapsed_seconds : 0;
    const double left = rate > 0 ? static_cast<double>(p.total - p.stored) / rate : -1;
    const double frac = p.total > 0 ? static_cast<double>(p.stored) / static_cast<double>(p.total) : 1;
    if (tty) {
      constexpr int kWidth = 30;
      const int fill = static_cast<int>(frac * kWidth);
      std::string bar(static_cast<size_t>(fill), '#');
      bar.append(static_cast<size_t>(kWidth - fill), '.');
      std::fprintf(stderr, "\r%s [%s] %lld/%lld %3.0f%%  %.1f/s  elapsed %s  left %s   ", scheme.c_str(),
                   bar.c_str(), static_cast<long long>(p.stored), static_cast<long long>(p.total), 100 * frac, rate,
                   Clock(p.elapsed_seconds).c_str(), Clock(left).c_str());
      if (p.final) std::fprintf(stderr, "\n");
      std::fflush(stderr);
    } else if (p.final || p.elapsed_seconds - *last_line >= 10.0) {
      *last_line = p.elapsed_seconds;
      std::fprintf(stderr, "%s: %lld/%lld replications stored (%.0f%%), %.1f/s, elapsed %s, left %s\n",
                   scheme.c_str(), static_cast<long long>(p.stored), static_cast<long long>(p.total), 100 * frac,
                   rate, Clock(p.elapsed_seconds).c_str(), Clock(left).c_str());
    }
  };
}

}  // namespace

ReplicationJobResult RunReplicationJob(const table::Table& register_table, const study::StudyResult& study,
                                       const ReplicationJob& job, const parallel::Context& ctx) {
  const replicate::ReplicationProblem problem = replicate::BuildProblem(register_table, study, job.options, ctx);
  const replicate::ReplicaEstimator estimator(problem);
  const store::DrawIdentity identity =
      replicate::MakeDrawIdentity(problem, job.data_fingerprint, job.study_configuration_json);
  if (job.overwrite && !job.resume) {
    std::error_code ec;
    std::filesystem::remove(job.out, ec);
    std::filesystem::remove(job.out + ".journal", ec);
  }
  // Chunks of about 1 MiB of the widest dataset (the effects), so each flush
  // recompresses little even with many caseworkers.
  store::DrawFileOptions file_options;
  file_options.chunk_rows =
      std::clamp<int64_t>((int64_t{1} << 20) / (8 * std::max<int64_t>(1, problem.num_caseworkers())), 1, 64);
  store::DrawWriter writer =
      store::DrawWriter::Open(job.out, identity, job.options.replications, job.resume, file_options);
  {
    replicate::EstimatorWorkspace ws;
    const std::vector<double> ones(static_cast<size_t>(problem.num_obs()), 1.0);
    writer.WriteEstimate(replicate::ToDrawRecord(-1, estimator.EstimateWeighted(ones, ws, ctx)));
  }
  ReplicationJobResult result;
  {
    const StopSignals signals;
    result.run = replicate::RunReplications(estimator, writer, g_stop,
                                            MakeProgressPrinter(identity.scheme, job.show_progress), ctx);
  }
  result.interrupted = result.run.interrupted;
  if (result.interrupted) {
    writer.Interrupt();
  } else {
    writer.Finish();
  }
  replicate::SummaryOptions so;
  so.alpha = job.options.alpha;
  so.rank_draws = job.options.rank_draws;
  so.rank_seed = job.options.seed;
  so.max_rank_units = job.options.max_rank_units;
  result.summary = replicate::SummariseDraws(store::ReadDraws(job.out), problem.analytic_effect_cov_gg, so, ctx);
  return result;
}

}  // namespace cwfx::cli
