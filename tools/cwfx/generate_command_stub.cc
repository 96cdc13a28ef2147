// Placeholder until the generate subcommand is built: registers nothing.
#include "commands.h"

namespace cwfx::cli {
Action AddGenerateCommand(CLI::App&) { return [] { return 1; }; }
}  // namespace cwfx::cli
