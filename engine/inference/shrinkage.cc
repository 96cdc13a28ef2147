// Empirical Bayes shrinkage: normal prior by the iterated moment (Morris)
// estimator, nonparametric prior by the Kiefer-Wolfowitz NPMLE fitted with EM
// on a grid, posterior moments, and posterior draws for top-set
// probabilities and expected ranks. Methods and conventions: shrinkage.h and
// ../shared/METHODS.md sections 2-4.
//
// CONVENTION: suffix _g length G (caseworkers), _m length m (grid points),
// _gm G x m row-major (row j occupies [j * m, (j + 1) * m)).
//
// Work plan: EM passes over fixed blocks of kRowBlock caseworkers in
// parallel, each block returning its sums, folded in block order
// (parallel::ParallelReduceOrdered); posterior moments are written per
// caseworker; the draws run in fixed blocks of kDrawBlock, draw b from its
// own Philox stream, and the per-block sums are folded in order. Nothing
// depends on the thread count.
#include "inference/shrinkage.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <numeric>
#include <string>
#include <cstdlib>

#include "core/error.h"
#include "core/random_stream.h"

namespace cwfx::inference {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
// Philox domain of the posterior draws ("SHRK"), apart from the rank draws
// ("RANK"), the generator's entity kinds and the replication schemes.
constexpr uint32_t kShrinkDrawDomain = 0x5348524bu;
constexpr int64_t kRowBlock = 64;    // caseworkers per EM reduction block
constexpr int64_t kDrawBlock = 8;    // posterior draws per reduction block
// A row's scaled mixture density sum_k g_k phi_jk / max_k phi_jk below this
// is redone in log space (the scaled terms may have underflowed).
constexpr double kTinyDensity = 1e-250;
// SQUAREM: halvings of alpha toward -1 before falling back to two EM maps.
constexpr int kMaxStepBacks = 30;
// SQUAREM: the step bound grows by this factor after an accepted step at
// the bound and shrinks by it after a step back (Varadhan and Roland's
// default), starting from 1 (a plain extrapolation).
constexpr double kStepGrowth = 4.0;
constexpr double kLogSqrt2Pi = 0.91893853320467274178;  // log sqrt(2 pi)

std::string Num(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", x);
  return buf;
}

void CheckInput(std::span<const double> estimate_g, std::span<const double> std_error_g, const ShrinkageOptions& o) {
  o.Validate();
  if (estimate_g.empty()) throw Error("shrinkage: no estimates (length 0)");
  if (std_error_g.size() != estimate_g.size())
    throw Error("shrinkage: " + std::to_string(estimate_g.size()) + " estimates but " +
                std::to_string(std_error_g.size()) + " standard errors");
  for (size_t j = 0; j < estimate_g.size(); ++j) {
    if (!std::isfinite(estimate_g[j]))
      throw Error("shrinkage: estimate " + std::to_string(j) + " is not finite (" + Num(estimate_g[j]) + ")");
    if (!(std::isfinite(std_error_g[j]) && std_error_g[j] > 0.0))
      throw Error("shrinkage: standard error " + std::to_string(j) + " = " + Num(std_error_g[j]) +
                  ", expected a finite positive number");
  }
  if (static_cast<size_t>(o.top_size) > estimate_g.size())
    throw Error("shrinkage: top_size = " + std::to_string(o.top_size) + " exceeds the " +
                std::to_string(estimate_g.size()) + " caseworkers");
}

// Ranks 1..G of x_g, largest first, ties by index.
std::vector<int32_t> RanksDescending(const std::vector<double>& x_g) {
  std::vector<int32_t> order(x_g.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) {
    return x_g[static_cast<size_t>(a)] > x_g[static_cast<size_t>(b)];
  });
  std::vector<int32_t> rank_g(x_g.size());
  for (size_t i = 0; i < order.size(); ++i) rank_g[static_cast<size_t>(order[i])] = static_cast<int32_t>(i) + 1;
  return rank_g;
}

// ---------------------------------------------------------------- normal prior

