// Range checks shared by every subcommand's flags of one kind, attached by
// name after the commands are built, so that one rule covers them all:
//   --threads              0 (all cores) to 1024
//   seeds (--seed, --*-seed)  an integer from 0 to 2^64 - 1, as written
//                          (no wrap-around of -1, no clamping of 2^64)
//   counts of replications, registers, permutations and rank draws
//                          0 to 10,000,000 (larger runs: split with --shard)
//   --responses            1 to 1,000,000,000
// A value outside its range is a usage error (exit 2) before any work, not
// an allocation that runs until memory is exhausted.
#pragma once

#include <CLI/CLI.hpp>

namespace cwfx::cli {

void AddFlagLimits(CLI::App& app);

}  // namespace cwfx::cli
