// Confidence sets for ranks by the max-t stepdown of Mogstad, Romano, Shaikh
// and Wilhelm (REStud 2024), following csranks 1.2.3 (R/ranks.R,
// R/diffmeans.R); the method and conventions are in rank_inference.h.
//
// CONVENTION: suffix _g length G (units), _gg G x G (row-major in flat
// vectors: index a * G + b), _r length R (draws), _rg R x G draws (row-major:
// draw r occupies [r * G, (r + 1) * G)).
//
// Work plan: the R x G matrix of parametric draws Z is built once (draw r
// from its own Philox stream, so it does not depend on the thread count) and
// every critical value reads it. The simultaneous set parallelises over draws,
// the marginal sets over units; each task writes disjoint outputs and every
// quantile is taken serially, so results are bit-identical for any thread
// count.
#include "inference/rank_inference.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <numeric>
#include <string>

#include "core/error.h"
#include "core/random_stream.h"
#include "inference/summaries.h"

namespace cwfx::inference {

namespace {

// Philox domain of the parametric draws ("RANK"), apart from the generator's
// entity kinds and the replication schemes.
constexpr uint32_t kRankDrawDomain = 0x52414e4bu;
// A pair's difference variance counts as zero below this share of
// S_aa + S_bb: rounding in S_aa + S_bb - 2 S_ab is ~1e-16 of it, and the
// draws' own rounding must stay negligible after dividing by sigma_ab.
constexpr double kZeroVarianceShare = 1e-12;
// Asymmetry and negative eigenvalues beyond this share of max |S| are not
// rounding: the matrix is not a covariance.
constexpr double kCovarianceTol = 1e-8;

// A number for an error message (to_string would print 1e-20 as 0.000000).
std::string Num(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", x);
  return buf;
}

// Pairwise quantities of the estimates, G x G row-major.
struct Pairs {
  int32_t G = 0;
  std::vector<double> diff_gg;       // theta_a - theta_b
  std::vector<double> sigma_gg;      // sd of theta_a - theta_b; 0 = compared exactly
  std::vector<double> inv_sigma_gg;  // 1 / sigma_ab (0 where sigma_ab == 0)

