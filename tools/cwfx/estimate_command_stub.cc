// Placeholder until the estimate subcommand is built: registers nothing.
#include "commands.h"

namespace cwfx::cli {
Action AddEstimateCommand(CLI::App&) { return [] { return 1; }; }
}  // namespace cwfx::cli
