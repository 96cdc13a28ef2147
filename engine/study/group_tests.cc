// Cluster-robust group-mean comparisons and the distribution functions they
// need. See group_tests.h for the formulas.
#include "study/group_tests.h"

#include <cmath>
#include <limits>

#include "core/error.h"

namespace cwfx::study {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr int kMaxIter = 500;
constexpr double kEps = 1e-15;
constexpr double kTiny = 1e-300;

// Continued fraction of I_x(a, b) (valid for x < (a+1)/(a+b+2)), evaluated by
// the modified Lentz method.
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

// Regularised upper incomplete gamma Q(a, x).
double GammaQ(double a, double x) {
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

}  // namespace

double RegularizedIncompleteBeta(double a, double b, double x) {
  if (!(x > 0)) return 0.0;
  if (!(x < 1)) return 1.0;
  const double log_front =
      std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) + a * std::log(x) + b * std::log1p(-x);
  if (x < (a + 1.0) / (a + b + 2.0)) return std::exp(log_front) * BetaFraction(a, b, x) / a;
  return 1.0 - std::exp(log_front) * BetaFraction(b, a, 1.0 - x) / b;
}

double TwoSidedP(double t, double dof) {
  if (!std::isfinite(t)) return std::isnan(t) ? kNaN : 0.0;
  if (dof <= 0) return std::erfc(std::fabs(t) / std::sqrt(2.0));
  return RegularizedIncompleteBeta(dof / 2.0, 0.5, dof / (dof + t * t));
}

double FUpperP(double f, double d1, double d2) {
  if (std::isnan(f) || d1 <= 0) return kNaN;
  if (f <= 0) return 1.0;
  if (!std::isfinite(f)) return 0.0;
  if (d2 <= 0) return GammaQ(d1 / 2.0, d1 * f / 2.0);
  return RegularizedIncompleteBeta(d2 / 2.0, d1 / 2.0, d2 / (d2 + d1 * f));
}

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
