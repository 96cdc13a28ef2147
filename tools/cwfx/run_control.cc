#include "run_control.h"

#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <memory>

namespace cwfx::cli {
namespace {

std::atomic<bool> g_stop{false};

extern "C" void OnStopSignal(int) {
  g_stop.store(true);
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
}

std::string Clock(double seconds) {
  if (!(seconds >= 0) || seconds > 1e7) return "--:--";
  const auto s = static_cast<long>(seconds + 0.5);
  char buf[32];
  if (s >= 3600) {
    std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
  } else {
    std::snprintf(buf, sizeof buf, "%ld:%02ld", s / 60, s % 60);
  }
  return buf;
}

}  // namespace

StopSignals::StopSignals() {
  g_stop.store(false);
  old_int_ = std::signal(SIGINT, OnStopSignal);
  old_term_ = std::signal(SIGTERM, OnStopSignal);
}

StopSignals::~StopSignals() {
  std::signal(SIGINT, old_int_);
  std::signal(SIGTERM, old_term_);
}

const std::atomic<bool>& StopRequested() { return g_stop; }

std::string DefaultReportPath(const std::string& out) {
  std::filesystem::path p(out);
  p.replace_extension(".html");
  return p.string();
}

replicate::ProgressCallback MakeProgressPrinter(const std::string& label, const std::string& unit, bool enabled) {
  if (!enabled) return {};
  const bool tty = isatty(fileno(stderr)) != 0;
  auto last_line = std::make_shared<double>(-1e9);
  return [label, unit, tty, last_line](const replicate::Progress& p) {
    const double rate = p.elapsed_seconds > 0 ? static_cast<double>(p.stored_this_run) / p.elapsed_seconds : 0;
    const double left = rate > 0 ? static_cast<double>(p.total - p.stored) / rate : -1;
    const double frac = p.total > 0 ? static_cast<double>(p.stored) / static_cast<double>(p.total) : 1;
    if (tty) {
      constexpr int kWidth = 30;
      const int fill = static_cast<int>(frac * kWidth);
      std::string bar(static_cast<size_t>(fill), '#');
      bar.append(static_cast<size_t>(kWidth - fill), '.');
      std::fprintf(stderr, "\r%s [%s] %lld/%lld %3.0f%%  %.1f/s  elapsed %s  left %s   ", label.c_str(),
                   bar.c_str(), static_cast<long long>(p.stored), static_cast<long long>(p.total), 100 * frac, rate,
                   Clock(p.elapsed_seconds).c_str(), Clock(left).c_str());
      if (p.final) std::fprintf(stderr, "\n");
      std::fflush(stderr);
    } else if (p.final || p.elapsed_seconds - *last_line >= 10.0) {
      *last_line = p.elapsed_seconds;
      std::fprintf(stderr, "%s: %lld/%lld %s stored (%.0f%%), %.1f/s, elapsed %s, left %s\n", label.c_str(),
                   static_cast<long long>(p.stored), static_cast<long long>(p.total), unit.c_str(), 100 * frac, rate,
                   Clock(p.elapsed_seconds).c_str(), Clock(left).c_str());
    }
  };
}

}  // namespace cwfx::cli