  size_t At(int32_t a, int32_t b) const { return static_cast<size_t>(a) * static_cast<size_t>(G) + static_cast<size_t>(b); }
  bool Exact(int32_t a, int32_t b) const { return sigma_gg[At(a, b)] == 0.0; }
};

void CheckInput(const Eigen::VectorXd& theta_g, const Eigen::MatrixXd& sigma_gg, const RankInferenceOptions& o) {
  o.Validate();
  const Eigen::Index G = theta_g.size();
  if (G < 1) throw Error("rank confidence sets: no estimates (theta has length 0)");
  if (G > o.max_units)
    throw Error("rank confidence sets: " + std::to_string(G) + " units exceed max_units = " +
                std::to_string(o.max_units) + " (the work grows as draws x G^2 per set)");
  if (sigma_gg.rows() != sigma_gg.cols())
    throw Error("rank confidence sets: covariance is " + std::to_string(sigma_gg.rows()) + " x " +
                std::to_string(sigma_gg.cols()) + ", expected a square matrix");
  if (sigma_gg.rows() != G)
    throw Error("rank confidence sets: covariance is " + std::to_string(sigma_gg.rows()) + " x " +
                std::to_string(sigma_gg.cols()) + " for " + std::to_string(G) + " estimates");
  for (Eigen::Index g = 0; g < G; ++g)
    if (!std::isfinite(theta_g[g]))
      throw Error("rank confidence sets: estimate " + std::to_string(g) + " is not finite (" + Num(theta_g[g]) + ")");
  if (!sigma_gg.allFinite()) throw ComputationError("rank confidence sets: covariance has non-finite entries");
  if (o.top_size > G)
    throw Error("rank confidence sets: top_size = " + std::to_string(o.top_size) + " exceeds the " +
                std::to_string(G) + " units");
  const double scale = sigma_gg.cwiseAbs().maxCoeff();
  const double asym = (sigma_gg - sigma_gg.transpose()).cwiseAbs().maxCoeff();
  if (asym > kCovarianceTol * scale)
    throw ComputationError("rank confidence sets: covariance is not symmetric (max |S_ab - S_ba| = " + Num(asym) + ")");
}

// A factor F (G x m) with F F' = Sigma for a positive semi-definite Sigma,
// from the eigen decomposition (a Cholesky factor fails on the rank G - 1
// covariance of centred effects). Eigenvalues that are negative by rounding
// are clamped to zero and their columns dropped.
Eigen::MatrixXd PsdFactor(const Eigen::MatrixXd& sym_gg) {
  const Eigen::Index G = sym_gg.rows();
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(sym_gg);
  if (eig.info() != Eigen::Success) throw ComputationError("rank confidence sets: eigen decomposition of the covariance failed");
  const Eigen::VectorXd& lambda = eig.eigenvalues();  // ascending
  const double top = std::max(lambda[G - 1], 0.0);
  if (lambda[0] < -kCovarianceTol * std::max(top, sym_gg.cwiseAbs().maxCoeff()))
    throw ComputationError("rank confidence sets: covariance is not positive semi-definite (smallest eigenvalue " +
                Num(lambda[0]) + ", largest " + Num(lambda[G - 1]) + ")");
  Eigen::Index first = 0;
  while (first < G && lambda[first] <= 0.0) ++first;
  const Eigen::Index m = G - first;
  Eigen::MatrixXd f_gm(G, m);
  for (Eigen::Index i = 0; i < m; ++i)
    f_gm.col(i) = eig.eigenvectors().col(first + i) * std::sqrt(lambda[first + i]);
  return f_gm;
}

Pairs BuildPairs(const Eigen::VectorXd& theta_g, const Eigen::MatrixXd& sym_gg) {
  Pairs p;
  p.G = static_cast<int32_t>(theta_g.size());
  const size_t GG = static_cast<size_t>(p.G) * static_cast<size_t>(p.G);
  p.diff_gg.assign(GG, 0.0);
  p.sigma_gg.assign(GG, 0.0);
  p.inv_sigma_gg.assign(GG, 0.0);
  for (int32_t a = 0; a < p.G; ++a) {
    for (int32_t b = 0; b < p.G; ++b) {
      if (a == b) continue;
      const double both = sym_gg(a, a) + sym_gg(b, b);
      const double v = both - 2.0 * sym_gg(a, b);
      const size_t ab = p.At(a, b);
      p.diff_gg[ab] = theta_g[a] - theta_g[b];
      if (v > kZeroVarianceShare * both) {
        p.sigma_gg[ab] = std::sqrt(v);
        p.inv_sigma_gg[ab] = 1.0 / p.sigma_gg[ab];
      }
    }
  }
  return p;
}

// R x G draws of Z ~ N(0, Sigma): draw r = F n_r with n_r standard normal
// from the stream (seed, kRankDrawDomain, r). The product is an explicit
// loop so each element sums over the factor's columns in the same order
// whatever the thread or the memory alignment of its row.
std::vector<double> DrawNormals(const Eigen::MatrixXd& f_gm, int draws, uint64_t seed, const parallel::Context& ctx) {
  const auto G = static_cast<size_t>(f_gm.rows());
  const auto m = static_cast<size_t>(f_gm.cols());
  std::vector<double> z_rg(static_cast<size_t>(draws) * G, 0.0);
  if (m == 0) return z_rg;  // Sigma = 0: every pair is compared exactly
  parallel::ParallelFor(ctx, 0, draws, 16, [&](int64_t r0, int64_t r1) {
    std::vector<double> n_m(m);
    for (int64_t r = r0; r < r1; ++r) {
      random::Stream stream(seed, kRankDrawDomain, static_cast<uint64_t>(r));
      for (double& n : n_m) n = stream.Normal();
      double* z = z_rg.data() + static_cast<size_t>(r) * G;
      for (size_t i = 0; i < m; ++i) {
        const double* f = f_gm.data() + i * G;  // column i (column-major)
        for (size_t g = 0; g < G; ++g) z[g] += f[g] * n_m[i];
      }
    }
  });
  return z_rg;
}

// c(I) from the per-draw maxima: type 7 quantile at 1 - alpha, floored at 0
// (see the header: with c >= 0 a rejection needs theta_a > theta_b).
double CriticalValue(const std::vector<double>& max_r, double alpha) {
  return std::max(0.0, Quantile(max_r, 1.0 - alpha));
}

// The stepdown loop shared by the marginal and simultaneous sets.
// fill_max(max_r) writes max over the random pairs still in I for each draw
// and returns false when none is left; reject(c) rejects the pairs with
// L_ab > 0 at critical value c, removes them from I and returns how many.
// Returns c of the first step (the single-step critical value).
template <class FillMax, class Reject>
double RunStepdown(const RankInferenceOptions& o, FillMax&& fill_max, Reject&& reject) {
  std::vector<double> max_r(static_cast<size_t>(o.draws));
  double first_c = 0.0;
  for (int step = 0;; ++step) {
    const bool any = fill_max(max_r);
    const double c = any ? CriticalValue(max_r, o.alpha) : 0.0;
    if (step == 0) first_c = c;
    if (!any) break;
    const int64_t fresh = reject(c);
    if (!o.stepdown || fresh == 0) break;
  }
  return first_c;
}

// Marginal set for unit j: I = {(j,k), (k,j): k != j}. Returns [lower, upper].
std::pair<int32_t, int32_t> MarginalSet(int32_t j, const Pairs& p, const std::vector<double>& z_rg,
                                        const RankInferenceOptions& o) {
  const int32_t G = p.G;
  // out_k: (j,k) still in I; in_k: (k,j) still in I (random pairs only).
  std::vector<uint8_t> out_k(static_cast<size_t>(G), 0), in_k(static_cast<size_t>(G), 0);
  int32_t n_plus = 0, n_minus = 0;  // #{k: L_jk > 0}, #{k: L_kj > 0}
  for (int32_t k = 0; k < G; ++k) {
    if (k == j) continue;
    if (p.Exact(j, k)) {
      const double d = p.diff_gg[p.At(j, k)];
      n_plus += d > 0.0;
      n_minus += d < 0.0;
    } else {
      out_k[static_cast<size_t>(k)] = in_k[static_cast<size_t>(k)] = 1;
    }
  }
  const double* inv_jk = p.inv_sigma_gg.data() + p.At(j, 0);
  auto fill_max = [&](std::vector<double>& max_r) {
    bool any = false;
    for (int32_t k = 0; k < G; ++k) any = any || out_k[static_cast<size_t>(k)] || in_k[static_cast<size_t>(k)];
    if (!any) return false;
    for (size_t r = 0; r < max_r.size(); ++r) {
      const double* z = z_rg.data() + r * static_cast<size_t>(G);
      double m = -std::numeric_limits<double>::infinity();
      for (int32_t k = 0; k < G; ++k) {
        const double t = (z[j] - z[k]) * inv_jk[k];
        if (out_k[static_cast<size_t>(k)]) m = std::max(m, t);
        if (in_k[static_cast<size_t>(k)]) m = std::max(m, -t);
      }
      max_r[r] = m;
    }
    return true;
  };
  auto reject = [&](double c) {
    int64_t fresh = 0;
    for (int32_t k = 0; k < G; ++k) {
      const double d = p.diff_gg[p.At(j, k)], s = p.sigma_gg[p.At(j, k)];
      if (out_k[static_cast<size_t>(k)] && d - s * c > 0.0) {
        out_k[static_cast<size_t>(k)] = 0;
        ++n_plus;
        ++fresh;
      }
      if (in_k[static_cast<size_t>(k)] && -d - s * c > 0.0) {
        in_k[static_cast<size_t>(k)] = 0;
        ++n_minus;
        ++fresh;
      }
    }
    return fresh;
  };
  RunStepdown(o, fill_max, reject);
  return {1 + n_minus, G - n_plus};
}

// Simultaneous sets: I = all ordered pairs. Writes the bounds and returns the
// first-step critical value.
double SimultaneousSets(const Pairs& p, const std::vector<double>& z_rg, const RankInferenceOptions& o,
                        const parallel::Context& ctx, std::vector<int32_t>& lower_g, std::vector<int32_t>& upper_g) {
  const int32_t G = p.G;
  std::vector<uint8_t> active_gg(p.sigma_gg.size(), 0);  // random pairs still in I
  std::vector<uint8_t> rejected_gg(p.sigma_gg.size(), 0);
  int64_t n_active = 0;
  for (int32_t a = 0; a < G; ++a) {
    for (int32_t b = 0; b < G; ++b) {
      if (a == b) continue;
      const size_t ab = p.At(a, b);
      if (!p.Exact(a, b)) {
        active_gg[ab] = 1;
        ++n_active;
      } else if (p.diff_gg[ab] > 0.0) {
        rejected_gg[ab] = 1;
      }
    }
  }
  // About 64k pair evaluations per task.
  const int64_t grain = std::max<int64_t>(1, 65536 / (static_cast<int64_t>(G) * G));
  auto fill_max = [&](std::vector<double>& max_r) {
    if (n_active == 0) return false;
    parallel::ParallelFor(ctx, 0, static_cast<int64_t>(max_r.size()), grain, [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        const double* z = z_rg.data() + r * G;
        double m = -std::numeric_limits<double>::infinity();
        for (int32_t a = 0; a < G; ++a) {
          const uint8_t* act = active_gg.data() + p.At(a, 0);
          const double* inv = p.inv_sigma_gg.data() + p.At(a, 0);
          for (int32_t b = 0; b < G; ++b)
            if (act[b]) m = std::max(m, (z[a] - z[b]) * inv[b]);
        }
        max_r[static_cast<size_t>(r)] = m;
      }
    });
    return true;
  };
  auto reject = [&](double c) {
    int64_t fresh = 0;
    for (size_t ab = 0; ab < active_gg.size(); ++ab) {
      if (active_gg[ab] && p.diff_gg[ab] - p.sigma_gg[ab] * c > 0.0) {
        active_gg[ab] = 0;
        rejected_gg[ab] = 1;
        ++fresh;
      }
    }
    n_active -= fresh;
    return fresh;
  };
  const double c = RunStepdown(o, fill_max, reject);
  for (int32_t j = 0; j < G; ++j) {
    int32_t n_plus = 0, n_minus = 0;
    for (int32_t k = 0; k < G; ++k) {
      n_plus += rejected_gg[p.At(j, k)];
      n_minus += rejected_gg[p.At(k, j)];
    }
    lower_g[static_cast<size_t>(j)] = 1 + n_minus;
    upper_g[static_cast<size_t>(j)] = G - n_plus;
  }
  return c;
}

// r_j = 1 + #{k: theta_k > theta_j}, ties broken by index (the lower index
// ranks first), so the estimated ranks are a permutation of 1..G.
std::vector<int32_t> EstimatedRanks(const Eigen::VectorXd& theta_g) {
  const auto G = static_cast<int32_t>(theta_g.size());
  std::vector<int32_t> order(static_cast<size_t>(G));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) { return theta_g[a] > theta_g[b]; });
  std::vector<int32_t> rank_g(static_cast<size_t>(G));
  for (int32_t i = 0; i < G; ++i) rank_g[static_cast<size_t>(order[static_cast<size_t>(i)])] = i + 1;
  return rank_g;
}

}  // namespace

