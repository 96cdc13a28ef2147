// The study of REPORT.md on any register of its shape: sample restrictions,
// the linear probability model with caseworker fixed effects, the ranking into
// quartiles, figures 1-19, appendix B and the policy experiment (Table 1).
//
// RunStudy is pure (no I/O, no printing): a Table in, a StudyResult out.
// Writing: study/study_writer.h (HDF5); report/ renders the HTML.
//
// Rules chosen (see quartiles.h, group_tests.h, effect_covariance.h):
//  * quartiles: top quartile gets floor(G/4), the remainder goes to the lower
//    quartiles from the bottom up (115 -> 29, 29, 29, 28); ties by caseworker id.
//  * every quartile statistic is computed over the RESPONSES of the quartile's
//    caseworkers in the analysed sample (the fitted design's rows).
//  * standard errors of the policy experiment and of figure 2 are
//    delta-method, conditional on X, the caseworker assignment and the
//    quartile membership (taken as fixed, i.e. ignoring that it was chosen
//    from the same estimates: the winner's curse, see the report's caveats).
//  * tests between quartiles: regression of the indicator / rating on
//    quartile dummies, cluster-robust by caseworker (CR1); each quartile vs
//    the bottom one (t, C-1 dof) and a joint Wald test (F(3, C-1)).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "fit/design.h"
#include "fit/fit.h"
#include "parallel/parallel.h"
#include "sample/study_sample.h"
#include "study/group_tests.h"
#include "table/table.h"

namespace cwfx::study {

// One S1 activity (REPORT.md table A1).
struct ActivityDef {
  int number = 0;       // 1..23
  std::string label;
  std::string group;    // "job-oriented", "upskilling", "social", "health", "none", "" (don't know)
};
// The 23 activities of the study in order.
const std::vector<ActivityDef>& StudyActivities();
// The activity groups in the order of figures 4-8.
const std::vector<std::string>& ActivityGroups();
// Labels of the caseworker's ratings S2..S12.
const std::vector<std::string>& RatingLabels();

struct StudyOptions {
  // The study's sample restrictions (>= 10 citizens per caseworker, > 1
  // response per citizen, first response dropped, B changes dB1..dB11 added).
  sample::SampleOptions sample;
  // Outcome column (0/1).
  std::string outcome = "outcome";
  // Refuse outcome values other than 0 and 1 (the linear probability model
  // of the report); the simulation's continuous-outcome designs turn it off.
  // A check, not a change of the model: not part of ToJson.
  bool binary_outcome = true;
  // Numeric covariates entered as they are: the register covariates, the B
  // answers and their changes (the changes are created by the sample step).
  std::vector<std::string> covariates = DefaultCovariates();
  // Categorical covariates entered as dummies for every level but the
  // smallest (the generator codes ethnicity 0/1/2 and education 0/1/2).
  std::vector<std::string> categorical_covariates = {"ethnicity", "education"};
  // Id columns (must match sample.caseworker_column / citizen_column).
  std::string caseworker_column = "caseworker_id";
  std::string citizen_column = "citizen_id";
  // Two-way model: also absorb citizen fixed effects. Delta-method standard
  // errors (Table 1, figure 2) are then not available (NaN, with a warning).
  bool add_citizen_effects = false;
  // Further id columns absorbed as fixed effects (two-way caveat applies).
  std::vector<std::string> extra_factors;
  // Drop caseworkers/citizens with a single observation in the design. Off by
  // default: the study ranks every caseworker that passes the restrictions.
  bool drop_singletons = false;
  // Coefficient vcov: clustered by caseworker (as the tests between quartiles).
  fit::VcovType vcov = fit::VcovType::kCluster;
  // V_beta inside the delta method: false = iid (consistent with Fit's effect
  // standard errors), true = the coefficient vcov above.
  bool delta_method_uses_coefficient_vcov = false;
  // Convergence of the absorption (only matters with 2+ factors).
  double absorb_tolerance = 1e-10;
  int absorb_max_iterations = 10000;
  // S1 activity columns are <activity_prefix><1..23>, ratings <rating_prefix><2..12>.
  std::string activity_prefix = "S1_";
  std::string rating_prefix = "S";
  // Rank and split into quartiles on the empirical Bayes posterior means
  // (normal prior, inference/shrinkage.h) instead of the raw estimates: small
  // caseloads are pulled towards the mean, so fewer of them reach the
  // extremes by noise alone. Needs the effects' standard errors (one-factor
  // model); the reported effects stay the raw estimates.
  bool rank_on_shrunk = false;
  // Compute the characterisation figures (4-19, appendix B) when the columns exist.
  bool characterise = true;

