// Each subcommand of `cwfx` registers itself on the CLI11 app. A subcommand
// only maps flags onto a library options struct, calls the library once, and
// returns an exit code; errors are cwfx::Error, caught in main.cc.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <string>
#include <vector>

#include "exit_codes.h"

namespace cwfx::cli {

// Register the subcommand and return the action to run when it is selected.
using Action = std::function<int()>;

// Non-convergence is a result, not an error, but scripts must see it: when the
// absorption did not converge, or a warning says another iterative step did
// not, print a warning and return exit code 4 (results are kept); else 0.
int ConvergenceExitCode(bool absorption_converged, const std::vector<std::string>& warnings);

// The command line as typed, for the provenance attributes of result files.
const std::string& CommandLine();

// --data's check: an existing file, or "-" for standard input (CSV).
const CLI::Validator& ExistingFileOrStdin();

Action AddGenerateCommand(CLI::App& app);
Action AddEstimateCommand(CLI::App& app);
Action AddStudyCommand(CLI::App& app);
Action AddReplicateCommand(CLI::App& app);
Action AddSimulateCommand(CLI::App& app);
Action AddMergeCommand(CLI::App& app);

}  // namespace cwfx::cli
