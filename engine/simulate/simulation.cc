#include "simulate/simulation.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <numeric>

#include "core/error.h"
#include "core/random_stream.h"
#include "core/version.h"
#include "replicate/estimator.h"
#include "replicate/problem.h"
#include "replicate/schemes.h"
#include "table/number_format.h"

namespace cwfx::simulate {
namespace {

constexpr uint32_t kRegisterSeedDomain = 0x53494d52u;  // "SIMR"
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

uint64_t RegisterSeed(uint64_t seed, int64_t r) {
  random::Stream s(seed, kRegisterSeedDomain, static_cast<uint64_t>(r));
  const uint64_t hi = s.Next32();
  return (hi << 32) | s.Next32();
}

// Ranks, 1 = largest; ties by index (every use here is on continuous values).
std::vector<int32_t> RanksDescending(const std::vector<double>& v) {
  std::vector<int32_t> idx(v.size());
  std::iota(idx.begin(), idx.end(), 0);
  std::stable_sort(idx.begin(), idx.end(), [&](int32_t a, int32_t b) { return v[static_cast<size_t>(a)] > v[static_cast<size_t>(b)]; });
  std::vector<int32_t> rank(v.size());
  for (size_t k = 0; k < idx.size(); ++k) rank[static_cast<size_t>(idx[k])] = static_cast<int32_t>(k) + 1;
  return rank;
}

double Pearson(const std::vector<double>& a, const std::vector<double>& b) {
  const auto n = static_cast<double>(a.size());
  const double ma = std::accumulate(a.begin(), a.end(), 0.0) / n, mb = std::accumulate(b.begin(), b.end(), 0.0) / n;
  double sab = 0, saa = 0, sbb = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) * (a[i] - ma);
    sbb += (b[i] - mb) * (b[i] - mb);
  }
  return saa > 0 && sbb > 0 ? sab / std::sqrt(saa * sbb) : kNaN;
}

double Rmse(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != b.size() || a.empty()) return kNaN;
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += (a[i] - b[i]) * (a[i] - b[i]);
  return std::sqrt(s / static_cast<double>(a.size()));
}

double Covers(double lo, double hi, double truth) {
  if (std::isnan(lo) || std::isnan(hi)) return kNaN;
  return lo <= truth && truth <= hi ? 1.0 : 0.0;
}

// Linear-interpolation quantile (R type 7) of sorted values.
double Quantile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return kNaN;
  const double h = (static_cast<double>(sorted.size()) - 1) * p;
  const auto lo = static_cast<size_t>(std::floor(h));
  const size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (h - static_cast<double>(lo)) * (sorted[hi] - sorted[lo]);
}

struct Setter {
  const char* name;
  void (*apply)(datagen::GeneratorOptions&, double);
};

const std::vector<Setter>& Setters() {
  static const std::vector<Setter> s = {
      {"caseworker_effect_sd", [](datagen::GeneratorOptions& o, double v) { o.caseworker_effect_sd = v; }},
      {"citizen_effect_sd", [](datagen::GeneratorOptions& o, double v) { o.citizen_effect_sd = v; }},
      {"sorting", [](datagen::GeneratorOptions& o, double v) { o.sorting = v; }},
      {"caseworker_change_rate", [](datagen::GeneratorOptions& o, double v) { o.caseworker_change_rate = v; }},
      {"substitute_meeting_rate", [](datagen::GeneratorOptions& o, double v) { o.substitute_meeting_rate = v; }},
      {"outcome_noise_sd", [](datagen::GeneratorOptions& o, double v) { o.outcome_noise_sd = v; }},
      {"mean_extra_responses", [](datagen::GeneratorOptions& o, double v) { o.mean_extra_responses = v; }},
      {"num_citizens", [](datagen::GeneratorOptions& o, double v) { o.num_citizens = std::llround(v); }},
      {"regular_caseworkers_per_centre",
       [](datagen::GeneratorOptions& o, double v) { o.regular_caseworkers_per_centre = static_cast<int>(std::lround(v)); }},
      {"citizens_per_caseworker",
       [](datagen::GeneratorOptions& o, double v) {
         const double per_centre = static_cast<double>(o.num_citizens) / o.num_job_centres;
         o.regular_caseworkers_per_centre = std::max(1, static_cast<int>(std::lround(per_centre / v)));
       }},
  };
  return s;
}

}  // namespace

const std::vector<std::string>& GridParameters() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> n;
    for (const auto& s : Setters()) n.emplace_back(s.name);
    return n;
  }();
  return names;
}

