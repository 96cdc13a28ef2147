// RunStudy: the study of REPORT.md as one pure function. See study.h.
#include "study/study.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <sstream>
#include <cmath>
#include <cstdio>
#include <limits>
#include <numeric>
#include <set>
#include <utility>

#include "core/distributions.h"
#include "core/error.h"
#include "inference/shrinkage.h"
#include "study/effect_covariance.h"
#include "study/quartiles.h"
#include "table/id_coding.h"

namespace cwfx::study {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::string LevelName(double v) {
  char buf[64];
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(v));
  } else {
    std::snprintf(buf, sizeof buf, "%g", v);
  }
  return buf;
}

std::string Fmt(const char* fmt, double a) {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, a);
  return buf;
}

// Per-observation values of a numeric table column over the design's rows.
std::vector<double> OverDesign(const table::Table& data, const fit::Design& design, const std::string& col) {
  const auto v = data.Numeric(col, /*require_finite=*/false);
  std::vector<double> out(static_cast<size_t>(design.num_obs()));
  for (size_t i = 0; i < out.size(); ++i) out[i] = v[static_cast<size_t>(design.SourceRow(static_cast<int64_t>(i)))];
  return out;
}

QuartileFigure MakeFigure(std::string id, std::string title, std::string variable, std::string unit,
                          GroupComparison stats) {
  QuartileFigure f;
  f.id = std::move(id);
  f.title = std::move(title);
  f.variable = std::move(variable);
  f.unit = std::move(unit);
  f.stats = std::move(stats);
  return f;
}

}  // namespace

const std::vector<ActivityDef>& StudyActivities() {
  static const std::vector<ActivityDef> kActivities = {
      {1, "General skills (reading/writing, language, IT, communication)", "upskilling"},
      {2, "Vocational upskilling (courses, certificates)", "upskilling"},
      {3, "Knowledge of the labour market", "job-oriented"},
      {4, "Social and personal competences", "social"},
      {5, "Job search", "job-oriented"},
      {6, "Strengthening network", "social"},
      {7, "Company, education or job-centre mentor", "job-oriented"},
      {8, "Everyday coping (housing, debt, transport)", "social"},
      {9, "Diet and exercise", "health"},
      {10, "Assessment and/or treatment incl. rehabilitation", "health"},
      {11, "Coping with mental and/or physical health", "health"},
      {12, "Training/internship in own workshop / internal company", "job-oriented"},
      {13, "Training/internship at an external workplace", "job-oriented"},
      {14, "Company centre", "job-oriented"},
      {15, "Social mentor / support contact person", "social"},
      {16, "Addiction treatment", "health"},
      {17, "Wage subsidy", "job-oriented"},
      {18, "Pre-rehabilitation", "upskilling"},
      {19, "Temporary hours", "job-oriented"},
      {20, "Job rotation project", "job-oriented"},
      {21, "Rehabilitation", "upskilling"},
      {22, "No activities", "none"},
      {23, "Don't know", ""},
  };
  return kActivities;
}

const std::vector<std::string>& ActivityGroups() {
  static const std::vector<std::string> kGroups = {"job-oriented", "upskilling", "social", "health", "none"};
  return kGroups;
}

const std::vector<std::string>& RatingLabels() {
  static const std::vector<std::string> kLabels = {
      "Realism of the citizen's job wishes", "Goal direction", "Initiative", "Telling about oneself",
      "Cooperation", "Understanding instructions", "Concentration", "Network (useful for job search)",
      "Everyday coping", "Coping with health", "Job chance"};
  return kLabels;
}

std::vector<std::string> StudyOptions::DefaultCovariates() {
  std::vector<std::string> c = {"gender", "age", "civil_status", "employment_history", "benefit_history"};
  // std::string(...).append: GCC 12 warns falsely (-Wrestrict) on "literal" + std::string.
  for (int k = 1; k <= 11; ++k) c.push_back(std::string("somatic_").append(std::to_string(k)));
  for (int k = 1; k <= 10; ++k) c.push_back(std::string("psych_").append(std::to_string(k)));
  c.push_back("medicine");
  c.push_back("doctor_visits");
  for (int k = 1; k <= 11; ++k) c.push_back(std::string("B").append(std::to_string(k)));
  for (int k = 1; k <= 11; ++k) c.push_back(std::string("dB").append(std::to_string(k)));
  return c;
}

