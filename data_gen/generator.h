// Synthetic caseworker registers with known truth.
//
// The generator mimics the register of REPORT.md (10 job centres, caseworkers
// with very unequal caseloads, citizens answering B1-B11 about every third
// month, caseworkers ticking S1 activities and rating S2-S12, a binary
// outcome within 52 weeks) and records the truth behind it: every
// caseworker's and citizen's effect and the coefficients of the outcome model
//
//   outcome ~ Bernoulli(clip(x'delta + psi_caseworker + alpha_citizen, 0, 1)),
//
// where x holds the register covariates, B1-B11 and their changes since the
// citizen's previous response (zero at the first response). Citizens change
// caseworker at a configurable rate, mostly within their job centre, so the
// two-way model (caseworker and citizen effects) is identified. Sorting of
// citizens to caseworkers is a Gaussian copula between the citizen's latent
// readiness and the caseworker's effect rank within the job centre (negative
// by default: as in the study, the best caseworkers had weaker citizens).
// The S1 activity mix and the S2-S12 ratings depend on the caseworker's
// effect as in REPORT.md figures 4-19. The model in full and its
// calibration: data_gen/CALIBRATION.md.
//
// Columns of Register::responses (all numeric; one row per response, sorted
// by citizen, then date):
//   response_id, citizen_id, caseworker_id, job_centre_id (1-based ids);
//   date (days since 2014-01-01), quarter (year*10 + quarter, e.g. 20153);
//   gender (1 = woman), age (years at the response), ethnicity (0 Danish
//   origin, 1 western, 2 non-western origin), civil_status (1 = married or
//   cohabiting), employment_history and benefit_history (share of the last
//   five years with earnings / on public benefits), education (0 no
//   vocational qualification, 1 skilled, 2 higher); somatic_1..somatic_11,
//   psych_1..psych_10 (0/1, diagnosis within the last three years), medicine
//   (0/1, last half year), doctor_visits (count, last half year);
//   B1..B11 (1-5); S1_1..S1_23 (0/1 activity ticks), S2..S12 (1-5); both S
//   blocks are NaN when the caseworker's answer is missing; outcome (0/1).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "parallel/parallel.h"
#include "table/table.h"

namespace cwfx::datagen {

struct GeneratorOptions {
  // Name of the preset these options started from (recorded in output files).
  std::string preset = "study";

  // --- Size -----------------------------------------------------------------
  // Number of job centres.
  int num_job_centres = 10;
  // Number of citizens in the register.
  int64_t num_citizens = 3707;
  // > 0: derive num_citizens (and num_job_centres, at citizens_per_job_centre)
  // so that the register holds about this many responses (preset "large").
  int64_t responses_target = 0;
  // Citizens per job centre when responses_target sets the size.
  double citizens_per_job_centre = 370.7;

  // --- Caseworkers ------------------------------------------------------------
  // Regular caseworkers per job centre: each citizen has one of them as main
  // caseworker (sorted on readiness, see `sorting`).
  int regular_caseworkers_per_centre = 12;
  // Occasional caseworkers per job centre: substitutes who hold single
  // meetings, so their caseloads are small.
  int occasional_caseworkers_per_centre = 250;
  // Probability that a meeting (response) is held by a substitute, drawn from
  // the occasional caseworkers of the citizen's job centre by caseload share.
  double substitute_meeting_rate = 0.28;
  // Log-normal spread of caseload shares within each group (regular, occasional).
  double caseload_weight_sd = 0.5;
  // Standard deviation of the true caseworker effects psi (probability scale).
  double caseworker_effect_sd = 0.13;

