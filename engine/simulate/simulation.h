// Monte Carlo studies with known truth: many synthetic registers, each run
// through the study pipeline and the corrections, compared with the truth the
// generator recorded (../shared/REPORT.md "What the report could not do";
// ../shared/METHODS.md section 7 for reference numbers).
//
// Register r is a pure function of (options, r): its generator seed is drawn
// from the Philox stream (seed, "SIMR", r) and every random part of its
// analysis is keyed by that seed, so the stored rows are bit-identical for any
// thread count, order of completion or resume. Registers are generated,
// estimated and discarded inside one task, so memory stays flat in the number
// of registers; rows stream to one HDF5 writer (store/draw_file.h, scheme
// "simulation"; replicate/runner.h).
//
// The grid: a full factorial over the axes; register r uses grid point
// r mod (number of points), so every prefix of the run covers the grid evenly.
//
// What a register's row holds (MetricNames(), in this order). Truth: psi_j the
// true effect of each caseworker in the analysed sample, centred by the
// response shares w_j; S_hat the estimated top quartile (floor(G/4)); the
// "true gain" of a set T is mean_T psi - sum_j w_j psi_j.
//   caseworkers, responses, citizens, citizens_per_caseworker (mean over caseworkers)
//   true_sd                      response-weighted sd of psi
//   corr_pearson, corr_spearman  of the estimated and the true effects
//   rmse_raw, rmse_eb_normal, rmse_eb_npmle   sqrt(mean_j (estimate_j - psi_j)^2)
//   top_hit_raw, top_hit_eb      share of the true top quartile placed in the
//                                estimated top quartile (raw ranks; ranks of
//                                the normal posterior means)
//   var_true, var_plugin, var_kss                         response-weighted
//   var_true_unweighted, var_plugin_unweighted, var_kss_unweighted
//   gain_true                    true gain of S_hat (what the policy would deliver)
//   gain_oracle                  true gain of the true top quartile
//   gain_true_half               true gain of the half-sample selections of the cross-fit
//   gain_naive, gain_naive_se, cover_naive, naive_length   Table 1's increase and its interval
//   gain_eb_normal, gain_eb_npmle
//   gain_cross_fit, gain_cross_fit_se, cover_cross_fit, cover_cross_fit_full
//                                coverage of its target gain_true_half, and of gain_true
//   gain_conditional, cover_conditional, cover_hybrid, hybrid_length   (coverage of gain_true)
//   rank_cover_marginal          share of caseworkers whose true rank lies in their marginal set
//   top_set_cover, top_set_size  1 if the "could be top quartile" set holds the whole
//                                true top quartile; the set's size
//   prob_top_true_top, prob_top_brier   mean normal-EB P(top) over the true top
//                                quartile; Brier score of P(top) against truth
//   boot_se_fixed, cover_boot    inner pairs bootstrap (inner_bootstrap > 0): SE of the
//                                fixed-weight increase and whether its percentile interval
//                                covers gain_true (NaN without)
//   perm_p_variance, perm_p_gain inner permutation p-values (inner_permutations > 0)
//   status                       0 ok, 2 failed (the other values NaN)
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "corrections/corrections.h"
#include "data_gen/generator.h"
#include "parallel/parallel.h"
#include "store/draw_file.h"
#include "study/study.h"

namespace cwfx::simulate {

struct GridAxis {
  std::string parameter;       // one of GridParameters()
  std::vector<double> values;  // at least one
};

// The parameters a grid may vary: generator fields (caseworker_effect_sd,
// citizen_effect_sd, sorting, caseworker_change_rate, substitute_meeting_rate,
// outcome_noise_sd, mean_extra_responses, num_citizens,
// regular_caseworkers_per_centre) and citizens_per_caseworker (sets the
// regular caseworkers per job centre to the citizens per centre over it).
const std::vector<std::string>& GridParameters();
// Throws cwfx::Error naming the parameter if it is unknown or the value invalid.
void ApplyParameter(datagen::GeneratorOptions& generator, const std::string& parameter, double value);

struct SimulationOptions {
  // The base register: the study preset with a continuous outcome (noise sd
  // 0.355, the sd of a 14.8% binary outcome) so that the linear model holds
  // exactly and its truth is known, and true effects with sd 8.4 pp (the
  // spread that Table 1's gain implies, METHODS.md section 7).
  datagen::GeneratorOptions generator = DefaultGenerator();
  std::vector<GridAxis> grid;            // empty: one point, the base
  int64_t registers = 500;
  uint64_t seed = 1;
  study::StudyOptions study = DefaultStudy();
  corrections::CorrectionOptions corrections = DefaultCorrections();
  int inner_bootstrap = 0;               // pairs-bootstrap replications per register
  int inner_permutations = 0;            // permutations (within job centre) per register

  static datagen::GeneratorOptions DefaultGenerator();
  static study::StudyOptions DefaultStudy();                 // the study without figures 4-19
  static corrections::CorrectionOptions DefaultCorrections(); // fewer splits and draws per register
  int64_t GridPoints() const;
  std::vector<double> GridPoint(int64_t point) const;        // one value per axis
  datagen::GeneratorOptions GeneratorFor(int64_t point) const;
  void Validate() const;                 // throws cwfx::Error
  std::string ToJson() const;            // everything that shapes the rows (not `registers`)
};

const std::vector<std::string>& MetricNames();

struct RegisterRow {
  std::vector<double> grid;     // the grid point's values
  std::vector<double> metrics;  // MetricNames() order
  bool failed = false;
  std::string message;          // why, when failed
};

// Register r of the simulation: generate, study, corrections, truth.
// Failures of the analysis (cwfx::Error, e.g. too few caseworkers) come back
// as a failed row, so one odd register never stops a run.
RegisterRow SimulateRegister(const SimulationOptions& options, int64_t r, const parallel::Context& ctx);

store::DrawIdentity MakeSimulationIdentity(const SimulationOptions& options);
store::DrawRecord ToDrawRecord(int64_t r, const RegisterRow& row);

// Per grid point: mean and Monte Carlo standard error of every metric over
// the stored, successful registers (NaN entries left out).
struct PointSummary {
  std::vector<double> grid;
  int64_t registers = 0, failed = 0;
  std::vector<double> mean, std_error;  // MetricNames() order
  std::vector<int64_t> count;           // non-NaN values per metric
};
struct SimulationSummary {
  std::vector<std::string> axes;
  std::vector<std::string> metrics;
  std::vector<PointSummary> points;
  int64_t stored = 0, total = 0;
  std::string status;
  int MetricIndex(const std::string& name) const;  // throws cwfx::Error if unknown
  int FindMetric(const std::string& name) const;   // -1 if unknown
};
SimulationSummary SummariseSimulation(const store::DrawSet& draws);

}  // namespace cwfx::simulate
