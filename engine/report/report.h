// The study's HTML report: one self-contained page (inline CSS, plots as
// inline SVG, no scripts, no external references), readable offline by a
// caseworker's manager or a researcher. Each figure of REPORT.md is a plot
// with its table beside it; then Table 1, the sample counts, the model, the
// characterisation figures, appendix B and the caveats.
#pragma once

#include <span>
#include <string>

#include "corrections/corrections.h"
#include "replicate/replication_summary.h"
#include "study/study.h"

namespace cwfx::report {

struct ReportContext {
  std::string title = "Caseworker effects: the study";
  // What the data are, e.g. "synthetic register (preset study, seed 20170507)".
  std::string data_description;
  std::string command;        // the command line that produced the report
  std::string created;        // timestamp text
  std::string results_file;   // where the HDF5 results are
  // Print the numbers of the source study (REPORT.md) beside ours.
  bool show_source_study = true;
};

// Pure: the whole HTML document. `replications`: summaries of replication
// runs (bootstrap and/or permutation) to show in the replication section;
// `corrections`: the corrections section (winner's curse, shrinkage,
// leave-out variance) when given.
std::string RenderStudyReport(const study::StudyResult& result, const ReportContext& context,
                              std::span<const replicate::ReplicationSummary> replications = {},
                              const corrections::CorrectionResult* corrections = nullptr);

// Writes `html` to `path` (via "<path>.tmp" and a rename). Throws cwfx::Error
// naming the file on failure.
void WriteReport(const std::string& path, const std::string& html);

}  // namespace cwfx::report
