// The report section on the corrections of the study (corrections/
// corrections.h): the policy experiment corrected for the winner's curse,
// the leave-out variance of the effects, and empirical Bayes shrinkage with
// the posterior probability of being in the top quartile.
#pragma once

#include <string>

#include "corrections/corrections.h"
#include "study/study.h"

namespace cwfx::report {

// Pure: an HTML fragment (<h2> and what follows).
std::string RenderCorrectionsSection(const study::StudyResult& study, const corrections::CorrectionResult& result);

}  // namespace cwfx::report
