// Standard errors of the first factor's effects (see effect_std_errors.h).
#include "fit/effect_std_errors.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "core/random_stream.h"

namespace cwfx::fit {
namespace {

// The two factors seen from the absorber: the first factor, the state factor
// (the one S is on) and the eliminated one, with the weight sums d_e.
struct TwoFactors {
  const std::vector<int32_t>& first;
  const std::vector<int32_t>& state;
  const std::vector<int32_t>& eliminated;
  int32_t g0, g_state, g_elim;
  bool first_is_state;
  std::vector<double> d_elim;      // sum of weights per eliminated level
  const std::vector<double>& w;    // empty = 1
  double weight(int64_t i) const { return w.empty() ? 1.0 : w[static_cast<size_t>(i)]; }
};

TwoFactors ViewTwoFactors(const Design& design, const absorb::Absorber& absorber) {
  const int s = absorber.state_factor();
  const int e = 1 - s;
  TwoFactors t{design.factors[0].codes_n, design.factors[s].codes_n, design.factors[e].codes_n,
               design.factors[0].num_levels, design.factors[s].num_levels, design.factors[e].num_levels,
               s == 0, {}, design.weights_n};
  t.d_elim.assign(static_cast<size_t>(t.g_elim), 0.0);
  for (size_t i = 0; i < t.eliminated.size(); ++i) t.d_elim[t.eliminated[i]] += t.weight(static_cast<int64_t>(i));
  return t;
}

// u_g: the normalisation's weight of level g within its component (u_c has
// entries u_g on the component's levels, zero elsewhere).
std::vector<double> ContrastWeights(const absorb::Components& comps, const std::vector<int64_t>& n_obs_g,
                                    absorb::Normalisation normalisation) {
  const auto& comp = comps.of_level_q[0];
  const size_t g0 = comp.size();
  std::vector<double> u(g0, 0.0);
  if (normalisation == absorb::Normalisation::kFirstFactorMeanZero) {
    for (size_t g = 0; g < g0; ++g)
      u[g] = static_cast<double>(n_obs_g[g]) / static_cast<double>(comps.obs_per_component[comp[g]]);
  } else {  // reference: the smallest code of each component
    std::vector<char> seen(static_cast<size_t>(comps.count), 0);
    for (size_t g = 0; g < g0; ++g)
      if (!seen[comp[g]]) seen[comp[g]] = 1, u[g] = 1.0;
  }
  return u;
}

// Per component c and column k: u_c' v_k.
Eigen::MatrixXd ContrastSums(const absorb::Components& comps, const std::vector<double>& u, const Eigen::MatrixXd& v) {
  const auto& comp = comps.of_level_q[0];
  Eigen::MatrixXd out = Eigen::MatrixXd::Zero(comps.count, v.cols());
  for (Eigen::Index g = 0; g < v.rows(); ++g)
    if (u[g] != 0.0) out.row(comp[g]) += u[g] * v.row(g);
  return out;
}

// First factor on the eliminated side: rhs on the state factor C' D_e^-1 b
// for the columns of b (g0 x m).
Eigen::MatrixXd StateRightHandSides(const TwoFactors& t, const Eigen::MatrixXd& b) {
  if (t.first_is_state) return b;
  Eigen::MatrixXd rhs = Eigen::MatrixXd::Zero(t.g_state, b.cols());
  for (size_t i = 0; i < t.first.size(); ++i) {
    const int32_t a = t.first[i];
    rhs.row(t.state[i]) += (t.weight(static_cast<int64_t>(i)) / t.d_elim[a]) * b.row(a);
  }
  return rhs;
}

// M'R' for `count` Rademacher projections (entries +-1/sqrt(p)), with
// M = (I - P_e) W^1/2 D_s so that S = M'M: m_g = sum_{i in g} sqrt(w_i)
// (r_i - sqrt(w_i) Q_h(i) / d_h(i)), Q_h = sum_{i in h} sqrt(w_i) r_i over the
// eliminated levels h. Projection k reads its own Philox stream, so the
// draws do not depend on the thread count; the signs are drawn again for the
// second pass rather than stored (an n-vector per projection was most of the
// time at 10^7 rows, in fresh pages), and each lane keeps one Q buffer.
Eigen::MatrixXd ProjectedRightHandSides(const TwoFactors& t, int64_t first, int64_t count, int64_t p, uint64_t seed,
                                        const parallel::Context& ctx) {
  const int64_t n = static_cast<int64_t>(t.state.size());
  const double scale = 1.0 / std::sqrt(static_cast<double>(p));
  Eigen::MatrixXd out(t.g_state, count);
  const int64_t lanes = std::min<int64_t>(count, std::max(1, ctx.threads()));
  auto sign = [](uint32_t bits, int64_t i) { return ((bits >> (i % 32)) & 1u) ? 1.0 : -1.0; };
  parallel::ParallelFor(ctx, 0, lanes, 1, [&](int64_t lane0, int64_t lane1) {
    std::vector<double> q_h(static_cast<size_t>(t.g_elim));
    for (int64_t lane = lane0; lane < lane1; ++lane) {
      for (int64_t k = lane; k < count; k += lanes) {
        std::fill(q_h.begin(), q_h.end(), 0.0);
        {
          random::Stream stream(seed, 0x5e5e, static_cast<uint64_t>(first + k));
          uint32_t bits = 0;
          for (int64_t i = 0; i < n; ++i) {
            if (i % 32 == 0) bits = stream.Next32();
            q_h[static_cast<size_t>(t.eliminated[i])] += std::sqrt(t.weight(i)) * scale * sign(bits, i);
          }
        }
        double* m = out.col(k).data();
        std::fill(m, m + t.g_state, 0.0);
        random::Stream stream(seed, 0x5e5e, static_cast<uint64_t>(first + k));
        uint32_t bits = 0;
        for (int64_t i = 0; i < n; ++i) {
          if (i % 32 == 0) bits = stream.Next32();
          const double sw = std::sqrt(t.weight(i));
          const int32_t h = t.eliminated[i];
          m[t.state[i]] += sw * (scale * sign(bits, i) - sw * q_h[static_cast<size_t>(h)] / t.d_elim[h]);
        }
      }
    }
  });
  return out;
}

// Z on the state factor -> its first-factor image: Z itself, or D_e^-1 C Z.
Eigen::MatrixXd FirstFactorImage(const TwoFactors& t, Eigen::MatrixXd z) {
  if (t.first_is_state) return z;
  Eigen::MatrixXd y = Eigen::MatrixXd::Zero(t.g0, z.cols());
  for (size_t i = 0; i < t.first.size(); ++i) {
    const int32_t a = t.first[i];
    y.row(a) += (t.weight(static_cast<int64_t>(i)) / t.d_elim[a]) * z.row(t.state[i]);
  }
  return y;
}

std::string Fmt(const char* format, double a, double b = 0) {
  char buf[160];
  std::snprintf(buf, sizeof buf, format, a, b);
  return buf;
}

}  // namespace

EffectStdErrorRoute ChooseEffectStdErrorRoute(const Design& design, const absorb::Absorber& absorber,
                                              const solve::SchurFactorAnalysis* factor,
                                              const EffectStdErrorOptions& options) {
  const int num_q = static_cast<int>(design.factors.size());
  if (num_q == 1) return EffectStdErrorRoute::kOneFactor;
  if (num_q != 2 || options.normalisation == absorb::Normalisation::kNone) return EffectStdErrorRoute::kNone;
  const int32_t g0 = design.factors[0].num_levels;
  if (g0 <= std::max(1, options.projections)) return EffectStdErrorRoute::kSolves;
  if (factor != nullptr && absorber.state_factor() == 0 && g0 <= options.max_levels_for_selected_inversion &&
      factor->predicted_flops <= options.max_selected_inversion_flops)
    return EffectStdErrorRoute::kSelectedInversion;
  return EffectStdErrorRoute::kProjections;
}

EffectStdErrors FirstFactorStdErrors(const Design& design, const absorb::Components& comps,
                                     const std::vector<int64_t>& n_obs_g, double sigma2,
                                     const Eigen::MatrixXd& v_beta, const Eigen::MatrixXd& gm_gk,
                                     const absorb::Absorber& absorber, const solve::Backend& backend,
                                     const EffectStdErrorOptions& options, const parallel::Context& ctx) {
  EffectStdErrors out;
  const int num_q = static_cast<int>(design.factors.size());
  const int32_t g0 = design.factors[0].num_levels;
  const int kk = static_cast<int>(gm_gk.cols());
  const EffectStdErrorRoute route = ChooseEffectStdErrorRoute(design, absorber, backend.factor ? &backend.analysis : nullptr, options);
  if (route == EffectStdErrorRoute::kNone) {
    out.warnings.push_back(num_q > 2 ? "standard errors of the fixed effects need 1 or 2 factors; not computed"
                                     : "standard errors of the fixed effects need a normalisation; not computed");
    return out;
  }
  Eigen::VectorXd var(g0);
  if (route == EffectStdErrorRoute::kOneFactor) {
    Eigen::VectorXd d = Eigen::VectorXd::Zero(g0);
    const auto& codes = design.factors[0].codes_n;
    for (size_t i = 0; i < codes.size(); ++i) d[codes[i]] += design.weights_n.empty() ? 1.0 : design.weights_n[i];
    for (int32_t j = 0; j < g0; ++j)
      var[j] = sigma2 / d[j] + (kk > 0 ? double(gm_gk.row(j) * v_beta * gm_gk.row(j).transpose()) : 0.0);
    out.method = "exact";
    out.se_g = var.cwiseMax(0.0).cwiseSqrt();
    return out;
  }

  const TwoFactors t = ViewTwoFactors(design, absorber);
  const auto& comp = comps.of_level_q[0];
  const std::vector<double> u = ContrastWeights(comps, n_obs_g, options.normalisation);
  // The covariate term, contrasted: (gm_j - u_c' gm) V (gm_j - u_c' gm)'.
  {
    const Eigen::MatrixXd ugm = ContrastSums(comps, u, gm_gk);  // components x kk
    for (int32_t j = 0; j < g0; ++j) {
      var[j] = 0.0;
      if (kk > 0) {
        const Eigen::RowVectorXd c = gm_gk.row(j) - ugm.row(comp[j]);
        var[j] = c * v_beta * c.transpose();
      }
    }
  }
  // b_j' D_e^-1 b_j when the first factor is eliminated.
  Eigen::VectorXd quad = Eigen::VectorXd::Zero(g0);
  if (!t.first_is_state) {
    Eigen::VectorXd u2d = Eigen::VectorXd::Zero(comps.count);
    for (int32_t g = 0; g < g0; ++g) u2d[comp[g]] += u[g] * u[g] / t.d_elim[g];
    for (int32_t j = 0; j < g0; ++j) quad[j] = (1.0 - 2.0 * u[j]) / t.d_elim[j] + u2d[comp[j]];
  }
  absorb::ColumnConvergence worst{0, 0.0, true};
  auto solve = [&](const Eigen::MatrixXd& rhs, double tolerance = 0.0) {
    absorb::ColumnConvergence conv;
    Eigen::MatrixXd z = absorber.SolveSchur(rhs, ctx, &conv, tolerance);
    worst.iterations = std::max(worst.iterations, conv.iterations);
    worst.criterion = std::max(worst.criterion, conv.criterion);
    worst.converged = worst.converged && conv.converged;
    return z;
  };

  if (route == EffectStdErrorRoute::kSolves) {
    // One right-hand side b_j = e_j - u_c per level, 64 at a time.
    constexpr int32_t kBatch = 64;
    for (int32_t lo = 0; lo < g0; lo += kBatch) {
      const int32_t m = std::min(kBatch, g0 - lo);
      Eigen::MatrixXd b = Eigen::MatrixXd::Zero(g0, m);
      for (int32_t g = 0; g < g0; ++g)
        for (int32_t k = 0; k < m; ++k)
          if (comp[g] == comp[lo + k]) b(g, k) = -u[g];
      for (int32_t k = 0; k < m; ++k) b(lo + k, k) += 1.0;
      const Eigen::MatrixXd rhs = StateRightHandSides(t, b);
      const Eigen::MatrixXd x = solve(rhs);
      for (int32_t k = 0; k < m; ++k) quad[lo + k] += rhs.col(k).dot(x.col(k));
    }
    out.method = "exact (" + std::to_string(g0) + " solves)";
  } else if (route == EffectStdErrorRoute::kSelectedInversion) {
    // S^- is block-diagonal by component, so one solve with sum_c u_c gives
    // every S^- u_c.
    const solve::SchurFactor& f = *backend.factor;
    const Eigen::VectorXd diag = f.DiagonalOfInverse();
    const Eigen::VectorXd uv = Eigen::Map<const Eigen::VectorXd>(u.data(), g0);
    const Eigen::VectorXd nu = f.Solve(uv);
    const Eigen::MatrixXd utnu = ContrastSums(comps, u, nu);
    for (int32_t j = 0; j < g0; ++j) quad[j] += diag[j] - 2 * nu[j] + utnu(comp[j], 0);
    out.method = "exact (selected inversion of the direct factor)";
  } else {
    const int64_t p = std::max(1, options.projections);
    constexpr int64_t kBatch = 64;  // projections held at once
    for (int64_t k0 = 0; k0 < p; k0 += kBatch) {
      const int64_t count = std::min(kBatch, p - k0);
      const Eigen::MatrixXd y = FirstFactorImage(t, solve(ProjectedRightHandSides(t, k0, count, p, options.seed, ctx), options.projection_tolerance));
      const Eigen::MatrixXd uy = ContrastSums(comps, u, y);  // components x count
      for (int32_t j = 0; j < g0; ++j) quad[j] += (y.row(j) - uy.row(comp[j])).squaredNorm();
    }
    out.method = Fmt("random projections (p = %.0f; relative sd of each SE about %.1f%%)", static_cast<double>(p),
                     100.0 / std::sqrt(2.0 * static_cast<double>(p)));
    out.warnings.push_back("note: standard errors of the '" + design.factors[0].name + "' effects estimated by " +
                           out.method);
  }
  if (!worst.converged)
    out.warnings.push_back("WARNING: some solves for the standard errors of the '" + design.factors[0].name +
                           "' effects did not converge (criterion " + Fmt("%.3g", worst.criterion) + " after " + std::to_string(worst.iterations) + " iterations)");
  var += sigma2 * quad;
  out.se_g = var.cwiseMax(0.0).cwiseSqrt();
  return out;
}

}  // namespace cwfx::fit
