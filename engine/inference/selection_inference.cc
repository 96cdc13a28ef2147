// Conditional (polyhedral) and hybrid inference on the mean effect of a
// selected set (Lee, Sun, Sun and Taylor 2016; Andrews, Kitagawa and
// McCloskey 2024), as stated in selection_inference.h.
//
// CONVENTION: suffix _g length G (units), _gg G x G, _r length R (draws).
//
// Everything about the truncated normal is computed on the standardised
// scale x = (t - mu) / sd with the distances of t to the truncation points,
// dlo = (t - V-) / sd and dhi = (V+ - t) / sd, kept apart: the endpoints are
// x - dlo and x + dhi, and no formula ever subtracts two large, nearly equal
// standardised points. F(t; mu) is then G(x) = P(Z <= x | x - dlo <= Z <=
// x + dhi), increasing in x (decreasing in mu), and every root is found in x.
#include "inference/selection_inference.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <numbers>
#include <numeric>
#include <string>

#include "core/error.h"
#include "core/random_stream.h"
#include "inference/summaries.h"

namespace cwfx::inference {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
// Philox domain of the projection draws ("SELI"), apart from the generator's
// entity kinds, the replication schemes and the rank draws.
constexpr uint32_t kProjectionDrawDomain = 0x53454c49u;
// Asymmetry and negative eigenvalues beyond this share of max |Sigma| are not
// rounding: the matrix is not a covariance.
constexpr double kCovarianceTol = 1e-8;
// A row of the selection event involves t only when |c_k - c_j| exceeds this
// share of max |c| (below it the bound would be rounding noise).
constexpr double kConstraintTol = 1e-12;
// A unit's standard deviation counts as zero below this share of the largest.
constexpr double kZeroSdShare = 1e-12;
// Above this standardised point the Mills ratio comes from Laplace's
// continued fraction (erfc would underflow near 38).
constexpr double kMillsSwitch = 30.0;
// Bracket expansion: x up to 2^kMaxDoublings.
constexpr int kMaxDoublings = 64;
constexpr int kMaxBisections = 300;

const double kLogSqrt2Pi = 0.5 * std::log(2.0 * std::numbers::pi);

std::string Num(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", x);
  return buf;
}

// Phi(x) = 0.5 erfc(-x / sqrt 2).
double NormalCdf(double x) { return 0.5 * std::erfc(-x / std::numbers::sqrt2); }

// log M(u) for u >= 0, M(u) = Q(u) / phi(u) the Mills ratio.
double LogMills(double u) {
  if (u < kMillsSwitch) return std::log(0.5 * std::erfc(u / std::numbers::sqrt2)) + 0.5 * u * u + kLogSqrt2Pi;
  // M(u) = 1 / (u + 1 / (u + 2 / (u + 3 / (u + ...)))), evaluated bottom-up;
  // 40 levels are far beyond double precision at u >= 30.
  double f = u;
  for (int k = 40; k >= 1; --k) f = u + k / f;
  return -std::log(f);
}

// log Q(u), Q(u) = P(Z > u).
double LogUpperTail(double u) {
  if (u == kInf) return -kInf;
  if (u == -kInf) return 0.0;
  if (u < 0) return std::log(0.5 * std::erfc(u / std::numbers::sqrt2));
  return -0.5 * u * u - kLogSqrt2Pi + LogMills(u);
}

// log(Q(u) / Q(v)) for u >= v, with d = u - v >= 0 given accurately.
double LogTailRatio(double u, double v, double d) {
  if (u == kInf || d == kInf) return -kInf;
  if (v == -kInf) return LogUpperTail(u);
  if (v >= 0) return -0.5 * d * (u + v) + LogMills(u) - LogMills(v);
  return LogUpperTail(u) - LogUpperTail(v);
}

// G(x) = P(Z <= x | x - dlo <= Z <= x + dhi), Z standard normal, dlo, dhi >= 0
// (either may be infinite).
double TruncatedCdfStd(double x, double dlo, double dhi) {
  if (!(dlo > 0)) return 0.0;
  if (!(dhi > 0)) return 1.0;
  const double lo = x - dlo, hi = x + dhi;
  if (lo == -kInf && hi == kInf) return NormalCdf(x);
  const double width = dlo + dhi;
  double f;
  if (lo + hi >= 0) {
    // Mass in the upper tail: F = (Q(lo) - Q(x)) / (Q(lo) - Q(hi)).
    const double num = -std::expm1(LogTailRatio(x, lo, dlo));
    const double den = -std::expm1(LogTailRatio(hi, lo, width));
    f = den > 0 ? num / den : dlo / width;
  } else {
    // Mass in the lower tail: F = (Phi(x) - Phi(lo)) / (Phi(hi) - Phi(lo)),
    // Phi(u) = Q(-u).
    const double scale = std::exp(LogTailRatio(-x, -hi, dhi));
    const double num = -std::expm1(LogTailRatio(-lo, -x, dlo));
    const double den = -std::expm1(LogTailRatio(-lo, -hi, width));
    f = den > 0 ? scale * num / den : dlo / width;
  }
  return std::clamp(f, 0.0, 1.0);
}

// The x with g(x) = target for an increasing g, searched from [lo, hi]
// (expanded outwards by doubling when unbounded); -inf / +inf when g stays
// above / below the target everywhere it was evaluated.
template <class Fn>
double SolveIncreasing(Fn&& g, double target, double lo, double hi, bool expand) {
  if (expand) {
    double step = 1.0;
    int k = 0;
    while (g(lo) > target) {
      if (++k > kMaxDoublings) return -kInf;
      step *= 2.0;
      lo = -step;
    }
    step = 1.0;
    k = 0;
    while (g(hi) < target) {
      if (++k > kMaxDoublings) return kInf;
      step *= 2.0;
      hi = step;
    }
  }
  for (int it = 0; it < kMaxBisections; ++it) {
    const double mid = 0.5 * (lo + hi);
    if (mid <= lo || mid >= hi) break;
    if (g(mid) < target) {
      lo = mid;
    } else {
      hi = mid;
    }
  }
  return 0.5 * (lo + hi);
}

void CheckInput(const Eigen::VectorXd& psi_hat_g, const Eigen::MatrixXd& sigma_gg, std::span<const int32_t> selected,
                const Eigen::VectorXd& eta_g) {
  const Eigen::Index G = psi_hat_g.size();
  if (G < 2) throw Error("selection inference: need at least 2 estimates, got " + std::to_string(G));
  if (sigma_gg.rows() != G || sigma_gg.cols() != G)
    throw Error("selection inference: covariance is " + std::to_string(sigma_gg.rows()) + " x " +
                std::to_string(sigma_gg.cols()) + " for " + std::to_string(G) + " estimates");
  if (eta_g.size() != G)
    throw Error("selection inference: contrast has length " + std::to_string(eta_g.size()) + " for " +
                std::to_string(G) + " estimates");
  for (Eigen::Index g = 0; g < G; ++g) {
    if (!std::isfinite(psi_hat_g[g]))
      throw Error("selection inference: estimate " + std::to_string(g) + " is not finite (" + Num(psi_hat_g[g]) + ")");
    if (!std::isfinite(eta_g[g]))
      throw Error("selection inference: contrast entry " + std::to_string(g) + " is not finite");
  }
  if (!sigma_gg.allFinite()) throw ComputationError("selection inference: covariance has non-finite entries");
  const double scale = sigma_gg.cwiseAbs().maxCoeff();
  if (!(scale > 0)) throw Error("selection inference: covariance is zero");
  if ((sigma_gg - sigma_gg.transpose()).cwiseAbs().maxCoeff() > kCovarianceTol * scale)
    throw ComputationError("selection inference: covariance is not symmetric");
  for (Eigen::Index g = 0; g < G; ++g)
    if (sigma_gg(g, g) < 0)
      throw ComputationError("selection inference: covariance has a negative variance at " + std::to_string(g));

  const auto m = static_cast<Eigen::Index>(selected.size());
  if (m < 1 || m >= G)
    throw Error("selection inference: the selected set has " + std::to_string(m) + " of " + std::to_string(G) +
                " units; need between 1 and G - 1");
  std::vector<uint8_t> in(static_cast<size_t>(G), 0);
  for (int32_t j : selected) {
    if (j < 0 || j >= G)
      throw Error("selection inference: selected index " + std::to_string(j) + " outside [0, " + std::to_string(G) +
                  ")");
    if (in[static_cast<size_t>(j)]) throw Error("selection inference: selected index " + std::to_string(j) + " repeated");
    in[static_cast<size_t>(j)] = 1;
  }
  double min_in = kInf, max_out = -kInf;
  for (Eigen::Index g = 0; g < G; ++g) {
    if (in[static_cast<size_t>(g)]) {
      min_in = std::min(min_in, psi_hat_g[g]);
    } else {
      max_out = std::max(max_out, psi_hat_g[g]);
    }
  }
  if (min_in < max_out)
    throw Error("selection inference: the selected set is not the top " + std::to_string(m) +
                " of the estimates (a selected unit has " + Num(min_in) + " < " + Num(max_out) +
                " of an unselected one)");
}

// c_beta: the 1 - beta quantile of max_j |Z_j| / sd_j, Z ~ N(0, Sigma).
double ProjectionCriticalValue(const Eigen::MatrixXd& sym_gg, const Eigen::VectorXd& sd_g, double beta, int draws,
                               uint64_t seed) {
  const Eigen::Index G = sym_gg.rows();
  const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(sym_gg);
  if (eig.info() != Eigen::Success) throw ComputationError("selection inference: eigen-decomposition of the covariance failed");
  const double scale = sym_gg.cwiseAbs().maxCoeff();
  if (eig.eigenvalues().minCoeff() < -kCovarianceTol * scale)
    throw ComputationError("selection inference: covariance is not positive semi-definite (eigenvalue " +
                Num(eig.eigenvalues().minCoeff()) + ")");
  const Eigen::MatrixXd root_gg =
      eig.eigenvectors() * eig.eigenvalues().cwiseMax(0.0).cwiseSqrt().asDiagonal();
  const double sd_max = sd_g.maxCoeff();
  Eigen::VectorXd inv_sd_g(G);
  for (Eigen::Index g = 0; g < G; ++g) inv_sd_g[g] = sd_g[g] > kZeroSdShare * sd_max ? 1.0 / sd_g[g] : 0.0;

  random::Stream rng(seed, kProjectionDrawDomain, 0);
  constexpr Eigen::Index kBlock = 1024;
  std::vector<double> max_r;
  max_r.reserve(static_cast<size_t>(draws));
  Eigen::MatrixXd e(G, kBlock);
  for (int r0 = 0; r0 < draws; r0 += static_cast<int>(kBlock)) {
    const Eigen::Index nb = std::min<Eigen::Index>(kBlock, draws - r0);
    for (Eigen::Index b = 0; b < nb; ++b)
      for (Eigen::Index g = 0; g < G; ++g) e(g, b) = rng.Normal();
    const Eigen::MatrixXd z = root_gg * e.leftCols(nb);
    for (Eigen::Index b = 0; b < nb; ++b) max_r.push_back((z.col(b).cwiseAbs().cwiseProduct(inv_sd_g)).maxCoeff());
  }
  return Quantile(std::move(max_r), 1.0 - beta);
}

}  // namespace