void ApplyParameter(datagen::GeneratorOptions& generator, const std::string& parameter, double value) {
  if (!std::isfinite(value)) throw Error(Location{"simulation grid", -1, parameter}, "values must be finite");
  for (const auto& s : Setters()) {
    if (parameter == s.name) {
      if (parameter == "citizens_per_caseworker" && !(value > 0))
        throw Error(Location{"simulation grid", -1, parameter}, "expected a value > 0");
      s.apply(generator, value);
      return;
    }
  }
  std::string list;
  for (const auto& n : GridParameters()) list += (list.empty() ? "" : ", ") + n;
  throw Error(Location{"simulation grid", -1, parameter}, "unknown grid parameter (expected one of " + list + ")");
}

datagen::GeneratorOptions SimulationOptions::DefaultGenerator() {
  datagen::GeneratorOptions g = datagen::GeneratorOptions::Preset("study");
  g.outcome_noise_sd = 0.355;
  g.caseworker_effect_sd = 0.084;
  return g;
}

study::StudyOptions SimulationOptions::DefaultStudy() {
  study::StudyOptions s;
  s.characterise = false;  // figures 4-19 describe caseworkers, not estimator quality
  return s;
}

corrections::CorrectionOptions SimulationOptions::DefaultCorrections() {
  corrections::CorrectionOptions c;
  c.cross_fit_splits = 20;
  // The NPMLE's EM is most of a register's cost at 1e-8; 1e-6 moves the
  // posterior means by far less than their Monte Carlo error.
  c.npmle_grid_points = 200;
  c.npmle_tolerance = 1e-6;
  c.posterior_draws = 1000;
  c.projection_draws = 4000;
  c.rank_draws = 500;
  return c;
}

int64_t SimulationOptions::GridPoints() const {
  int64_t p = 1;
  for (const auto& a : grid) p *= static_cast<int64_t>(a.values.size());
  return p;
}

std::vector<double> SimulationOptions::GridPoint(int64_t point) const {
  std::vector<double> v(grid.size());
  // The last axis varies fastest.
  for (size_t k = grid.size(); k-- > 0;) {
    const auto m = static_cast<int64_t>(grid[k].values.size());
    v[k] = grid[k].values[static_cast<size_t>(point % m)];
    point /= m;
  }
  return v;
}

datagen::GeneratorOptions SimulationOptions::GeneratorFor(int64_t point) const {
  datagen::GeneratorOptions g = generator;
  const std::vector<double> v = GridPoint(point);
  // citizens_per_caseworker reads num_citizens: it goes last.
  for (int pass = 0; pass < 2; ++pass) {
    for (size_t k = 0; k < grid.size(); ++k) {
      if ((grid[k].parameter == "citizens_per_caseworker") == (pass == 1)) ApplyParameter(g, grid[k].parameter, v[k]);
    }
  }
  return g;
}

void SimulationOptions::Validate() const {
  if (registers < 1) throw Error(Location{"SimulationOptions", -1, "registers"}, "expected >= 1");
  if (inner_bootstrap < 0 || inner_permutations < 0)
    throw Error(Location{"SimulationOptions", -1, "inner_bootstrap"}, "expected >= 0 replications");
  for (const auto& a : grid) {
    if (a.values.empty()) throw Error(Location{"simulation grid", -1, a.parameter}, "needs at least one value");
    for (const auto& b : grid)
      if (&a != &b && a.parameter == b.parameter)
        throw Error(Location{"simulation grid", -1, a.parameter}, "appears twice");
  }
  for (int64_t p = 0; p < GridPoints(); ++p) {
    try {
      GeneratorFor(p).Validate();
    } catch (const Error& e) {
      throw Error(std::string("grid point ") + std::to_string(p) + ": " + e.what());
    }
  }
  study.Validate();
  corrections.Validate();
}