// Fills prior_mean, prior_variance, em_iterations, converged, log_likelihood
// and the posterior moments (see the banner of shrinkage.h for the rule).
void FitNormal(std::span<const double> theta_g, std::span<const double> s_g, const ShrinkageOptions& o,
               ShrinkageResult& r) {
  const size_t G = theta_g.size();
  const double Gd = static_cast<double>(G);
  double mean = 0.0, mean_s2 = 0.0;
  for (size_t j = 0; j < G; ++j) {
    mean += theta_g[j];
    mean_s2 += s_g[j] * s_g[j];
  }
  mean /= Gd;
  mean_s2 /= Gd;
  double ss = 0.0;
  for (size_t j = 0; j < G; ++j) ss += (theta_g[j] - mean) * (theta_g[j] - mean);
  double s2 = std::max(0.0, ss / Gd - mean_s2);  // the simple moment estimate: the start

  // mu given s2: the precision-weighted mean.
  auto weighted_mean = [&](double v) {
    double sw = 0.0, swt = 0.0;
    for (size_t j = 0; j < G; ++j) {
      const double w = 1.0 / (v + s_g[j] * s_g[j]);
      sw += w;
      swt += w * theta_g[j];
    }
    return swt / sw;
  };

  r.converged = false;
  r.em_iterations = 0;
  for (int it = 1; it <= o.max_em_iterations; ++it) {
    const double mu = weighted_mean(s2);
    double sw = 0.0, swd = 0.0;
    for (size_t j = 0; j < G; ++j) {
      const double s2j = s_g[j] * s_g[j];
      const double w = 1.0 / (s2 + s2j);
      const double d = theta_g[j] - mu;
      sw += w;
      swd += w * (d * d - s2j);
    }
    const double next = std::max(0.0, swd / sw);
    const bool done = std::fabs(next - s2) <= o.em_tolerance * (next + mean_s2);
    s2 = next;
    r.em_iterations = it;
    if (done) {
      r.converged = true;
      break;
    }
  }
  const double mu = weighted_mean(s2);
  r.prior_mean = mu;
  r.prior_variance = s2;

  r.posterior_mean_g.resize(G);
  r.posterior_sd_g.resize(G);
  r.shrinkage_g.resize(G);
  double ll = 0.0;
  for (size_t j = 0; j < G; ++j) {
    const double s2j = s_g[j] * s_g[j];
    const double lambda = s2 / (s2 + s2j);
    r.shrinkage_g[j] = lambda;
    r.posterior_mean_g[j] = mu + lambda * (theta_g[j] - mu);
    r.posterior_sd_g[j] = std::sqrt(lambda * s2j);
    const double v = s2 + s2j, d = theta_g[j] - mu;
    ll += -0.5 * d * d / v - 0.5 * std::log(v) - kLogSqrt2Pi;
  }
  r.log_likelihood = ll;
}

// ---------------------------------------------------------------- NPMLE

// The scaled likelihoods of one caseworker: phi_jk / max_k phi_jk, with the
// log of the dropped factor.
struct Npmle {
  size_t G = 0, m = 0;
  std::vector<double> grid_m;
  std::vector<double> scaled_gm;  // exp(-z_jk^2 / 2 + zmin_j^2 / 2), z_jk = (theta_j - v_k) / s_j
  std::vector<double> log_scale_g;  // log max_k phi_jk = -zmin_j^2 / 2 - log s_j - log sqrt(2 pi)
  std::vector<double> half_zmin2_g;  // zmin_j^2 / 2
};

Npmle BuildNpmle(std::span<const double> theta_g, std::span<const double> s_g, int grid_points,
                 const parallel::Context& ctx) {
  Npmle n;
  n.G = theta_g.size();
  const auto [lo_it, hi_it] = std::minmax_element(theta_g.begin(), theta_g.end());
  const double lo = *lo_it, hi = *hi_it;
  n.m = hi > lo ? static_cast<size_t>(grid_points) : 1;
  n.grid_m.resize(n.m);
  for (size_t k = 0; k < n.m; ++k)
    n.grid_m[k] = n.m == 1 ? lo : lo + (hi - lo) * (static_cast<double>(k) / static_cast<double>(n.m - 1));
  n.grid_m[n.m - 1] = hi;
  n.scaled_gm.assign(n.G * n.m, 0.0);
  n.log_scale_g.assign(n.G, 0.0);
  n.half_zmin2_g.assign(n.G, 0.0);
  parallel::ParallelFor(ctx, 0, static_cast<int64_t>(n.G), kRowBlock, [&](int64_t j0, int64_t j1) {
    for (int64_t jj = j0; jj < j1; ++jj) {
      const auto j = static_cast<size_t>(jj);
      const double inv_s = 1.0 / s_g[j];
      double* row = n.scaled_gm.data() + j * n.m;
      double zmin2 = std::numeric_limits<double>::infinity();
      for (size_t k = 0; k < n.m; ++k) {
        const double z = (theta_g[j] - n.grid_m[k]) * inv_s;
        row[k] = 0.5 * z * z;
        zmin2 = std::min(zmin2, row[k]);
      }
      for (size_t k = 0; k < n.m; ++k) row[k] = std::exp(zmin2 - row[k]);
      n.half_zmin2_g[j] = zmin2;
      n.log_scale_g[j] = -zmin2 - std::log(s_g[j]) - kLogSqrt2Pi;
    }
  });
  return n;
}

