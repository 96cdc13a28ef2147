// Draw summaries against hand-computed values (R's quantile type 7, sd with
// divisor B - 1) and a straightforward two-pass pairwise covariance.
#include "inference/summaries.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "core/error.h"

namespace cwfx::inference {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kTol = 1e-12;

TEST(Summaries, QuantileIsRType7) {
  // R: quantile(c(1, 2, 3, 4), c(0, .25, .5, .9, 1)) = 1, 1.75, 2.5, 3.7, 4.
  const std::vector<double> x = {4, 1, 3, 2};
  EXPECT_DOUBLE_EQ(Quantile(x, 0.0), 1.0);
  EXPECT_DOUBLE_EQ(Quantile(x, 0.25), 1.75);
  EXPECT_DOUBLE_EQ(Quantile(x, 0.5), 2.5);
  EXPECT_DOUBLE_EQ(Quantile(x, 0.9), 3.7);
  EXPECT_DOUBLE_EQ(Quantile(x, 1.0), 4.0);
  // R: quantile(c(3, 1, 2), .9) = 2.8; quantile(c(10, 0, 0, 0, 10), .5) = 0.
  EXPECT_DOUBLE_EQ(Quantile({3, 1, 2}, 0.9), 2.8);
  EXPECT_DOUBLE_EQ(Quantile({10, 0, 0, 0, 10}, 0.5), 0.0);
  // R: quantile(1:11, .95) = 10.5 (index 1 + 10 * .95 = 10.5).
  std::vector<double> eleven;
  for (int i = 1; i <= 11; ++i) eleven.push_back(i);
  EXPECT_DOUBLE_EQ(Quantile(eleven, 0.95), 10.5);
  EXPECT_DOUBLE_EQ(Quantile({7.5}, 0.3), 7.5);
  EXPECT_DOUBLE_EQ(Quantile({2, kNaN, 1}, 0.5), 1.5);  // NaN skipped
  EXPECT_TRUE(std::isnan(Quantile({}, 0.5)));
  EXPECT_THROW(Quantile(x, 1.5), Error);
  EXPECT_THROW(Quantile(x, -0.1), Error);
  EXPECT_THROW(Quantile(x, kNaN), Error);
}

TEST(Summaries, SummariseDrawsSkipsNaN) {
  const std::vector<double> draws = {1, 2, kNaN, 3, 4};
  const ScalarSummary s = SummariseDraws("beta", 2.2, draws, 0.05);
  EXPECT_EQ(s.name, "beta");
  EXPECT_EQ(s.estimate, 2.2);
  EXPECT_EQ(s.draws, 4);
  EXPECT_NEAR(s.mean, 2.5, kTol);
  EXPECT_NEAR(s.std_error, std::sqrt(5.0 / 3.0), kTol);  // sum of squares 5, divisor 3
  EXPECT_NEAR(s.lower, 1.075, kTol);                     // 1 + 3 * 0.025
  EXPECT_NEAR(s.upper, 3.925, kTol);
  const ScalarSummary one = SummariseDraws("x", 1.0, std::vector<double>{kNaN, 5.0});
  EXPECT_EQ(one.draws, 1);
  EXPECT_TRUE(std::isnan(one.mean) && std::isnan(one.std_error) && std::isnan(one.lower) && std::isnan(one.upper));
  EXPECT_THROW(SummariseDraws("x", 0, draws, 1.0), Error);
}

// The oracle: two passes over the rows where both columns are finite.
double TwoPassCovariance(const Eigen::MatrixXd& d, Eigen::Index a, Eigen::Index b) {
  std::vector<double> x, y;
  for (Eigen::Index r = 0; r < d.rows(); ++r) {
    if (std::isnan(d(r, a)) || std::isnan(d(r, b))) continue;
    x.push_back(d(r, a));
    y.push_back(d(r, b));
  }
  if (x.size() < 2) return kNaN;
  double mx = 0, my = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    mx += x[i];
    my += y[i];
  }
  mx /= static_cast<double>(x.size());
  my /= static_cast<double>(y.size());
  double c = 0;
  for (size_t i = 0; i < x.size(); ++i) c += (x[i] - mx) * (y[i] - my);
  return c / static_cast<double>(x.size() - 1);
}