std::string SimulationOptions::ToJson() const {
  nlohmann::json j;
  j["generator"] = nlohmann::json::parse(generator.ToJson());
  nlohmann::json g = nlohmann::json::array();
  for (const auto& a : grid) g.push_back({{"parameter", a.parameter}, {"values", a.values}});
  j["grid"] = g;
  j["study"] = nlohmann::json::parse(study.ToJson());
  const auto& c = corrections;
  j["corrections"] = {{"alpha", c.alpha},
                      {"shrinkage", c.shrinkage},
                      {"npmle_grid_points", c.npmle_grid_points},
                      {"npmle_tolerance", c.npmle_tolerance},
                      {"npmle_max_iterations", c.npmle_max_iterations},
                      {"posterior_draws", c.posterior_draws},
                      {"cross_fit_splits", c.cross_fit_splits},
                      {"conditional_inference", c.conditional_inference},
                      {"projection_draws", c.projection_draws},
                      {"leave_out_variance", c.leave_out_variance},
                      {"rank_sets", c.rank_sets},
                      {"rank_draws", c.rank_draws}};
  j["inner_bootstrap"] = inner_bootstrap;
  j["inner_permutations"] = inner_permutations;
  return j.dump();
}

const std::vector<std::string>& MetricNames() {
  static const std::vector<std::string> names = {
      "caseworkers", "responses", "citizens", "citizens_per_caseworker", "true_sd",
      "corr_pearson", "corr_spearman", "rmse_raw", "rmse_eb_normal", "rmse_eb_npmle",
      "top_hit_raw", "top_hit_eb",
      "var_true", "var_plugin", "var_kss", "var_true_unweighted", "var_plugin_unweighted", "var_kss_unweighted",
      "gain_true", "gain_oracle", "gain_true_half",
      "gain_naive", "gain_naive_se", "cover_naive", "naive_length",
      "gain_eb_normal", "gain_eb_npmle",
      "gain_cross_fit", "gain_cross_fit_se", "cover_cross_fit", "cover_cross_fit_full",
      "gain_conditional", "cover_conditional", "cover_hybrid", "hybrid_length",
      "rank_cover_marginal", "top_set_cover", "top_set_size",
      "prob_top_true_top", "prob_top_brier",
      "boot_se_fixed", "cover_boot", "perm_p_variance", "perm_p_gain",
      "status"};
  return names;
}

