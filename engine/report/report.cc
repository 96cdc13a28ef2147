#include "report/report.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <vector>

#include "core/error.h"
#include "core/output_paths.h"
#include "core/version.h"
#include "report/corrections_section.h"
#include "report/format_internal.h"
#include "report/replication_section.h"
#include "report/svg_chart.h"

namespace cwfx::report {
namespace {

using study::GroupComparison;
using study::QuartileFigure;
using study::StudyResult;

using internal::F;
using internal::I;
using internal::P;
using internal::PEq;
using internal::kQuartileLabels;

const std::vector<std::string> kShortLabels = {"Q1 bottom", "Q2", "Q3", "Q4 top"};
const std::vector<std::string>& kColors = internal::kQuartileColors;

struct Unit {
  double scale;
  const char* fmt;       // value format (display units)
  const char* diff_fmt;  // difference format
  std::string axis;
  double baseline;
};
Unit UnitOf(const QuartileFigure& f) {
  if (f.unit == "share") return {100, "%.1f%%", "%+.1f pp", "% of responses", 0};
  if (f.unit == "effect") return {100, "%+.1f pp", "%+.1f pp", "percentage points", 0};
  if (f.unit == "rating") return {1, "%.2f", "%+.2f", "mean rating (scale 1-5)", 1};
  return {1, "%.1f", "%+.1f", f.variable, 0};
}

}  // namespace

std::string internal::Css() {
  return R"(<style>
body{font-family:"DejaVu Sans",Helvetica,Arial,sans-serif;color:#1d2733;background:#f4f6f9;margin:0}
main{max-width:1320px;margin:0 auto;padding:24px 32px 48px}
h1{font-size:28px;margin:8px 0 4px}h2{font-size:21px;margin:34px 0 10px;border-bottom:2px solid #d5dde8;padding-bottom:4px}
h3{font-size:16px;margin:0 0 8px}
p,li{line-height:1.5;font-size:14px}.meta{color:#5b6877;font-size:13px}
.cards{display:flex;flex-wrap:wrap;gap:12px;margin:16px 0}
.card{background:#fff;border:1px solid #d5dde8;border-radius:6px;padding:10px 16px;min-width:150px}
.card .v{font-size:22px;font-weight:bold;color:#173f78}.card .k{font-size:12px;color:#5b6877}
.fig{display:flex;flex-wrap:wrap;gap:24px;align-items:flex-start;background:#fff;border:1px solid #d5dde8;border-radius:6px;padding:14px 18px;margin:14px 0}
.fig .side{flex:1;min-width:380px}
.fig.small{padding:8px 18px;margin:8px 0}
table{border-collapse:collapse;font-size:13px;background:#fff}
th,td{padding:4px 9px;border-bottom:1px solid #e3e8ef;text-align:right}
th{background:#eef2f7;font-weight:600}td.l,th.l{text-align:left}
.note{font-size:12px;color:#5b6877;margin:6px 0 0}.stars{color:#b0372b;font-weight:bold}
.box{background:#fff;border:1px solid #d5dde8;border-radius:6px;padding:12px 18px}
.warn{background:#fff6e5;border-color:#e9c46a}
svg .grid{stroke:#e3e8ef;stroke-width:1}svg .axis{stroke:#5b6877;stroke-width:1}
svg .tick{font-size:11px;fill:#5b6877}svg .xlab{font-size:12px;fill:#1d2733}
svg .axis-title{font-size:12px;fill:#5b6877}svg .val{font-size:12px;font-weight:bold;fill:#1d2733}
svg .err{stroke:#1d2733;stroke-width:1.4}svg .range{stroke:#b8c4d4;stroke-width:2}
svg .band{fill:#f6f8fb}svg .mark{font-size:12px;fill:#b0372b;font-weight:bold}
details summary{cursor:pointer;font-weight:600;margin:8px 0}
h3.sub{font-size:18px;margin:26px 0 4px}section.replication{margin:0 0 18px}
.note.caveat{background:#fff6e5;border:1px solid #e9c46a;border-radius:4px;padding:6px 10px;color:#5a4300}
.fig h3+svg{display:block}details table{margin:4px 0 10px}
</style>
)";
}

namespace {

std::string ComparisonTable(const QuartileFigure& f, const Unit& u) {
  const GroupComparison& s = f.stats;
  // Counts (figure 3) are per caseworker: the response column would repeat the caseworkers.
  const bool per_response = f.unit != "count";
  std::string o = "<table><tr><th class=\"l\">Quartile</th><th>Mean</th><th>Std. error</th>" +
                  std::string(per_response ? "<th>Responses</th>" : "") +
                  "<th>Caseworkers</th><th>vs Q1</th><th>p</th><th></th></tr>";
  for (size_t q = 0; q < s.mean_g.size(); ++q) {
    const bool ref = static_cast<int32_t>(q) == s.reference;
    o += "<tr><td class=\"l\">" + kQuartileLabels[q] + "</td><td>" + F(u.fmt, s.mean_g[q] * u.scale) + "</td><td>" +
         F(u.scale == 100 ? "%.2f" : "%.3f", s.std_error_g[q] * u.scale) + "</td><td>" +
         (per_response ? I(s.n_g[q]) + "</td><td>" : std::string()) +
         std::to_string(q < s.clusters_g.size() ? s.clusters_g[q] : 0) + "</td><td>" +
         (ref ? "ref." : F(u.diff_fmt, s.diff_g[q] * u.scale)) + "</td><td>" + (ref ? "" : P(s.diff_p_g[q])) +
         "</td><td class=\"stars\">" + (ref ? "" : study::SignificanceMark(s.diff_p_g[q])) + "</td></tr>";
  }
  o += "</table>";
  const std::string dist = s.wald_df2 > 0 ? "F(" + std::to_string(s.wald_df1) + ", " + std::to_string(s.wald_df2) + ")"
                                          : "&chi;&sup2;(" + std::to_string(s.wald_df1) + ")/" +
                                                std::to_string(s.wald_df1);
  o += "<p class=\"note\">Joint test that all quartiles are equal: " + dist + " = " + F("%.2f", s.wald_f) +
       ", p " + PEq(s.wald_p) + " <span class=\"stars\">" + study::SignificanceMark(s.wald_p) + "</span></p>";
  return o;
}

std::string Chart(const QuartileFigure& f, const Unit& u, int width = 440, int height = 270) {
  BarChartSpec c;
  c.labels = kShortLabels;
  c.values = f.stats.mean_g;
  c.colors = kColors;
  c.scale = u.scale;
  c.baseline = u.baseline;
  c.y_label = u.axis;
  c.width = width;
  c.height = height;
  c.aria_label = f.title;
  for (size_t q = 0; q < f.stats.mean_g.size(); ++q) {
    const double m = f.stats.mean_g[q], se = f.stats.std_error_g[q];
    c.err_lo.push_back(m - 1.96 * se);
    c.err_hi.push_back(m + 1.96 * se);
    c.value_text.push_back(std::isnan(m) ? "" : F(u.fmt, m * u.scale));
  }
  return BarChartSvg(c);
}

std::string FigureBlock(const std::string& number, const QuartileFigure& f, const std::string& explanation,
                        const std::string& source = "") {
  const Unit u = UnitOf(f);
  std::string o = "<div class=\"fig\" id=\"" + HtmlEscape(f.id) + "\"><div>" + Chart(f, u) + "</div><div class=\"side\">";
  o += "<h3>" + HtmlEscape(number) + ". " + HtmlEscape(f.title) + "</h3>";
  if (!explanation.empty()) o += "<p class=\"note\">" + explanation + "</p>";
  o += ComparisonTable(f, u);
  if (!source.empty()) o += "<p class=\"note\"><b>Source study:</b> " + source + "</p>";
  o += "</div></div>\n";
  return o;
}

std::string SmallFigure(const std::string& number, const QuartileFigure& f) {
  const Unit u = UnitOf(f);
  std::string o = "<div class=\"fig small\" id=\"" + HtmlEscape(f.id) + "\"><div>" + Chart(f, u, 400, 220) +
                  "</div><div class=\"side\"><h3>" + HtmlEscape(number) + ". " + HtmlEscape(f.title) + "</h3>" +
                  ComparisonTable(f, u) + "</div></div>\n";
  return o;
}

std::string KeyCard(const std::string& value, const std::string& key) {
  return "<div class=\"card\"><div class=\"v\">" + value + "</div><div class=\"k\">" + key + "</div></div>";
}

}  // namespace

std::string RenderStudyReport(const StudyResult& r, const ReportContext& ctx,
                              std::span<const replicate::ReplicationSummary> replications,
                              const corrections::CorrectionResult* corrections) {
  const bool src = ctx.show_source_study;
  const study::PolicyExperiment& t = r.table1;
  std::string o = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>" + HtmlEscape(ctx.title) +
                  "</title>\n" + internal::Css() + "</head><body><main>\n";
  o += "<h1>" + HtmlEscape(ctx.title) + "</h1>\n<p class=\"meta\">";
  if (!ctx.data_description.empty()) o += "Data: " + HtmlEscape(ctx.data_description) + ". ";
  if (!ctx.created.empty()) o += "Created " + HtmlEscape(ctx.created) + ". ";
  o += "cwfx " + std::string(kEngineVersion) + ".";
  if (!ctx.results_file.empty()) o += " Full results: <code>" + HtmlEscape(ctx.results_file) + "</code>.";
  if (!ctx.command.empty()) o += "<br>Command: <code>" + HtmlEscape(ctx.command) + "</code>";
  o += "</p>\n";

  o += "<div class=\"cards\">" + KeyCard(I(r.responses), "responses analysed") +
       KeyCard(std::to_string(r.caseworkers), "caseworkers ranked") + KeyCard(I(r.citizens), "citizens") +
       KeyCard(F("%.1f%%", 100 * r.outcome_mean), "reach the outcome") +
       KeyCard(F("%.1f%%", 100 * r.r2_without_caseworkers) + " &rarr; " + F("%.1f%%", 100 * r.r2_with_caseworkers),
               "R&sup2; without &rarr; with caseworker effects") +
       KeyCard(F("%+.1f pp", 100 * t.increase), "policy experiment: increase") + "</div>\n";

  o += "<h2>How to read this report</h2><div class=\"box\"><p>Each caseworker's <b>effect</b> is estimated from a "
       "linear probability model of the outcome (earnings or a student grant within 52 weeks of a meeting) on the "
       "citizen's register data and own answers (B1&ndash;B11, levels and changes since the previous meeting), with "
       "one dummy per caseworker. The effect is how much more often, in percentage points, that caseworker's "
       "citizens reach the outcome than comparable citizens of the average caseworker. Caseworkers are ranked by "
       "their effect and split into four quartiles: <b>Q1</b> holds the least and <b>Q4</b> the most effective "
       "caseworkers. Every figure compares the quartiles on the responses of their caseworkers' citizens. Bars show "
       "means; whiskers are 95% confidence intervals; the table beside each plot gives the numbers, the difference "
       "to Q1 with its p-value (cluster-robust by caseworker) and stars: * p &lt; 0.05, ** p &lt; 0.01, "
       "*** p &lt; 0.001. The ranking uses estimates that carry noise: read differences between quartiles, not "
       "the position of a single caseworker (see the caveats at the end).</p></div>\n";

  // Sample.
  o += "<h2>Sample</h2><div class=\"fig\"><div><table><tr><th class=\"l\">Restriction</th><th>Before</th>"
       "<th>After</th><th>Removed</th></tr>";
  for (const auto& s : r.sample.steps) {
    o += "<tr><td class=\"l\">" + HtmlEscape(s.name) + "</td><td>" + I(s.rows_before) + "</td><td>" + I(s.rows_after) +
         "</td><td>" + I(s.removed) + "</td></tr>";
  }
  o += "</table><p class=\"note\">Responses remaining: " + I(r.sample.responses) + " from " + I(r.sample.citizens) +
       " citizens and " + I(r.sample.caseworkers) + " caseworkers.";
  if (src) o += " Source study: 6,164 responses, 2,701 citizens, 115 caseworkers; just under 15% reach the outcome.";
  o += "</p></div>";
  // Model.
  const fit::FitResult& m = r.fit;
  o += "<div class=\"side\"><h3>Model</h3><table>";
  auto row = [&o](const std::string& k, const std::string& v) {
    o += "<tr><td class=\"l\">" + k + "</td><td>" + v + "</td></tr>";
  };
  row("Observations (responses)", I(m.n));
  row("Covariates (kept)", std::to_string(m.covariate_names.size()) +
                               (m.dropped_collinear.empty() ? ""
                                                            : " (" + std::to_string(m.dropped_collinear.size()) +
                                                                  " collinear dropped)"));
  row("Fixed effects", r.options.add_citizen_effects ? "caseworker + citizen" : "caseworker");
  row("R&sup2; without caseworker effects", F("%.3f", r.r2_without_caseworkers) + (src ? " (study: 0.16)" : ""));
  row("R&sup2; with caseworker effects", F("%.3f", r.r2_with_caseworkers) + (src ? " (study: 0.21)" : ""));
  row("Coefficient std. errors", std::string(fit::VcovName(m.vcov_type)) +
                                     (m.cluster_name.empty() ? "" : " by " + HtmlEscape(m.cluster_name)) + ", " +
                                     std::to_string(m.num_clusters) + " clusters");
  std::string sizes;
  for (size_t q = 0; q < r.ranking.sizes_q.size(); ++q) sizes += (q ? ", " : "") + std::to_string(r.ranking.sizes_q[q]);
  row("Quartile sizes (Q1..Q4)", sizes + (src ? " (study: 29, 29, 29, 28)" : ""));
  o += "</table><details><summary>Coefficients</summary><table><tr><th class=\"l\">Covariate</th><th>Estimate</th>"
       "<th>Std. error</th><th>p</th><th></th></tr>";
  for (size_t k = 0; k < m.covariate_names.size(); ++k) {
    const auto kk = static_cast<Eigen::Index>(k);
    o += "<tr><td class=\"l\">" + HtmlEscape(m.covariate_names[k]) + "</td><td>" + F("%.4f", m.coef_k[kk]) +
         "</td><td>" + F("%.4f", m.std_error_k[kk]) + "</td><td>" + P(m.p_k[kk]) + "</td><td class=\"stars\">" +
         study::SignificanceMark(m.p_k[kk]) + "</td></tr>";
  }
  o += "</table></details></div></div>\n";

  // Figures 1-3.
  o += "<h2>Who are the effective caseworkers? Figures 1&ndash;3</h2>\n";
  o += FigureBlock("Figure 1", r.fig1_outcome,
                   "Raw share of each quartile's responses followed by the outcome, before any adjustment.",
                   src ? "7%, 13%, just under 18%, 23% (bottom to top)." : "");
  o += FigureBlock("Figure 2", r.fig2_effect,
                   "Mean estimated effect of the quartile's caseworkers, relative to the response-weighted average "
                   "caseworker. Top minus bottom: " +
                       F("%.1f", 100 * (r.fig2_effect.stats.mean_g[3] - r.fig2_effect.stats.mean_g[0])) +
                       " pp, against a raw difference of " +
                       F("%.1f", 100 * (r.fig1_outcome.stats.mean_g[3] - r.fig1_outcome.stats.mean_g[0])) +
                       " pp in Figure 1. Standard errors: delta method, quartile membership taken as fixed.",
                   src ? "top minus bottom 26 pp, larger than the raw 16 pp: the most effective caseworkers did "
                         "not have the strongest citizens."
                       : "");
  o += FigureBlock("Figure 3", r.fig3_citizens,
                   "Mean number of distinct citizens per caseworker in the analysed sample (tests: each caseworker "
                   "is one observation).",
                   src ? "22&ndash;23, 22&ndash;23, 28, 20: no systematic pattern." : "");

  // Table 1.
  o += "<h2>Table 1. Policy experiment</h2><div class=\"fig\"><div>";
  {
    BarChartSpec c;
    c.labels = {"actual", "all at top-quartile mean"};
    c.values = {t.actual, t.counterfactual};
    c.err_lo = {t.actual - 1.96 * t.actual_std_error, t.counterfactual - 1.96 * t.counterfactual_std_error};
    c.err_hi = {t.actual + 1.96 * t.actual_std_error, t.counterfactual + 1.96 * t.counterfactual_std_error};
    c.value_text = {F("%.2f%%", 100 * t.actual), F("%.2f%%", 100 * t.counterfactual)};
    c.colors = {kColors[1], kColors[3]};
    c.scale = 100;
    c.y_label = "% of responses reaching the outcome";
    c.aria_label = "Table 1 policy experiment";
    o += BarChartSvg(c);
  }
  o += "</div><div class=\"side\"><h3>Every caseworker as effective as the top-quartile mean</h3><table><tr>"
       "<th class=\"l\"></th><th>Share</th><th>Std. error</th>" +
       std::string(src ? "<th>Source study</th>" : "") + "</tr>";
  o += "<tr><td class=\"l\">Actual</td><td>" + F("%.2f%%", 100 * t.actual) + "</td><td>" +
       F("%.2f", 100 * t.actual_std_error) + "</td>" + (src ? "<td>14.76% (0.45)</td>" : "") + "</tr>";
  o += "<tr><td class=\"l\">All caseworkers at the top-quartile mean</td><td>" + F("%.2f%%", 100 * t.counterfactual) +
       "</td><td>" + F("%.2f", 100 * t.counterfactual_std_error) + "</td>" + (src ? "<td>28.45% (0.19)</td>" : "") +
       "</tr>";
  o += "<tr><td class=\"l\"><b>Increase</b></td><td><b>" + F("%.2f pp", 100 * t.increase) + "</b></td><td>" +
       F("%.2f", 100 * t.increase_std_error) + "</td>" + (src ? "<td>14.69 pp (0.42)</td>" : "") + "</tr></table>";
  o += "<p class=\"note\">Increase = counterfactual &minus; actual, exactly. p-value of the increase " +
       PEq(t.p_value) + " (z = " + F("%.1f", t.z) + "). Standard errors: " + HtmlEscape(t.conditioning) + ".";
  if (src) {
    o += " The source study's table is not internally consistent (28.45 &minus; 14.76 = 13.69, not 14.69).";
  }
  o += "</p></div></div>\n";

  o += internal::ReplicationSection(r, replications);
  if (corrections != nullptr) o += RenderCorrectionsSection(r, *corrections);

  // Figures 4-8.
  if (!r.activity_groups.empty()) {
    o += "<h2>Activities by quartile: Figures 4&ndash;8</h2><p>Share of each quartile's responses in which the "
         "caseworker ticked at least one activity of the group (REPORT.md table A1). Responses without an "
         "activity answer or with &ldquo;don't know&rdquo; are left out (" +
         I(r.activity_responses_missing) + " responses).</p>\n<div>";
    for (size_t i = 0; i < r.activity_groups.size(); ++i) {
      const auto& f = r.activity_groups[i];
      const std::string num = i < 5 ? "Figure " + std::to_string(4 + i) : "Combination";
      o += SmallFigure(num, f);
    }
    o += "</div>\n";
  }
  // Figures 9-19.
  if (!r.ratings.empty()) {
    o += "<h2>The caseworker's view of the citizen: Figures 9&ndash;19</h2><p>Mean of the caseworker's rating of "
         "the citizen (S2&ndash;S12, 1&ndash;5) among each quartile's responses. Bars start at 1, the lowest rating."
         "</p>\n<div>";
    for (size_t i = 0; i < r.ratings.size(); ++i) {
      o += SmallFigure("Figure " + std::to_string(9 + i), r.ratings[i]);
    }
    o += "</div>\n";
  }
  // Appendix B.
  if (!r.activities.empty()) {
    o += "<h2>Appendix B. Single activities</h2><div class=\"fig\" id=\"appendix_b\"><div>";
    std::vector<DotRow> rows;
    for (const auto& f : r.activities) {
      DotRow d;
      d.label = f.title.size() > 52 ? f.title.substr(0, 50) + "..." : f.title;
      for (double v : f.stats.mean_g) d.values.push_back(100 * v);
      d.mark = study::SignificanceMark(f.stats.wald_p);
      rows.push_back(d);
    }
    o += DotPlotSvg(rows, kQuartileLabels, kColors, "% of responses with the activity ticked", 760);
    o += "</div><div class=\"side\"><table><tr><th class=\"l\">Activity</th><th>Q1</th><th>Q2</th><th>Q3</th>"
         "<th>Q4</th><th>Q4&minus;Q1</th><th>joint p</th><th></th></tr>";
    for (const auto& f : r.activities) {
      const auto& s = f.stats;
      o += "<tr><td class=\"l\">" + HtmlEscape(f.variable) + "</td>";
      for (double v : s.mean_g) o += "<td>" + F("%.1f", 100 * v) + "</td>";
      o += "<td>" + F("%+.1f", 100 * s.diff_g[3]) + "</td><td>" + P(s.wald_p) + "</td><td class=\"stars\">" +
           study::SignificanceMark(s.wald_p) + "</td></tr>";
    }
    o += "</table><p class=\"note\">Shares in %. Stars: joint test of equal shares across quartiles. Activity 23 "
         "(&ldquo;don't know&rdquo;) is shown among all answered responses; the others exclude it.</p></div></div>\n";
  }

  // Caveats.
  o += "<h2>Caveats</h2><div class=\"box warn\"><ul>"
       "<li><b>Winner's curse.</b> The top quartile is chosen on noisy estimates, so its mean effect &mdash; and "
       "with it the policy experiment's gain &mdash; is overstated. With about " +
       F("%.0f", r.caseworkers > 0 ? static_cast<double>(r.responses) / r.caseworkers : 0) +
       " responses per caseworker this bias is large. The standard errors take quartile membership as fixed and "
       "do not include it; " +
       std::string(corrections != nullptr
                       ? "the corrections section gives the gain corrected by empirical Bayes, cross-fitting and "
                         "conditional inference."
                       : "shrinkage (empirical Bayes) and split-sample ranking are not applied here (cwfx study "
                         "applies them unless --no-corrections).") +
       "</li>"
       "<li>" +
       std::string(internal::HasQuartileStability(replications)
                       ? "<b>Quartile stability.</b> The replications section shows how often each caseworker lands "
                         "in each quartile across bootstrap replications: a measure of how stable the ranking is, "
                         "not the probability that a caseworker truly belongs there. Read a single caseworker's "
                         "position through its rank confidence set, not its estimated rank."
                       : "<b>Quartile stability is not yet quantified.</b> How often a caseworker would land in the "
                         "same quartile in a new sample (bootstrap) is not computed here; do not read a single "
                         "caseworker's rank as established.") +
       "</li>"
       "<li><b>Selection of citizens.</b> The effects are causal only if citizens are not assigned to caseworkers on "
       "characteristics that the register does not measure. Sorting on unobservables would show up as "
       "caseworker effects.</li>"
       "<li><b>Linear probability model.</b> Predicted shares can leave [0, 1] for single citizens; averages are "
       "unaffected.</li>"
       "<li>Characterisation figures describe the quartiles; they do not show that an activity causes the "
       "difference.</li></ul></div>\n";
  if (!r.warnings.empty()) {
    o += "<h2>Warnings</h2><div class=\"box warn\"><ul>";
    for (const auto& w : r.warnings) o += "<li>" + HtmlEscape(w) + "</li>";
    o += "</ul></div>\n";
  }
  o += "<h2>Rules used</h2><div class=\"box\"><ul>"
       "<li>Ranking: rank 1 is the largest effect; ties are broken by caseworker id (smaller first). The top "
       "quartile gets floor(G/4) caseworkers and the remainder goes to the lower quartiles from the bottom up "
       "(115 &rarr; 29, 29, 29, 28).</li>"
       "<li>Tests between quartiles: regression of the indicator or rating on quartile dummies with standard errors "
       "clustered by caseworker (CR1); each quartile against Q1 (t, clusters &minus; 1 degrees of freedom) and a "
       "joint Wald test of equal means (F).</li>"
       "<li>Policy experiment: counterfactual = actual + (mean effect of Q4 &minus; response-weighted mean effect); "
       "delta-method standard errors from the joint covariance of the coefficients and the caseworker effects, "
       "Cov(&psi;<sub>j</sub>, &psi;<sub>k</sub>) = s&sup2;/n<sub>j</sub>&middot;1{j=k} + "
       "x&#772;<sub>j</sub>&prime;V<sub>&beta;</sub>x&#772;<sub>k</sub>.</li></ul></div>\n";
  o += "</main></body></html>\n";
  return o;
}

void WriteReport(const std::string& path, const std::string& html) {
  const std::string tmp = TemporaryPathFor(path);
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw WriteError(Location{path, -1, ""}, "cannot open the report for writing");
    out.write(html.data(), static_cast<std::streamsize>(html.size()));
    out.close();
    if (!out) {
      std::error_code ec;
      std::filesystem::remove(tmp, ec);
      throw WriteError(Location{path, -1, ""}, "writing the report failed (disk full?)");
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    throw WriteError(Location{path, -1, ""}, "cannot move the report into place: " + ec.message());
  }
}

}  // namespace cwfx::report