void SelectionInferenceOptions::Validate() const {
  if (!(alpha > 0.0 && alpha < 1.0)) throw Error("selection inference: alpha = " + Num(alpha) + " outside (0, 1)");
  const double b = EffectiveBeta();
  if (!(b > 0.0 && b < alpha))
    throw Error("selection inference: beta = " + Num(b) + " must lie in (0, alpha = " + Num(alpha) + ")");
  if (projection_draws < 100)
    throw Error("selection inference: projection_draws = " + std::to_string(projection_draws) +
                ", need at least 100");
}

double NormalQuantile(double p) {
  if (!(p > 0.0 && p < 1.0)) throw Error("normal quantile: p = " + Num(p) + " outside (0, 1)");
  // Acklam's rational approximation (relative error 1.15e-9).
  static const double a[] = {-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
                             1.383577518672690e+02,  -3.066479806614716e+01, 2.506628277459239e+00};
  static const double b[] = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                             6.680131188771972e+01,  -1.328068155288572e+01};
  static const double c[] = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                             -2.549732539343734e+00, 4.374664141464968e+00,  2.938163982698783e+00};
  static const double d[] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                             3.754408661907416e+00};
  constexpr double kLow = 0.02425;
  double x;
  if (p < kLow) {
    const double q = std::sqrt(-2.0 * std::log(p));
    x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
        ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1.0);
  } else if (p <= 1.0 - kLow) {
    const double q = p - 0.5;
    const double r = q * q;
    x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
        (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1.0);
  } else {
    const double q = std::sqrt(-2.0 * std::log1p(-p));
    x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
        ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1.0);
  }
  // One Halley step on Phi(x) - p (Acklam's refinement), twice for safety.
  for (int k = 0; k < 2; ++k) {
    const double e = NormalCdf(x) - p;
    const double u = e * std::sqrt(2.0 * std::numbers::pi) * std::exp(0.5 * x * x);
    x = x - u / (1.0 + 0.5 * x * u);
  }
  return x;
}

