// Cluster-robust group-mean comparisons. See group_tests.h for the formulas;
// the distribution functions are core/distributions.h.
#include "study/group_tests.h"

#include <cmath>
#include <limits>

#include "core/distributions.h"
#include "core/error.h"

namespace cwfx::study {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

}  // namespace

double TwoSidedP(double t, double dof) { return dof > 0 ? StudentTwoSidedP(t, dof) : NormalTwoSidedP(t); }

const char* SignificanceMark(double p) {
  if (std::isnan(p)) return "";
  if (p < 0.001) return "***";
  if (p < 0.01) return "**";
  if (p < 0.05) return "*";
  return "";
}

void FillComparisonTests(const Eigen::VectorXd& mean_g, const Eigen::MatrixXd& vcov_gg, int32_t reference,
                         int32_t dof_tests, GroupComparison* c) {
  const auto G = static_cast<int32_t>(mean_g.size());
  CWFX_CHECK(reference >= 0 && reference < G, "reference group out of range");
  CWFX_CHECK(vcov_gg.rows() == G && vcov_gg.cols() == G, "vcov must be G x G");
  c->reference = reference;
  c->diff_g.assign(static_cast<size_t>(G), kNaN);
  c->diff_std_error_g.assign(static_cast<size_t>(G), kNaN);
  c->diff_p_g.assign(static_cast<size_t>(G), kNaN);
  std::vector<int32_t> used;  // non-reference groups with a finite mean
  const bool ref_ok = std::isfinite(mean_g[reference]);
  for (int32_t g = 0; g < G; ++g) {
    if (g == reference) {
      c->diff_g[static_cast<size_t>(g)] = ref_ok ? 0.0 : kNaN;
      c->diff_std_error_g[static_cast<size_t>(g)] = ref_ok ? 0.0 : kNaN;
      continue;
    }
    if (!ref_ok || !std::isfinite(mean_g[g])) continue;
    const double d = mean_g[g] - mean_g[reference];
    const double v = vcov_gg(g, g) + vcov_gg(reference, reference) - 2.0 * vcov_gg(g, reference);
    const double se = v > 0 ? std::sqrt(v) : kNaN;
    c->diff_g[static_cast<size_t>(g)] = d;
    c->diff_std_error_g[static_cast<size_t>(g)] = se;
    c->diff_p_g[static_cast<size_t>(g)] = std::isfinite(se) ? TwoSidedP(d / se, dof_tests) : kNaN;
    used.push_back(g);
  }
  c->wald = c->wald_f = c->wald_p = kNaN;
  c->wald_df1 = static_cast<int32_t>(used.size());
  c->wald_df2 = dof_tests > 0 ? dof_tests : 0;
  if (used.empty()) return;
  const auto m = static_cast<Eigen::Index>(used.size());
  Eigen::VectorXd rm(m);
  Eigen::MatrixXd rvr(m, m);
  for (Eigen::Index a = 0; a < m; ++a) {
    const int32_t ga = used[static_cast<size_t>(a)];
    rm[a] = mean_g[ga] - mean_g[reference];
    for (Eigen::Index b = 0; b < m; ++b) {
      const int32_t gb = used[static_cast<size_t>(b)];
      rvr(a, b) = vcov_gg(ga, gb) - vcov_gg(ga, reference) - vcov_gg(reference, gb) +
                  vcov_gg(reference, reference);
    }
  }
  Eigen::LDLT<Eigen::MatrixXd> ldlt(rvr);
  if (ldlt.info() != Eigen::Success || !ldlt.isPositive() || ldlt.vectorD().minCoeff() <= 0) return;
  const double w = rm.dot(ldlt.solve(rm));
  c->wald = w;
  c->wald_f = w / static_cast<double>(m);
  c->wald_p = FUpperP(c->wald_f, static_cast<double>(m), static_cast<double>(c->wald_df2));
}

