#include "study/study_writer.h"

#include <nlohmann/json.hpp>

#include <charconv>
#include <chrono>
#include <ctime>
#include <span>
#include <vector>

#include "core/version.h"
#include "store/h5_file.h"

namespace cwfx::study {
namespace {

std::string UtcNow() {
  const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::span<const double> Span(const Eigen::VectorXd& v) { return {v.data(), static_cast<size_t>(v.size())}; }

void WriteFigure(store::H5File& f, const std::string& g, const QuartileFigure& fig) {
  f.CreateGroup(g);
  const GroupComparison& s = fig.stats;
  f.WriteDoubles(g + "/mean", s.mean_g);
  f.WriteDoubles(g + "/std_error", s.std_error_g);
  f.WriteDoubles(g + "/diff", s.diff_g);
  f.WriteDoubles(g + "/diff_std_error", s.diff_std_error_g);
  f.WriteDoubles(g + "/diff_p", s.diff_p_g);
  f.WriteInt64(g + "/n", s.n_g);
  f.WriteInt32(g + "/clusters", s.clusters_g);
  f.SetAttribute(g, "title", fig.title);
  f.SetAttribute(g, "variable", fig.variable);
  f.SetAttribute(g, "unit", fig.unit);
  f.SetAttribute(g, "wald", s.wald);
  f.SetAttribute(g, "wald_f", s.wald_f);
  f.SetAttribute(g, "wald_df1", static_cast<int64_t>(s.wald_df1));
  f.SetAttribute(g, "wald_df2", static_cast<int64_t>(s.wald_df2));
  f.SetAttribute(g, "wald_p", s.wald_p);
}

}  // namespace

void WriteStudyResults(const std::string& path, const StudyResult& r, const results::Provenance& provenance) {
  store::H5File f = store::H5File::Create(path);
  f.SetAttribute("/", "engine_version", kEngineVersion);
  f.SetAttribute("/", "command", provenance.command);
  f.SetAttribute("/", "data", provenance.data_path);
  f.SetAttribute("/", "data_fingerprint", provenance.data_fingerprint);
  f.SetAttribute("/", "options", provenance.options_json.empty() ? r.options.ToJson() : provenance.options_json);
  f.SetAttribute("/", "created", UtcNow());

  // Sample.
  {
    std::vector<std::string> name;
    std::vector<int64_t> before, after, removed;
    for (const auto& s : r.sample.steps) {
      name.push_back(s.name);
      before.push_back(s.rows_before);
      after.push_back(s.rows_after);
      removed.push_back(s.removed);
    }
    f.CreateGroup("/sample");
    f.WriteStrings("/sample/step", name);
    f.WriteInt64("/sample/rows_before", before);
    f.WriteInt64("/sample/rows_after", after);
    f.WriteInt64("/sample/removed", removed);
    f.SetAttribute("/sample", "responses", r.sample.responses);
    f.SetAttribute("/sample", "citizens", r.sample.citizens);
    f.SetAttribute("/sample", "caseworkers", r.sample.caseworkers);
  }
  // Model.
  {
    const fit::FitResult& m = r.fit;
    f.CreateGroup("/model");
    f.SetAttribute("/model", "outcome", m.outcome_name);
    f.SetAttribute("/model", "n", m.n);
    f.SetAttribute("/model", "caseworkers", static_cast<int64_t>(r.caseworkers));
    f.SetAttribute("/model", "citizens", r.citizens);
    f.SetAttribute("/model", "outcome_mean", r.outcome_mean);
    f.SetAttribute("/model", "r2", m.r2);
    f.SetAttribute("/model", "r2_without_caseworkers", r.r2_without_caseworkers);
    f.SetAttribute("/model", "adj_r2", m.adj_r2);
    f.SetAttribute("/model", "within_r2", m.within_r2);
    f.SetAttribute("/model", "sigma2", m.sigma2);
    f.SetAttribute("/model", "absorbed_dof", m.absorbed_dof);
    f.SetAttribute("/model", "residual_dof", m.residual_dof);
    f.SetAttribute("/model", "factors", nlohmann::json(m.factor_names).dump());
    const std::string g = "/model/coefficients";
    f.CreateGroup(g);
    f.WriteStrings(g + "/name", m.covariate_names);
    f.WriteDoubles(g + "/estimate", Span(m.coef_k));
    f.WriteDoubles(g + "/std_error", Span(m.std_error_k));
    f.WriteDoubles(g + "/t_value", Span(m.t_k));
    f.WriteDoubles(g + "/p_value", Span(m.p_k));
    const auto k = static_cast<int64_t>(m.vcov_kk.rows());
    // Symmetric: Eigen's column-major storage equals row-major.
    f.WriteMatrix(g + "/vcov", std::span<const double>(m.vcov_kk.data(), static_cast<size_t>(k * k)), k, k);
    f.WriteStrings(g + "/dropped_collinear", m.dropped_collinear);
    f.SetAttribute(g, "vcov_type", fit::VcovName(m.vcov_type));
    f.SetAttribute(g, "cluster", m.cluster_name);
    f.SetAttribute(g, "num_clusters", static_cast<int64_t>(m.num_clusters));
    f.SetAttribute(g, "t_dof", m.t_dof);
  }
  // Ranking.
  {
    const CaseworkerRanking& k = r.ranking;
    const std::string g = "/ranking";
    f.CreateGroup(g);
    std::vector<int64_t> ids;
    bool all_int = true;
    for (const auto& s : k.id_g) {
      int64_t v = 0;
      auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
      all_int = all_int && !s.empty() && ec == std::errc() && p == s.data() + s.size();
      ids.push_back(v);
    }
    if (all_int) {
      f.WriteInt64(g + "/caseworker_id", ids);
    } else {
      f.WriteStrings(g + "/caseworker_id", k.id_g);
    }
    f.WriteDoubles(g + "/effect", k.effect_g);
    f.WriteDoubles(g + "/std_error", k.std_error_g);
    f.WriteInt32(g + "/rank", k.rank_g);
    f.WriteInt32(g + "/quartile", k.quartile_g);
    f.WriteInt64(g + "/n_responses", k.n_responses_g);
    f.WriteInt64(g + "/n_citizens", k.n_citizens_g);
    f.WriteInt32(g + "/quartile_sizes", k.sizes_q);
    f.SetAttribute(g, "effect_centre", r.effect_centre);
    f.SetAttribute(g, "rule",
                   "rank 1 = largest effect, ties by caseworker id (smaller first); top quartile gets floor(G/4), "
                   "the remainder goes to the lower quartiles from the bottom up");
  }
  WriteFigure(f, "/figures/fig1", r.fig1_outcome);
  WriteFigure(f, "/figures/fig2", r.fig2_effect);
  WriteFigure(f, "/figures/fig3", r.fig3_citizens);
  // Table 1.
  {
    const PolicyExperiment& t = r.table1;
    const std::string g = "/table1";
    f.CreateGroup(g);
    const std::vector<std::string> q = {"actual", "counterfactual", "increase"};
    const std::vector<double> share = {t.actual, t.counterfactual, t.increase};
    const std::vector<double> se = {t.actual_std_error, t.counterfactual_std_error, t.increase_std_error};
    f.WriteStrings(g + "/quantity", q);
    f.WriteDoubles(g + "/share", share);
    f.WriteDoubles(g + "/std_error", se);
    f.SetAttribute(g, "p_value", t.p_value);
    f.SetAttribute(g, "z", t.z);
    f.SetAttribute(g, "top_mean_effect", t.top_mean_effect);
    f.SetAttribute(g, "conditioning", t.conditioning);
  }
  f.CreateGroup("/activities");
  f.SetAttribute("/activities", "responses_missing", r.activity_responses_missing);
  for (const auto& fig : r.activity_groups) WriteFigure(f, "/activities/groups/" + fig.id, fig);
  for (const auto& fig : r.activities) WriteFigure(f, "/activities/single/" + fig.id, fig);
  f.CreateGroup("/ratings");
  for (const auto& fig : r.ratings) WriteFigure(f, "/ratings/" + fig.id, fig);
  f.WriteStrings("/warnings", r.warnings);
  f.Close();
}

}  // namespace cwfx::study
