// The study's results file (HDF5), with provenance.
//
// Schema (1-D datasets unless said otherwise; per-quartile arrays have 4
// entries, bottom quartile first):
//   /                         @engine_version, @command, @data, @data_fingerprint,
//                             @options (JSON of the StudyOptions), @created (UTC)
//   /sample/                  step (string), rows_before, rows_after, removed (int64);
//                             @responses, @citizens, @caseworkers (after the restrictions)
//   /model/                   @outcome, @n, @caseworkers, @citizens, @outcome_mean, @r2,
//                             @r2_without_caseworkers, @adj_r2, @within_r2, @sigma2,
//                             @absorbed_dof, @residual_dof, @factors (JSON list)
//   /model/coefficients/      name (string), estimate, std_error, t_value, p_value,
//                             vcov (k x k matrix), dropped_collinear (string);
//                             @vcov_type, @cluster, @num_clusters, @t_dof
//   /ranking/                 caseworker_id (int64 when every id is an integer, else
//                             string), effect (as recovered), std_error, rank (1 = best),
//                             quartile (1 = bottom .. 4 = top), n_responses, n_citizens
//                             (int64 / int32); quartile_sizes (int32, bottom first);
//                             @effect_centre (subtract for centred effects), @rule
//   /figures/<id>/            fig1 (outcome share), fig2 (mean centred effect),
//                             fig3 (citizens per caseworker): a quartile figure
//   /table1/                  quantity (string: actual, counterfactual, increase),
//                             share, std_error; @p_value, @z, @top_mean_effect,
//                             @conditioning; increase == counterfactual - actual
//   /activities/groups/<id>/  fig4..fig8 (job-oriented, upskilling, social, health,
//                             none) and job_and_upskilling: quartile figures
//   /activities/single/<id>/  activity_1 .. activity_23: quartile figures;
//                             /activities @responses_missing
//   /ratings/<id>/            fig9 .. fig19 (S2 .. S12): quartile figures
//   /warnings                 string
// A quartile figure group holds mean, std_error, diff (vs bottom),
// diff_std_error, diff_p (double), n (int64: responses used), clusters (int32:
// caseworkers used); @title, @variable, @unit, @wald, @wald_f, @wald_df1,
// @wald_df2, @wald_p.
#pragma once

#include <functional>
#include <string>

#include "store/h5_file.h"

#include "results/fit_writer.h"
#include "study/study.h"

namespace cwfx::study {

// Writes atomically (the file appears complete or not at all). Throws
// cwfx::Error naming the file on failure. `extra` writes further groups into
// the same file before it is closed (e.g. corrections/corrections_writer.h).
void WriteStudyResults(const std::string& path, const StudyResult& result, const results::Provenance& provenance,
                       const std::function<void(store::H5File&)>& extra = {});

}  // namespace cwfx::study