// Posterior weights p_jk = g_k phi_jk / sum_l g_l phi_jl of caseworker j into
// p_m; returns log sum_k g_k phi_jk. Rows whose scaled density underflows are
// redone in log space from the exact exponents.
double RowPosterior(const Npmle& n, std::span<const double> theta_g, std::span<const double> s_g,
                    const std::vector<double>& g_m, size_t j, double* p_m) {
  const double* row = n.scaled_gm.data() + j * n.m;
  double f = 0.0;
  for (size_t k = 0; k < n.m; ++k) {
    p_m[k] = g_m[k] * row[k];
    f += p_m[k];
  }
  if (f > kTinyDensity) {
    const double inv = 1.0 / f;
    for (size_t k = 0; k < n.m; ++k) p_m[k] *= inv;
    return std::log(f) + n.log_scale_g[j];
  }
  // Log space: a_k = log g_k - z_jk^2 / 2 + zmin_j^2 / 2 (weights of 0 stay 0).
  const double inv_s = 1.0 / s_g[j];
  double amax = -std::numeric_limits<double>::infinity();
  for (size_t k = 0; k < n.m; ++k) {
    if (g_m[k] > 0.0) {
      const double z = (theta_g[j] - n.grid_m[k]) * inv_s;
      p_m[k] = std::log(g_m[k]) - 0.5 * z * z + n.half_zmin2_g[j];
      amax = std::max(amax, p_m[k]);
    } else {
      p_m[k] = -std::numeric_limits<double>::infinity();
    }
  }
  double sum = 0.0;
  for (size_t k = 0; k < n.m; ++k) {
    p_m[k] = std::exp(p_m[k] - amax);
    sum += p_m[k];
  }
  const double inv = 1.0 / sum;
  for (size_t k = 0; k < n.m; ++k) p_m[k] *= inv;
  return amax + std::log(sum) + n.log_scale_g[j];
}

// One EM pass at weights g_m. Returns 2m + 1 sums over caseworkers:
// entries 0..m-1 sum phi_jk / f_j over the rows done in linear space (their
// responsibilities are g_k times these), entries m..2m-1 the
// responsibilities of the rows redone in log space, entry 2m the
// log-likelihood l(g). So M(g)_k = (g_k S_k + S_{m+k}) / J.
std::vector<double> EmPass(const Npmle& n, std::span<const double> theta_g, std::span<const double> s_g,
                           const std::vector<double>& g_m, const parallel::Context& ctx) {
  const size_t m = n.m;
  return parallel::ParallelReduceOrdered(
      ctx, static_cast<int64_t>(n.G), kRowBlock, std::vector<double>(2 * m + 1, 0.0),
      [&](int64_t j0, int64_t j1) {
        std::vector<double> part(2 * m + 1, 0.0), p_m;
        double* sum_m = part.data();
        for (int64_t jj = j0; jj < j1; ++jj) {
          const auto j = static_cast<size_t>(jj);
          const double* row = n.scaled_gm.data() + j * m;
          double f = 0.0;
          for (size_t k = 0; k < m; ++k) f += g_m[k] * row[k];
          if (f > kTinyDensity) {
            const double inv = 1.0 / f;
            for (size_t k = 0; k < m; ++k) sum_m[k] += row[k] * inv;
            part[2 * m] += std::log(f) + n.log_scale_g[j];
          } else {
            p_m.resize(m);
            part[2 * m] += RowPosterior(n, theta_g, s_g, g_m, j, p_m.data());
            for (size_t k = 0; k < m; ++k) part[m + k] += p_m[k];
          }
        }
        return part;
      },
      [](std::vector<double>& acc, const std::vector<double>& part) {
        for (size_t i = 0; i < acc.size(); ++i) acc[i] += part[i];
      });
}

