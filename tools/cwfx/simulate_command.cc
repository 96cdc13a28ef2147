// cwfx simulate: a Monte Carlo study over synthetic registers with known
// truth (simulate/simulation.h), streamed to an HDF5 file (resumable) and
// summarised on stdout and in an HTML page.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <exception>

#include "commands.h"
#include "config_file.h"
#include "distribution.h"
#include "core/error.h"
#include "core/time_format.h"
#include "replication_job.h"
#include "core/output_paths.h"
#include "report/report.h"
#include "report/simulation_report.h"
#include "run_control.h"
#include "simulate/simulation.h"
#include "store/draw_file.h"

namespace cwfx::cli {
namespace {

struct SimulateFlags {
  int64_t registers = 500;
  uint64_t seed = 1;
  int threads = 0;
  std::string out;
  std::string report;
  bool no_report = false;
  bool resume = false;
  bool overwrite = false;
  std::string preset = "simulation";
  std::vector<std::string> grid;   // "parameter=v1,v2,..."
  std::vector<std::string> set;    // "parameter=value"
  int inner_bootstrap = 0;
  int inner_permutations = 0;
  int cross_fit_splits = 20;
  bool quiet = false;
  std::string shard;
};

std::pair<std::string, std::vector<double>> ParseAssignment(const std::string& text, const std::string& flag) {
  const auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == text.size())
    throw Error(Location{flag, -1, text}, "expected parameter=value[,value...]");
  std::vector<double> values;
  std::string rest = text.substr(eq + 1);
  size_t pos = 0;
  while (pos <= rest.size()) {
    const size_t comma = rest.find(',', pos);
    const std::string item = rest.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    size_t used = 0;
    double v = 0;
    try {
      v = std::stod(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != item.size()) throw Error(Location{flag, -1, text}, "'" + item + "' is not a number");
    values.push_back(v);
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  return {text.substr(0, eq), values};
}

void PrintSummary(const simulate::SimulationSummary& s) {
  std::printf("Simulation: %lld of %lld registers stored (%s)\n", static_cast<long long>(s.stored),
              static_cast<long long>(s.total), s.status.c_str());
  const auto col = [&](const simulate::PointSummary& p, const char* name, double scale) {
    const int k = s.MetricIndex(name);
    return std::pair{scale * p.mean[static_cast<size_t>(k)], scale * p.std_error[static_cast<size_t>(k)]};
  };
  for (const auto& p : s.points) {
    std::printf("Grid point");
    for (size_t a = 0; a < s.axes.size(); ++a) std::printf(" %s=%g", s.axes[a].c_str(), p.grid[a]);
    std::printf(" (%lld registers, %lld failed)\n", static_cast<long long>(p.registers),
                static_cast<long long>(p.failed));
    const auto line = [&](const char* label, const char* name, double scale, const char* unit) {
      const auto [m, se] = col(p, name, scale);
      std::printf("  %-44s %8.3f%s (MC s.e. %.3f)\n", label, m, unit, se);
    };
    line("naive gain (Table 1's increase)", "gain_naive", 100, " pp");
    line("true gain of the estimated top quartile", "gain_true", 100, " pp");
    line("oracle gain (true top quartile)", "gain_oracle", 100, " pp");
    line("EB gain (normal prior)", "gain_eb_normal", 100, " pp");
    line("EB gain (NPMLE prior)", "gain_eb_npmle", 100, " pp");
    line("cross-fit gain", "gain_cross_fit", 100, " pp");
    line("true gain of the half-sample selections", "gain_true_half", 100, " pp");
    line("conditional (median-unbiased) gain", "gain_conditional", 100, " pp");
    line("coverage: naive 95% interval", "cover_naive", 1, "");
    line("coverage: cross-fit 95% interval (its target)", "cover_cross_fit", 1, "");
    line("coverage: cross-fit 95% interval (true gain)", "cover_cross_fit_full", 1, "");
    line("coverage: conditional 95% interval", "cover_conditional", 1, "");
    line("coverage: hybrid 95% interval", "cover_hybrid", 1, "");
    line("true top quartile classified top quartile", "top_hit_raw", 1, "");
    line("rank correlation with truth", "corr_spearman", 1, "");
    line("marginal rank sets covering the true rank", "rank_cover_marginal", 1, "");
    line("variance of effects: true", "var_true", 1e4, " pp2");
    line("variance of effects: plug-in", "var_plugin", 1e4, " pp2");
    line("variance of effects: leave-out (KSS)", "var_kss", 1e4, " pp2");
  }
}

int RunSimulateCommand(const SimulateFlags& f, const std::string& command_line) {
  simulate::SimulationOptions o;
  if (f.preset != "simulation") o.generator = datagen::GeneratorOptions::Preset(f.preset);
  // citizens_per_caseworker reads num_citizens: it goes last.
  for (int pass = 0; pass < 2; ++pass) {
    for (const auto& s : f.set) {
      const auto [name, values] = ParseAssignment(s, "--set");
      if (values.size() != 1) throw Error(Location{"--set", -1, s}, "expected one value");
      if ((name == "citizens_per_caseworker") == (pass == 1)) simulate::ApplyParameter(o.generator, name, values[0]);
    }
  }
  for (const auto& g : f.grid) {
    const auto [name, values] = ParseAssignment(g, "--grid");
    o.grid.push_back({name, values});
  }
  o.registers = f.registers;
  o.seed = f.seed;
  o.inner_bootstrap = f.inner_bootstrap;
  o.inner_permutations = f.inner_permutations;
  o.corrections.cross_fit_splits = f.cross_fit_splits;
  o.Validate();

  const ShardPlan plan = PlanShards(f.shard, f.out);
  {
    OutputPathCheck check;
    check.outputs = {{plan.file, "--out"}};
    check.overwrite = f.overwrite;
    const std::string report = f.report.empty() ? DefaultReportPath(f.out) : f.report;
    if (!f.no_report && (plan.count <= 1 || plan.distributed) && plan.root())
      check.outputs.push_back({report, f.report.empty() ? "the report" : "--report"});
    check.resumable = check.outputs[0].path;
    if (f.resume) check.continued = {plan.file, report};
    if (!ConfigFilePath().empty()) check.inputs.push_back({ConfigFilePath(), "--config"});
    CheckOutputPaths(check);
  }
  if (f.overwrite && !f.resume) store::RemoveDrawFiles(plan.file);
  const parallel::Context ctx(f.threads);
  store::DrawFileOptions file_options;
  file_options.shard_index = plan.index;
  file_options.shard_count = plan.count;
  const replicate::RecordFunction compute = [&o](int64_t r, const parallel::Context& inner) {
    const simulate::RegisterRow row = simulate::SimulateRegister(o, r, inner);
    return replicate::ComputedRecord{simulate::ToDrawRecord(r, row),
                                     row.failed ? replicate::DrawStatus::kFailed : replicate::DrawStatus::kOk};
  };
  replicate::RunReport run;
  bool ok = false;
  std::exception_ptr error;
  try {
    store::DrawWriter writer =
        store::DrawWriter::Open(plan.file, simulate::MakeSimulationIdentity(o), o.registers, f.resume, file_options);
    {
      const StopSignals signals;
      const std::string label =
          plan.count > 1 ? "simulation " + std::to_string(plan.index) + "/" + std::to_string(plan.count) : "simulation";
      run = replicate::RunRecords(compute, writer, StopRequested(),
                                  MakeProgressPrinter(label, "registers", !f.quiet && plan.root()), ctx);
    }
    if (run.interrupted) {
      writer.Interrupt();
    } else {
      writer.Finish();
    }
    ok = !run.interrupted;
  } catch (...) {
    error = std::current_exception();  // after the ranks have agreed, so none waits forever
  }
  const bool merged = GatherShards(plan, f.out, ok);
  if (error) std::rethrow_exception(error);
  if (!plan.root()) return merged ? 0 : kInterruptedExitCode;
  if (plan.distributed) run.interrupted = !merged;
  const std::string file = plan.distributed && merged ? f.out : plan.file;
  const bool shard_only = plan.count > 1 && !(plan.distributed && merged);
  const simulate::SimulationSummary summary = simulate::SummariseSimulation(store::ReadDraws(file));
  if (!f.no_report && !shard_only) {
    report::SimulationReportContext rc;
    rc.command = command_line;
    rc.created = UtcIsoNow();
    rc.results_file = file;
    const std::string path = f.report.empty() ? DefaultReportPath(f.out) : f.report;
    report::WriteReport(path, report::RenderSimulationReport(summary, rc));
    if (!f.quiet) std::printf("Report: %s\n", path.c_str());
  }
  if (!f.quiet) {
    PrintSummary(summary);
    if (shard_only) std::printf("(this shard's registers only: merge the shards with cwfx merge)\n");
    std::printf("Results: %s\n(%lld registers computed in %.1f s, %.2f per second, %d threads)\n", file.c_str(),
                static_cast<long long>(run.computed), run.seconds,
                run.seconds > 0 ? static_cast<double>(run.computed) / run.seconds : 0.0, ctx.threads());
    if (run.failed > 0) std::printf("Note: %lld register(s) failed (stored with status 2)\n", static_cast<long long>(run.failed));
  }
  if (run.interrupted) {
    std::fprintf(stderr,
                 "Interrupted: %lld of %lld registers are stored in %s; run the same command with --resume to "
                 "finish.\n",
                 static_cast<long long>(summary.stored), static_cast<long long>(summary.total), file.c_str());
    return kInterruptedExitCode;
  }
  return 0;
}

}  // namespace

Action AddSimulateCommand(CLI::App& app) {
  auto flags = std::make_shared<SimulateFlags>();
  CLI::App* sub = app.add_subcommand(
      "simulate",
      "Monte Carlo study over synthetic registers with known truth: bias and coverage of the study's estimators "
      "and of their corrections");
  sub->set_config("--config", "", "TOML file with any of these flags as keys (e.g. grid = [\"sorting=-0.3,0,0.3\"])");
  sub->add_option("--registers", flags->registers, "Number of registers M (spread evenly over the grid points)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  sub->add_option("--seed", flags->seed, "Seed; register r is a pure function of (configuration, seed, r)")
      ->capture_default_str();
  sub->add_option("--threads", flags->threads, "Threads (0 = all cores)")->capture_default_str();
  sub->add_option("--out", flags->out, "Results file (.h5); its journal is <out>.journal while the run is under way")
      ->required();
  sub->add_option("--report", flags->report, "HTML report (default: the results file's name with .html)");
  sub->add_flag("--no-report", flags->no_report, "Do not write the HTML report");
  sub->add_flag("--resume", flags->resume, "Continue an interrupted run (same configuration and seed; M may grow)");
  sub->add_flag("--overwrite", flags->overwrite, "Delete an existing results file and journal and start again");
  sub->add_option("--preset", flags->preset,
                  "Base register: simulation (the study's shape, continuous outcome with noise sd 0.355, effect sd "
                  "0.084: the linear model's truth is known), study (the binary outcome, clipped at 0 and 1) or large")
      ->check(CLI::IsMember({"simulation", "study", "large"}))
      ->capture_default_str();
  std::string names;
  for (const auto& n : simulate::GridParameters()) names += (names.empty() ? "" : ", ") + n;
  sub->add_option("--grid", flags->grid,
                  "A grid axis, parameter=v1,v2,... (repeat for a full factorial); parameters: " + names);
  sub->add_option("--set", flags->set, "Fix a base generator parameter, parameter=value (same names)");
  sub->add_option("--inner-bootstrap", flags->inner_bootstrap, "Pairs-bootstrap replications per register")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  sub->add_option("--inner-permutations", flags->inner_permutations,
                  "Permutations within job centre per register (p-values of no caseworker effects)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  sub->add_option("--cross-fit-splits", flags->cross_fit_splits, "Citizen splits of the cross-fitted gain")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  sub->add_flag("--quiet", flags->quiet, "No progress and no summary");
  sub->add_option("--shard", flags->shard,
                  "Compute only shard i of n (registers r with r mod n = i; job arrays), e.g. 0/4; join the shards "
                  "with cwfx merge. Under mpirun the ranks split the run by themselves");
  return [flags] { return RunSimulateCommand(*flags, CommandLine()); };
}

}  // namespace cwfx::cli
