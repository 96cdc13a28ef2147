// BuildDesign: validation errors, singleton pruning, components, re-coding;
// and a fit on a pruned design against the dense oracle.
#include "fit/design.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include "core/error.h"
#include "fit/dense_fit.h"
#include "fit/fit.h"

namespace cwfx::fit {
namespace {

std::string ErrorOf(const table::Table& t, const DesignSpec& s) {
  try {
    BuildDesign(t, s);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

table::Table SmallTable() {
  table::Table t("reg.csv");
  // cw: A A B B C (C is a singleton); citizen ids text.
  t.AddNumeric("y", {1.0, 2.0, 3.0, 4.5, 5.0, 6.0});
  t.AddNumeric("x", {0.5, 0.1, 0.9, 0.3, 0.2, 0.7});
  t.AddText("cw", {"A", "A", "B", "B", "C", "B"});
  t.AddNumeric("w", {1.0, 2.0, 1.0, 1.0, 1.0, 1.0});
  return t;
}

TEST(BuildDesign, DropsSingletonsAndRecodes) {
  DesignSpec s{"y", {"x"}, {"cw"}, "cw", "w"};
  DesignReport rep;
  const Design d = BuildDesign(SmallTable(), s, &rep);
  EXPECT_EQ(rep.singletons_dropped, 1);
  EXPECT_EQ(d.num_obs(), 5);
  EXPECT_EQ(d.factors[0].num_levels, 2);
  EXPECT_EQ(d.level_labels_q[0], (std::vector<std::string>{"A", "B"}));
  EXPECT_EQ(d.source_row_n, (std::vector<int64_t>{0, 1, 2, 3, 5}));
  EXPECT_EQ(d.num_clusters, 2);
  EXPECT_EQ(d.weights_n.size(), 5u);
  EXPECT_DOUBLE_EQ(d.y_n[4], 6.0);
  EXPECT_EQ(d.components.count, 1);
}

TEST(BuildDesign, ConsumingTheTableGivesTheSameDesign) {
  // w is both a covariate and the weights, cw both absorbed and the cluster:
  // a column is freed only after its last use.
  DesignSpec s{"y", {"w", "x"}, {"cw"}, "cw", "w"};
  const table::Table kept = SmallTable();
  const Design a = BuildDesign(kept, s);
  table::Table given = SmallTable();
  const Design b = BuildDesign(std::move(given), s);
  EXPECT_EQ(a.y_n, b.y_n);
  EXPECT_EQ(a.X_nk, b.X_nk);
  EXPECT_EQ(a.weights_n, b.weights_n);
  EXPECT_EQ(a.cluster_n, b.cluster_n);
  EXPECT_EQ(a.factors[0].codes_n, b.factors[0].codes_n);
  EXPECT_EQ(a.level_labels_q, b.level_labels_q);
  EXPECT_EQ(a.input_row_n, b.input_row_n);
  EXPECT_EQ(b.X_nk.col(0), Eigen::Map<const Eigen::VectorXd>(b.weights_n.data(), b.num_obs()));
  EXPECT_EQ(kept.column("x").numeric.size(), 6u);  // the const overload leaves its table alone
}

TEST(BuildDesign, CascadingSingletonsCanLeaveNothing) {
  table::Table t("chain.csv");
  // A chain cw-citizen where removing one singleton creates the next.
  t.AddNumeric("y", {1, 2, 3, 4});
  t.AddNumeric("cw", {1, 1, 2, 2});
  t.AddNumeric("cit", {10, 11, 11, 12});
  DesignSpec s{"y", {}, {"cw", "cit"}, "", ""};
  const std::string msg = ErrorOf(t, s);
  EXPECT_NE(msg.find("no observations left after removing 4 singleton"), std::string::npos) << msg;
}

TEST(BuildDesign, SingleLevelFactorIsAnError) {
  table::Table t("one.csv");
  t.AddNumeric("y", {1, 2, 3, 4});
  t.AddNumeric("x", {1, 0, 3, 4});
  t.AddNumeric("office", {7, 7, 7, 7});
  DesignSpec s{"y", {"x"}, {"office"}, "", ""};
  const std::string msg = ErrorOf(t, s);
  EXPECT_NE(msg.find("office"), std::string::npos) << msg;
  EXPECT_NE(msg.find("single level"), std::string::npos) << msg;
}

TEST(BuildDesign, NonFiniteValueNamesRowAndColumn) {
  table::Table t = SmallTable();
  t.mutable_column("x").numeric[3] = std::numeric_limits<double>::quiet_NaN();
  DesignSpec s{"y", {"x"}, {"cw"}, "", ""};
  const std::string msg = ErrorOf(t, s);
  EXPECT_NE(msg.find("reg.csv"), std::string::npos) << msg;
  EXPECT_NE(msg.find("row 4"), std::string::npos) << msg;
  EXPECT_NE(msg.find("'x'"), std::string::npos) << msg;
}

TEST(BuildDesign, NonPositiveWeightNamesRow) {
  table::Table t = SmallTable();
  t.mutable_column("w").numeric[2] = 0.0;
  DesignSpec s{"y", {"x"}, {"cw"}, "", "w"};
  const std::string msg = ErrorOf(t, s);
  EXPECT_NE(msg.find("row 3"), std::string::npos) << msg;
  EXPECT_NE(msg.find("positive"), std::string::npos) << msg;
}

// User mistakes that once gave numbers (x = y with p = 1e-53, R2 = 1,
// -nan, "collinear" for 1.8e308, garbage under a weight of 1e300).
TEST(BuildDesign, AColumnInTwoRolesIsAnError) {
  EXPECT_NE(ErrorOf(SmallTable(), DesignSpec{"y", {"x", "y"}, {"cw"}, "", ""}).find("both the outcome and a covariate"),
            std::string::npos);
  EXPECT_NE(ErrorOf(SmallTable(), DesignSpec{"y", {"x"}, {"y"}, "", ""}).find("both the outcome and an absorbed"),
            std::string::npos);
  EXPECT_NE(ErrorOf(SmallTable(), DesignSpec{"y", {"x", "x"}, {"cw"}, "", ""}).find("listed twice"),
            std::string::npos);
  EXPECT_NE(ErrorOf(SmallTable(), DesignSpec{"y", {"x"}, {"x"}, "", ""}).find("both a covariate and an absorbed"),
            std::string::npos);
}

TEST(BuildDesign, AConstantOutcomeIsAnError) {
  table::Table t = SmallTable();
  for (double& v : t.mutable_column("y").numeric) v = 0.25;
  const std::string msg = ErrorOf(t, DesignSpec{"y", {"x"}, {"cw"}, "", ""});
  EXPECT_NE(msg.find("the outcome is constant"), std::string::npos) << msg;
}

TEST(BuildDesign, ValuesTooLargeToSquareAreRefusedByRow) {
  table::Table t = SmallTable();
  t.mutable_column("x").numeric[4] = 1.7e308;
  std::string msg = ErrorOf(t, DesignSpec{"y", {"x"}, {"cw"}, "", ""});
  EXPECT_NE(msg.find("row 5, column 'x'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("too large"), std::string::npos) << msg;
  t = SmallTable();
  t.mutable_column("w").numeric[1] = 1e300;
  msg = ErrorOf(t, DesignSpec{"y", {"x"}, {"cw"}, "", "w"});
  EXPECT_NE(msg.find("row 2, column 'w'"), std::string::npos) << msg;
}

TEST(BuildDesign, MissingColumnIsAnError) {
  DesignSpec s{"y", {"nope"}, {"cw"}, "", ""};
  EXPECT_NE(ErrorOf(SmallTable(), s).find("nope"), std::string::npos);
}

// A two-way register with singletons and two components; the fit on the
// pruned design agrees with the dense oracle on the same rows.
TEST(BuildDesign, PrunedDisconnectedDesignFitsLikeDense) {
  std::mt19937_64 rng(77);
  std::normal_distribution<double> z(0, 1);
  const int64_t n = 420;
  std::vector<double> y(n), x1(n), x2(n), cw(n), cit(n), w(n);
  for (int64_t i = 0; i < n; ++i) {
    const int block = i < n / 2 ? 0 : 1;
    cw[i] = block * 100 + static_cast<int>(i % 15);
    cit[i] = block * 1000 + std::uniform_int_distribution<int>(0, 59)(rng);
    if (i % 53 == 0) cit[i] = 5000 + static_cast<double>(i);  // singleton citizens
    x1[i] = z(rng);
    x2[i] = z(rng) + 0.01 * cw[i];
    y[i] = 0.4 * x1[i] - 0.3 * x2[i] + 0.02 * cw[i] + z(rng);
    w[i] = 0.5 + std::uniform_real_distribution<double>(0, 1)(rng);
  }
  table::Table t("two.csv");
  t.AddNumeric("y", y);
  t.AddNumeric("x1", x1);
  t.AddNumeric("x2", x2);
  t.AddNumeric("cw", cw);
  t.AddNumeric("cit", cit);
  t.AddNumeric("w", w);
  DesignSpec s{"y", {"x1", "x2"}, {"cw", "cit"}, "cw", "w"};
  const Design d = BuildDesign(t, s);
  EXPECT_GT(d.report.singletons_dropped, 0);
  EXPECT_EQ(d.components.count, 2);
  const testing::DenseFit ref = testing::DenseReference(d);
  FitOptions o;
  o.absorb.tolerance = 1e-14;
  o.absorb.max_iterations = 100000;
  o.vcov = VcovType::kCluster;
  o.compare_recoveries = true;
  const FitResult r = Fit(d, o, parallel::Context(1));
  EXPECT_LT((r.coef_k - ref.beta).cwiseAbs().maxCoeff(), 1e-8);
  EXPECT_LT((r.vcov_kk - ref.v_cluster).cwiseAbs().maxCoeff(), 1e-8 * ref.v_cluster.cwiseAbs().maxCoeff());
  EXPECT_LT((r.fixed_effects[0].effect_g - ref.effects_q[0]).cwiseAbs().maxCoeff(), 1e-8);
  EXPECT_LT((r.fixed_effects[1].effect_g - ref.effects_q[1]).cwiseAbs().maxCoeff(), 1e-8);
  EXPECT_LT((r.fixed_effects[0].std_error_g - ref.fe0_se).cwiseAbs().maxCoeff(), 1e-8);
  EXPECT_LT(r.recovery_max_abs_diff, 1e-8);
  // Keeping the largest component.
  s.keep_largest_component = true;
  const Design d1 = BuildDesign(t, s);
  EXPECT_EQ(d1.components.count, 1);
  EXPECT_EQ(d1.report.components_before, 2);
  EXPECT_GT(d1.report.rows_dropped_component, 0);
  EXPECT_EQ(d1.num_obs() + d1.report.rows_dropped_component, d.num_obs());
  const std::string table_text = FormatRegressionTable(r);
  EXPECT_NE(table_text.find("x1"), std::string::npos);
  EXPECT_NE(table_text.find("Connected components: 2"), std::string::npos);
}

}  // namespace
}  // namespace cwfx::fit