// Fits G-hat by EM and fills the prior and posterior fields of r; returns the
// posterior CDFs (G x m, row j: cumulative p_jk) for the draws.
std::vector<double> FitNpmle(std::span<const double> theta_g, std::span<const double> s_g, const ShrinkageOptions& o,
                             const parallel::Context& ctx, ShrinkageResult& r) {
  Npmle n = BuildNpmle(theta_g, s_g, o.grid_points, ctx);
  const size_t G = n.G, m = n.m;
  // One EM map: next = M(g); returns l(g).
  auto em_map = [&](const std::vector<double>& g, std::vector<double>& next) {
    const std::vector<double> sums = EmPass(n, theta_g, s_g, g, ctx);
    next.resize(m);
    double total = 0.0;
    for (size_t k = 0; k < m; ++k) {
      next[k] = g[k] * sums[k] + sums[m + k];  // sum_j p_jk
      total += next[k];
    }
    for (double& x : next) x /= total;  // / J, renormalised against rounding
    return sums[2 * m];
  };
  std::vector<double> g_m(m, 1.0 / static_cast<double>(m)), g1_m, g2_m, gx_m, gxx_m;
  r.log_likelihood_trace.clear();
  r.converged = false;
  int it = 0;
  double step_max = 1.0;
  for (;;) {
    const double ll = em_map(g_m, g1_m);
    const bool gain_small =
        !r.log_likelihood_trace.empty() &&
        ll - r.log_likelihood_trace.back() <= o.em_tolerance * std::max(1.0, std::fabs(ll));
    r.log_likelihood_trace.push_back(ll);
    if (gain_small || m == 1) {
      r.converged = true;
      break;
    }
    if (it == o.max_em_iterations) break;
    ++it;
    if (!o.accelerate) {
      g_m.swap(g1_m);
      continue;
    }
    // SQUAREM (SqS3): r = M(g) - g, v = M(M(g)) - 2 M(g) + g,
    // alpha = -|r| / |v|, g' = g - 2 alpha r + alpha^2 v; alpha is pulled
    // toward -1 (where g' = M(M(g))) until g' >= 0.
    const double ll1 = em_map(g1_m, g2_m);
    double rr = 0.0, vv = 0.0;
    for (size_t k = 0; k < m; ++k) {
      const double rk = g1_m[k] - g_m[k], vk = g2_m[k] - 2.0 * g1_m[k] + g_m[k];
      rr += rk * rk;
      vv += vk * vk;
    }
    double alpha = vv > 0.0 ? -std::sqrt(rr / vv) : -1.0;
    alpha = std::max(alpha, -step_max);
    const bool at_max = alpha == -step_max;
    bool extrapolated = false;
    gx_m.resize(m);
    for (int step_back = 0; step_back < kMaxStepBacks && alpha < -1.0; ++step_back) {
      bool nonnegative = true;
      double total = 0.0;
      for (size_t k = 0; k < m; ++k) {
        const double rk = g1_m[k] - g_m[k], vk = g2_m[k] - 2.0 * g1_m[k] + g_m[k];
        gx_m[k] = g_m[k] - 2.0 * alpha * rk + alpha * alpha * vk;
        nonnegative = nonnegative && gx_m[k] >= 0.0;
        total += gx_m[k];
      }
      if (nonnegative && total > 0.0) {
        for (double& x : gx_m) x /= total;
        extrapolated = true;
        break;
      }
      alpha = 0.5 * (alpha - 1.0);
    }
    if (extrapolated) {
      // Accept M(g') when l(g') >= l(M(g)); then l(M(g')) >= l(g') >= l(M(g)) >= l(g).
      const double llx = em_map(gx_m, gxx_m);
      if (llx >= ll1) {
        if (at_max) step_max *= kStepGrowth;
        g_m.swap(gxx_m);
        continue;
      }
      step_max = std::max(1.0, step_max / kStepGrowth);
    }
    g_m.swap(g2_m);  // the plain double EM step: l(M(M(g))) >= l(M(g)) >= l(g)
  }
  r.em_iterations = it;
  r.log_likelihood = r.log_likelihood_trace.back();

  double mean = 0.0;
  for (size_t k = 0; k < m; ++k) mean += g_m[k] * n.grid_m[k];
  double var = 0.0;
  for (size_t k = 0; k < m; ++k) var += g_m[k] * (n.grid_m[k] - mean) * (n.grid_m[k] - mean);
  r.prior_mean = mean;
  r.prior_variance = var;

  r.posterior_mean_g.resize(G);
  r.posterior_sd_g.resize(G);
  r.shrinkage_g.resize(G);
  // The posterior CDFs overwrite the scaled likelihoods: row j is read only
  // by RowPosterior(j), before its CDF is written.
  parallel::ParallelFor(ctx, 0, static_cast<int64_t>(G), kRowBlock, [&](int64_t j0, int64_t j1) {
    std::vector<double> p_m(m);
    for (int64_t jj = j0; jj < j1; ++jj) {
      const auto j = static_cast<size_t>(jj);
      RowPosterior(n, theta_g, s_g, g_m, j, p_m.data());
      double pm = 0.0;
      for (size_t k = 0; k < m; ++k) pm += p_m[k] * n.grid_m[k];
      double pv = 0.0, cum = 0.0;
      double* cdf = n.scaled_gm.data() + j * m;
      for (size_t k = 0; k < m; ++k) {
        pv += p_m[k] * (n.grid_m[k] - pm) * (n.grid_m[k] - pm);
        cum += p_m[k];
        cdf[k] = cum;
      }
      r.posterior_mean_g[j] = pm;
      r.posterior_sd_g[j] = std::sqrt(pv);
      const double d = theta_g[j] - mean;
      r.shrinkage_g[j] = d != 0.0 ? (pm - mean) / d : kNaN;
    }
  });
  r.grid_m = std::move(n.grid_m);
  r.grid_weight_m = std::move(g_m);
  return std::move(n.scaled_gm);
}

