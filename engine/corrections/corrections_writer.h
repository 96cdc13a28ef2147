// The corrections in the study's results file (study/study_writer.h):
//   /corrections/            @top_size, @alpha, warnings (string)
//   /corrections/policy/     quantity (string: naive, eb_normal, eb_npmle,
//                            cross_fit, conditional, hybrid), estimate, lower,
//                            upper (NaN where an estimator has no interval);
//                            @cross_fit_splits
//   /corrections/variance/   @plugin, @kss, @plugin_unweighted, @kss_unweighted,
//                            @normal_prior, @npmle_prior, @citizen_plugin,
//                            @citizen_kss, @cov_plugin, @cov_kss, @leave_out_obs,
//                            @leverage_method
//   /corrections/effects/    per caseworker in /ranking's order: effect
//                            (centred), std_error, eb_normal, eb_npmle,
//                            prob_top_normal, prob_top_npmle,
//                            expected_rank_normal, expected_rank_npmle (double);
//                            rank_set_lower, rank_set_upper, could_be_top (int32)
//   (arrays that were not computed are absent)
#pragma once

#include "corrections/corrections.h"
#include "store/h5_file.h"

namespace cwfx::corrections {

void WriteCorrections(store::H5File& file, const CorrectionResult& result);

}  // namespace cwfx::corrections