std::vector<std::string> StudyOptions::ModelColumns() const {
  std::vector<std::string> c = {caseworker_column, citizen_column, sample.date_column, outcome};
  const auto add = [&c](const std::string& name) {
    if (std::find(c.begin(), c.end(), name) == c.end()) c.push_back(name);
  };
  const auto derived = [this](const std::string& name) {
    if (!sample.add_changes) return false;
    for (const std::string& base : sample.change_columns) {
      if (name == sample.change_prefix + base) return true;
    }
    return false;
  };
  for (const std::string& name : covariates) {
    if (!derived(name)) add(name);
  }
  for (const std::string& name : categorical_covariates) add(name);
  for (const std::string& name : extra_factors) add(name);
  if (sample.add_changes) {
    for (const std::string& name : sample.change_columns) add(name);
  }
  return c;
}

void StudyOptions::Validate() const {
  sample.Validate();
  if (outcome.empty()) throw Error("study: the outcome column name is empty");
  if (caseworker_column != sample.caseworker_column || citizen_column != sample.citizen_column) {
    throw Error("study: caseworker/citizen columns differ between the study ('" + caseworker_column + "', '" +
                citizen_column + "') and its sample options ('" + sample.caseworker_column + "', '" +
                sample.citizen_column + "')");
  }
  if (!(absorb_tolerance > 0)) throw Error("study: absorb_tolerance must be > 0");
  if (absorb_max_iterations < 1) throw Error("study: absorb_max_iterations must be >= 1");
}

