// Summaries of replication draws (see summaries.h and ../shared/METHODS.md
// section 6). Missing values: NaN marks a draw a replication could not
// produce. Quantile and SummariseDraws use the finite draws, DrawCovariance
// the rows where both columns are finite, PermutationPValue skips NaN only
// (an infinite statistic is a legitimate extreme).
//
// CONVENTION: suffix _r length R (replications), _g length G (units),
// _rg R x G (rows = replications).
#include "inference/summaries.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "core/error.h"

namespace cwfx::inference {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::string Num(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", x);
  return buf;
}

std::vector<double> FiniteOnly(std::span<const double> draws) {
  std::vector<double> kept;
  kept.reserve(draws.size());
  for (double x : draws)
    if (std::isfinite(x)) kept.push_back(x);
  return kept;
}

// Two-pass covariance of columns a and b over the rows where both are finite
// (R's cov(use = "pairwise.complete.obs")); NaN with fewer than 2 such rows.
double PairwiseCovariance(const Eigen::MatrixXd& draws_rg, Eigen::Index a, Eigen::Index b) {
  const Eigen::Index R = draws_rg.rows();
  double sum_a = 0, sum_b = 0;
  int64_t n = 0;
  for (Eigen::Index r = 0; r < R; ++r) {
    const double x = draws_rg(r, a), y = draws_rg(r, b);
    if (!std::isfinite(x) || !std::isfinite(y)) continue;
    sum_a += x;
    sum_b += y;
    ++n;
  }
  if (n < 2) return kNaN;
  const double mean_a = sum_a / static_cast<double>(n), mean_b = sum_b / static_cast<double>(n);
  double cross = 0;
  for (Eigen::Index r = 0; r < R; ++r) {
    const double x = draws_rg(r, a), y = draws_rg(r, b);
    if (!std::isfinite(x) || !std::isfinite(y)) continue;
    cross += (x - mean_a) * (y - mean_b);
  }
  return cross / static_cast<double>(n - 1);
}

}  // namespace

// R's quantile(type = 7), including its order of operations: index
// h = 1 + (n - 1) p, the lower order statistic, and (1 - f) x_lo + f x_hi
// only where x_hi differs from x_lo. NaN values are skipped; an empty input
// gives NaN.
double Quantile(std::vector<double> values, double p) {
  if (!(p >= 0.0 && p <= 1.0)) throw Error("Quantile: probability " + Num(p) + " outside [0, 1]");
  values.erase(std::remove_if(values.begin(), values.end(), [](double x) { return std::isnan(x); }), values.end());
  const size_t n = values.size();
  if (n == 0) return kNaN;
  const double index = 1.0 + static_cast<double>(n - 1) * p;
  const double lo = std::floor(index);
  const auto lo_at = static_cast<size_t>(lo) - 1;
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(lo_at), values.end());
  const double x_lo = values[lo_at];
  if (!(index > lo)) return x_lo;
  // The next order statistic is the smallest value above position lo_at.
  const double x_hi = *std::min_element(values.begin() + static_cast<std::ptrdiff_t>(lo_at) + 1, values.end());
  if (x_hi == x_lo) return x_lo;
  const double f = index - lo;
  return (1.0 - f) * x_lo + f * x_hi;
}

ScalarSummary SummariseDraws(const std::string& name, double estimate, std::span<const double> draws, double alpha) {
  if (!(alpha > 0.0 && alpha < 1.0)) throw Error("SummariseDraws('" + name + "'): alpha = " + Num(alpha) + " outside (0, 1)");
  ScalarSummary s;
  s.name = name;
  s.estimate = estimate;
  const std::vector<double> kept = FiniteOnly(draws);
  s.draws = static_cast<int64_t>(kept.size());
  if (kept.size() < 2) {
    s.mean = s.std_error = s.lower = s.upper = kNaN;
    return s;
  }
  const auto B = static_cast<double>(kept.size());
  double sum = 0;
  for (double x : kept) sum += x;
  s.mean = sum / B;
  double ss = 0;
  for (double x : kept) ss += (x - s.mean) * (x - s.mean);
  s.std_error = std::sqrt(ss / (B - 1.0));
  s.lower = Quantile(kept, alpha / 2.0);
  s.upper = Quantile(kept, 1.0 - alpha / 2.0);
  return s;
}

