// What each exit code of `cwfx` means: one meaning per code, so that a batch
// script can tell a bad register from a full disk (the README has the table).
#pragma once

#include "core/error.h"

namespace cwfx::cli {

inline constexpr int kSuccessExitCode = 0;
inline constexpr int kBadInputExitCode = 2;      // data, flags, config or paths are wrong
inline constexpr int kInternalExitCode = 3;      // a defect of cwfx (please report it)
inline constexpr int kNotConvergedExitCode = 4;  // results written, an iteration did not converge
inline constexpr int kInterruptedExitCode = 5;   // Ctrl-C/SIGTERM; finished draws kept (--resume)
inline constexpr int kComputationExitCode = 6;   // valid input, a numerical step failed (or out of memory)
inline constexpr int kWriteExitCode = 7;         // an output could not be written (disk full, I/O error)

int ErrorExitCode(ErrorKind kind);

}  // namespace cwfx::cli
