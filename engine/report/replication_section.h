// The report's "Replications" section (not installed): for each summary of a
// replication run (replicate/replication_summary.h), bootstrap standard
// errors and percentile intervals of the smooth quantities, the re-selected
// policy quantities with their winner's-curse caveat, the stability of the
// quartile ranking, the rank confidence sets, or - for a permutation run - the
// null distributions with the observed values and the p-values.
//
// Element classes the tests count: "stab-col" (one per caseworker and
// bootstrap summary), "rank-ci" (one per caseworker and rank-set source),
// "hist-bar" (histogram bins), "obs-mark" (one per null histogram).
#pragma once

#include <span>
#include <string>

#include "replicate/replication_summary.h"
#include "study/study.h"

namespace cwfx::report::internal {

// HTML of the whole section, "" when `replications` is empty. `result` gives
// the study's delta-method standard errors and model coefficients to compare with.
std::string ReplicationSection(const study::StudyResult& result,
                               std::span<const replicate::ReplicationSummary> replications);

// True when some summary carries quartile stability shares (the caveats then
// point to the section instead of saying stability is not quantified).
bool HasQuartileStability(std::span<const replicate::ReplicationSummary> replications);

}  // namespace cwfx::report::internal