  static std::vector<std::string> DefaultCovariates();
  // The register columns the model reads: ids, date, outcome, covariates,
  // categorical covariates, extra factors, and the columns the change
  // regressors derive from (the derived changes themselves are not register
  // columns). A reader's missing-value policy belongs on these; the S1/S2-S12
  // answers keep NaN, which every figure handles on its own.
  std::vector<std::string> ModelColumns() const;
  void Validate() const;  // throws cwfx::Error
  std::string ToJson() const;
};

// A per-quartile statistic with its tests (quartile index 0 = bottom).
struct QuartileFigure {
  std::string id;          // "fig1", "fig4", "activity_13", "S12", ...
  std::string title;
  std::string variable;    // the column or derived indicator
  std::string unit;        // "share", "effect", "count", "rating"
  GroupComparison stats;   // means, std errors, differences vs bottom, Wald
};

struct CaseworkerRanking {
  std::vector<std::string> id_g;
  std::vector<double> effect_g;      // as recovered by Fit (one factor: contains the intercept)
  std::vector<double> std_error_g;
  std::vector<int32_t> rank_g;       // 1 = largest effect
  std::vector<int32_t> quartile_g;   // 1 = bottom ... 4 = top
  std::vector<int64_t> n_responses_g;
  std::vector<int64_t> n_citizens_g; // distinct citizens in the analysed sample
  std::vector<int32_t> sizes_q;      // quartile sizes, bottom first
};

struct PolicyExperiment {
  double actual = 0, actual_std_error = 0;
  double counterfactual = 0, counterfactual_std_error = 0;
  double increase = 0, increase_std_error = 0;  // increase == counterfactual - actual (exactly)
  double z = 0, p_value = 0;                    // of the increase (normal reference)
  double top_mean_effect = 0;                   // mean effect of the top quartile (centred)
  std::string conditioning;                     // what the standard errors condition on
};

struct StudyResult {
  StudyOptions options;
  sample::SampleReport sample;
  fit::FitResult fit;
  int64_t responses = 0, citizens = 0;
  int32_t caseworkers = 0;
  double outcome_mean = 0;
  double r2_without_caseworkers = 0, r2_with_caseworkers = 0;
  // Effects are centred for display: minus the response-weighted mean effect.
  double effect_centre = 0;
  CaseworkerRanking ranking;
  QuartileFigure fig1_outcome;     // raw outcome share
  QuartileFigure fig2_effect;      // mean centred effect (delta-method SEs)
  QuartileFigure fig3_citizens;    // citizens per caseworker
  PolicyExperiment table1;
  std::vector<QuartileFigure> activity_groups;  // figs 4-8 + "job-oriented and upskilling"
  std::vector<QuartileFigure> activities;       // appendix B: 23 single activities
  std::vector<QuartileFigure> ratings;          // figs 9-19: S2..S12
  int64_t activity_responses_missing = 0;       // no S1 answer or "don't know"
  std::vector<std::string> warnings;

  // Sample counts, model, Table 1 and figures 1-3 as text.
  std::string Summary() const;
};

// Throws cwfx::Error for a bad option, a missing column, or fewer than 4
// caseworkers after the restrictions.
StudyResult RunStudy(const table::Table& register_table, const StudyOptions& options,
                     const parallel::Context& ctx);

// The analysis table the model is fitted on: the restricted sample plus the
// dummies of the categorical covariates (exposed for tests and other tools).
table::Table PrepareStudyTable(const table::Table& register_table, const StudyOptions& options,
                               sample::SampleReport* report, std::vector<std::string>* covariates);

// The study's model on the analysis table: outcome, covariates (as returned by
// PrepareStudyTable), the caseworker factor first, then citizen and extra
// factors, clustered by caseworker.
fit::DesignSpec StudyDesignSpec(const StudyOptions& options, const std::vector<std::string>& covariates);

}  // namespace cwfx::study