RegisterRow SimulateRegister(const SimulationOptions& options, int64_t r, const parallel::Context& ctx) {
  const int64_t point = r % options.GridPoints();
  RegisterRow row;
  row.grid = options.GridPoint(point);
  row.grid.insert(row.grid.begin(), static_cast<double>(point));
  std::map<std::string, double> m;
  for (const auto& name : MetricNames()) m[name] = kNaN;
  try {
    const uint64_t seed = RegisterSeed(options.seed, r);
    const datagen::GeneratorOptions generator = options.GeneratorFor(point);
    datagen::Register reg = datagen::Generate(generator, seed, ctx);
    study::StudyOptions study_options = options.study;
    study_options.binary_outcome = generator.outcome_noise_sd < 0;  // a continuous design is not an LPM
    const study::StudyResult st = study::RunStudy(reg.responses, study_options, ctx);

    replicate::ReplicationOptions ro;
    ro.seed = seed;
    ro.scheme = options.inner_permutations > 0 ? replicate::Scheme::kPermute : replicate::Scheme::kPairs;
    ro.max_rank_units = std::max<int32_t>(ro.max_rank_units, st.caseworkers);
    const replicate::ReplicationProblem problem = replicate::BuildProblem(reg.responses, st, ro, ctx);
    corrections::CorrectionOptions co = options.corrections;
    co.seed = seed;
    const corrections::CorrectionResult cr = corrections::RunCorrections(problem, st, co, ctx);

    // Truth of the analysed caseworkers, centred by the response shares.
    std::map<std::string, double> truth_by_id;
    {
      const auto id = reg.caseworkers.Numeric("caseworker_id");
      const auto eff = reg.caseworkers.Numeric("true_effect");
      for (size_t k = 0; k < id.size(); ++k) truth_by_id[table::FormatNumber(id[k])] = eff[k];
    }
    const auto& rk = st.ranking;
    const auto G = static_cast<int32_t>(rk.id_g.size());
    std::vector<double> psi(static_cast<size_t>(G)), w(static_cast<size_t>(G));
    double n = 0, centre = 0;
    for (int32_t g = 0; g < G; ++g) {
      const auto it = truth_by_id.find(rk.id_g[static_cast<size_t>(g)]);
      if (it == truth_by_id.end()) throw Error("caseworker " + rk.id_g[static_cast<size_t>(g)] + " has no truth");
      psi[static_cast<size_t>(g)] = it->second;
      w[static_cast<size_t>(g)] = static_cast<double>(rk.n_responses_g[static_cast<size_t>(g)]);
      n += w[static_cast<size_t>(g)];
    }
    for (int32_t g = 0; g < G; ++g) {
      w[static_cast<size_t>(g)] /= n;
      centre += w[static_cast<size_t>(g)] * psi[static_cast<size_t>(g)];
    }
    for (double& v : psi) v -= centre;
    const auto& est = cr.effects.effect_g;
    const int32_t top = cr.top_size;
    const std::vector<int32_t> true_rank = RanksDescending(psi);

    m["caseworkers"] = G;
    m["responses"] = static_cast<double>(st.responses);
    m["citizens"] = static_cast<double>(st.citizens);
    m["citizens_per_caseworker"] =
        static_cast<double>(std::accumulate(rk.n_citizens_g.begin(), rk.n_citizens_g.end(), int64_t{0})) / G;
    double var_true = 0, mean_true_u = std::accumulate(psi.begin(), psi.end(), 0.0) / G, var_true_u = 0;
    for (int32_t g = 0; g < G; ++g) {
      var_true += w[static_cast<size_t>(g)] * psi[static_cast<size_t>(g)] * psi[static_cast<size_t>(g)];
      var_true_u += (psi[static_cast<size_t>(g)] - mean_true_u) * (psi[static_cast<size_t>(g)] - mean_true_u);
    }
    var_true_u /= G;
    m["true_sd"] = std::sqrt(var_true);
    // The same divisor as the reported plug-in: the leave-out targets'
    // F'(I - 11'/n)F / (n - 1) when they were computed, else w'psi^2.
    if (std::isfinite(cr.variance.kss)) var_true *= n / (n - 1);
    m["corr_pearson"] = Pearson(est, psi);
    {
      const auto re = RanksDescending(est);
      m["corr_spearman"] = Pearson(std::vector<double>(re.begin(), re.end()),
                                   std::vector<double>(true_rank.begin(), true_rank.end()));
    }
    m["rmse_raw"] = Rmse(est, psi);
    m["rmse_eb_normal"] = Rmse(cr.effects.normal_mean_g, psi);
    m["rmse_eb_npmle"] = Rmse(cr.effects.npmle_mean_g, psi);
    {
      int hit = 0, hit_eb = 0;
      const auto eb_rank = cr.effects.normal_mean_g.empty() ? std::vector<int32_t>{}
                                                            : RanksDescending(cr.effects.normal_mean_g);
      for (int32_t g = 0; g < G; ++g) {
        if (true_rank[static_cast<size_t>(g)] > top) continue;
        hit += rk.quartile_g[static_cast<size_t>(g)] == 4;
        if (!eb_rank.empty()) hit_eb += eb_rank[static_cast<size_t>(g)] <= top;
      }
      m["top_hit_raw"] = static_cast<double>(hit) / top;
      m["top_hit_eb"] = eb_rank.empty() ? kNaN : static_cast<double>(hit_eb) / top;
    }
    m["var_true"] = var_true;
    m["var_plugin"] = cr.variance.plugin;
    m["var_kss"] = cr.variance.kss;
    m["var_true_unweighted"] = var_true_u;
    m["var_plugin_unweighted"] = cr.variance.plugin_unweighted;
    m["var_kss_unweighted"] = cr.variance.kss_unweighted;

    // Gains.
    double gain_true = 0, wmean = 0;  // psi is centred: wmean = 0 up to rounding
    for (int32_t g = 0; g < G; ++g) wmean += w[static_cast<size_t>(g)] * psi[static_cast<size_t>(g)];
    {
      double s = 0, o = 0;
      for (int32_t g = 0; g < G; ++g) {
        if (rk.quartile_g[static_cast<size_t>(g)] == 4) s += psi[static_cast<size_t>(g)];
        if (true_rank[static_cast<size_t>(g)] <= top) o += psi[static_cast<size_t>(g)];
      }
      gain_true = s / rk.sizes_q.back() - wmean;
      m["gain_true"] = gain_true;
      m["gain_oracle"] = o / top - wmean;
    }
    m["gain_true_half"] = cr.policy.cross_fit_selection_g.empty()
                              ? kNaN
                              : [&] {
                                  double s = 0;
                                  for (int32_t g = 0; g < G; ++g)
                                    s += cr.policy.cross_fit_selection_g[static_cast<size_t>(g)] * psi[static_cast<size_t>(g)];
                                  return s - wmean;
                                }();
    const auto& pol = cr.policy;
    m["gain_naive"] = pol.naive;
    m["gain_naive_se"] = pol.naive_std_error;
    m["cover_naive"] = Covers(pol.naive_lower, pol.naive_upper, gain_true);
    m["naive_length"] = pol.naive_upper - pol.naive_lower;
    m["gain_eb_normal"] = pol.eb_normal;
    m["gain_eb_npmle"] = pol.eb_npmle;
    m["gain_cross_fit"] = pol.cross_fit;
    m["gain_cross_fit_se"] = pol.cross_fit_std_error;
    m["cover_cross_fit"] = Covers(pol.cross_fit_lower, pol.cross_fit_upper, m["gain_true_half"]);
    m["cover_cross_fit_full"] = Covers(pol.cross_fit_lower, pol.cross_fit_upper, gain_true);
    m["gain_conditional"] = pol.conditional_median;
    m["cover_conditional"] = Covers(pol.conditional_lower, pol.conditional_upper, gain_true);
    m["cover_hybrid"] = Covers(pol.hybrid_lower, pol.hybrid_upper, gain_true);
    m["hybrid_length"] = pol.hybrid_upper - pol.hybrid_lower;

    const auto& ef = cr.effects;
    if (!ef.marginal_lower_g.empty()) {
      int in = 0, top_in = 0, size = 0;
      for (int32_t g = 0; g < G; ++g) {
        const int32_t t = true_rank[static_cast<size_t>(g)];
        in += ef.marginal_lower_g[static_cast<size_t>(g)] <= t && t <= ef.marginal_upper_g[static_cast<size_t>(g)];
        size += ef.could_be_top_g[static_cast<size_t>(g)];
        if (t <= top) top_in += ef.could_be_top_g[static_cast<size_t>(g)];
      }
      m["rank_cover_marginal"] = static_cast<double>(in) / G;
      m["top_set_cover"] = top_in == top ? 1.0 : 0.0;
      m["top_set_size"] = size;
    }
    if (!ef.normal_prob_top_g.empty()) {
      double pt = 0, brier = 0;
      for (int32_t g = 0; g < G; ++g) {
        const double truth = true_rank[static_cast<size_t>(g)] <= top ? 1.0 : 0.0;
        const double p = ef.normal_prob_top_g[static_cast<size_t>(g)];
        if (truth == 1.0) pt += p;
        brier += (p - truth) * (p - truth);
      }
      m["prob_top_true_top"] = pt / top;
      m["prob_top_brier"] = brier / G;
    }

    // Inner replications, serially (the registers fill the threads).
    if (options.inner_bootstrap > 0 || options.inner_permutations > 0) {
      const replicate::ReplicaEstimator estimator(problem);
      replicate::EstimatorWorkspace ws;
      if (options.inner_bootstrap > 0) {
        replicate::ReplicationProblem boot = problem;
        boot.options.scheme = replicate::Scheme::kPairs;
        const replicate::ReplicaEstimator be(boot);
        std::vector<double> draws;
        for (int b = 0; b < options.inner_bootstrap; ++b) {
          const replicate::ReplicationDraw d = replicate::RunReplication(be, b, ws, ctx);
          if (d.status != replicate::DrawStatus::kFailed && std::isfinite(d.fixed_contrast)) draws.push_back(d.fixed_contrast);
        }
        if (draws.size() >= 2) {
          const double mean = std::accumulate(draws.begin(), draws.end(), 0.0) / static_cast<double>(draws.size());
          double ss = 0;
          for (double v : draws) ss += (v - mean) * (v - mean);
          m["boot_se_fixed"] = std::sqrt(ss / static_cast<double>(draws.size() - 1));
          std::sort(draws.begin(), draws.end());
          m["cover_boot"] = Covers(Quantile(draws, co.alpha / 2), Quantile(draws, 1 - co.alpha / 2), gain_true);
        }
      }
      if (options.inner_permutations > 0) {
        const std::vector<double> ones(static_cast<size_t>(problem.num_obs()), 1.0);
        const replicate::ReplicationDraw full = estimator.EstimateWeighted(ones, ws, ctx);
        int64_t ge_var = 0, ge_gain = 0, used = 0;
        for (int b = 0; b < options.inner_permutations; ++b) {
          const replicate::ReplicationDraw d = replicate::RunReplication(estimator, b, ws, ctx);
          if (d.status == replicate::DrawStatus::kFailed) continue;
          ++used;
          ge_var += d.variance_of_effects >= full.variance_of_effects;
          ge_gain += d.policy[2] >= full.policy[2];
        }
        m["perm_p_variance"] = static_cast<double>(1 + ge_var) / static_cast<double>(1 + used);
        m["perm_p_gain"] = static_cast<double>(1 + ge_gain) / static_cast<double>(1 + used);
      }
    }
    m["status"] = 0;
  } catch (const Error& e) {
    row.failed = true;
    row.message = e.what();
    for (auto& [k, v] : m) v = kNaN;
    m["status"] = 2;
  }
  for (const auto& name : MetricNames()) row.metrics.push_back(m[name]);
  return row;
}