// Columns without missing draws (the usual case) share one centred product;
// only pairs touching a column with missing draws take the pairwise loop.
Eigen::MatrixXd DrawCovariance(const Eigen::MatrixXd& draws_rg) {
  const Eigen::Index R = draws_rg.rows(), G = draws_rg.cols();
  Eigen::MatrixXd cov_gg = Eigen::MatrixXd::Constant(G, G, kNaN);
  std::vector<Eigen::Index> complete, partial;
  for (Eigen::Index g = 0; g < G; ++g) (draws_rg.col(g).allFinite() ? complete : partial).push_back(g);

  if (R >= 2 && !complete.empty()) {
    const auto C = static_cast<Eigen::Index>(complete.size());
    Eigen::MatrixXd centred_rc(R, C);
    for (Eigen::Index i = 0; i < C; ++i) {
      const auto col = draws_rg.col(complete[static_cast<size_t>(i)]);
      centred_rc.col(i) = col.array() - col.mean();
    }
    const Eigen::MatrixXd block = centred_rc.transpose() * centred_rc / static_cast<double>(R - 1);
    for (Eigen::Index i = 0; i < C; ++i)
      for (Eigen::Index k = 0; k < C; ++k) cov_gg(complete[static_cast<size_t>(i)], complete[static_cast<size_t>(k)]) = block(i, k);
  }
  for (Eigen::Index a : partial) {
    for (Eigen::Index b = 0; b < G; ++b) {
      const double c = PairwiseCovariance(draws_rg, a, b);
      cov_gg(a, b) = c;
      cov_gg(b, a) = c;
    }
  }
  return cov_gg;
}

// A unit present in no replication gets a row of NaN (its shares are undefined).
Eigen::MatrixXd QuartileStability(const Eigen::MatrixXi& quartile_rg) {
  const Eigen::Index R = quartile_rg.rows(), G = quartile_rg.cols();
  Eigen::MatrixXd share_g4 = Eigen::MatrixXd::Zero(G, 4);
  for (Eigen::Index g = 0; g < G; ++g) {
    int64_t present = 0;
    for (Eigen::Index r = 0; r < R; ++r) {
      const int q = quartile_rg(r, g);
      if (q < 0 || q > 4)
        throw Error("QuartileStability: replication " + std::to_string(r) + ", unit " + std::to_string(g) +
                    " has quartile " + std::to_string(q) + ", expected 1..4 or 0 (absent)");
      if (q == 0) continue;
      share_g4(g, q - 1) += 1.0;
      ++present;
    }
    if (present == 0) {
      share_g4.row(g).setConstant(kNaN);
    } else {
      share_g4.row(g) /= static_cast<double>(present);
    }
  }
  return share_g4;
}

double PermutationPValue(double observed, std::span<const double> null_draws) {
  if (std::isnan(observed)) return kNaN;
  int64_t used = 0, as_large = 0;
  for (double t : null_draws) {
    if (std::isnan(t)) continue;
    ++used;
    as_large += t >= observed;
  }
  return (1.0 + static_cast<double>(as_large)) / (1.0 + static_cast<double>(used));
}

Eigen::MatrixXd NearestPsd(const Eigen::MatrixXd& sym_gg, double* smallest_eigenvalue) {
  if (smallest_eigenvalue != nullptr) *smallest_eigenvalue = 0.0;
  if (sym_gg.rows() == 0) return sym_gg;
  const Eigen::MatrixXd sym = 0.5 * (sym_gg + sym_gg.transpose());
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(sym);
  if (eig.info() != Eigen::Success) throw Error("nearest semi-definite matrix: eigen decomposition failed");
  const Eigen::VectorXd& lambda = eig.eigenvalues();  // ascending
  if (lambda[0] >= 0.0) return sym;
  if (smallest_eigenvalue != nullptr) *smallest_eigenvalue = lambda[0];
  const Eigen::MatrixXd& v = eig.eigenvectors();
  return v * lambda.cwiseMax(0.0).asDiagonal() * v.transpose();
}

}  // namespace cwfx::inference