TEST(Summaries, NearestPsdClipsNegativeEigenvaluesOnly) {
  // An indefinite "covariance" as pairwise-complete draws can give: unit
  // correlations that no set of random variables can have together.
  Eigen::MatrixXd a(3, 3);
  a << 1.0, 0.9, -0.9,  //
      0.9, 1.0, 0.9,    //
      -0.9, 0.9, 1.0;
  double smallest = 0.0;
  const Eigen::MatrixXd p = NearestPsd(a, &smallest);
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> before(a), after(p);
  EXPECT_NEAR(smallest, before.eigenvalues()[0], 1e-12);
  EXPECT_LT(smallest, 0.0);
  EXPECT_GT(after.eigenvalues()[0], -1e-12);
  EXPECT_LT((p - p.transpose()).cwiseAbs().maxCoeff(), 1e-15);
  // The positive part of the spectrum is kept: a - p has a's negative
  // eigenvalue on its eigenvector and nothing else.
  const Eigen::VectorXd v = before.eigenvectors().col(0);
  EXPECT_LT((a - p - before.eigenvalues()[0] * v * v.transpose()).cwiseAbs().maxCoeff(), 1e-12);
  // A semi-definite matrix comes back as it was.
  Eigen::MatrixXd ok(2, 2);
  ok << 2.0, 1.0, 1.0, 2.0;
  EXPECT_LT((NearestPsd(ok, &smallest) - ok).cwiseAbs().maxCoeff(), 1e-15);
  EXPECT_EQ(smallest, 0.0);
}

TEST(Summaries, DrawCovarianceMatchesTwoPassOverPairwiseCompleteRows) {
  std::mt19937_64 rng(23);
  std::normal_distribution<double> z(0, 1);
  const int R = 60, G = 6;
  Eigen::MatrixXd d(R, G);
  for (int r = 0; r < R; ++r) {
    const double common = z(rng);
    for (int g = 0; g < G; ++g) d(r, g) = 3.0 + g + common + 0.5 * z(rng);
  }
  // Columns 0 to 2 complete; 3 and 4 miss different rows; 5 has one finite row.
  for (int r = 0; r < R; r += 7) d(r, 3) = kNaN;
  for (int r = 2; r < R; r += 5) d(r, 4) = kNaN;
  for (int r = 1; r < R; ++r) d(r, 5) = kNaN;
  const Eigen::MatrixXd c = DrawCovariance(d);
  ASSERT_EQ(c.rows(), G);
  ASSERT_EQ(c.cols(), G);
  for (int a = 0; a < G; ++a) {
    for (int b = 0; b < G; ++b) {
      const double want = TwoPassCovariance(d, a, b);
      if (std::isnan(want)) {
        EXPECT_TRUE(std::isnan(c(a, b))) << a << "," << b;
      } else {
        EXPECT_NEAR(c(a, b), want, kTol * (1.0 + std::abs(want))) << a << "," << b;
      }
    }
  }
  // Pairwise, not listwise: var(3) uses every row where column 3 is present,
  // more than the rows where 3 and 4 both are.
  Eigen::MatrixXd listwise = d.leftCols(5);
  for (int r = 0; r < R; ++r)
    if (std::isnan(d(r, 4))) listwise(r, 3) = kNaN;
  EXPECT_GT(std::abs(c(3, 3) - TwoPassCovariance(listwise, 3, 3)), 1e-6);
}

TEST(Summaries, QuartileStabilitySharesSumToOneOverPresentReplications) {
  Eigen::MatrixXi q(5, 4);  // 5 replications x 4 units
  q << 1, 4, 0, 2,
       1, 4, 0, 3,
       2, 3, 0, 0,
       1, 4, 0, 3,
       0, 4, 0, 3;
  const Eigen::MatrixXd s = QuartileStability(q);
  ASSERT_EQ(s.rows(), 4);
  ASSERT_EQ(s.cols(), 4);
  EXPECT_NEAR(s(0, 0), 0.75, kTol);  // unit 0: present 4 times, bottom 3 times
  EXPECT_NEAR(s(0, 1), 0.25, kTol);
  EXPECT_NEAR(s(1, 3), 0.8, kTol);   // unit 1: top 4 of 5
  EXPECT_NEAR(s(1, 2), 0.2, kTol);
  EXPECT_NEAR(s(3, 1), 0.25, kTol);  // unit 3: present 4 times
  EXPECT_NEAR(s(3, 2), 0.75, kTol);
  for (int g : {0, 1, 3}) EXPECT_NEAR(s.row(g).sum(), 1.0, kTol) << g;
  EXPECT_TRUE(s.row(2).array().isNaN().all());  // never present
  q(1, 1) = 5;
  EXPECT_THROW(QuartileStability(q), Error);
}

TEST(Summaries, PermutationPValueCountsTiesAndSkipsNaN) {
  const std::vector<double> null_draws = {1, 2, 3, kNaN, 0};
  EXPECT_NEAR(PermutationPValue(2.0, null_draws), 3.0 / 5.0, kTol);  // (1 + 2) / (1 + 4)
  EXPECT_NEAR(PermutationPValue(10.0, null_draws), 1.0 / 5.0, kTol);
  EXPECT_NEAR(PermutationPValue(-1.0, null_draws), 1.0, kTol);
  EXPECT_NEAR(PermutationPValue(1.0, std::vector<double>{}), 1.0, kTol);
}

}  // namespace
}  // namespace cwfx::inference