store::DrawIdentity MakeSimulationIdentity(const SimulationOptions& options) {
  store::DrawIdentity id;
  id.scheme = "simulation";
  id.seed = options.seed;
  id.configuration_json = options.ToJson();
  id.data_fingerprint = "synthetic";
  id.engine_version = kEngineVersion;
  std::vector<std::string> grid_columns = {"point"};
  for (const auto& a : options.grid) grid_columns.push_back(a.parameter);
  id.datasets = {
      {"grid", static_cast<int64_t>(grid_columns.size()), store::DrawType::kFloat64, grid_columns},
      {"metrics", static_cast<int64_t>(MetricNames().size()), store::DrawType::kFloat64, MetricNames()},
  };
  return id;
}

store::DrawRecord ToDrawRecord(int64_t r, const RegisterRow& row) {
  store::DrawRecord rec;
  rec.replication = r;
  rec.values = {row.grid, row.metrics};
  return rec;
}

int SimulationSummary::FindMetric(const std::string& name) const {
  for (size_t k = 0; k < metrics.size(); ++k)
    if (metrics[k] == name) return static_cast<int>(k);
  return -1;
}

int SimulationSummary::MetricIndex(const std::string& name) const {
  const int k = FindMetric(name);
  if (k < 0) throw Error("simulation summary: no metric '" + name + "'");
  return k;
}

