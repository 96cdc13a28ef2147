// Simulations with known truth: the machinery recovers the truth exactly
// without noise, is a pure function of (options, r), has a uniform
// permutation p-value without caseworker effects, and stores rows that a
// resumed run reproduces.
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstring>
#include <filesystem>

#include "core/error.h"
#include "replicate/runner.h"
#include "simulate/simulation.h"
#include "store/draw_file.h"

namespace cwfx::simulate {
namespace {

double Metric(const RegisterRow& row, const std::string& name) {
  const auto& names = MetricNames();
  for (size_t k = 0; k < names.size(); ++k)
    if (names[k] == name) return row.metrics[k];
  ADD_FAILURE() << "no metric " << name;
  return NAN;
}

// A small register: 4 job centres, 4 regular caseworkers each (~30 citizens
// per caseworker), no substitutes.
SimulationOptions SmallOptions() {
  SimulationOptions o;
  o.generator.num_job_centres = 4;
  o.generator.num_citizens = 480;
  o.generator.regular_caseworkers_per_centre = 4;
  o.generator.substitute_meeting_rate = 0;
  o.corrections.posterior_draws = 200;
  o.corrections.projection_draws = 1000;
  o.corrections.rank_draws = 200;
  o.corrections.cross_fit_splits = 4;
  o.seed = 7;
  return o;
}

TEST(Simulation, WithoutNoiseEveryEstimatorRecoversTheTruth) {
  SimulationOptions o = SmallOptions();
  o.generator.outcome_noise_sd = 0;
  o.generator.citizen_effect_sd = 0;
  const RegisterRow row = SimulateRegister(o, 0, parallel::Context(1));
  ASSERT_FALSE(row.failed) << row.message;
  constexpr double kTol = 1e-8;
  EXPECT_LT(Metric(row, "rmse_raw"), kTol);
  EXPECT_NEAR(Metric(row, "corr_spearman"), 1.0, kTol);
  EXPECT_NEAR(Metric(row, "top_hit_raw"), 1.0, kTol);
  const double truth = Metric(row, "gain_true");
  EXPECT_GT(truth, 0.05);
  EXPECT_NEAR(Metric(row, "gain_oracle"), truth, kTol);
  EXPECT_NEAR(Metric(row, "gain_naive"), truth, kTol);
  EXPECT_NEAR(Metric(row, "gain_cross_fit"), truth, kTol);
  EXPECT_NEAR(Metric(row, "gain_true_half"), truth, kTol);
  EXPECT_NEAR(Metric(row, "gain_eb_normal"), truth, kTol);
  EXPECT_NEAR(Metric(row, "var_plugin"), Metric(row, "var_true"), kTol);
  EXPECT_NEAR(Metric(row, "var_kss"), Metric(row, "var_true"), kTol);
  EXPECT_NEAR(Metric(row, "var_kss_unweighted"), Metric(row, "var_true_unweighted"), kTol);
}

TEST(Simulation, ARegisterIsAPureFunctionOfItsIndex) {
  SimulationOptions o = SmallOptions();
  o.grid = {{"caseworker_effect_sd", {0.05, 0.1}}};
  const RegisterRow a = SimulateRegister(o, 3, parallel::Context(1));
  const RegisterRow b = SimulateRegister(o, 3, parallel::Context(2));
  const RegisterRow c = SimulateRegister(o, 2, parallel::Context(1));
  ASSERT_FALSE(a.failed) << a.message;
  ASSERT_EQ(a.metrics.size(), b.metrics.size());
  EXPECT_EQ(std::memcmp(a.metrics.data(), b.metrics.data(), a.metrics.size() * sizeof(double)), 0);
  EXPECT_EQ(a.grid, (std::vector<double>{1, 0.1}));  // register 3 -> grid point 3 mod 2
  EXPECT_EQ(c.grid, (std::vector<double>{0, 0.05}));
  EXPECT_NE(Metric(a, "gain_naive"), Metric(c, "gain_naive"));
}

TEST(Simulation, NaiveGainOverstatesAndCorrectionsDoNot) {
  // Noise comparable to the study's: the naive gain must exceed the truth on
  // average, the empirical Bayes and cross-fitted gains must not by as much.
  SimulationOptions o = SmallOptions();
  o.generator.caseworker_effect_sd = 0.06;
  double naive = 0, eb = 0, cross = 0, truth = 0, half = 0;
  constexpr int kRegisters = 24;
  for (int r = 0; r < kRegisters; ++r) {
    const RegisterRow row = SimulateRegister(o, r, parallel::Context(2));
    ASSERT_FALSE(row.failed) << row.message;
    naive += Metric(row, "gain_naive") - Metric(row, "gain_true");
    eb += Metric(row, "gain_eb_normal") - Metric(row, "gain_true");
    cross += Metric(row, "gain_cross_fit") - Metric(row, "gain_true_half");
    truth += Metric(row, "gain_true");
    half += Metric(row, "gain_true_half");
  }
  naive /= kRegisters, eb /= kRegisters, cross /= kRegisters, truth /= kRegisters;
  EXPECT_GT(naive, 0.2 * truth) << "the winner's curse should be visible";
  EXPECT_LT(std::fabs(eb), 0.5 * naive);
  EXPECT_LT(std::fabs(cross), 0.5 * naive);
}

TEST(Simulation, WithoutCaseworkerEffectsThePermutationPValueIsUniform) {
  SimulationOptions o = SmallOptions();
  o.generator.caseworker_effect_sd = 0;
  o.corrections.shrinkage = false;
  o.corrections.rank_sets = false;
  o.corrections.conditional_inference = false;
  o.corrections.leave_out_variance = false;
  o.corrections.cross_fit_splits = 0;
  o.inner_permutations = 19;
  constexpr int kRegisters = 60;
  double mean = 0;
  int small = 0;
  for (int r = 0; r < kRegisters; ++r) {
    const RegisterRow row = SimulateRegister(o, r, parallel::Context(2));
    ASSERT_FALSE(row.failed) << row.message;
    const double p = Metric(row, "perm_p_variance");
    ASSERT_GE(p, 1.0 / 20);
    ASSERT_LE(p, 1.0);
    mean += p / kRegisters;
    small += p <= 0.1;
  }
  // Uniform on {1/20, ..., 1}: mean 0.525 (sd of the mean 0.037), P(p <= 0.1) = 0.1.
  EXPECT_NEAR(mean, 0.525, 0.12);
  EXPECT_LE(small, 15);
}

TEST(Simulation, WithLargeEffectsThePermutationTestRejects) {
  SimulationOptions o = SmallOptions();
  o.generator.caseworker_effect_sd = 0.15;
  o.inner_permutations = 19;
  const RegisterRow row = SimulateRegister(o, 0, parallel::Context(2));
  ASSERT_FALSE(row.failed) << row.message;
  EXPECT_DOUBLE_EQ(Metric(row, "perm_p_variance"), 1.0 / 20);
}

TEST(Simulation, GridAndOptionsAreValidated) {
  SimulationOptions o = SmallOptions();
  o.grid = {{"no_such_parameter", {1}}};
  EXPECT_THROW(o.Validate(), Error);
  o.grid = {{"sorting", {}}};
  EXPECT_THROW(o.Validate(), Error);
  o.grid = {{"sorting", {0.5}}, {"sorting", {0.1}}};
  EXPECT_THROW(o.Validate(), Error);
  o.grid = {{"sorting", {2.0}}};  // outside [-1, 1]
  EXPECT_THROW(o.Validate(), Error);
  o.grid = {{"sorting", {-0.2, 0.2}}, {"citizens_per_caseworker", {10, 20, 40}}};
  EXPECT_NO_THROW(o.Validate());
  EXPECT_EQ(o.GridPoints(), 6);
  EXPECT_EQ(o.GridPoint(4), (std::vector<double>{0.2, 20}));
  EXPECT_EQ(o.GeneratorFor(5).regular_caseworkers_per_centre, 3);  // 120 citizens per centre / 40
}

TEST(Simulation, AResumedRunStoresTheSameRowsAsOneRun) {
  SimulationOptions o = SmallOptions();
  o.corrections.cross_fit_splits = 2;
  o.registers = 6;
  const auto dir = std::filesystem::path(::testing::TempDir()) / "cwfx_simulate_test";
  std::filesystem::create_directories(dir);
  const std::string one = (dir / "one.h5").string(), two = (dir / "two.h5").string();
  for (const auto& p : {one, two}) {
    std::filesystem::remove(p);
    std::filesystem::remove(p + ".journal");
  }
  const replicate::RecordFunction compute = [&o](int64_t r, const parallel::Context& inner) {
    const RegisterRow row = SimulateRegister(o, r, inner);
    return replicate::ComputedRecord{ToDrawRecord(r, row), replicate::DrawStatus::kOk};
  };
  const store::DrawIdentity id = MakeSimulationIdentity(o);
  std::atomic<bool> stop{false};
  {
    store::DrawWriter w = store::DrawWriter::Open(one, id, 6, false);
    replicate::RunRecords(compute, w, stop, {}, parallel::Context(2));
    w.Finish();
  }
  {
    // Three registers, interrupted; then resumed to six.
    store::DrawWriter w = store::DrawWriter::Open(two, id, 3, false);
    replicate::RunRecords(compute, w, stop, {}, parallel::Context(1));
    w.Interrupt();
  }
  {
    store::DrawWriter w = store::DrawWriter::Open(two, id, 6, true);
    EXPECT_EQ(w.num_completed(), 3);
    replicate::RunRecords(compute, w, stop, {}, parallel::Context(2));
    w.Finish();
  }
  const store::DrawSet a = store::ReadDraws(one), b = store::ReadDraws(two);
  ASSERT_EQ(a.datasets.size(), b.datasets.size());
  for (size_t d = 0; d < a.datasets.size(); ++d) {
    ASSERT_EQ(a.datasets[d].values_rc.size(), b.datasets[d].values_rc.size());
    EXPECT_EQ(std::memcmp(a.datasets[d].values_rc.data(), b.datasets[d].values_rc.data(),
                          a.datasets[d].values_rc.size() * sizeof(double)),
              0)
        << a.datasets[d].name;
  }
  const SimulationSummary s = SummariseSimulation(a);
  ASSERT_EQ(s.points.size(), 1u);
  EXPECT_EQ(s.points[0].registers, 6);
  EXPECT_EQ(s.stored, 6);
  // A different configuration is refused.
  SimulationOptions other = o;
  other.generator.sorting = 0.3;
  EXPECT_THROW(store::DrawWriter::Open(two, MakeSimulationIdentity(other), 6, true), Error);
}

}  // namespace
}  // namespace cwfx::simulate
