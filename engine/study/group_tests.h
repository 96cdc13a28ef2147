// Cluster-robust comparison of group means: the small statistics kernel
// behind every characterisation figure of the study (REPORT.md figures 1,
// 4-19 and appendix B).
//
// CONVENTION: suffix _n observations, _g groups (quartiles), _c clusters.
//
// ------------------------------------------------------------- the model
// The regression of a value y_i on a full set of group dummies (no
// intercept): the coefficients are the group means m_g over the observations
// with a finite value (NaN = missing, skipped). Cluster-robust variance (CR1,
// Stata's and fixest's small-sample factor):
//   V = C/(C-1) * (n-1)/(n-K) * D^-1 (sum_c s_c s_c') D^-1,
//   D = diag(n_g), s_c[g] = sum_{i in c, group g} (y_i - m_g),
// with n the used observations, K the groups holding any, C the clusters
// holding any. Clusters need not be nested in groups (the study's are:
// caseworkers within quartiles, which makes V diagonal).
// Each group g is compared with a reference group r (the bottom quartile):
//   d_g = m_g - m_r,  Var(d_g) = V_gg + V_rr - 2 V_gr,
// t = d_g / se, two-sided p from Student t with C - 1 degrees of freedom.
// Joint test of equal means (H0: m_g = m_r for every g): Wald statistic
// W = (R m)' (R V R')^-1 (R m), F = W / (K-1), p from F(K-1, C-1).
// Groups with no observation get mean NaN and are left out of the tests.
#pragma once

#include <Eigen/Dense>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace cwfx::study {

struct GroupComparison {
  std::vector<double> mean_g;        // NaN for an empty group
  std::vector<double> std_error_g;   // cluster-robust
  std::vector<int64_t> n_g;          // observations with a finite value
  std::vector<int32_t> clusters_g;   // clusters with at least one such observation
  int32_t reference = 0;             // the group every other is compared with
  std::vector<double> diff_g;        // m_g - m_reference (0 for the reference)
  std::vector<double> diff_std_error_g;
  std::vector<double> diff_p_g;      // NaN for the reference
  double wald = 0;                   // W (NaN when not computable)
  double wald_f = 0;                 // W / df1
  int32_t wald_df1 = 0, wald_df2 = 0;
  double wald_p = 0;
  int64_t n = 0;                     // used observations
  int32_t clusters = 0;              // used clusters
};

// values_n: NaN marks a missing value; group_n in [0, num_groups);
// cluster_n in [0, num_clusters). Spans must have equal lengths (checked).
GroupComparison CompareGroupMeans(std::span<const double> values_n, std::span<const int32_t> group_n,
                                  int32_t num_groups, std::span<const int32_t> cluster_n,
                                  int32_t num_clusters, int32_t reference = 0);

// Fills the difference and Wald members of `c` from given means and their
// covariance V_gg (used where the covariance comes from elsewhere, e.g. the
// delta method). dof_tests <= 0 means normal / chi-squared reference
// distributions instead of t / F.
void FillComparisonTests(const Eigen::VectorXd& mean_g, const Eigen::MatrixXd& vcov_gg, int32_t reference,
                         int32_t dof_tests, GroupComparison* c);

// Two-sided p-value of t with dof degrees of freedom (dof <= 0: normal);
// the distribution functions themselves are in core/distributions.h.
double TwoSidedP(double t, double dof);
// "***" p < 0.001, "**" p < 0.01, "*" p < 0.05, "" otherwise or NaN.
const char* SignificanceMark(double p);

}  // namespace cwfx::study