SimulationSummary SummariseSimulation(const store::DrawSet& draws) {
  SimulationSummary s;
  const store::DrawMatrix& grid = draws.Dataset("grid");
  const store::DrawMatrix& met = draws.Dataset("metrics");
  s.axes.assign(grid.columns.begin() + (grid.columns.empty() ? 0 : 1), grid.columns.end());
  s.metrics = met.columns;
  s.total = draws.replications;
  s.status = draws.status;
  const auto M = static_cast<size_t>(met.cols);
  const int status_col = s.MetricIndex("status");
  std::map<int64_t, size_t> slot;
  std::vector<std::vector<double>> sum, sum2;
  for (int64_t r = 0; r < draws.replications; ++r) {
    if (!draws.completed[static_cast<size_t>(r)]) continue;
    ++s.stored;
    const double* g = &grid.values_rc[static_cast<size_t>(r * grid.cols)];
    const double* v = &met.values_rc[static_cast<size_t>(r) * M];
    const auto point = static_cast<int64_t>(g[0]);
    auto it = slot.find(point);
    if (it == slot.end()) {
      it = slot.emplace(point, s.points.size()).first;
      PointSummary p;
      p.grid.assign(g + 1, g + grid.cols);
      p.mean.assign(M, 0.0);
      p.std_error.assign(M, 0.0);
      p.count.assign(M, 0);
      s.points.push_back(std::move(p));
      sum.emplace_back(M, 0.0);
      sum2.emplace_back(M, 0.0);
    }
    PointSummary& p = s.points[it->second];
    ++p.registers;
    if (v[status_col] != 0) {
      ++p.failed;
      continue;
    }
    for (size_t k = 0; k < M; ++k) {
      if (std::isnan(v[k])) continue;
      ++p.count[k];
      sum[it->second][k] += v[k];
      sum2[it->second][k] += v[k] * v[k];
    }
  }
  // Points in grid order.
  std::vector<std::pair<int64_t, size_t>> order(slot.begin(), slot.end());
  std::vector<PointSummary> sorted;
  for (const auto& [point, k] : order) {
    PointSummary p = std::move(s.points[k]);
    for (size_t j = 0; j < M; ++j) {
      const auto c = static_cast<double>(p.count[j]);
      if (c == 0) {
        p.mean[j] = p.std_error[j] = kNaN;
        continue;
      }
      p.mean[j] = sum[k][j] / c;
      const double var = c > 1 ? std::max(0.0, (sum2[k][j] - c * p.mean[j] * p.mean[j]) / (c - 1)) : kNaN;
      p.std_error[j] = std::sqrt(var / c);
    }
    sorted.push_back(std::move(p));
  }
  s.points = std::move(sorted);
  return s;
}

}  // namespace cwfx::simulate
