// cwfx: caseworker fixed effects from administrative registers.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>
#include <exception>
#include <new>
#include <string>
#include <utility>
#include <vector>

#include "commands.h"
#include "config_file.h"
#include "core/error.h"
#include "core/version.h"
#include "distribution.h"
#include "flag_limits.h"

namespace cwfx::cli {
namespace {
std::string g_command_line;
}
const std::string& CommandLine() { return g_command_line; }

const CLI::Validator& ExistingFileOrStdin() {
  static const CLI::Validator check(
      [](const std::string& path) { return path == "-" ? std::string() : CLI::ExistingFile(path); }, "FILE or -");
  return check;
}

int ErrorExitCode(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kComputation: return kComputationExitCode;
    case ErrorKind::kWrite: return kWriteExitCode;
    case ErrorKind::kBadInput: break;
  }
  return kBadInputExitCode;
}

int ConvergenceExitCode(bool absorption_converged, const std::vector<std::string>& warnings) {
  bool converged = absorption_converged;
  for (const auto& w : warnings) {
    if (w.find("did not converge") != std::string::npos) converged = false;
  }
  if (converged) return 0;
  std::fprintf(stderr,
               "cwfx: WARNING: an iterative step did not converge (see the warnings above); the "
               "results are stored but not trustworthy (exit code 4). Raise --max-iterations or "
               "loosen --tolerance.\n");
  return kNotConvergedExitCode;
}
}  // namespace cwfx::cli

namespace {
int RunMain(int argc, char** argv);
}

int main(int argc, char** argv) {
  cwfx::cli::StartDistribution(&argc, &argv);
  const int code = RunMain(argc, argv);
  cwfx::cli::StopDistribution();
  return code;
}

namespace {
int RunMain(int argc, char** argv) {
  for (int i = 0; i < argc; ++i) {
    cwfx::cli::g_command_line += (i ? " " : "") + std::string(argv[i]);
  }
  CLI::App app{"cwfx: caseworker (and citizen) fixed effects from administrative registers"};
  app.set_version_flag("--version", cwfx::kEngineVersion);
  app.require_subcommand(1);

  std::vector<std::pair<CLI::App*, cwfx::cli::Action>> actions;
  auto add = [&](cwfx::cli::Action (*adder)(CLI::App&)) {
    const size_t before = app.get_subcommands({}).size();
    cwfx::cli::Action action = adder(app);
    auto subs = app.get_subcommands({});
    if (subs.size() > before) actions.emplace_back(subs.back(), std::move(action));
  };
  add(&cwfx::cli::AddGenerateCommand);
  add(&cwfx::cli::AddEstimateCommand);
  add(&cwfx::cli::AddStudyCommand);
  add(&cwfx::cli::AddReplicateCommand);
  add(&cwfx::cli::AddSimulateCommand);
  add(&cwfx::cli::AddMergeCommand);
  cwfx::cli::AddFlagLimits(app);

  // --config FILE is expanded into flags here: CLI11 reads configuration
  // files only for the main program, not for subcommands.
  std::vector<std::string> args(argv + 1, argv + argc);
  try {
    args = cwfx::cli::ExpandConfigFile(app, args);
  } catch (const cwfx::Error& e) {
    std::fprintf(stderr, "cwfx: error: %s\n", e.what());
    return cwfx::cli::kBadInputExitCode;
  }
  std::reverse(args.begin(), args.end());  // CLI11 consumes a vector from its back
  try {
    app.parse(args);
  } catch (const CLI::ParseError& e) {
    // --help and --version are "errors" with exit code 0; every real parse
    // error (unknown flag, missing file, bad value) is bad input: exit 2.
    // A bad value that came from the config file: name the file and key.
    const std::string what = e.what();
    const std::string flag = what.substr(0, what.find(':'));
    if (e.get_exit_code() != 0 && flag.rfind("--", 0) == 0 && cwfx::cli::FlagFromConfigFile(flag)) {
      std::fprintf(stderr, "cwfx: error: %s\n",
                   cwfx::Error::Format({}, cwfx::cli::ConfigFilePath() + ": key '" + flag.substr(2) +
                                               "' (from the configuration file): " + what)
                       .c_str());
      return cwfx::cli::kBadInputExitCode;
    }
    const int code = app.exit(e);
    return code == 0 ? cwfx::cli::kSuccessExitCode : cwfx::cli::kBadInputExitCode;
  }
  try {
    for (auto& [sub, action] : actions) {
      if (sub->parsed()) return action();
    }
  } catch (const cwfx::Error& e) {
    const int code = cwfx::cli::ErrorExitCode(e.kind());
    std::fprintf(stderr, "cwfx: error: %s\n", e.what());
    cwfx::cli::AbortDistribution(code);
    return code;
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr,
                 "cwfx: error: out of memory: this run needs more memory than the machine has left "
                 "(use fewer --threads, a smaller problem, or a machine with more memory)\n");
    cwfx::cli::AbortDistribution(cwfx::cli::kComputationExitCode);
    return cwfx::cli::kComputationExitCode;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cwfx: unexpected error (a defect of cwfx; please report it): %s\n", e.what());
    cwfx::cli::AbortDistribution(cwfx::cli::kInternalExitCode);
    return cwfx::cli::kInternalExitCode;
  }
  return cwfx::cli::kInternalExitCode;
}
}  // namespace