// ---------------------------------------------------------------- draws

// Sums over draws of each caseworker's top share (entries 0..G-1) and rank
// (entries G..2G-1). draw_one(stream, x_g) fills one posterior draw.
template <class DrawOne>
std::vector<double> RankDraws(size_t G, int draws, int32_t tau, uint64_t seed, const parallel::Context& ctx,
                              DrawOne&& draw_one) {
  return parallel::ParallelReduceOrdered(
      ctx, draws, kDrawBlock, std::vector<double>(2 * G, 0.0),
      [&](int64_t b0, int64_t b1) {
        std::vector<double> part(2 * G, 0.0), x_g(G);
        std::vector<int32_t> order(G);
        for (int64_t b = b0; b < b1; ++b) {
          random::Stream stream(seed, kShrinkDrawDomain, static_cast<uint64_t>(b));
          draw_one(stream, x_g);
          std::iota(order.begin(), order.end(), 0);
          std::sort(order.begin(), order.end(), [&](int32_t a, int32_t c) {
            return x_g[static_cast<size_t>(a)] > x_g[static_cast<size_t>(c)];
          });
          // Tie groups occupy places a..e-1 (0-based): mid-rank and the
          // group's share of the top places (see shrinkage.h).
          for (size_t a = 0; a < G;) {
            size_t e = a + 1;
            while (e < G && x_g[static_cast<size_t>(order[e])] == x_g[static_cast<size_t>(order[a])]) ++e;
            const double size = static_cast<double>(e - a);
            const double rank = 0.5 * static_cast<double>(a + e + 1);  // mean of places a+1..e
            const size_t top_places = std::min(e, static_cast<size_t>(tau)) - std::min(a, static_cast<size_t>(tau));
            const double share = top_places == e - a ? 1.0 : static_cast<double>(top_places) / size;
            for (size_t i = a; i < e; ++i) {
              const auto j = static_cast<size_t>(order[i]);
              part[j] += share;
              part[G + j] += rank;
            }
            a = e;
          }
        }
        return part;
      },
      [](std::vector<double>& acc, const std::vector<double>& part) {
        for (size_t i = 0; i < acc.size(); ++i) acc[i] += part[i];
      });
}

}  // namespace