// alpha in (0, 1), at least one draw, top_size >= 0 (checked against G at the
// call), max_units >= 1.
void RankInferenceOptions::Validate() const {
  if (!(alpha > 0.0 && alpha < 1.0))
    throw Error("rank confidence sets: alpha = " + Num(alpha) + " outside (0, 1)");
  if (draws < 1) throw Error("rank confidence sets: draws = " + std::to_string(draws) + ", need at least 1");
  if (top_size < 0) throw Error("rank confidence sets: top_size = " + std::to_string(top_size) + " is negative");
  if (max_units < 1) throw Error("rank confidence sets: max_units = " + std::to_string(max_units) + " must be positive");
}

RankConfidenceSets ComputeRankConfidenceSets(const Eigen::VectorXd& theta_g, const Eigen::MatrixXd& sigma_gg,
                                             const RankInferenceOptions& options, const parallel::Context& ctx) {
  CheckInput(theta_g, sigma_gg, options);
  const auto G = static_cast<int32_t>(theta_g.size());
  const Eigen::MatrixXd sym_gg = 0.5 * (sigma_gg + sigma_gg.transpose());
  const Pairs pairs = BuildPairs(theta_g, sym_gg);
  const std::vector<double> z_rg = DrawNormals(PsdFactor(sym_gg), options.draws, options.seed, ctx);

  RankConfidenceSets out;
  out.alpha = options.alpha;
  out.draws = options.draws;
  out.top_size = options.top_size > 0 ? options.top_size : (G + 3) / 4;
  out.rank_g = EstimatedRanks(theta_g);

  const auto Gs = static_cast<size_t>(G);
  out.marginal_lower_g.assign(Gs, 1);
  out.marginal_upper_g.assign(Gs, G);
  parallel::ParallelFor(ctx, 0, G, 1, [&](int64_t j0, int64_t j1) {
    for (int64_t j = j0; j < j1; ++j) {
      const auto [lo, hi] = MarginalSet(static_cast<int32_t>(j), pairs, z_rg, options);
      out.marginal_lower_g[static_cast<size_t>(j)] = lo;
      out.marginal_upper_g[static_cast<size_t>(j)] = hi;
    }
  });

  out.simultaneous_lower_g.assign(Gs, 1);
  out.simultaneous_upper_g.assign(Gs, G);
  out.simultaneous_critical_value =
      SimultaneousSets(pairs, z_rg, options, ctx, out.simultaneous_lower_g, out.simultaneous_upper_g);

  out.could_be_top_g.assign(Gs, 0);
  for (size_t j = 0; j < Gs; ++j) out.could_be_top_g[j] = out.simultaneous_lower_g[j] <= out.top_size ? 1 : 0;
  return out;
}

}  // namespace cwfx::inference
