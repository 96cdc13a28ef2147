// cwfx estimate: one regression with absorbed fixed effects, from a register
// file to an HDF5 results file and a regression table on stdout.
#include <nlohmann/json.hpp>

#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "commands.h"
#include "config_file.h"
#include "core/error.h"
#include "core/output_paths.h"
#include "fit/design.h"
#include "fit/fit.h"
#include "parallel/parallel.h"
#include "results/fingerprint.h"
#include "results/fit_writer.h"
#include "store/table_store.h"

namespace cwfx::cli {
namespace {

// The process's peak resident memory so far (what GNU time's %M reports).
double PeakMemoryGiB() {
  struct rusage usage {};
  ::getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / (1024.0 * 1024.0);
}

struct EstimateFlags {
  std::string data;
  std::string out;
  std::string hdf5_group = "/register";
  std::string outcome;
  std::vector<std::string> covariates;
  std::vector<std::string> absorb;
  std::string cluster;
  std::string weights;
  std::string vcov = "auto";
  std::string missing = "error";
  std::string recovery = "absorption";
  std::string absorb_method = "auto";
  std::string fe_std_errors = "auto";
  int fe_std_error_projections = 200;
  std::string r2_without;
  double tolerance = 1e-8;
  int max_iterations = 10000;
  int threads = 0;
  bool keep_singletons = false;
  bool largest_component = false;
  bool residuals = false;
  bool compare_recoveries = false;
  bool quiet = false;
  bool overwrite = false;
};

fit::VcovType ParseVcov(const EstimateFlags& f) {
  if (f.vcov == "auto") return f.cluster.empty() ? fit::VcovType::kIid : fit::VcovType::kCluster;
  if (f.vcov == "iid") return fit::VcovType::kIid;
  if (f.vcov == "hc1") return fit::VcovType::kHC1;
  if (f.vcov == "cluster") {
    if (f.cluster.empty()) throw Error("--vcov cluster needs --cluster COLUMN");
    return fit::VcovType::kCluster;
  }
  throw Error("--vcov must be auto, iid, hc1 or cluster (got '" + f.vcov + "')");
}

int RunEstimate(const EstimateFlags& f, const std::string& command_line) {
  const auto t0 = std::chrono::steady_clock::now();
  fit::FitOptions options;
  options.vcov = ParseVcov(f);
  options.absorb.tolerance = f.tolerance;
  options.absorb.max_iterations = f.max_iterations;
  options.recovery = f.recovery == "sweeps"    ? fit::FeRecovery::kSweeps
                     : f.recovery == "cholmod" ? fit::FeRecovery::kCholmod
                                               : fit::FeRecovery::kAbsorption;
  options.absorb_method = f.absorb_method == "direct"      ? fit::AbsorbMethod::kDirect
                          : f.absorb_method == "iterative" ? fit::AbsorbMethod::kIterative
                                                           : fit::AbsorbMethod::kAuto;
  options.fixed_effect_std_errors = f.fe_std_errors != "none";
  options.fe_std_error_projections = f.fe_std_error_projections;
  if (f.fe_std_errors == "projections") options.max_levels_for_std_errors = 0;
  options.r2_without_factor = f.r2_without;
  if (options.r2_without_factor.empty() && f.absorb.size() == 1) options.r2_without_factor = f.absorb[0];
  options.compare_recoveries = f.compare_recoveries;
  options.keep_residuals = f.residuals;
  options.Validate();
  // Before any work: the results must not replace the register or an
  // existing file unasked, and their directory must take them.
  OutputPathCheck check;
  check.inputs = {{f.data, "--data"}};
  check.outputs = {{f.out, "--out"}};
  check.overwrite = f.overwrite;
  if (!ConfigFilePath().empty()) check.inputs.push_back({ConfigFilePath(), "--config"});
  CheckOutputPaths(check);

  // Read only the columns the model uses, so missing values elsewhere in the
  // register do not matter.
  store::ReadAnyOptions read;
  read.hdf5_group = f.hdf5_group;
  read.threads = f.threads;
  read.missing = f.missing == "drop" ? table::MissingPolicy::kDropRow : table::MissingPolicy::kError;
  auto add_column = [&read](const std::string& c) {
    if (c.empty()) return;
    for (const auto& have : read.columns)
      if (have == c) return;
    read.columns.push_back(c);
  };
  add_column(f.outcome);
  for (const auto& c : f.covariates) add_column(c);
  for (const auto& c : f.absorb) add_column(c);
  add_column(f.cluster);
  add_column(f.weights);
  table::ReadReport read_report;
  using Clock = std::chrono::steady_clock;
  auto since = [](Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); };
  auto t_stage = Clock::now();
  table::Table data = store::ReadAnyTable(f.data, read, &read_report);
  const double seconds_read = since(t_stage);
  const double peak_read = PeakMemoryGiB();
  t_stage = Clock::now();

