// The estimate results file: a FitResult in HDF5, with its provenance.
//
// Schema (all datasets 1-D unless said otherwise):
//   / (file)                 @engine_version, @command, @data, @data_fingerprint,
//                            @options (JSON), @created (UTC, ISO 8601)
//   /coefficients/           name (string), estimate, std_error, t_value, p_value,
//                            vcov (k x k matrix); @vcov_type, @cluster, @num_clusters,
//                            @t_dof; dropped_collinear (string, may be empty)
//   /fixed_effects/<factor>/ id (int64 when every input id is an integer, else
//                            string: the id as in the input file), effect,
//                            std_error (first factor only), n_obs, component;
//                            @normalisation, @recovery
//   /fit/                    @n, @sum_weights, @rss, @tss, @r2, @adj_r2, @within_r2,
//                            @r2_without_factor, @r2_without, @sigma2, @absorbed_dof,
//                            @absorbed_dof_exact, @absorbed_dof_rule, @dof_k,
//                            @residual_dof, @components
//   /diagnostics/            column (string), iterations, criterion, converged (int32)
//                            per absorbed column; warnings (string);
//                            @singletons_dropped, @singleton_rounds, @rows_in,
//                            @rows_dropped_component, @rows_out, @absorb_method,
//                            @solver, @seconds_absorb, @seconds_recover,
//                            @seconds_std_errors, @seconds_total
//   /residuals/              row (int64, 0-based row of the input), residual
//                            (only when requested)
#pragma once

#include <string>

#include <vector>

#include "fit/design.h"
#include "fit/fit.h"
#include "store/h5_file.h"

namespace cwfx::results {

struct Provenance {
  std::string command;           // the command line as typed
  std::string data_path;         // input file
  std::string data_fingerprint;  // FileFingerprint(data_path)
  std::string options_json;      // every option that shaped the result
};

struct FitWriteOptions {
  bool residuals = false;  // also write /residuals
};

// Writes atomically: the file appears complete at `path` or not at all (a
// previous file of that name survives a failure). Throws cwfx::Error naming
// the file on any failure (full disk included).
void WriteFitResult(const std::string& path, const fit::Design& design, const fit::FitResult& result,
                    const Provenance& provenance, const FitWriteOptions& options = {});

// The pieces other results files share (the study's results.h5 too).

// Creates `group` holding the coefficient table of `result`: name, estimate,
// std_error, t_value, p_value, vcov (k x k), dropped_collinear, and the
// attributes vcov_type, cluster, num_clusters, t_dof (schema above).
void WriteCoefficients(store::H5File& file, const std::string& group, const fit::FitResult& result);

// Writes ids as they were read: an int64 dataset at `path` when every label is
// an integer (the usual register id), a string dataset otherwise.
void WriteIds(store::H5File& file, const std::string& path, const std::vector<std::string>& labels);

}  // namespace cwfx::results