GroupComparison CompareGroupMeans(std::span<const double> values_n, std::span<const int32_t> group_n,
                                  int32_t num_groups, std::span<const int32_t> cluster_n,
                                  int32_t num_clusters, int32_t reference) {
  CWFX_CHECK(values_n.size() == group_n.size() && values_n.size() == cluster_n.size(),
             "values, groups and clusters must have equal lengths");
  CWFX_CHECK(num_groups >= 1 && num_clusters >= 0, "need at least one group");
  const auto G = static_cast<size_t>(num_groups);
  GroupComparison c;
  c.mean_g.assign(G, 0.0);
  c.std_error_g.assign(G, kNaN);
  c.n_g.assign(G, 0);
  c.clusters_g.assign(G, 0);
  for (size_t i = 0; i < values_n.size(); ++i) {
    const double v = values_n[i];
    if (std::isnan(v)) continue;
    const int32_t g = group_n[i];
    CWFX_CHECK(g >= 0 && g < num_groups, "group code out of range");
    CWFX_CHECK(cluster_n[i] >= 0 && cluster_n[i] < num_clusters, "cluster code out of range");
    c.mean_g[static_cast<size_t>(g)] += v;
    ++c.n_g[static_cast<size_t>(g)];
  }
  int32_t groups_used = 0;
  for (size_t g = 0; g < G; ++g) {
    c.n += c.n_g[g];
    if (c.n_g[g] > 0) {
      c.mean_g[g] /= static_cast<double>(c.n_g[g]);
      ++groups_used;
    } else {
      c.mean_g[g] = kNaN;
    }
  }
  // Scores s_c (G entries per cluster) and the clusters holding data.
  Eigen::MatrixXd score_cg = Eigen::MatrixXd::Zero(num_clusters, num_groups);
  std::vector<uint8_t> cluster_used(static_cast<size_t>(num_clusters), 0);
  std::vector<uint8_t> seen_cg(static_cast<size_t>(num_clusters) * G, 0);
  for (size_t i = 0; i < values_n.size(); ++i) {
    if (std::isnan(values_n[i])) continue;
    const int32_t g = group_n[i];
    const int32_t cl = cluster_n[i];
    score_cg(cl, g) += values_n[i] - c.mean_g[static_cast<size_t>(g)];
    cluster_used[static_cast<size_t>(cl)] = 1;
    uint8_t& seen = seen_cg[static_cast<size_t>(cl) * G + static_cast<size_t>(g)];
    if (!seen) {
      seen = 1;
      ++c.clusters_g[static_cast<size_t>(g)];
    }
  }
  for (uint8_t u : cluster_used) c.clusters += u;
  Eigen::MatrixXd vcov = Eigen::MatrixXd::Constant(num_groups, num_groups, kNaN);
  const double n = static_cast<double>(c.n);
  const double C = c.clusters;
  if (c.clusters >= 2 && c.n > groups_used) {
    const double adj = C / (C - 1.0) * (n - 1.0) / (n - groups_used);
    const Eigen::MatrixXd meat = score_cg.transpose() * score_cg;
    for (int32_t a = 0; a < num_groups; ++a) {
      for (int32_t b = 0; b < num_groups; ++b) {
        const auto na = static_cast<double>(c.n_g[static_cast<size_t>(a)]);
        const auto nb = static_cast<double>(c.n_g[static_cast<size_t>(b)]);
        if (na > 0 && nb > 0) vcov(a, b) = adj * meat(a, b) / (na * nb);
      }
    }
    for (size_t g = 0; g < G; ++g) {
      const double v = vcov(static_cast<Eigen::Index>(g), static_cast<Eigen::Index>(g));
      c.std_error_g[g] = std::isfinite(v) && v >= 0 ? std::sqrt(v) : kNaN;
    }
  }
  Eigen::VectorXd mean = Eigen::Map<const Eigen::VectorXd>(c.mean_g.data(), num_groups);
  FillComparisonTests(mean, vcov, reference, c.clusters >= 2 ? c.clusters - 1 : 1, &c);
  return c;
}

}  // namespace cwfx::study
