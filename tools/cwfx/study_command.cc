// cwfx study: the whole study of REPORT.md, from a register (or the default
// synthetic one) to DIR/results.h5 and DIR/report.html, with a summary on stdout.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "commands.h"
#include "core/error.h"
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
  std::string data;
  std::string out;
  std::string hdf5_group = "/register";
  std::string missing = "error";
  uint64_t seed = 20170507;
  int threads = 0;
  int min_citizens = 10;
  int min_responses = 2;
  double tolerance = study::StudyOptions{}.absorb_tolerance;
  int max_iterations = study::StudyOptions{}.absorb_max_iterations;
  std::vector<std::string> absorb_extra;
  bool keep_first_response = false;
  bool citizen_effects = false;
  bool drop_singletons = false;
  std::vector<std::string> covariates;
  std::vector<std::string> categorical;
  bool categorical_set = false;
  bool quiet = false;
};

int RunStudyCommand(const StudyFlags& f, const std::string& command_line) {
  const auto t0 = std::chrono::steady_clock::now();
  study::StudyOptions options;
  options.sample.min_citizens_per_caseworker = f.min_citizens;
  options.sample.min_responses_per_citizen = f.min_responses;
  options.sample.drop_first_response = !f.keep_first_response;
  options.add_citizen_effects = f.citizen_effects;
  options.drop_singletons = f.drop_singletons;
  if (!f.covariates.empty()) options.covariates = f.covariates;
  if (f.categorical_set) options.categorical_covariates = f.categorical;
  options.absorb_tolerance = f.tolerance;
  options.absorb_max_iterations = f.max_iterations;
  options.extra_factors = f.absorb_extra;
  options.Validate();

  std::error_code ec;
  std::filesystem::create_directories(f.out, ec);
  if (ec) throw Error(Location{f.out, -1, ""}, "cannot create the output directory: " + ec.message());
  const std::string results_path = (std::filesystem::path(f.out) / "results.h5").string();
  const std::string report_path = (std::filesystem::path(f.out) / "report.html").string();

  const parallel::Context ctx(f.threads);
  table::Table data;
  std::string data_path, description;
  if (f.data.empty()) {
    const datagen::Register reg =
        datagen::Generate(datagen::GeneratorOptions::Preset("study"), f.seed, ctx);
    data_path = (std::filesystem::path(f.out) / "register.h5").string();
    datagen::WriteRegister(reg, data_path);
    data = reg.responses;
    description = "synthetic register (data_gen preset study, seed " + std::to_string(f.seed) + "), saved as " +
                  data_path;
  } else {
    data_path = f.data;
    description = f.data;
    // Every format alike: the missing policy covers the model's columns; the
    // S1/S2-S12 answers keep NaN, which each figure handles on its own.
    store::ReadAnyOptions read;
    read.missing = f.missing == "drop" ? table::MissingPolicy::kDropRow : table::MissingPolicy::kError;
    read.missing_policy_columns = options.ModelColumns();
    read.hdf5_group = f.hdf5_group;
    data = store::ReadAnyTable(f.data, read);
  }

  const study::StudyResult result = study::RunStudy(data, options, ctx);
  results::Provenance provenance{command_line, data_path, results::FileFingerprint(data_path), options.ToJson()};
  study::WriteStudyResults(results_path, result, provenance);
  report::ReportContext rc;
  rc.data_description = description;
  rc.command = command_line;
  rc.created = UtcIsoNow();
  rc.results_file = results_path;
  report::WriteReport(report_path, report::RenderStudyReport(result, rc));

  if (!f.quiet) {
    std::printf("%s", result.Summary().c_str());
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("Results: %s\nReport:  %s\n(%.2f s, %d threads)\n", results_path.c_str(), report_path.c_str(), secs,
                ctx.threads());
  }
  return ConvergenceExitCode(result.fit.absorb_summary.AllConverged(), result.warnings);
}

}  // namespace

Action AddStudyCommand(CLI::App& app) {
  auto flags = std::make_shared<StudyFlags>();
  CLI::App* sub = app.add_subcommand(
      "study", "The study of REPORT.md: ranking, quartiles, figures 1-19, Table 1; writes results.h5 and report.html");
  sub->set_config("--config", "", "TOML file with any of these flags as keys (e.g. min-citizens = 10)");
  sub->add_option("--data", flags->data,
                  "Register file (.h5 .csv .tsv .dta .sav .sas7bdat .xpt); default: generate the synthetic register")
      ->check(CLI::ExistingFile);
  sub->add_option("--out", flags->out, "Output directory (results.h5, report.html, and register.h5 if generated)")
      ->required();
  sub->add_option("--seed", flags->seed, "Seed of the synthetic register (without --data)")->capture_default_str();
  sub->add_option("--threads", flags->threads, "Threads (0 = all cores)")->capture_default_str();
  sub->add_option("--group", flags->hdf5_group, "Table group in an HDF5 register")->capture_default_str();
  sub->add_option("--missing", flags->missing,
                  "A missing value in a column the model uses (ids, date, outcome, covariates, B answers) is an "
                  "error or drops its row; missing S answers are always kept and handled per figure")
      ->check(CLI::IsMember({"error", "drop"}))
      ->capture_default_str();
  sub->add_option("--min-citizens", flags->min_citizens, "Keep caseworkers with at least this many citizens")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  sub->add_option("--min-responses", flags->min_responses, "Keep citizens with at least this many responses")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  sub->add_option("--tolerance", flags->tolerance, "Convergence tolerance of the absorption (2+ factors)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  sub->add_option("--max-iterations", flags->max_iterations, "Iteration cap of the absorption (2+ factors)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  sub->add_option("--absorb-extra", flags->absorb_extra,
                  "Further id columns absorbed as fixed effects (comma separated; no delta-method SEs then)")
      ->delimiter(',');
  sub->add_flag("--keep-first-response", flags->keep_first_response, "Do not drop each citizen's first response");
  sub->add_flag("--citizen-effects", flags->citizen_effects,
                "Two-way model: also absorb citizen fixed effects (no delta-method SEs then)");
  sub->add_flag("--drop-singletons", flags->drop_singletons, "Drop caseworkers/citizens with one observation");
  sub->add_option("--covariates", flags->covariates, "Numeric covariates (comma separated); default: the study's")
      ->delimiter(',');
  sub->add_option("--categorical", flags->categorical,
                  "Categorical covariates entered as dummies (default: ethnicity,education)")
      ->delimiter(',')
      ->each([flags](const std::string&) { flags->categorical_set = true; });
  sub->add_flag("--quiet", flags->quiet, "Print nothing on success");
  return [flags] { return RunStudyCommand(*flags, CommandLine()); };
}

}  // namespace cwfx::cli
