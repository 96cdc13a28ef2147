#include "study/study_writer.h"

#include <nlohmann/json.hpp>

#include <vector>

#include "core/time_format.h"
#include "core/version.h"
#include "results/fit_writer.h"
#include "store/h5_file.h"

namespace cwfx::study {
namespace {

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

void WriteStudyResults(const std::string& path, const StudyResult& r, const results::Provenance& provenance,
                       const std::function<void(store::H5File&)>& extra) {
  store::H5File f = store::H5File::Create(path);
  f.SetAttribute("/", "engine_version", kEngineVersion);
  f.SetAttribute("/", "command", provenance.command);
  f.SetAttribute("/", "data", provenance.data_path);
  f.SetAttribute("/", "data_fingerprint", provenance.data_fingerprint);
  f.SetAttribute("/", "options", provenance.options_json.empty() ? r.options.ToJson() : provenance.options_json);
  f.SetAttribute("/", "created", UtcIsoNow());

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
    // Invalid UTF-8 in a factor name is replaced (U+FFFD) rather than thrown.
    f.SetAttribute("/model", "factors",
                   nlohmann::json(m.factor_names).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    results::WriteCoefficients(f, "/model/coefficients", m);
  }
  // Ranking.
  {
    const CaseworkerRanking& k = r.ranking;
    const std::string g = "/ranking";
    f.CreateGroup(g);
    results::WriteIds(f, g + "/caseworker_id", k.id_g);
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
  if (extra) extra(f);
  f.Close();
}

}  // namespace cwfx::study
