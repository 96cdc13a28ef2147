#include "flag_limits.h"

#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string>

namespace cwfx::cli {
namespace {

constexpr double kMaxThreads = 1024;
constexpr double kMaxCount = 1e7;
constexpr double kMaxResponses = 1e9;

// An integer in [lo, hi], written as digits or in exponent form (1e4).
CLI::Validator IntegerIn(double lo, double hi, const std::string& what) {
  return CLI::Validator(
      [lo, hi, what](const std::string& text) -> std::string {
        char* end = nullptr;
        errno = 0;
        const double v = std::strtod(text.c_str(), &end);
        if (text.empty() || end != text.c_str() + text.size() || errno != 0 || !std::isfinite(v) ||
            v != std::floor(v))
          return "expected a whole number, got '" + text + "'";
        if (v < lo || v > hi) return what;
        return std::string();
      },
      "", "integer range");
}

// A number strictly between 0 and 1 (a convergence tolerance: 1 or more
// would stop the iterations at once and report nonsense as converged).
CLI::Validator OpenUnitInterval(const std::string& what) {
  return CLI::Validator(
      [what](const std::string& text) -> std::string {
        char* end = nullptr;
        errno = 0;
        const double v = std::strtod(text.c_str(), &end);
        if (text.empty() || end != text.c_str() + text.size() || errno != 0 || !std::isfinite(v))
          return "expected a number, got '" + text + "'";
        if (!(v > 0 && v < 1)) return what;
        return std::string();
      },
      "", "number in (0, 1)");
}

// 0 to 2^64 - 1 in decimal digits: std::stoull would take "-1" as 2^64 - 1.
CLI::Validator Seed() {
  return CLI::Validator(
      [](const std::string& text) -> std::string {
        const std::string bad = "a seed is a whole number from 0 to 18446744073709551615, got '" + text + "'";
        if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos) return bad;
        errno = 0;
        (void)std::strtoull(text.c_str(), nullptr, 10);
        return errno == ERANGE ? bad : std::string();
      },
      "", "seed");
}

void AddLimits(CLI::App* app) {
  for (CLI::Option* opt : app->get_options()) {
    const std::string name = opt->get_name(false, true);
    if (name == "--threads") {
      opt->check(IntegerIn(0, kMaxThreads, "must be 0 (all cores) or a thread count from 1 to 1024"));
    } else if (name == "--seed" || (name.size() > 5 && name.ends_with("-seed"))) {
      opt->check(Seed());
    } else if (name == "--replications" || name == "--registers" || name == "--bootstrap" ||
               name == "--permutations" || name == "--inner-bootstrap" || name == "--inner-permutations" ||
               name == "--rank-draws") {
      opt->check(IntegerIn(0, kMaxCount, "must be from 0 to 10000000 (split larger runs with --shard i/n)"));
    } else if (name == "--tolerance") {
      opt->check(OpenUnitInterval("a tolerance must lie strictly between 0 and 1 (default 1e-8)"));
    } else if (name == "--responses") {
      opt->check(IntegerIn(1, kMaxResponses, "must be from 1 to 1000000000"));
    }
  }
  for (CLI::App* sub : app->get_subcommands({})) AddLimits(sub);
}

}  // namespace

void AddFlagLimits(CLI::App& app) { AddLimits(&app); }

}  // namespace cwfx::cli