// grid_points >= 2, max_em_iterations >= 1, em_tolerance finite and >= 0,
// posterior_draws >= 0, top_size >= 0 (checked against G at the call).
void ShrinkageOptions::Validate() const {
  if (prior != PriorKind::kNormal && prior != PriorKind::kNonparametric)
    throw Error("shrinkage: unknown prior kind " + std::to_string(static_cast<int>(prior)));
  if (grid_points < 2) throw Error("shrinkage: grid_points = " + std::to_string(grid_points) + ", need at least 2");
  if (max_em_iterations < 1)
    throw Error("shrinkage: max_em_iterations = " + std::to_string(max_em_iterations) + ", need at least 1");
  if (!(std::isfinite(em_tolerance) && em_tolerance >= 0.0))
    throw Error("shrinkage: em_tolerance = " + Num(em_tolerance) + ", expected a finite number >= 0");
  if (posterior_draws < 0)
    throw Error("shrinkage: posterior_draws = " + std::to_string(posterior_draws) + " is negative");
  if (top_size < 0) throw Error("shrinkage: top_size = " + std::to_string(top_size) + " is negative");
}

ShrinkageResult Shrink(std::span<const double> estimate_g, std::span<const double> std_error_g,
                       const ShrinkageOptions& options, const parallel::Context& ctx) {
  CheckInput(estimate_g, std_error_g, options);
  const size_t G = estimate_g.size();
  ShrinkageResult r;
  r.prior = options.prior;
  r.top_size = options.top_size > 0 ? options.top_size : static_cast<int32_t>(G / 4);
  r.posterior_draws = options.posterior_draws;

  std::vector<double> cdf_gm;
  if (options.prior == PriorKind::kNormal) {
    FitNormal(estimate_g, std_error_g, options, r);
  } else {
    cdf_gm = FitNpmle(estimate_g, std_error_g, options, ctx, r);
  }
  r.rank_by_posterior_mean_g = RanksDescending(r.posterior_mean_g);

  if (options.posterior_draws > 0) {
    std::vector<double> sums;
    if (options.prior == PriorKind::kNormal) {
      sums = RankDraws(G, options.posterior_draws, r.top_size, options.seed, ctx,
                       [&](random::Stream& stream, std::vector<double>& x_g) {
                         for (size_t j = 0; j < G; ++j)
                           x_g[j] = r.posterior_mean_g[j] + r.posterior_sd_g[j] * stream.Normal();
                       });
    } else {
      const size_t m = r.grid_m.size();
      sums = RankDraws(G, options.posterior_draws, r.top_size, options.seed, ctx,
                       [&](random::Stream& stream, std::vector<double>& x_g) {
                         for (size_t j = 0; j < G; ++j) {
                           const double* cdf = cdf_gm.data() + j * m;
                           const double u = stream.Uniform() * cdf[m - 1];
                           const size_t k = static_cast<size_t>(std::upper_bound(cdf, cdf + m, u) - cdf);
                           x_g[j] = r.grid_m[std::min(k, m - 1)];
                         }
                       });
    }
    const double inv_b = 1.0 / static_cast<double>(options.posterior_draws);
    r.prob_top_g.resize(G);
    r.expected_rank_g.resize(G);
    for (size_t j = 0; j < G; ++j) {
      r.prob_top_g[j] = sums[j] * inv_b;
      r.expected_rank_g[j] = sums[G + j] * inv_b;
    }
  }
  return r;
}

double PosteriorSelectedMeanGain(const ShrinkageResult& result, std::span<const uint8_t> selected_g,
                                 std::span<const double> weight_g) {
  const size_t G = result.posterior_mean_g.size();
  if (selected_g.size() != G || weight_g.size() != G)
    throw Error("posterior selected-mean gain: " + std::to_string(G) + " posterior means but " +
                std::to_string(selected_g.size()) + " selection flags and " + std::to_string(weight_g.size()) +
                " weights");
  double sel_sum = 0.0, sw = 0.0, swx = 0.0;
  int64_t n_sel = 0;
  for (size_t j = 0; j < G; ++j) {
    const double w = weight_g[j];
    if (!(std::isfinite(w) && w >= 0.0))
      throw Error("posterior selected-mean gain: weight " + std::to_string(j) + " = " + Num(w) +
                  ", expected a finite number >= 0");
    if (selected_g[j]) {
      sel_sum += result.posterior_mean_g[j];
      ++n_sel;
    }
    sw += w;
    swx += w * result.posterior_mean_g[j];
  }
  if (n_sel == 0) throw Error("posterior selected-mean gain: no caseworker selected");
  if (!(sw > 0.0)) throw Error("posterior selected-mean gain: the weights sum to zero");
  return sel_sum / static_cast<double>(n_sel) - swx / sw;
}

}  // namespace cwfx::inference
