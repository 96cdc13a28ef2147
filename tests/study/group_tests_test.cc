// The stats kernel against a dense sandwich computed with explicit matrices.
#include "study/group_tests.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "core/distributions.h"
#include "fit/fit.h"

namespace cwfx::study {
namespace {

constexpr double kTol = 1e-10;

TEST(GroupTests, MatchesADenseClusterRobustRegressionOnGroupDummies) {
  std::mt19937_64 rng(7);
  std::normal_distribution<double> z(0, 1);
  const int G = 4, C = 37;
  std::vector<double> y;
  std::vector<int32_t> grp, cl;
  for (int i = 0; i < 900; ++i) {
    const int c = static_cast<int>(rng() % C);
    // Clusters NOT nested in groups, to exercise off-diagonal terms.
    const int g = (c + static_cast<int>(rng() % 2)) % G;
    grp.push_back(g);
    cl.push_back(c);
    y.push_back(i % 17 == 0 ? std::nan("") : 0.3 * g + 0.5 * (c % 5) + z(rng));
  }
  const GroupComparison r = CompareGroupMeans(y, grp, G, cl, C, 0);

  // Dense: Z = group dummies over non-missing rows, b = (Z'Z)^-1 Z'y,
  // V = C/(C-1) (n-1)/(n-K) (Z'Z)^-1 (sum_c Z_c'e_c e_c'Z_c) (Z'Z)^-1.
  std::vector<int> rows;
  for (size_t i = 0; i < y.size(); ++i)
    if (!std::isnan(y[i])) rows.push_back(static_cast<int>(i));
  const int n = static_cast<int>(rows.size());
  Eigen::MatrixXd Z = Eigen::MatrixXd::Zero(n, G);
  Eigen::VectorXd yy(n);
  for (int i = 0; i < n; ++i) {
    Z(i, grp[static_cast<size_t>(rows[static_cast<size_t>(i)])]) = 1;
    yy[i] = y[static_cast<size_t>(rows[static_cast<size_t>(i)])];
  }
  const Eigen::MatrixXd bread = (Z.transpose() * Z).inverse();
  const Eigen::VectorXd b = bread * Z.transpose() * yy;
  const Eigen::VectorXd e = yy - Z * b;
  Eigen::MatrixXd meat = Eigen::MatrixXd::Zero(G, G);
  for (int c = 0; c < C; ++c) {
    Eigen::VectorXd s = Eigen::VectorXd::Zero(G);
    for (int i = 0; i < n; ++i)
      if (cl[static_cast<size_t>(rows[static_cast<size_t>(i)])] == c) s += Z.row(i).transpose() * e[i];
    meat += s * s.transpose();
  }
  const Eigen::MatrixXd V = double(C) / (C - 1) * (n - 1.0) / (n - G) * bread * meat * bread;
  for (int g = 0; g < G; ++g) {
    EXPECT_NEAR(r.mean_g[static_cast<size_t>(g)], b[g], kTol);
    EXPECT_NEAR(r.std_error_g[static_cast<size_t>(g)], std::sqrt(V(g, g)), kTol);
  }
  for (int g = 1; g < G; ++g) {
    const double se = std::sqrt(V(g, g) + V(0, 0) - 2 * V(g, 0));
    EXPECT_NEAR(r.diff_g[static_cast<size_t>(g)], b[g] - b[0], kTol);
    EXPECT_NEAR(r.diff_std_error_g[static_cast<size_t>(g)], se, kTol);
    EXPECT_NEAR(r.diff_p_g[static_cast<size_t>(g)], fit::StudentTwoSidedP((b[g] - b[0]) / se, C - 1), 1e-9);
  }
  Eigen::MatrixXd R = Eigen::MatrixXd::Zero(G - 1, G);
  for (int g = 1; g < G; ++g) {
    R(g - 1, 0) = -1;
    R(g - 1, g) = 1;
  }
  const Eigen::VectorXd rb = R * b;
  const double W = rb.dot((R * V * R.transpose()).inverse() * rb);
  EXPECT_NEAR(r.wald, W, 1e-8 * W);
  EXPECT_EQ(r.wald_df1, G - 1);
  EXPECT_EQ(r.wald_df2, C - 1);
  EXPECT_EQ(r.n, n);
}

TEST(GroupTests, DistributionFunctionsAgree) {
  constexpr double kTol = 1e-12;
  for (double t : {0.1, 1.0, 1.96, 3.5}) {
    // Closed forms: t(1) is Cauchy, P(|T| > t) = 1 - 2 atan(t) / pi; t(2):
    // P(|T| > t) = 1 - t / sqrt(2 + t^2).
    EXPECT_NEAR(TwoSidedP(t, 1), 1 - 2 * std::atan(t) / M_PI, kTol);
    EXPECT_NEAR(TwoSidedP(t, 2), 1 - t / std::sqrt(2 + t * t), kTol);
    for (double d : {3.0, 28.0, 114.0}) {
      EXPECT_EQ(TwoSidedP(t, d), StudentTwoSidedP(t, d));
      // F(1, d) of t^2 is the two-sided t test (the other tail of the beta).
      EXPECT_NEAR(FUpperP(t * t, 1, d), TwoSidedP(t, d), 1e-10);
    }
    EXPECT_NEAR(TwoSidedP(t, 0), std::erfc(t / std::sqrt(2.0)), 1e-14);
    // The fit module uses the same function.
    EXPECT_EQ(fit::StudentTwoSidedP(t, 28), StudentTwoSidedP(t, 28));
  }
  EXPECT_TRUE(std::isnan(StudentTwoSidedP(1.0, 0)));
  // Chi-squared(3) closed form: P(X > x) = erfc(sqrt(x/2)) + sqrt(2x/pi) exp(-x/2).
  for (double x : {0.5, 2.0, 7.8, 20.0}) {
    const double want = std::erfc(std::sqrt(x / 2)) + std::sqrt(2 * x / M_PI) * std::exp(-x / 2);
    EXPECT_NEAR(FUpperP(x / 3, 3, 0), want, kTol);
  }
  EXPECT_STREQ(SignificanceMark(0.0005), "***");
  EXPECT_STREQ(SignificanceMark(0.005), "**");
  EXPECT_STREQ(SignificanceMark(0.04), "*");
  EXPECT_STREQ(SignificanceMark(0.2), "");
}

}  // namespace
}  // namespace cwfx::study
