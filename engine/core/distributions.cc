// Incomplete beta and gamma functions and the p-values built on them (see
// distributions.h for the algorithm and its source).
#include "core/distributions.h"

#include <cmath>
#include <limits>

namespace cwfx {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr int kMaxIter = 500;
constexpr double kEps = 1e-16;
constexpr double kTiny = 1e-300;

// Continued fraction of I_x(a, b) (converges fast for x < (a+1)/(a+b+2)),
// evaluated by the modified Lentz method.
double BetaFraction(double a, double b, double x) {
  double c = 1.0;
  double d = 1.0 - (a + b) * x / (a + 1.0);
  if (std::fabs(d) < kTiny) d = kTiny;
  d = 1.0 / d;
  double h = d;
  for (int m = 1; m <= kMaxIter; ++m) {
    const double m2 = 2.0 * m;
    // Even step.
    double num = m * (b - m) * x / ((a + m2 - 1.0) * (a + m2));
    d = 1.0 + num * d;
    if (std::fabs(d) < kTiny) d = kTiny;
    c = 1.0 + num / c;
    if (std::fabs(c) < kTiny) c = kTiny;
    d = 1.0 / d;
    h *= d * c;
    // Odd step.
    num = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1.0));
    d = 1.0 + num * d;
    if (std::fabs(d) < kTiny) d = kTiny;
    c = 1.0 + num / c;
    if (std::fabs(c) < kTiny) c = kTiny;
    d = 1.0 / d;
    const double delta = d * c;
    h *= delta;
    if (std::fabs(delta - 1.0) < kEps) break;
  }
  return h;
}

}  // namespace

double RegularizedIncompleteBeta(double a, double b, double x) {
  if (!(x > 0)) return 0.0;
  if (!(x < 1)) return 1.0;
  const double log_front =
      std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) + a * std::log(x) + b * std::log1p(-x);
  if (x < (a + 1.0) / (a + b + 2.0)) return std::exp(log_front) * BetaFraction(a, b, x) / a;
  return 1.0 - std::exp(log_front) * BetaFraction(b, a, 1.0 - x) / b;
}

double RegularizedGammaQ(double a, double x) {
  if (x <= 0) return 1.0;
  const double log_front = a * std::log(x) - x - std::lgamma(a);
  if (x < a + 1.0) {  // series for P(a, x)
    double term = 1.0 / a, sum = term;
    for (int n = 1; n <= kMaxIter; ++n) {
      term *= x / (a + n);
      sum += term;
      if (std::fabs(term) < std::fabs(sum) * kEps) break;
    }
    return 1.0 - sum * std::exp(log_front);
  }
  // Continued fraction for Q(a, x) (modified Lentz).
  double b = x + 1.0 - a;
  double c = 1.0 / kTiny;
  double d = 1.0 / b;
  double h = d;
  for (int i = 1; i <= kMaxIter; ++i) {
    const double an = -i * (i - a);
    b += 2.0;
    d = an * d + b;
    if (std::fabs(d) < kTiny) d = kTiny;
    c = b + an / c;
    if (std::fabs(c) < kTiny) c = kTiny;
    d = 1.0 / d;
    const double delta = d * c;
    h *= delta;
    if (std::fabs(delta - 1.0) < kEps) break;
  }
  return std::exp(log_front) * h;
}

double StudentTwoSidedP(double t, double dof) {
  if (std::isnan(t) || !(dof > 0)) return kNaN;
  if (!std::isfinite(t)) return 0.0;
  return RegularizedIncompleteBeta(dof / 2.0, 0.5, dof / (dof + t * t));
}

double NormalTwoSidedP(double z) {
  if (std::isnan(z)) return kNaN;
  return std::erfc(std::fabs(z) / std::sqrt(2.0));
}

double FUpperP(double f, double d1, double d2) {
  if (std::isnan(f) || !(d1 > 0)) return kNaN;
  if (f <= 0) return 1.0;
  if (!std::isfinite(f)) return 0.0;
  if (d2 <= 0) return RegularizedGammaQ(d1 / 2.0, d1 * f / 2.0);
  return RegularizedIncompleteBeta(d2 / 2.0, d1 / 2.0, d2 / (d2 + d1 * f));
}

}  // namespace cwfx
