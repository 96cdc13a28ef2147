// cwfx replicate: bootstrap or permutation replications of the study on a
// register, streamed to an HDF5 draw file (resumable), summarised on stdout
// and in an HTML report (the study's report with a replication section).
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "commands.h"
#include "config_file.h"
#include "core/error.h"
#include "core/output_paths.h"
#include "core/time_format.h"
#include "report/report.h"
#include "distribution.h"
#include "replication_job.h"
#include "run_control.h"
#include "study_input.h"

namespace cwfx::cli {
namespace {

struct ReplicateFlags {
  std::string scheme = "pairs";
  int64_t replications = 1000;
  uint64_t seed = 1;
  int threads = 0;
  std::string out;
  std::string report;
  bool no_report = false;
  bool resume = false;
  bool overwrite = false;
  std::string wild_weights = "rademacher";
  std::vector<std::string> strata = {"job_centre_id"};
  int rank_draws = 1000;
  bool quiet = false;
  std::string shard;
  std::shared_ptr<StudyInputFlags> input = std::make_shared<StudyInputFlags>();
};

void PrintSummary(const replicate::ReplicationSummary& s) {
  std::printf("Scheme %s: %lld of %lld replications stored", s.scheme.c_str(), static_cast<long long>(s.stored),
              static_cast<long long>(s.replications));
  if (s.failed > 0) std::printf(" (%lld failed)", static_cast<long long>(s.failed));
  std::printf("\n");
  const auto row = [](const inference::ScalarSummary& x, double scale, const char* unit) {
    std::printf("  %-22s %9.3f%s  s.e. %7.3f  [%8.3f, %8.3f]\n", x.name.c_str(), scale * x.estimate, unit,
                scale * x.std_error, scale * x.lower, scale * x.upper);
  };
  if (s.bootstrap) {
    std::printf("Bootstrap standard errors and percentile intervals (effects and shares in pp):\n");
    for (const auto& x : s.smooth) row(x, x.name == "variance_of_effects" ? 1e4 : 100, "");
    std::printf("Re-selected top quartile each replication (not valid intervals: winner's curse):\n");
    for (const auto& x : s.selection) row(x, 100, "");
    if (s.quartile_share_gq.rows() > 0) {
      int stable = 0;
      for (Eigen::Index g = 0; g < s.quartile_share_gq.rows(); ++g) stable += s.quartile_share_gq(g, 3) >= 0.9;
      std::printf("Ranking stability: %d caseworker(s) in the top quartile in >= 90%% of replications\n", stable);
    }
    if (s.have_bootstrap_rank_sets) {
      int could = 0;
      for (uint8_t c : s.bootstrap_rank_sets.could_be_top_g) could += c;
      std::printf("Rank confidence sets (bootstrap covariance): %d caseworker(s) could be in the top %d\n", could,
                  s.bootstrap_rank_sets.top_size);
    }
  } else {
    std::printf("Permutation test of no caseworker effects:\n");
    std::printf("  variance of effects  observed %.3g, p = %.4f\n", s.observed_variance, s.permutation_p_variance);
    std::printf("  policy gain          observed %.2f pp, p = %.4f\n", 100 * s.observed_increase,
                s.permutation_p_increase);
  }
  for (const auto& n : s.notes) std::printf("Note: %s\n", n.c_str());
}

int RunReplicateCommand(const ReplicateFlags& f, const std::string& command_line) {
  const auto t0 = std::chrono::steady_clock::now();
  const study::StudyOptions study_options = MakeStudyOptions(*f.input);
  ReplicationJob job;
  job.options.scheme = replicate::ParseScheme(f.scheme);
  job.options.replications = f.replications;
  job.options.seed = f.seed;
  job.options.wild_weights = replicate::ParseWildWeights(f.wild_weights);
  job.options.permute_strata = f.strata;
  job.options.rank_draws = f.rank_draws;
  job.options.Validate();
  job.out = f.out;
  job.resume = f.resume;
  job.overwrite = f.overwrite;
  job.show_progress = !f.quiet;
  job.shard = f.shard;
  job.study_configuration_json = study_options.ToJson();

  {
    // Before any work: no output may be the register or another output, and
    // a finished report is not replaced unasked (a resumed run continues its
    // draw file and may rewrite its report).
    const ShardPlan plan = PlanShards(f.shard, f.out);
    const std::string& draws = plan.file;
    OutputPathCheck check;
    check.inputs = {{f.input->data, "--data"}};
    check.outputs = {{draws, "--out"}};
    check.overwrite = f.overwrite;
    const bool writes_report = !f.no_report && (plan.count <= 1 || plan.distributed) && plan.root();
    const std::string report = f.report.empty() ? DefaultReportPath(f.out) : f.report;
    if (writes_report) check.outputs.push_back({report, f.report.empty() ? "the report" : "--report"});
    check.resumable = check.outputs[0].path;
    if (f.resume) check.continued = {draws, report};
    if (!ConfigFilePath().empty()) check.inputs.push_back({ConfigFilePath(), "--config"});
    CheckOutputPaths(check);
  }
  const parallel::Context ctx(f.threads);
  const LoadedRegister reg = LoadRegister(*f.input, study_options, "", ctx);
  job.data_fingerprint = reg.fingerprint;
  const study::StudyResult result = study::RunStudy(reg.data, study_options, ctx);
  const ReplicationJobResult rep = RunReplicationJob(reg.data, result, job, ctx);
  if (!rep.root) return rep.interrupted ? kInterruptedExitCode : 0;  // rank 0 reports for the whole job

  if (!f.no_report && !rep.shard_only) {
    report::ReportContext rc;
    rc.data_description = reg.description;
    rc.command = command_line;
    rc.created = UtcIsoNow();
    rc.results_file = rep.file;
    const std::string path = f.report.empty() ? DefaultReportPath(f.out) : f.report;
    report::WriteReport(path, report::RenderStudyReport(result, rc, {&rep.summary, 1}));
    if (!f.quiet) std::printf("Report: %s\n", path.c_str());
  }
  if (!f.quiet) {
    PrintSummary(rep.summary);
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (rep.shard_only) std::printf("(the summary covers this shard's rows only: merge the shards with cwfx merge)\n");
    std::printf("Draws: %s\n(%lld replications computed in %.2f s, %.1f per second, %d threads; %.2f s in all)\n",
                rep.file.c_str(), static_cast<long long>(rep.run.computed), rep.run.seconds,
                rep.run.seconds > 0 ? static_cast<double>(rep.run.computed) / rep.run.seconds : 0.0, ctx.threads(),
                secs);
  }
  if (rep.interrupted) {
    std::fprintf(stderr,
                 "Interrupted: %lld of %lld replications are stored in %s; run the same command with --resume to "
                 "finish.\n",
                 static_cast<long long>(rep.summary.stored), static_cast<long long>(rep.summary.replications),
                 rep.file.c_str());
    return kInterruptedExitCode;
  }
  std::vector<std::string> warnings = result.warnings;
  if (rep.run.not_converged > 0) {
    warnings.push_back(std::to_string(rep.run.not_converged) + " replication(s) did not converge");
  }
  return ConvergenceExitCode(result.fit.absorb_summary.AllConverged(), warnings);
}

}  // namespace

Action AddReplicateCommand(CLI::App& app) {
  auto flags = std::make_shared<ReplicateFlags>();
  CLI::App* sub = app.add_subcommand(
      "replicate",
      "Bootstrap (pairs, bayes, wild) or permutation replications of the study, stored in an HDF5 draw file");
  sub->set_config("--config", "", "TOML file with any of these flags as keys (e.g. replications = 2000)");
  sub->add_option("--scheme", flags->scheme,
                  "pairs: resample citizens; bayes: Exp(1) weights per citizen; wild: wild cluster bootstrap by "
                  "citizen (design fixed); permute: caseworker labels permuted within strata")
      ->check(CLI::IsMember({"pairs", "bayes", "wild", "permute"}))
      ->capture_default_str();
  sub->add_option("--replications", flags->replications, "Number of replications B")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  sub->add_option("--seed", flags->seed, "Seed of the replications' random streams")->capture_default_str();
  sub->add_option("--threads", flags->threads, "Threads (0 = all cores)")->capture_default_str();
  sub->add_option("--out", flags->out, "Draw file (.h5); its journal is <out>.journal while the run is under way")
      ->required();
  sub->add_option("--report", flags->report, "HTML report (default: the draw file's name with .html)");
  sub->add_flag("--no-report", flags->no_report, "Do not write the HTML report");
  sub->add_flag("--resume", flags->resume,
                "Continue an interrupted run (same data, configuration and seed; B may grow)");
  sub->add_flag("--overwrite", flags->overwrite, "Delete an existing draw file and journal and start again");
  sub->add_option("--weights", flags->wild_weights, "Wild bootstrap multipliers (Webb with few clusters)")
      ->check(CLI::IsMember({"rademacher", "webb"}))
      ->capture_default_str();
  sub->add_option("--strata", flags->strata,
                  "Permutation strata columns (comma separated), e.g. job_centre_id,quarter")
      ->delimiter(',')
      ->capture_default_str();
  sub->add_option("--rank-draws", flags->rank_draws, "Parametric draws for the rank confidence sets")
      ->check(CLI::Range(100, 1000000))
      ->capture_default_str();
  sub->add_flag("--quiet", flags->quiet, "No progress and no summary");
  sub->add_option("--shard", flags->shard,
                  "Compute only shard i of n (rows r with r mod n = i; job arrays), e.g. 0/4; join the shards with "
                  "cwfx merge. Under mpirun the ranks split the run by themselves");
  AddStudyInputOptions(sub, flags->input, "--register-seed");
  return [flags] { return RunReplicateCommand(*flags, CommandLine()); };
}

}  // namespace cwfx::cli
