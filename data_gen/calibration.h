// The figures the "study" preset is calibrated against (REPORT.md), computed
// on a generated register: sample counts after the study's restrictions, the
// outcome rate, raw outcome shares by quartile of the TRUE caseworker effect
// and the R2 of the linear probability model without and with caseworker
// dummies (dense OLS; a reference, not the engine's fit module).
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "data_gen/generator.h"
#include "sample/study_sample.h"

namespace cwfx::datagen {

struct CalibrationStats {
  int64_t raw_responses = 0;
  int64_t raw_citizens = 0;         // citizens with at least one response
  int64_t raw_caseworkers = 0;      // caseworkers with at least one response
  int64_t sample_responses = 0;
  int64_t sample_caseworkers = 0;
  int64_t sample_citizens = 0;
  double sample_outcome_rate = 0.0;
  // Raw outcome share of the sample responses by quartile of the caseworkers'
  // true effect (bottom to top; quartiles of the sample's caseworkers, sizes
  // as in the report: 29, 29, 29, 28 for 115).
  std::array<double, 4> quartile_outcome_share{};
  std::array<double, 4> quartile_mean_true_effect{};
  std::array<double, 4> quartile_citizens_per_caseworker{};
  // R2 of OLS of outcome on the covariates, B1-B11 and dB1-dB11, without and
  // with caseworker dummies, on the sample.
  double r2_without_caseworkers = 0.0;
  double r2_with_caseworkers = 0.0;
  // Correlation, over sample responses, of the caseworker's true effect with
  // the citizen's true effect (negative sorting shows here).
  double corr_caseworker_citizen_effect = 0.0;

  std::string Table() const;  // a readable multi-line report
};

CalibrationStats ComputeCalibration(const Register& reg, const sample::SampleOptions& options = {});

}  // namespace cwfx::datagen