  fit::DesignSpec spec;
  spec.outcome = f.outcome;
  spec.covariates = f.covariates;
  spec.absorb = f.absorb;
  spec.cluster = f.cluster;
  spec.weights = f.weights;
  spec.drop_singletons = !f.keep_singletons;
  spec.keep_largest_component = f.largest_component;
  fit::Design design = fit::BuildDesign(std::move(data), spec);  // frees the table as it goes
  const double seconds_design = since(t_stage);
  const double peak_design = PeakMemoryGiB();

  const parallel::Context ctx(f.threads);
  // The fit absorbs the design's outcome and covariates in place; the writer
  // needs only its names and input rows afterwards.
  const fit::FitResult result = fit::Fit(std::move(design), options, ctx);
  const double peak_fit = PeakMemoryGiB();

  nlohmann::json opts = {{"outcome", f.outcome},
                         {"covariates", f.covariates},
                         {"absorb", f.absorb},
                         {"cluster", f.cluster},
                         {"weights", f.weights},
                         {"vcov", fit::VcovName(options.vcov)},
                         {"missing", f.missing},
                         {"rows_dropped_missing", read_report.rows_dropped_missing},
                         {"drop_singletons", spec.drop_singletons},
                         {"keep_largest_component", spec.keep_largest_component},
                         {"tolerance", f.tolerance},
                         {"max_iterations", f.max_iterations},
                         {"recovery", f.recovery},
                         {"absorb_method", f.absorb_method},
                         {"backend", result.backend},
                         {"fe_std_errors", result.fe_std_error_method},
                         {"r2_without_factor", options.r2_without_factor},
                         {"hdf5_group", f.hdf5_group}};
  results::Provenance provenance{command_line, f.data, read_report.content_fingerprint.empty() ? results::FileFingerprint(f.data) : read_report.content_fingerprint, opts.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)};
  results::FitWriteOptions write_options;
  write_options.residuals = f.residuals;
  t_stage = Clock::now();
  results::WriteFitResult(f.out, design, result, provenance, write_options);
  const double seconds_write = since(t_stage);

  if (!f.quiet) {
    std::printf("%s", fit::FormatRegressionTable(result).c_str());
    if (read_report.rows_dropped_missing > 0) {
      std::printf("Rows dropped for missing values (--missing drop): %lld\n",
                  static_cast<long long>(read_report.rows_dropped_missing));
    }
    std::printf("Timings: read %.2f s, design %.2f s, backend %.2f s, absorption %.2f s, effects %.2f s, "
                "their standard errors %.2f s, fit in all %.2f s, write %.2f s\n",
                seconds_read, seconds_design, result.seconds_backend, result.seconds_absorb - result.seconds_backend,
                result.seconds_recover,
                result.seconds_std_errors, result.seconds_total, seconds_write);
    std::printf("Peak memory: %.2f GiB after reading, %.2f GiB after the design, %.2f GiB after the fit, "
                "%.2f GiB in all\n",
                peak_read, peak_design, peak_fit, PeakMemoryGiB());
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("Results written to %s (%.2f s, %d threads)\n", f.out.c_str(), secs, ctx.threads());
  }
  return ConvergenceExitCode(result.absorb_summary.AllConverged(), result.warnings);
}

}  // namespace

