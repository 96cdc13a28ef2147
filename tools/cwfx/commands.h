// Each subcommand of `cwfx` registers itself on the CLI11 app. A subcommand
// only maps flags onto a library options struct, calls the library once, and
// returns an exit code; errors are cwfx::Error, caught in main.cc.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <string>

namespace cwfx::cli {

// Register the subcommand and return the action to run when it is selected.
using Action = std::function<int()>;

// The command line as typed, for the provenance attributes of result files.
const std::string& CommandLine();

Action AddGenerateCommand(CLI::App& app);
Action AddEstimateCommand(CLI::App& app);
Action AddStudyCommand(CLI::App& app);

}  // namespace cwfx::cli