  // --- Citizens and responses --------------------------------------------------
  // Standard deviation of the true citizen effects alpha (probability scale).
  double citizen_effect_sd = 0.04;
  // Correlation of alpha with the citizen's latent readiness (which also
  // drives the observed covariates), in [-1, 1].
  double citizen_effect_readiness_corr = 0.5;
  // Sorting: Gaussian-copula correlation between the citizen's readiness and
  // the effect rank of the caseworker the citizen is assigned to, in [-1, 1].
  double sorting = -0.15;
  // Mean number of responses after the first (negative binomial).
  double mean_extra_responses = 2.7;
  // Negative-binomial shape of the extra responses (smaller = more dispersed).
  double responses_shape = 4.0;
  // Largest number of responses of one citizen.
  int max_responses = 9;
  // Days between consecutive responses (about every third month) ...
  int days_between_responses = 91;
  // ... plus a uniform jitter in [-jitter, +jitter] days.
  int days_jitter = 21;
  // Responses fall in [first_day, last_day] (days since 2014-01-01); the
  // default ends 52 weeks before the study's extract of 7 May 2017.
  int first_day = 0;
  int last_day = 858;
  // Probability that a citizen changes main caseworker at a response after the first.
  double caseworker_change_rate = 0.12;
  // Share of changes that stay within the citizen's job centre.
  double change_within_centre = 0.9;
  // AR(1) persistence of the latent B answers between responses, in [0, 1).
  double b_persistence = 0.7;
  // Innovation standard deviation of the latent B answers per response.
  double b_step_sd = 0.45;
  // Mean improvement of the latent B answers per response.
  double b_drift = 0.05;
  // Probability that the caseworker's answers (S1-S12) of a response are missing.
  double missing_caseworker_answer_rate = 0.0;

  // --- Outcome and caseworker behaviour -----------------------------------------
  // Intercept of the outcome index.
  double outcome_intercept = -0.25;
  // Multiplier of every non-intercept outcome coefficient (fit of the model).
  double covariate_effect_scale = 1.4;
  // Strength with which the S1 activity mix depends on the caseworker effect
  // (0: no dependence; 1: the pattern of REPORT.md figures 4-8).
  double activity_effect = 1.0;
  // Strength with which the S2-S12 ratings depend on the caseworker effect
  // (0: none; 1: the pattern of REPORT.md figures 9-19).
  double rating_effect = 1.0;
  // Outcome model. < 0 (default): the study's binary outcome,
  // Bernoulli(clip(index, 0, 1)). >= 0: a continuous outcome, index +
  // N(0, outcome_noise_sd^2), unclipped, so the linear model holds exactly and
  // its truth is known (simulations; 0 = no noise at all).
  double outcome_noise_sd = -1.0;

  // "study" (calibrated to REPORT.md; the default) or "large" (the study's
  // structure scaled to responses_target = 10^6 responses; change it freely).
  // Throws cwfx::Error for an unknown name.
  static GeneratorOptions Preset(std::string_view name);

  // Throws cwfx::Error naming the first nonsensical field.
  void Validate() const;

  // Expected number of responses of one citizen.
  double ExpectedResponsesPerCitizen() const;

  // A copy with num_citizens and num_job_centres derived from
  // responses_target when it is set (responses_target is kept).
  GeneratorOptions Resolved() const;

  // All fields as a JSON object (text), recorded in output files.
  std::string ToJson() const;
};

// A generated register and its truth.
struct Register {
  table::Table responses;     // one row per response (columns above)
  table::Table caseworkers;   // caseworker_id, job_centre_id, true_effect (every
                              // caseworker drawn, including some with no response)
  table::Table citizens;      // citizen_id, true_effect, readiness (the latent
                              // N(0,1) that drives covariates, B answers and sorting)
  table::Table coefficients;  // name (text), value: delta of the outcome index
  GeneratorOptions options;   // resolved options used
  uint64_t seed = 0;
};

// Generates a register. The result is a pure function of (options, seed):
// byte-identical for any number of threads in ctx. Validates options.
Register Generate(const GeneratorOptions& options, uint64_t seed, const parallel::Context& ctx);

}  // namespace cwfx::datagen