Action AddEstimateCommand(CLI::App& app) {
  auto flags = std::make_shared<EstimateFlags>();
  CLI::App* sub = app.add_subcommand(
      "estimate",
      "Regression with absorbed fixed effects: coefficients, standard errors, recovered effects "
      "(HDF5) and a regression table");
  sub->set_config("--config", "", "TOML/INI file with any of these flags as keys (e.g. outcome = \"y\")");
  sub->add_option("--data", flags->data, "Register file: .csv .tsv .h5 .dta .sav .sas7bdat .xpt; - reads CSV from standard input")
      ->required()
      ->check(ExistingFileOrStdin());
  sub->add_option("--out", flags->out, "Results file (.h5)")->required();
  sub->add_option("--outcome", flags->outcome, "Outcome column")->required();
  sub->add_option("--covariates", flags->covariates, "Covariate columns, comma separated")->delimiter(',');
  sub->add_option("--absorb", flags->absorb,
                  "Fixed-effect id columns, comma separated; the first gets standard errors")
      ->delimiter(',');
  sub->add_option("--cluster", flags->cluster, "Cluster id column for cluster-robust standard errors");
  sub->add_option("--weights", flags->weights, "Column of positive regression weights");
  sub->add_option("--vcov", flags->vcov, "auto (cluster if --cluster, else iid), iid, hc1, cluster")
      ->capture_default_str();
  sub->add_option("--missing", flags->missing, "A missing value in a used column: error or drop")
      ->check(CLI::IsMember({"error", "drop"}))
      ->capture_default_str();
  sub->add_option("--recovery", flags->recovery,
                  "Fixed-effect recovery: absorption (from the converged absorption, no extra solve), cholmod or sweeps")
      ->check(CLI::IsMember({"absorption", "cholmod", "sweeps"}))
      ->capture_default_str();
  sub->add_option("--absorb-method", flags->absorb_method,
                  "auto (the cheaper of direct and iterative by CHOLMOD's analysis), iterative (conjugate "
                  "gradient) or direct (CHOLMOD factor of the Schur complement, 2 factors)")
      ->check(CLI::IsMember({"auto", "iterative", "direct"}))
      ->capture_default_str();
  sub->add_option("--fe-std-errors", flags->fe_std_errors,
                  "Standard errors of the first factor's effects: auto (exact when cheap: one solve per level "
                  "up to the projection count, or selected inversion of a direct factor; else random projections), "
                  "projections (no selected inversion), none")
      ->check(CLI::IsMember({"auto", "projections", "none"}))
      ->capture_default_str();
  sub->add_option("--fe-std-error-projections", flags->fe_std_error_projections,
                  "Random projections for estimated effect standard errors (relative sd of each SE ~ 1/sqrt(2p))")
      ->check(CLI::Range(8, 100000))
      ->capture_default_str();
  sub->add_option("--r2-without", flags->r2_without,
                  "Also report R2 without this absorbed factor (default: the only factor)");
  sub->add_option("--tolerance", flags->tolerance, "Convergence tolerance of the absorption")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  sub->add_option("--max-iterations", flags->max_iterations, "Iteration cap of the absorption")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  sub->add_option("--threads", flags->threads, "Threads (0 = all cores)")->capture_default_str();
  sub->add_option("--group", flags->hdf5_group, "Table group in an HDF5 register")->capture_default_str();
  sub->add_flag("--keep-singletons", flags->keep_singletons, "Do not drop singleton observations");
  sub->add_flag("--largest-component", flags->largest_component,
                "Keep only the largest connected set of the factor graph");
  sub->add_flag("--residuals", flags->residuals, "Also store the residuals");
  sub->add_flag("--compare-recoveries", flags->compare_recoveries,
                "Recover effects both by CHOLMOD and by sweeps and report the largest difference");
  sub->add_flag("--quiet", flags->quiet, "Print nothing on success");
  sub->add_flag("--overwrite", flags->overwrite, "Replace an existing results file");

  return [flags] { return RunEstimate(*flags, CommandLine()); };
}

}  // namespace cwfx::cli
