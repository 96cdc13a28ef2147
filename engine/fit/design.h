// From a Table to a regression design: outcome, covariates, weights, clusters
// and fixed-effect factors, with the identification steps made explicit
// (iterative singleton removal, connected components, optional restriction to
// the largest component, dense re-coding of every factor).
//
// CONVENTION: suffix _n observations, _g levels of one factor, _k covariates,
// _q factors.
#pragma once

#include <Eigen/Dense>

#include <cstdint>
#include <string>
#include <vector>

#include "absorb/factor.h"
#include "absorb/identify.h"
#include "table/table.h"

namespace cwfx::fit {

struct DesignSpec {
  std::string outcome;                  // numeric column
  std::vector<std::string> covariates;  // numeric columns (may be empty)
  std::vector<std::string> absorb;      // id columns absorbed as fixed effects (may be empty: intercept only)
  std::string cluster;                  // id column for clustered vcov ("" = none)
  std::string weights;                  // numeric column of positive weights ("" = none)
  // Drop observations whose level of some factor has a single observation,
  // repeatedly until none is left (as fixest's fixef.rm = "singleton").
  bool drop_singletons = true;
  // Keep only the largest connected component of the factor graph (by
  // observations; ties: the smallest component id), after singleton removal.
  bool keep_largest_component = false;
};

struct DesignReport {
  int64_t rows_in = 0;                 // rows of the input table
  int64_t singletons_dropped = 0;      // rows removed by singleton pruning (all rounds)
  int singleton_rounds = 0;            // pruning rounds that removed something
  int64_t rows_dropped_component = 0;  // rows outside the largest component (if requested)
  int32_t components_before = 0;       // components before keep_largest_component
  int64_t rows_out = 0;
  std::vector<int32_t> levels_in_q;    // levels per factor before pruning
  std::vector<int32_t> levels_out_q;   // levels per factor in the design
};

struct Design {
  std::string source;                        // the table's file (for messages)
  std::string outcome_name;
  Eigen::VectorXd y_n;
  Eigen::MatrixXd X_nk;
  std::vector<std::string> covariate_names;  // X_nk's columns
  std::vector<absorb::Factor> factors;       // dense codes over the design's rows
  std::vector<std::vector<std::string>> level_labels_q;  // original ids per code
  std::vector<double> weights_n;             // empty = unweighted
  std::string weights_name;
  std::vector<int32_t> cluster_n;            // empty = no cluster variable
  int32_t num_clusters = 0;
  std::string cluster_name;
  std::vector<std::string> cluster_labels;
  // The 0-based row of the input table and of the file the table was read
  // from, per design row; empty when the design keeps every row in order
  // (the usual case, where at 10^7 rows they would hold 160 MB of
  // 0, 1, 2, ...). Read them through SourceRow and InputRow.
  std::vector<int64_t> source_row_n;
  std::vector<int64_t> input_row_n;
  // Connected components of the factor graph (absorb::FindComponents: one
  // component for one factor; for 2+ factors the components of factors 0 and
  // 1, numbered in order of first appearance in observation order).
  absorb::Components components;
  DesignReport report;

  int64_t num_obs() const { return y_n.size(); }
  int64_t SourceRow(int64_t i) const { return source_row_n.empty() ? i : source_row_n[static_cast<size_t>(i)]; }
  int64_t InputRow(int64_t i) const { return input_row_n.empty() ? i : input_row_n[static_cast<size_t>(i)]; }
  std::vector<int64_t> InputRows() const;  // InputRow of every design row
  int num_covariates() const { return static_cast<int>(X_nk.cols()); }
};

// Builds the design. Throws cwfx::Error (naming file, row and column where it
// applies) for: a missing column; a non-numeric or non-finite outcome,
// covariate or weight; a missing id; a weight <= 0; no observations left after
// singleton removal; an absorbed factor with a single level (it would be the
// intercept: remove it from the absorbed factors); the same column absorbed
// twice. Collinearity of covariates is detected by Fit (it needs absorption).
Design BuildDesign(const table::Table& table, const DesignSpec& spec, DesignReport* report = nullptr);
// The same, consuming the table: each column is freed once the design holds
// it (at 10^7 rows the table and the design together were 2 GB).
Design BuildDesign(table::Table&& table, const DesignSpec& spec, DesignReport* report = nullptr);

}  // namespace cwfx::fit