double TruncatedNormalCdf(double t, double mu, double sd, double lower, double upper) {
  if (!(sd > 0) || !std::isfinite(sd)) throw Error("truncated normal: sd = " + Num(sd) + " must be positive");
  if (!(lower < upper) || std::isnan(t) || std::isnan(mu) || !std::isfinite(mu))
    throw Error("truncated normal: need lower < upper and finite t, mu");
  if (t <= lower) return 0.0;
  if (t >= upper) return 1.0;
  return TruncatedCdfStd((t - mu) / sd, (t - lower) / sd, (upper - t) / sd);
}

std::vector<int32_t> SelectTop(const Eigen::VectorXd& psi_g, int32_t count) {
  const auto G = static_cast<int32_t>(psi_g.size());
  if (count < 1 || count > G)
    throw Error("select top: count = " + std::to_string(count) + " outside [1, " + std::to_string(G) + "]");
  if (!psi_g.allFinite()) throw Error("select top: estimates must be finite");
  std::vector<int32_t> order(static_cast<size_t>(G));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) { return psi_g[a] > psi_g[b]; });
  order.resize(static_cast<size_t>(count));
  return order;
}

Eigen::VectorXd SelectedMeanContrast(std::span<const int32_t> selected, const Eigen::VectorXd& w_g) {
  const Eigen::Index G = w_g.size();
  if (selected.empty()) throw Error("selected mean contrast: the selected set is empty");
  if (!w_g.allFinite()) throw Error("selected mean contrast: weights must be finite");
  Eigen::VectorXd eta = -w_g;
  std::vector<uint8_t> seen(static_cast<size_t>(G), 0);
  for (int32_t j : selected) {
    if (j < 0 || j >= G)
      throw Error("selected mean contrast: index " + std::to_string(j) + " outside [0, " + std::to_string(G) + ")");
    if (seen[static_cast<size_t>(j)]) throw Error("selected mean contrast: index " + std::to_string(j) + " repeated");
    seen[static_cast<size_t>(j)] = 1;
    eta[j] += 1.0 / static_cast<double>(selected.size());
  }
  return eta;
}