std::string StudyOptions::ToJson() const {
  nlohmann::json j = {
      {"sample",
       {{"min_citizens_per_caseworker", sample.min_citizens_per_caseworker},
        {"min_responses_per_citizen", sample.min_responses_per_citizen},
        {"drop_first_response", sample.drop_first_response},
        {"add_changes", sample.add_changes},
        {"change_columns", sample.change_columns},
        {"change_prefix", sample.change_prefix},
        {"date_column", sample.date_column},
        {"min_caseworkers_remaining", sample.min_caseworkers_remaining}}},
      {"outcome", outcome},
      {"covariates", covariates},
      {"categorical_covariates", categorical_covariates},
      {"caseworker_column", caseworker_column},
      {"citizen_column", citizen_column},
      {"add_citizen_effects", add_citizen_effects},
      {"extra_factors", extra_factors},
      {"drop_singletons", drop_singletons},
      {"vcov", fit::VcovName(vcov)},
      {"delta_method_uses_coefficient_vcov", delta_method_uses_coefficient_vcov},
      {"absorb_tolerance", absorb_tolerance},
      {"absorb_max_iterations", absorb_max_iterations},
      {"activity_prefix", activity_prefix},
      {"rating_prefix", rating_prefix},
      {"characterise", characterise},
      {"rank_on_shrunk", rank_on_shrunk}};
  // Column names come from the user's file: invalid UTF-8 is replaced (U+FFFD), not thrown.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

table::Table PrepareStudyTable(const table::Table& register_table, const StudyOptions& options,
                               sample::SampleReport* report, std::vector<std::string>* covariates) {
  table::Table data = sample::ApplyStudySample(register_table, options.sample, report);
  std::vector<std::string> covs = options.covariates;
  for (const auto& name : options.categorical_covariates) {
    const auto v = data.Numeric(name, /*require_finite=*/false);
    std::set<double> levels;
    for (double x : v) {
      if (std::isfinite(x)) levels.insert(x);
    }
    bool first = true;
    for (double level : levels) {
      if (first) {  // the smallest level is the reference
        first = false;
        continue;
      }
      std::vector<double> d(v.size());
      for (size_t i = 0; i < v.size(); ++i) d[i] = std::isfinite(v[i]) ? (v[i] == level ? 1.0 : 0.0) : kNaN;
      const std::string dummy = name + "_" + LevelName(level);
      data.AddNumeric(dummy, std::move(d));
      covs.push_back(dummy);
    }
  }
  if (covariates) *covariates = std::move(covs);
  return data;
}

fit::DesignSpec StudyDesignSpec(const StudyOptions& options, const std::vector<std::string>& covariates) {
  fit::DesignSpec spec;
  spec.outcome = options.outcome;
  spec.covariates = covariates;
  spec.absorb = {options.caseworker_column};
  if (options.add_citizen_effects) spec.absorb.push_back(options.citizen_column);
  for (const auto& f : options.extra_factors) spec.absorb.push_back(f);
  spec.cluster = options.caseworker_column;
  spec.drop_singletons = options.drop_singletons;
  return spec;
}

StudyResult RunStudy(const table::Table& register_table, const StudyOptions& options,
                     const parallel::Context& ctx) {
  options.Validate();
  StudyResult res;
  res.options = options;
  std::vector<std::string> covs;
  const table::Table data = PrepareStudyTable(register_table, options, &res.sample, &covs);
  if (options.binary_outcome) {
    // The study's model is a linear probability model: a 0.5 or a 7 in the
    // outcome is a coding error that would still give numbers.
    const std::span<const double> y = data.Numeric(options.outcome);
    for (size_t i = 0; i < y.size(); ++i)
      if (y[i] != 0.0 && y[i] != 1.0) {
        std::ostringstream os;
        os << "the study's outcome is binary (a linear probability model): expected 0 or 1, found " << y[i];
        throw Error(Location{data.source(), data.InputRow(static_cast<int64_t>(i)), options.outcome}, os.str());
      }
  }

  const fit::Design design = fit::BuildDesign(data, StudyDesignSpec(options, covs));
  const int32_t G = design.factors[0].num_levels;
  if (G < kNumQuartiles) {
    throw Error("study: only " + std::to_string(G) +
                " caseworker(s) remain after the sample restrictions; at least 4 are needed to form quartiles");
  }

  fit::FitOptions fo;
  fo.vcov = options.vcov;
  fo.absorb.tolerance = options.absorb_tolerance;
  fo.absorb.max_iterations = options.absorb_max_iterations;
  fo.r2_without_factor = options.caseworker_column;
  fo.keep_residuals = false;
  fo.Validate();
  res.fit = fit::Fit(design, fo, ctx);
  const fit::FitResult& fr = res.fit;
  for (const auto& w : fr.warnings) res.warnings.push_back("fit: " + w);
  if (fr.num_components > 1) {
    res.warnings.push_back("the factor graph has " + std::to_string(fr.num_components) +
                           " connected components: caseworker effects are normalised within each and are not "
                           "comparable across them, so the ranking mixes incomparable scales");
  }

  const int64_t n = design.num_obs();
  res.responses = n;
  res.caseworkers = G;
  res.outcome_mean = design.y_n.mean();
  res.r2_with_caseworkers = fr.r2;
  res.r2_without_caseworkers = fr.r2_without;

  // ---------------------------------------------------------------- ranking
  CWFX_CHECK(!fr.fixed_effects.empty(), "fit returned no fixed effects");
  const fit::FixedEffectEstimates& fe = fr.fixed_effects[0];
  CWFX_CHECK(fe.effect_g.size() == G, "one effect per caseworker");
  CaseworkerRanking& rk = res.ranking;
  rk.id_g = fe.labels;
  rk.effect_g.assign(fe.effect_g.data(), fe.effect_g.data() + G);
  if (fe.std_error_g.size() == G) {
    rk.std_error_g.assign(fe.std_error_g.data(), fe.std_error_g.data() + G);
  } else {
    rk.std_error_g.assign(static_cast<size_t>(G), kNaN);
  }
  std::vector<double> ranking_key = rk.effect_g;
  if (options.rank_on_shrunk) {
    if (!std::all_of(rk.std_error_g.begin(), rk.std_error_g.end(), [](double s) { return s > 0; }))
      throw Error("rank_on_shrunk needs the standard errors of the caseworker effects (the one-factor model)");
    inference::ShrinkageOptions so;
    so.posterior_draws = 0;
    ranking_key = inference::Shrink(rk.effect_g, rk.std_error_g, so, ctx).posterior_mean_g;
  }
  const QuartileAssignment qa = AssignQuartiles(ranking_key, rk.id_g);
  rk.rank_g = qa.rank_g;
  rk.quartile_g = qa.quartile_g;
  rk.sizes_q = qa.sizes_q;
  const std::vector<int32_t>& cw_n = design.factors[0].codes_n;
  rk.n_responses_g.assign(static_cast<size_t>(G), 0);
  for (int32_t g : cw_n) ++rk.n_responses_g[static_cast<size_t>(g)];
  {
    const table::IdCoding cit = table::CodeIds(data, options.citizen_column);
    std::vector<std::pair<int32_t, int32_t>> pairs(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) {
      pairs[static_cast<size_t>(i)] = {cw_n[static_cast<size_t>(i)],
                                       cit.codes_n[static_cast<size_t>(design.SourceRow(i))]};
    }
    std::sort(pairs.begin(), pairs.end());
    pairs.erase(std::unique(pairs.begin(), pairs.end()), pairs.end());
    rk.n_citizens_g.assign(static_cast<size_t>(G), 0);
    std::set<int32_t> citizens;
    for (const auto& [g, c] : pairs) {
      ++rk.n_citizens_g[static_cast<size_t>(g)];
      citizens.insert(c);
    }
    res.citizens = static_cast<int64_t>(citizens.size());
  }

  // Per-observation quartile (0 = bottom) and caseworker cluster.
  std::vector<int32_t> q_n(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) q_n[static_cast<size_t>(i)] = rk.quartile_g[static_cast<size_t>(cw_n[static_cast<size_t>(i)])] - 1;

  // ---------------------------------------------------------- figures 1-3
  {
    std::vector<double> y(design.y_n.data(), design.y_n.data() + n);
    res.fig1_outcome = MakeFigure("fig1", "Share of responses followed by the outcome (raw)", options.outcome,
                                  "share", CompareGroupMeans(y, q_n, kNumQuartiles, cw_n, G));
  }
  Eigen::VectorXd w_g(G);
  for (int32_t g = 0; g < G; ++g) w_g[g] = static_cast<double>(rk.n_responses_g[static_cast<size_t>(g)]);
  const Eigen::VectorXd psi_g = fe.effect_g;
  res.effect_centre = w_g.dot(psi_g) / static_cast<double>(n);
  // c_q: the coefficient vector of quartile q's mean centred effect.
  std::vector<Eigen::VectorXd> c_q(kNumQuartiles, Eigen::VectorXd::Zero(G));
  for (int32_t g = 0; g < G; ++g) {
    const int32_t q = rk.quartile_g[static_cast<size_t>(g)] - 1;
    c_q[static_cast<size_t>(q)][g] = 1.0 / rk.sizes_q[static_cast<size_t>(q)];
  }
  for (auto& c : c_q) c -= w_g / static_cast<double>(n);
  const bool one_factor = design.factors.size() == 1;
  EffectCovariance ecov;
  if (one_factor) {
    ecov = BuildEffectCovariance(design, fr, options.delta_method_uses_coefficient_vcov);
  } else {
    res.warnings.push_back(
        "delta-method standard errors of the policy experiment and figure 2 need a one-factor model; "
        "they are not available with citizen or further fixed effects (NaN)");
  }
  {
    GroupComparison s;
    Eigen::VectorXd mean_q(kNumQuartiles);
    Eigen::MatrixXd v_qq = Eigen::MatrixXd::Constant(kNumQuartiles, kNumQuartiles, kNaN);
    const Eigen::VectorXd none;
    for (int32_t q = 0; q < kNumQuartiles; ++q) {
      mean_q[q] = c_q[static_cast<size_t>(q)].dot(psi_g);
      if (one_factor) {
        for (int32_t r = 0; r < kNumQuartiles; ++r) {
          v_qq(q, r) = ecov.Covariance(none, c_q[static_cast<size_t>(q)], none, c_q[static_cast<size_t>(r)]);
        }
      }
    }
    s.mean_g.assign(mean_q.data(), mean_q.data() + kNumQuartiles);
    s.n_g.assign(kNumQuartiles, 0);
    s.clusters_g.assign(rk.sizes_q.begin(), rk.sizes_q.end());
    for (int32_t q : q_n) ++s.n_g[static_cast<size_t>(q)];
    s.n = n;
    s.clusters = G;
    s.std_error_g.resize(kNumQuartiles);
    for (int32_t q = 0; q < kNumQuartiles; ++q) s.std_error_g[static_cast<size_t>(q)] = one_factor ? std::sqrt(v_qq(q, q)) : kNaN;
    FillComparisonTests(mean_q, v_qq, 0, /*dof_tests=*/0, &s);
    res.fig2_effect = MakeFigure("fig2", "Mean estimated caseworker effect (centred)", "caseworker effect",
                                 "effect", std::move(s));
  }
  {
    std::vector<double> cit(static_cast<size_t>(G));
    std::vector<int32_t> q_g(static_cast<size_t>(G)), id_g(static_cast<size_t>(G));
    for (int32_t g = 0; g < G; ++g) {
      cit[static_cast<size_t>(g)] = static_cast<double>(rk.n_citizens_g[static_cast<size_t>(g)]);
      q_g[static_cast<size_t>(g)] = rk.quartile_g[static_cast<size_t>(g)] - 1;
      id_g[static_cast<size_t>(g)] = g;
    }
    res.fig3_citizens = MakeFigure("fig3", "Citizens per caseworker", "citizens", "count",
                                   CompareGroupMeans(cit, q_g, kNumQuartiles, id_g, G));
  }

  // --------------------------------------------------------------- Table 1
  {
    PolicyExperiment& t = res.table1;
    Eigen::VectorXd top = Eigen::VectorXd::Zero(G);
    const int32_t n_top = rk.sizes_q[kNumQuartiles - 1];
    for (int32_t g = 0; g < G; ++g) {
      if (rk.quartile_g[static_cast<size_t>(g)] == kNumQuartiles) top[g] = 1.0 / n_top;
    }
    const Eigen::VectorXd wn = w_g / static_cast<double>(n);
    const double top_mean = top.dot(psi_g);
    t.top_mean_effect = top_mean - res.effect_centre;
    t.actual = res.outcome_mean;
    t.counterfactual = t.actual + (top_mean - res.effect_centre);
    t.increase = t.counterfactual - t.actual;  // exact by construction
    t.conditioning =
        "delta method, conditional on the covariates, the caseworker assignment and the quartile membership "
        "(taken as fixed); homoskedastic errors with V_beta " +
        std::string(one_factor && ecov.vbeta_from_fit ? "= the coefficient vcov" : "= s2 (X~'X~)^-1");
    if (one_factor) {
      const Eigen::VectorXd none;
      t.actual_std_error = std::sqrt(ecov.Variance(ecov.xbar_k, wn));
      t.counterfactual_std_error = std::sqrt(ecov.Variance(ecov.xbar_k, top));
      t.increase_std_error = std::sqrt(ecov.Variance(none, Eigen::VectorXd(top - wn)));
      t.z = t.increase / t.increase_std_error;
      t.p_value = NormalTwoSidedP(t.z);
    } else {
      t.actual_std_error = t.counterfactual_std_error = t.increase_std_error = kNaN;
      t.z = t.p_value = kNaN;
    }
  }

  // ------------------------------------------- figures 4-19 and appendix B
  if (options.characterise) {
    const auto& acts = StudyActivities();
    bool have_s1 = true;
    for (const auto& a : acts) have_s1 = have_s1 && data.Has(options.activity_prefix + std::to_string(a.number));
    if (have_s1) {
      std::vector<std::vector<double>> tick(acts.size());
      for (size_t a = 0; a < acts.size(); ++a) {
        tick[a] = OverDesign(data, design, options.activity_prefix + std::to_string(acts[a].number));
      }
      std::vector<uint8_t> block_missing(static_cast<size_t>(n), 0), missing(static_cast<size_t>(n), 0);
      for (size_t i = 0; i < static_cast<size_t>(n); ++i) {
        for (size_t a = 0; a < acts.size(); ++a) block_missing[i] |= std::isnan(tick[a][i]) ? 1 : 0;
        missing[i] = block_missing[i] || tick[acts.size() - 1][i] == 1.0;  // "don't know" is missing
        res.activity_responses_missing += missing[i];
      }
      const auto& groups = ActivityGroups();
      std::vector<std::vector<double>> ind(groups.size(), std::vector<double>(static_cast<size_t>(n), 0.0));
      for (size_t gi = 0; gi < groups.size(); ++gi) {
        for (size_t i = 0; i < static_cast<size_t>(n); ++i) {
          if (missing[i]) {
            ind[gi][i] = kNaN;
            continue;
          }
          for (size_t a = 0; a < acts.size(); ++a) {
            if (acts[a].group == groups[gi] && tick[a][i] == 1.0) ind[gi][i] = 1.0;
          }
        }
        res.activity_groups.push_back(MakeFigure("fig" + std::to_string(4 + gi), "Activity group: " + groups[gi],
                                                 groups[gi], "share",
                                                 CompareGroupMeans(ind[gi], q_n, kNumQuartiles, cw_n, G)));
      }
      std::vector<double> combo(static_cast<size_t>(n));
      for (size_t i = 0; i < static_cast<size_t>(n); ++i) combo[i] = missing[i] ? kNaN : ind[0][i] * ind[1][i];
      res.activity_groups.push_back(MakeFigure("job_and_upskilling", "Job-oriented activity combined with upskilling",
                                               "job-oriented and upskilling", "share",
                                               CompareGroupMeans(combo, q_n, kNumQuartiles, cw_n, G)));
      for (size_t a = 0; a < acts.size(); ++a) {
        std::vector<double> v(static_cast<size_t>(n));
        const bool dont_know = acts[a].group.empty();
        for (size_t i = 0; i < static_cast<size_t>(n); ++i) {
          v[i] = (dont_know ? block_missing[i] : missing[i]) ? kNaN : tick[a][i];
        }
        res.activities.push_back(MakeFigure("activity_" + std::to_string(acts[a].number),
                                            std::to_string(acts[a].number) + ". " + acts[a].label,
                                            options.activity_prefix + std::to_string(acts[a].number), "share",
                                            CompareGroupMeans(v, q_n, kNumQuartiles, cw_n, G)));
      }
    } else {
      res.warnings.push_back("no S1 activity columns (" + options.activity_prefix +
                             "1..23): figures 4-8 and appendix B skipped");
    }
    const auto& labels = RatingLabels();
    for (int k = 2; k <= 12; ++k) {
      const std::string col = options.rating_prefix + std::to_string(k);
      if (!data.Has(col)) {
        res.warnings.push_back("no rating column " + col + ": its figure is skipped");
        continue;
      }
      const std::vector<double> v = OverDesign(data, design, col);
      res.ratings.push_back(MakeFigure("fig" + std::to_string(7 + k), col + " " + labels[static_cast<size_t>(k - 2)],
                                       col, "rating", CompareGroupMeans(v, q_n, kNumQuartiles, cw_n, G)));
    }
  }
  return res;
}

std::string StudyResult::Summary() const {
  std::string s;
  s += "Sample\n" + sample.Summary();
  if (s.back() != '\n') s += '\n';
  s += "Model: linear probability model of '" + options.outcome + "' on " + std::to_string(fit.covariate_names.size()) +
       " covariates with caseworker fixed effects" + (options.add_citizen_effects ? " and citizen fixed effects" : "") +
       "\n";
  s += "  responses " + std::to_string(responses) + ", citizens " + std::to_string(citizens) + ", caseworkers " +
       std::to_string(caseworkers) + ", outcome share " + Fmt("%.2f%%", 100 * outcome_mean) + "\n";
  s += "  R2 without caseworker effects " + Fmt("%.3f", r2_without_caseworkers) + ", with " +
       Fmt("%.3f", r2_with_caseworkers) + "\n";
  s += "Quartile sizes (bottom..top):";
  for (int32_t q : ranking.sizes_q) s.append(" ").append(std::to_string(q));
  s += "\n";
  auto row = [&s](const char* name, const QuartileFigure& f, double scale, const char* fmt) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "  %-34s", name);
    s += buf;
    for (size_t q = 0; q < f.stats.mean_g.size(); ++q) {
      std::snprintf(buf, sizeof buf, fmt, scale * f.stats.mean_g[q]);
      s += buf;
    }
    std::snprintf(buf, sizeof buf, "   (joint p = %.3g)\n", f.stats.wald_p);
    s += buf;
  };
  s += "Figures 1-3 by quartile                 Q1      Q2      Q3      Q4   (Q1 bottom, Q4 top)\n";
  row("Fig 1 outcome share (%)", fig1_outcome, 100, "%8.1f");
  row("Fig 2 mean effect (pp, centred)", fig2_effect, 100, "%8.1f");
  row("Fig 3 citizens per caseworker", fig3_citizens, 1, "%8.1f");
  char buf[256];
  s += "Table 1: policy experiment (everyone at the top-quartile mean effect)\n";
  std::snprintf(buf, sizeof buf, "  actual share            %7.2f%%  (s.e. %.2f)\n", 100 * table1.actual,
                100 * table1.actual_std_error);
  s += buf;
  std::snprintf(buf, sizeof buf, "  counterfactual share    %7.2f%%  (s.e. %.2f)\n", 100 * table1.counterfactual,
                100 * table1.counterfactual_std_error);
  s += buf;
  std::snprintf(buf, sizeof buf, "  increase                %7.2f pp (s.e. %.2f, p = %.2g)\n", 100 * table1.increase,
                100 * table1.increase_std_error, table1.p_value);
  s += buf;
  for (const auto& w : warnings) s += "Warning: " + w + "\n";
  return s;
}

}  // namespace cwfx::study
