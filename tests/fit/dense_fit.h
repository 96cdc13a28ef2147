// Dense textbook regression with explicit dummy columns: the oracle for Fit.
#pragma once

#include <Eigen/Dense>

#include <random>
#include <vector>

#include "absorb/identify.h"
#include "fit/design.h"
#include "solve/dense_reference.h"

namespace cwfx::testing {

// A random design: factors from MakeFactors, k covariates correlated with the
// first factor, y with known effects, optional weights and clusters
// (clusters = factor 0's levels when cluster_on_factor0, else random groups).
inline fit::Design MakeDesign(int64_t n, std::vector<int32_t> levels_q, int blocks, bool weighted, int k,
                              uint64_t seed, bool cluster_on_factor0 = true) {
  RandomFactors f = MakeFactors(n, levels_q, blocks, seed);
  std::mt19937_64 rng(seed + 1000);
  std::normal_distribution<double> z(0.0, 1.0);
  fit::Design d;
  d.source = "synthetic";
  d.outcome_name = "y";
  for (size_t q = 0; q < levels_q.size(); ++q) {
    absorb::Factor fa;
    fa.name = std::string("f").append(std::to_string(q));
    fa.codes_n = f.codes_q_n[q];
    fa.num_levels = levels_q[q];
    d.factors.push_back(fa);
    std::vector<std::string> labels;
    for (int32_t g = 0; g < levels_q[q]; ++g) labels.push_back(std::to_string(g));
    d.level_labels_q.push_back(labels);
  }
  std::vector<Eigen::VectorXd> alpha_q;
  for (int32_t g : levels_q) {
    Eigen::VectorXd a(g);
    for (int32_t j = 0; j < g; ++j) a[j] = z(rng);
    alpha_q.push_back(a);
  }
  d.X_nk.resize(n, k);
  d.y_n.resize(n);
  for (int64_t i = 0; i < n; ++i) {
    double fe = 0;
    for (size_t q = 0; q < levels_q.size(); ++q) fe += alpha_q[q][f.codes_q_n[q][i]];
    double y = fe + z(rng);
    for (int j = 0; j < k; ++j) {
      d.X_nk(i, j) = z(rng) + 0.5 * alpha_q[0][f.codes_q_n[0][i]];
      y += (0.3 + 0.1 * j) * d.X_nk(i, j);
    }
    d.y_n[i] = y;
  }
  for (int j = 0; j < k; ++j) d.covariate_names.push_back(std::string("x").append(std::to_string(j + 1)));
  if (weighted) {
    std::uniform_real_distribution<double> u(0.3, 2.5);
    for (int64_t i = 0; i < n; ++i) d.weights_n.push_back(u(rng));
    d.weights_name = "w";
  }
  d.cluster_name = cluster_on_factor0 ? "f0" : "grp";
  if (cluster_on_factor0) {
    d.cluster_n = f.codes_q_n[0];
    d.num_clusters = levels_q[0];
  } else {
    d.num_clusters = 23;
    for (int64_t i = 0; i < n; ++i) d.cluster_n.push_back(static_cast<int32_t>(i % 23));
  }
  for (int64_t i = 0; i < n; ++i) d.source_row_n.push_back(i);
  d.components = absorb::FindComponents(d.factors);
  return d;
}

struct DenseFit {
  Eigen::VectorXd beta;
  Eigen::MatrixXd v_iid, v_hc1, v_cluster;
  std::vector<Eigen::VectorXd> effects_q;  // normalised (first factor mean zero per component)
  Eigen::VectorXd fe0_se;                  // SE of the normalised first-factor effects
  int64_t K = 0, K_cluster = 0;
  double rss = 0, sigma2 = 0, r2 = 0, within_r2 = 0, adj_r2 = 0;
};

// Dense oracle. Columns: X, all of factor 0's dummies, then factor q >= 1's
// dummies without the first level of each component (for q = 1) or without
// the first level (q >= 2; use connected designs). Effects normalised as
// absorb::NormaliseEffects(kFirstFactorMeanZero) for 1-2 factors.
inline DenseFit DenseReference(const fit::Design& d) {
  const int64_t n = d.num_obs();
  const int k = d.num_covariates();
  const int num_q = static_cast<int>(d.factors.size());
  std::vector<Eigen::MatrixXd> blocks{d.X_nk};
  std::vector<std::vector<int>> kept_level_q(static_cast<size_t>(num_q));
  for (int q = 0; q < num_q; ++q) {
    const auto& f = d.factors[q];
    std::vector<bool> drop(static_cast<size_t>(f.num_levels), false);
    if (q == 1) {
      std::vector<bool> seen(static_cast<size_t>(d.components.count), false);
      for (int32_t g = 0; g < f.num_levels; ++g) {
        const int32_t c = d.components.of_level_q[1][g];
        if (!seen[c]) drop[g] = true;
        seen[c] = true;
      }
    } else if (q >= 2) {
      drop[0] = true;
    }
    for (int32_t g = 0; g < f.num_levels; ++g)
      if (!drop[g]) kept_level_q[q].push_back(g);
    Eigen::MatrixXd full = Dummies(f.codes_n, f.num_levels);
    blocks.push_back(full(Eigen::all, kept_level_q[q]));
  }
  Eigen::Index cols = 0;
  for (auto& b : blocks) cols += b.cols();
  Eigen::MatrixXd z(n, cols);
  Eigen::Index at = 0;
  for (auto& b : blocks) {
    z.middleCols(at, b.cols()) = b;
    at += b.cols();
  }
  Eigen::VectorXd w = d.weights_n.empty() ? Eigen::VectorXd::Ones(n)
                                          : Eigen::Map<const Eigen::VectorXd>(d.weights_n.data(), n).eval();
  DenseFit out;
  out.K = DenseRank(z);
  const Eigen::MatrixXd ztwz = z.transpose() * w.asDiagonal() * z;
  const Eigen::MatrixXd h = ztwz.ldlt().solve(Eigen::MatrixXd::Identity(cols, cols));
  const Eigen::VectorXd coef = h * (z.transpose() * (w.asDiagonal() * d.y_n));
  const Eigen::VectorXd e = d.y_n - z * coef;
  out.beta = coef.head(k);
  out.rss = (w.array() * e.array().square()).sum();
  out.sigma2 = out.rss / static_cast<double>(n - out.K);
  out.v_iid = out.sigma2 * h.topLeftCorner(k, k);
  const Eigen::VectorXd we = w.cwiseProduct(e);
  {
    const Eigen::MatrixXd s = we.asDiagonal() * z;
    const Eigen::MatrixXd full = h * (s.transpose() * s) * h;
    out.v_hc1 = static_cast<double>(n) / static_cast<double>(n - out.K) * full.topLeftCorner(k, k);
  }
  if (!d.cluster_n.empty()) {
    Eigen::MatrixXd sc = Eigen::MatrixXd::Zero(d.num_clusters, cols);
    for (int64_t i = 0; i < n; ++i) sc.row(d.cluster_n[i]) += we[i] * z.row(i);
    const Eigen::MatrixXd full = h * (sc.transpose() * sc) * h;
    int64_t nested = 0;
    for (const auto& f : d.factors) {
      std::vector<std::vector<int32_t>> cl(static_cast<size_t>(f.num_levels));
      bool is_nested = true;
      for (int64_t i = 0; i < n; ++i) {
        auto& v = cl[f.codes_n[i]];
        if (std::find(v.begin(), v.end(), d.cluster_n[i]) == v.end()) v.push_back(d.cluster_n[i]);
        if (v.size() > 1) is_nested = false;
      }
      if (is_nested) nested += f.num_levels - 1;
    }
    out.K_cluster = std::max<int64_t>(k + 1, out.K - nested);
    const double g = d.num_clusters, nd = static_cast<double>(n);
    out.v_cluster = g / (g - 1) * (nd - 1) / (nd - static_cast<double>(out.K_cluster)) * full.topLeftCorner(k, k);
  }
  const double ybar = w.dot(d.y_n) / w.sum();
  const double tss = (w.array() * (d.y_n.array() - ybar).square()).sum();
  out.r2 = 1 - out.rss / tss;
  out.adj_r2 = 1 - (out.rss / static_cast<double>(n - out.K)) / (tss / (static_cast<double>(n) - 1));
  {
    Eigen::MatrixXd dummies = z.rightCols(cols - k);
    Eigen::VectorXd yt = DenseResidual(dummies, d.y_n, d.weights_n.empty() ? Eigen::VectorXd() : w);
    out.within_r2 = 1 - out.rss / (w.array() * yt.array().square()).sum();
  }
  if (num_q <= 2 && num_q >= 1) {
    // Effects: put the dropped levels back as zeros.
    Eigen::Index pos = k;
    std::vector<Eigen::VectorXd> eff;
    std::vector<Eigen::Index> col_of_level0;
    for (int q = 0; q < num_q; ++q) {
      Eigen::VectorXd a = Eigen::VectorXd::Zero(d.factors[q].num_levels);
      for (int g : kept_level_q[q]) a[g] = coef[pos++];
      eff.push_back(a);
    }
    const int32_t g0 = d.factors[0].num_levels;
    Eigen::MatrixXd t = Eigen::MatrixXd::Identity(g0, g0);
    if (num_q == 2) {
      const auto& comp = d.components.of_level_q[0];
      std::vector<double> nobs(static_cast<size_t>(g0), 0.0);
      for (int32_t c : d.factors[0].codes_n) nobs[c] += 1;
      Eigen::VectorXd shift = Eigen::VectorXd::Zero(d.components.count);
      for (int32_t g = 0; g < g0; ++g)
        shift[comp[g]] += nobs[g] / static_cast<double>(d.components.obs_per_component[comp[g]]) * eff[0][g];
      for (int32_t g = 0; g < g0; ++g) {
        eff[0][g] -= shift[comp[g]];
        for (int32_t h2 = 0; h2 < g0; ++h2)
          if (comp[h2] == comp[g])
            t(g, h2) -= nobs[h2] / static_cast<double>(d.components.obs_per_component[comp[g]]);
      }
      for (int32_t g = 0; g < d.factors[1].num_levels; ++g) eff[1][g] += shift[d.components.of_level_q[1][g]];
    }
    const Eigen::MatrixXd v00 = out.sigma2 * h.block(k, k, g0, g0);
    out.fe0_se = (t * v00 * t.transpose()).diagonal().cwiseSqrt();
    out.effects_q = eff;
  }
  return out;
}

}  // namespace cwfx::testing
