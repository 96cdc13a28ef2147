// The "study" preset against REPORT.md at the default seed (20170507), with
// the tolerances stated in data_gen/CALIBRATION.md.
#include "data_gen/calibration.h"

#include <gtest/gtest.h>

#include <cstdio>

namespace cwfx::datagen {
namespace {

constexpr uint64_t kDefaultSeed = 20170507;

// Tolerances (see CALIBRATION.md).
constexpr double kRelativeCountTolerance = 0.15;  // responses, citizens
constexpr double kCaseworkerTolerance = 15.0;      // 115 +- 15
constexpr double kOutcomeRateTolerance = 0.03;     // 15% +- 3 pp

TEST(Calibration, StudyPresetMatchesTheReport) {
  const Register reg = Generate(GeneratorOptions::Preset("study"), kDefaultSeed, parallel::Context(2));
  const CalibrationStats st = ComputeCalibration(reg);
  std::printf("%s", st.Table().c_str());

  EXPECT_EQ(st.raw_citizens, 3707);
  EXPECT_NEAR(static_cast<double>(st.raw_responses), 13688.0, 13688.0 * 0.05);
  EXPECT_NEAR(static_cast<double>(st.sample_responses), 6164.0, 6164.0 * kRelativeCountTolerance);
  EXPECT_NEAR(static_cast<double>(st.sample_citizens), 2701.0, 2701.0 * kRelativeCountTolerance);
  EXPECT_NEAR(static_cast<double>(st.sample_caseworkers), 115.0, kCaseworkerTolerance);
  EXPECT_NEAR(st.sample_outcome_rate, 0.15, kOutcomeRateTolerance);

  // Raw outcome share rises with the true caseworker effect (report: 7, 13, 18, 23%).
  for (int q = 1; q < 4; ++q) {
    EXPECT_GT(st.quartile_outcome_share[static_cast<size_t>(q)], st.quartile_outcome_share[static_cast<size_t>(q - 1)]);
  }
  const double spread = st.quartile_outcome_share[3] - st.quartile_outcome_share[0];
  EXPECT_GT(spread, 0.08);
  EXPECT_LT(spread, 0.24);
  // Sorting works against the best caseworkers: the raw spread is smaller
  // than the spread of the true effects.
  EXPECT_LT(spread, st.quartile_mean_true_effect[3] - st.quartile_mean_true_effect[0]);
  EXPECT_LT(st.corr_caseworker_citizen_effect, 0.0);

  // R2 of the LPM: 16% without, 21% with caseworker dummies in the report.
  EXPECT_NEAR(st.r2_without_caseworkers, 0.16, 0.04);
  EXPECT_NEAR(st.r2_with_caseworkers, 0.21, 0.04);
  EXPECT_GT(st.r2_with_caseworkers - st.r2_without_caseworkers, 0.02);
}

}  // namespace
}  // namespace cwfx::datagen