SelectedMeanInference InferSelectedMean(const Eigen::VectorXd& psi_hat_g, const Eigen::MatrixXd& sigma_gg,
                                        std::span<const int32_t> selected, const Eigen::VectorXd& eta_g,
                                        const SelectionInferenceOptions& options) {
  options.Validate();
  CheckInput(psi_hat_g, sigma_gg, selected, eta_g);
  const Eigen::Index G = psi_hat_g.size();
  const Eigen::MatrixXd sym_gg = 0.5 * (sigma_gg + sigma_gg.transpose());

  SelectedMeanInference out;
  out.alpha = options.alpha;
  out.beta = options.EffectiveBeta();
  const Eigen::VectorXd sigma_eta = sym_gg * eta_g;
  const double s2 = eta_g.dot(sigma_eta);
  const double eta_scale = eta_g.cwiseAbs().maxCoeff();
  const double diag_scale = sym_gg.diagonal().maxCoeff();
  if (!(s2 > kCovarianceTol * eta_scale * eta_scale * diag_scale))
    throw ComputationError("selection inference: eta' Sigma eta = " + Num(s2) +
                " is not positive (the contrast has no sampling variance)");
  const double sd = std::sqrt(s2);
  const double t = eta_g.dot(psi_hat_g);
  out.estimate = t;
  out.std_error = sd;
  const double z = NormalQuantile(1.0 - options.alpha / 2.0);
  out.naive_lower = t - z * sd;
  out.naive_upper = t + z * sd;

  // Truncation: V- = t - min over (c_j > c_k) of (psi_j - psi_k) / (c_j - c_k),
  // V+ = t + min over (c_k > c_j) of (psi_j - psi_k) / (c_k - c_j), j in S,
  // k not in S: the same bounds as the lemma's (z_j - z_k) / (c_k - c_j), as
  // distances from t (no cancellation).
  const Eigen::VectorXd c_g = sigma_eta / s2;
  const double c_tol = kConstraintTol * c_g.cwiseAbs().maxCoeff();
  std::vector<uint8_t> in(static_cast<size_t>(G), 0);
  for (int32_t j : selected) in[static_cast<size_t>(j)] = 1;
  std::vector<int32_t> outside;
  for (Eigen::Index g = 0; g < G; ++g)
    if (!in[static_cast<size_t>(g)]) outside.push_back(static_cast<int32_t>(g));
  double dist_lo = kInf, dist_hi = kInf;  // (t - V-), (V+ - t) in raw units
  int64_t constraints = 0;
  for (int32_t j : selected) {
    for (int32_t k : outside) {
      const double dc = c_g[j] - c_g[k];
      if (std::abs(dc) <= c_tol) continue;
      ++constraints;
      const double gap = std::max(0.0, psi_hat_g[j] - psi_hat_g[k]);
      if (dc > 0) {
        dist_lo = std::min(dist_lo, gap / dc);
      } else {
        dist_hi = std::min(dist_hi, gap / -dc);
      }
    }
  }
  out.constraints = constraints;
  out.truncation_lower = t - dist_lo;
  out.truncation_upper = t + dist_hi;
  const double dlo = dist_lo / sd, dhi = dist_hi / sd;  // standardised distances

  // Conditional: roots of G(x) = p, mu = t - sd x.
  const bool degenerate = !(dlo > 0) || !(dhi > 0);  // t on a truncation point (an exact tie)
  auto cond = [&](double x) { return TruncatedCdfStd(x, dlo, dhi); };
  if (degenerate) {
    out.median_unbiased = kNaN;
    out.conditional_lower = -kInf;
    out.conditional_upper = kInf;
  } else {
    out.median_unbiased = t - sd * SolveIncreasing(cond, 0.5, -1.0, 1.0, true);
    out.conditional_lower = t - sd * SolveIncreasing(cond, 1.0 - options.alpha / 2.0, -1.0, 1.0, true);
    out.conditional_upper = t - sd * SolveIncreasing(cond, options.alpha / 2.0, -1.0, 1.0, true);
  }

  // Hybrid: projection of the 1 - beta simultaneous rectangle, then the
  // conditional test at level (alpha - beta) / (1 - beta) with the
  // truncation cut to the projection interval around mu.
  const Eigen::VectorXd sd_g = sym_gg.diagonal().cwiseMax(0.0).cwiseSqrt();
  const double c_beta =
      ProjectionCriticalValue(sym_gg, sd_g, out.beta, options.projection_draws, options.seed);
  const double h = eta_g.cwiseAbs().dot(sd_g);
  out.projection_critical_value = c_beta;
  out.projection_lower = t - c_beta * h;
  out.projection_upper = t + c_beta * h;
  const double C = c_beta * h / sd;  // half-width of the projection interval in sd units (>= c_beta)
  const double a_h = (options.alpha - out.beta) / (1.0 - out.beta);
  if (degenerate || !(C > 0)) {
    out.hybrid_estimate = kNaN;
    out.hybrid_lower = out.projection_lower;
    out.hybrid_upper = out.projection_upper;
  } else {
    // mu in [t - C sd, t + C sd] <=> x in [-C, C]; truncation distances
    // min(dlo, C + x) and min(dhi, C - x); G rises from 0 at -C to 1 at C.
    auto hyb = [&](double x) { return TruncatedCdfStd(x, std::min(dlo, C + x), std::min(dhi, C - x)); };
    out.hybrid_estimate = t - sd * SolveIncreasing(hyb, 0.5, -C, C, false);
    out.hybrid_lower = t - sd * SolveIncreasing(hyb, 1.0 - a_h / 2.0, -C, C, false);
    out.hybrid_upper = t - sd * SolveIncreasing(hyb, a_h / 2.0, -C, C, false);
  }
  return out;
}

}  // namespace cwfx::inference
