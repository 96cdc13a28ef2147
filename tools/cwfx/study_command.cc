// cwfx study: the whole study of REPORT.md, from a register (or the default
// synthetic one) to DIR/results.h5 and DIR/report.html, with a summary on stdout.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include <optional>

#include "commands.h"
#include "config_file.h"
#include "distribution.h"
#include "corrections/corrections.h"
#include "corrections/corrections_writer.h"
#include "replicate/problem.h"
#include "replication_job.h"
#include "study_input.h"
#include "core/error.h"
#include "core/output_paths.h"
#include "core/time_format.h"
#include "data_gen/generator.h"
#include "data_gen/register_io.h"
#include "parallel/parallel.h"
#include "report/report.h"
#include "results/fingerprint.h"
#include "store/h5_file.h"
#include "store/table_store.h"
#include "study/study.h"
#include "study/study_writer.h"

namespace cwfx::cli {
namespace {

struct StudyFlags {
  std::string out;
  int threads = 0;
  int64_t bootstrap = 0;
  int64_t permutations = 0;
  uint64_t replication_seed = 1;
  bool quiet = false;
  bool no_corrections = false;
  bool overwrite = false;
  int cross_fit_splits = 50;
  std::shared_ptr<StudyInputFlags> input = std::make_shared<StudyInputFlags>();
};

int RunStudyCommand(const StudyFlags& f, const std::string& command_line) {
  const auto t0 = std::chrono::steady_clock::now();
  if (DistributedSize() > 1)
    throw Error("cwfx study runs in one process; under mpirun, split replications with cwfx replicate");
  const study::StudyOptions options = MakeStudyOptions(*f.input);

  std::error_code ec;
  std::filesystem::create_directories(f.out, ec);
  if (ec) throw Error(Location{f.out, -1, ""}, "cannot create the output directory: " + ec.message());
  const std::string results_path = (std::filesystem::path(f.out) / "results.h5").string();
  const std::string report_path = (std::filesystem::path(f.out) / "report.html").string();
  {
    // Before any work: an earlier study's files are replaced only with
    // --overwrite, and none of them may be the register being read.
    const auto in_dir = [&f](const char* name) { return (std::filesystem::path(f.out) / name).string(); };
    OutputPathCheck check;
    check.inputs = {{f.input->data, "--data"}};
    check.outputs = {{results_path, "the results file"}, {report_path, "the report"}};
    check.overwrite = f.overwrite;
    if (f.input->data.empty()) check.outputs.push_back({in_dir("register.h5"), "the generated register"});
    if (f.bootstrap > 0) check.outputs.push_back({in_dir("bootstrap.h5"), "the bootstrap draws"});
    if (f.permutations > 0) check.outputs.push_back({in_dir("permutation.h5"), "the permutation draws"});
    if (!ConfigFilePath().empty()) check.inputs.push_back({ConfigFilePath(), "--config"});
    CheckOutputPaths(check);
  }

  const parallel::Context ctx(f.threads);
  const LoadedRegister reg =
      LoadRegister(*f.input, options, (std::filesystem::path(f.out) / "register.h5").string(), ctx);
  const table::Table& data = reg.data;
  const std::string& data_path = reg.path;
  const std::string& description = reg.description;

  const study::StudyResult result = study::RunStudy(data, options, ctx);

  // The corrections add to the study; when they cannot run (a fit that did
  // not converge, an unusual design), the study's results still stand.
  std::optional<corrections::CorrectionResult> corrected;
  std::string corrections_note;
  if (!f.no_corrections && !result.fit.absorb_summary.AllConverged()) {
    corrections_note = "corrections skipped: the study's absorption did not converge";
  } else if (!f.no_corrections) {
    corrections::CorrectionOptions co;
    co.seed = f.replication_seed;
    co.cross_fit_splits = f.cross_fit_splits;
    try {
      const replicate::ReplicationProblem problem = replicate::BuildProblem(data, result, {}, ctx);
      corrected = corrections::RunCorrections(problem, result, co, ctx);
    } catch (const Error& e) {
      corrections_note = std::string("corrections skipped: ") + e.what();
    }
  }
  if (!corrections_note.empty()) std::fprintf(stderr, "Note: %s\n", corrections_note.c_str());
  results::Provenance provenance{command_line, data_path, reg.fingerprint, options.ToJson()};
  study::WriteStudyResults(results_path, result, provenance, [&corrected](store::H5File& file) {
    if (corrected) corrections::WriteCorrections(file, *corrected);
  });

  // Replications: a fresh study run starts its draw files afresh.
  std::vector<ReplicationJobResult> replications;
  bool interrupted = false;
  for (const auto& [scheme, count, file] :
       {std::tuple{replicate::Scheme::kPairs, f.bootstrap, "bootstrap.h5"},
        std::tuple{replicate::Scheme::kPermute, f.permutations, "permutation.h5"}}) {
    if (count <= 0 || interrupted) continue;
    ReplicationJob job;
    job.options.scheme = scheme;
    job.options.replications = count;
    job.options.seed = f.replication_seed;
    job.out = (std::filesystem::path(f.out) / file).string();
    job.overwrite = true;
    job.show_progress = !f.quiet;
    job.data_fingerprint = reg.fingerprint;
    job.study_configuration_json = options.ToJson();
    replications.push_back(RunReplicationJob(data, result, job, ctx));
    interrupted = replications.back().interrupted;
  }
  std::vector<replicate::ReplicationSummary> summaries;
  for (const auto& r : replications) summaries.push_back(r.summary);

  report::ReportContext rc;
  rc.data_description = description;
  rc.command = command_line;
  rc.created = UtcIsoNow();
  rc.results_file = results_path;
  report::WriteReport(report_path,
                      report::RenderStudyReport(result, rc, summaries, corrected ? &*corrected : nullptr));

  if (!f.quiet) {
    std::printf("%s", result.Summary().c_str());
    if (corrected) {
      const auto& p = corrected->policy;
      std::printf("Policy gain corrected for the winner's curse (pp): naive %+.2f, EB normal %+.2f, EB NPMLE %+.2f, "
                  "cross-fit %+.2f [%+.2f, %+.2f], conditional %+.2f (hybrid interval [%+.2f, %+.2f])\n",
                  100 * p.naive, 100 * p.eb_normal, 100 * p.eb_npmle, 100 * p.cross_fit, 100 * p.cross_fit_lower,
                  100 * p.cross_fit_upper, 100 * p.conditional_median, 100 * p.hybrid_lower, 100 * p.hybrid_upper);
      std::printf("Variance of caseworker effects (pp^2): plug-in %.2f, leave-out (KSS) %.2f\n",
                  1e4 * corrected->variance.plugin, 1e4 * corrected->variance.kss);
      for (const auto& w : corrected->warnings) std::printf("Note: %s\n", w.c_str());
    }
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    for (const auto& r : replications) {
      std::printf("Replications (%s): %lld stored in %s\n", r.summary.scheme.c_str(),
                  static_cast<long long>(r.summary.stored), (std::filesystem::path(f.out) /
                  (r.summary.scheme == "pairs" ? "bootstrap.h5" : "permutation.h5")).string().c_str());
    }
    std::printf("Results: %s\nReport:  %s\n(%.2f s, %d threads)\n", results_path.c_str(), report_path.c_str(), secs,
                ctx.threads());
  }
  if (interrupted) {
    std::fprintf(stderr, "Interrupted: the replications stored so far are kept; rerun to start them again, or "
                         "continue one with cwfx replicate --resume.\n");
    return kInterruptedExitCode;
  }
  return ConvergenceExitCode(result.fit.absorb_summary.AllConverged(), result.warnings);
}

}  // namespace

Action AddStudyCommand(CLI::App& app) {
  auto flags = std::make_shared<StudyFlags>();
  CLI::App* sub = app.add_subcommand(
      "study", "The study of REPORT.md: ranking, quartiles, figures 1-19, Table 1; writes results.h5 and report.html");
  sub->set_config("--config", "", "TOML file with any of these flags as keys (e.g. min-citizens = 10)");
  sub->add_option("--out", flags->out,
                  "Output directory (results.h5, report.html, register.h5 if generated, bootstrap.h5 and "
                  "permutation.h5 with replications)")
      ->required();
  sub->add_option("--threads", flags->threads, "Threads (0 = all cores)")->capture_default_str();
  sub->add_option("--bootstrap", flags->bootstrap,
                  "Pairs-bootstrap replications (resampling citizens) for ranking stability and standard errors")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  sub->add_option("--permutations", flags->permutations,
                  "Permutations of caseworker labels within job centre (test of no caseworker effects)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  sub->add_option("--replication-seed", flags->replication_seed, "Seed of the replications' random streams")
      ->capture_default_str();
  AddStudyInputOptions(sub, flags->input, "--seed");
  sub->add_flag("--quiet", flags->quiet, "Print nothing on success");
  sub->add_flag("--overwrite", flags->overwrite, "Replace the files of an earlier study in the output directory");
  sub->add_flag("--no-corrections", flags->no_corrections,
                "Skip the corrections (empirical Bayes shrinkage, leave-out variance, winner's-curse corrections)");
  sub->add_option("--cross-fit-splits", flags->cross_fit_splits,
                  "Random citizen splits of the cross-fitted policy gain (0 = none)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  return [flags] { return RunStudyCommand(*flags, CommandLine()); };
}

}  // namespace cwfx::cli
