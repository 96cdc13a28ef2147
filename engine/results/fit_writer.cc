#include "results/fit_writer.h"

#include <charconv>
#include <cstdint>
#include <span>
#include <vector>

#include "core/time_format.h"
#include "core/version.h"

namespace cwfx::results {
namespace {

// Ids are written back as they were read: as integers when every label is an
// integer (the usual register id), as text otherwise.
bool AllIntegers(const std::vector<std::string>& labels, std::vector<int64_t>* out) {
  out->clear();
  out->reserve(labels.size());
  for (const auto& s : labels) {
    int64_t v = 0;
    const char* end = s.data() + s.size();
    auto [ptr, ec] = std::from_chars(s.data(), end, v);
    if (ec != std::errc() || ptr != end || s.empty()) return false;
    out->push_back(v);
  }
  return true;
}

std::span<const double> Span(const Eigen::VectorXd& v) { return {v.data(), static_cast<size_t>(v.size())}; }

void WriteFixedEffects(store::H5File& f, const fit::FitResult& r) {
  f.CreateGroup("/fixed_effects");
  for (const auto& fe : r.fixed_effects) {
    const std::string g = "/fixed_effects/" + fe.name;
    f.CreateGroup(g);
    WriteIds(f, g + "/id", fe.labels);
    f.WriteDoubles(g + "/effect", Span(fe.effect_g));
    if (fe.std_error_g.size() > 0) f.WriteDoubles(g + "/std_error", Span(fe.std_error_g));
    f.WriteInt64(g + "/n_obs", fe.n_obs_g);
    f.WriteInt32(g + "/component", fe.component_g);
    f.SetAttribute(g, "normalisation", r.fe_normalisation);
    f.SetAttribute(g, "recovery", r.fe_recovery);
  }
}

void WriteFitMeasures(store::H5File& f, const fit::FitResult& r) {
  const std::string g = "/fit";
  f.CreateGroup(g);
  f.SetAttribute(g, "outcome", r.outcome_name);
  f.SetAttribute(g, "n", r.n);
  f.SetAttribute(g, "sum_weights", r.sum_weights);
  f.SetAttribute(g, "rss", r.rss);
  f.SetAttribute(g, "tss", r.tss);
  f.SetAttribute(g, "r2", r.r2);
  f.SetAttribute(g, "adj_r2", r.adj_r2);
  f.SetAttribute(g, "within_r2", r.within_r2);
  f.SetAttribute(g, "r2_without_factor", r.r2_without_factor);
  f.SetAttribute(g, "r2_without", r.r2_without);
  f.SetAttribute(g, "sigma2", r.sigma2);
  f.SetAttribute(g, "absorbed_dof", r.absorbed_dof);
  f.SetAttribute(g, "absorbed_dof_exact", static_cast<int64_t>(r.absorbed_dof_exact));
  f.SetAttribute(g, "absorbed_dof_rule", r.absorbed_dof_rule);
  f.SetAttribute(g, "dof_k", r.dof_k);
  f.SetAttribute(g, "residual_dof", r.residual_dof);
  f.SetAttribute(g, "components", static_cast<int64_t>(r.num_components));
}

void WriteDiagnostics(store::H5File& f, const fit::FitResult& r) {
  const std::string g = "/diagnostics";
  f.CreateGroup(g);
  const auto& d = r.design_report;
  // The absorb summary lists the outcome, then every covariate given.
  std::vector<int32_t> iterations, converged;
  std::vector<double> criterion;
  for (const auto& c : r.absorb_summary.columns) {
    iterations.push_back(c.iterations);
    criterion.push_back(c.criterion);
    converged.push_back(c.converged ? 1 : 0);
  }
  f.WriteInt32(g + "/iterations", iterations);
  f.WriteDoubles(g + "/criterion", criterion);
  f.WriteInt32(g + "/converged", converged);
  f.WriteStrings(g + "/warnings", r.warnings);
  f.SetAttribute(g, "rows_in", d.rows_in);
  f.SetAttribute(g, "singletons_dropped", d.singletons_dropped);
  f.SetAttribute(g, "singleton_rounds", static_cast<int64_t>(d.singleton_rounds));
  f.SetAttribute(g, "rows_dropped_component", d.rows_dropped_component);
  f.SetAttribute(g, "rows_out", d.rows_out);
  f.SetAttribute(g, "absorb_method", r.absorb_method);
  f.SetAttribute(g, "solver", r.solver_report);
  f.SetAttribute(g, "seconds_absorb", r.seconds_absorb);
  f.SetAttribute(g, "seconds_recover", r.seconds_recover);
  f.SetAttribute(g, "seconds_std_errors", r.seconds_std_errors);
  f.SetAttribute(g, "seconds_total", r.seconds_total);
}

}  // namespace

void WriteCoefficients(store::H5File& f, const std::string& g, const fit::FitResult& r) {
  f.CreateGroup(g);
  f.WriteStrings(g + "/name", r.covariate_names);
  f.WriteDoubles(g + "/estimate", Span(r.coef_k));
  f.WriteDoubles(g + "/std_error", Span(r.std_error_k));
  f.WriteDoubles(g + "/t_value", Span(r.t_k));
  f.WriteDoubles(g + "/p_value", Span(r.p_k));
  const auto k = static_cast<int64_t>(r.vcov_kk.rows());
  // Eigen is column-major; vcov is symmetric, so row-major storage is the same data.
  f.WriteMatrix(g + "/vcov", std::span<const double>(r.vcov_kk.data(), static_cast<size_t>(k * k)), k, k);
  f.WriteStrings(g + "/dropped_collinear", r.dropped_collinear);
  f.SetAttribute(g, "vcov_type", fit::VcovName(r.vcov_type));
  f.SetAttribute(g, "cluster", r.cluster_name);
  f.SetAttribute(g, "num_clusters", static_cast<int64_t>(r.num_clusters));
  f.SetAttribute(g, "t_dof", r.t_dof);
}

void WriteIds(store::H5File& f, const std::string& path, const std::vector<std::string>& labels) {
  std::vector<int64_t> ids;
  if (AllIntegers(labels, &ids)) {
    f.WriteInt64(path, ids);
  } else {
    f.WriteStrings(path, labels);
  }
}

void WriteFitResult(const std::string& path, const fit::Design& design, const fit::FitResult& result,
                    const Provenance& provenance, const FitWriteOptions& options) {
  store::H5File f = store::H5File::Create(path);
  f.SetAttribute("/", "engine_version", kEngineVersion);
  f.SetAttribute("/", "command", provenance.command);
  f.SetAttribute("/", "data", provenance.data_path);
  f.SetAttribute("/", "data_fingerprint", provenance.data_fingerprint);
  f.SetAttribute("/", "options", provenance.options_json);
  f.SetAttribute("/", "created", UtcIsoNow());
  WriteCoefficients(f, "/coefficients", result);
  WriteFixedEffects(f, result);
  WriteFitMeasures(f, result);
  WriteDiagnostics(f, result);
  {
    std::vector<std::string> column_names{result.outcome_name};
    for (const auto& c : design.covariate_names) column_names.push_back(c);
    if (column_names.size() == result.absorb_summary.columns.size()) {
      f.WriteStrings("/diagnostics/column", column_names);
    }
  }
  if (options.residuals && result.residual_n.size() == result.n) {
    f.WriteInt64("/residuals/row", design.InputRows());
    f.WriteDoubles("/residuals/residual", Span(result.residual_n));
  }
  f.Close();
}

}  // namespace cwfx::results
