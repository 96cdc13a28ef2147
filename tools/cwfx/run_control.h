// What every long run of the command line shares: Ctrl-C / SIGTERM stop it
// cleanly (the work under way finishes and is stored; a second Ctrl-C ends the
// program at once, the journal keeps what was stored), and a progress display
// (a bar with rate and time left on a terminal, a status line every 10 s
// otherwise).
#pragma once

#include <atomic>
#include <string>

#include "replicate/runner.h"

namespace cwfx::cli {

// Installs the stop handlers for its lifetime; the flag is cleared on entry.
class StopSignals {
 public:
  StopSignals();
  ~StopSignals();
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

 private:
  void (*old_int_)(int);
  void (*old_term_)(int);
};

// The HTML report beside a results file: FILE.h5 -> FILE.html.
std::string DefaultReportPath(const std::string& out);

// Set by the handlers.
const std::atomic<bool>& StopRequested();

// label: the run's name ("pairs", "simulation"); unit: what is counted
// ("replications", "registers"). Returns an empty callback when disabled.
replicate::ProgressCallback MakeProgressPrinter(const std::string& label, const std::string& unit, bool enabled);

}  // namespace cwfx::cli
