#include "report/simulation_report.h"

#include <cmath>
#include <map>

#include "core/version.h"
#include "report/format_internal.h"
#include "report/svg_chart.h"

namespace cwfx::report {
namespace {

using internal::F;
using internal::I;
using simulate::SimulationSummary;

const std::vector<std::string> kColors = {"#173f78", "#b0372b", "#2a9d8f", "#e9a23b", "#7b5ea7", "#5b6877"};

struct Column {
  std::string metric, header;
  double scale;       // display = value * scale
  const char* format;
};

// Mean (Monte Carlo SE); when some registers have no value (e.g. an interval
// that could not be computed), how many the mean is over.
std::string Cell(const simulate::PointSummary& p, int k, const Column& c) {
  if (k < 0) return "<td>&ndash;</td>";
  const double m = p.mean[static_cast<size_t>(k)], se = p.std_error[static_cast<size_t>(k)];
  const int64_t n = p.count[static_cast<size_t>(k)], all = p.registers - p.failed;
  const std::string over = n > 0 && n < all ? " n=" + I(n) : "";
  return "<td>" + F(c.format, c.scale * m) + "<span class=\"se\"> (" + F(c.format, c.scale * se) + ")" + over +
         "</span></td>";
}

std::string PointTable(const SimulationSummary& s, const std::vector<Column>& cols, const std::string& caption) {
  std::string o = "<table><caption class=\"l\">" + caption + "</caption><tr>";
  for (const auto& a : s.axes) o += "<th>" + HtmlEscape(a) + "</th>";
  o += "<th>registers</th>";
  for (const auto& c : cols) o += "<th>" + c.header + "</th>";
  o += "</tr>\n";
  for (const auto& p : s.points) {
    o += "<tr>";
    for (double v : p.grid) o += "<td>" + F("%g", v) + "</td>";
    o += "<td>" + I(p.registers - p.failed) + (p.failed > 0 ? " (+" + I(p.failed) + " failed)" : "") + "</td>";
    for (const auto& c : cols) o += Cell(p, s.FindMetric(c.metric), c);
    o += "</tr>\n";
  }
  return o + "</table>\n";
}

// Mean over the grid points with axis `a` at each of its values (other axes averaged, equal weight).
std::map<double, std::pair<double, double>> ByAxis(const SimulationSummary& s, size_t a, int k) {
  std::map<double, std::vector<std::pair<double, double>>> acc;
  for (const auto& p : s.points) {
    const double m = p.mean[static_cast<size_t>(k)], se = p.std_error[static_cast<size_t>(k)];
    if (std::isfinite(m)) acc[p.grid[a]].push_back({m, se});
  }
  std::map<double, std::pair<double, double>> out;
  for (const auto& [x, v] : acc) {
    double m = 0, var = 0;
    for (const auto& [mm, se] : v) {
      m += mm;
      var += std::isfinite(se) ? se * se : 0;
    }
    const auto n = static_cast<double>(v.size());
    out[x] = {m / n, std::sqrt(var) / n};
  }
  return out;
}

std::string AxisChart(const SimulationSummary& s, size_t a, const std::vector<std::pair<std::string, std::string>>& series,
                      double scale, const std::string& y_label, double reference, const std::string& title) {
  LineChartSpec spec;
  spec.x_label = s.axes[a];
  spec.y_label = y_label;
  spec.reference = reference;
  spec.reference_label = std::isfinite(reference) ? F("%g", reference) : "";
  spec.aria_label = title + " against " + s.axes[a];
  size_t c = 0;
  for (const auto& [metric, label] : series) {
    const int k = s.FindMetric(metric);
    if (k < 0) continue;
    LineSeries l;
    l.label = label;
    l.color = kColors[c++ % kColors.size()];
    for (const auto& [x, v] : ByAxis(s, a, k)) {
      l.x.push_back(x);
      l.y.push_back(scale * v.first);
      l.err.push_back(1.96 * scale * v.second);
    }
    if (!l.x.empty()) spec.series.push_back(std::move(l));
  }
  return "<div class=\"fig small\"><div><h3>" + HtmlEscape(title) + "</h3>" + LineChartSvg(spec) + "</div></div>";
}

}  // namespace

std::string RenderSimulationReport(const SimulationSummary& s, const SimulationReportContext& ctx) {
  std::string o = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>" + HtmlEscape(ctx.title) +
                  "</title>\n" + internal::Css() +
                  "<style>.se{color:#8a96a5;font-size:11px}caption{font-weight:600;padding:6px 0;text-align:left}"
                  ".figs{display:flex;flex-wrap:wrap;gap:10px}</style></head><body><main>\n";
  o += "<h1>" + HtmlEscape(ctx.title) + "</h1>\n<p class=\"meta\">";
  if (!ctx.created.empty()) o += "Created " + HtmlEscape(ctx.created) + ". ";
  o += "cwfx " + std::string(kEngineVersion) + ".";
  if (!ctx.results_file.empty()) o += " Per-register results: <code>" + HtmlEscape(ctx.results_file) + "</code>.";
  if (!ctx.command.empty()) o += "<br>Command: <code>" + HtmlEscape(ctx.command) + "</code>";
  o += "</p>\n<div class=\"cards\">";
  o += "<div class=\"card\"><div class=\"v\">" + I(s.stored) + " / " + I(s.total) +
       "</div><div class=\"k\">registers stored (" + HtmlEscape(s.status) + ")</div></div>";
  o += "<div class=\"card\"><div class=\"v\">" + I(static_cast<int64_t>(s.points.size())) +
       "</div><div class=\"k\">grid points</div></div></div>\n";

  o += "<h2>How to read this page</h2><div class=\"box\"><p>Each synthetic register is drawn with known true "
       "caseworker effects, run through the study (restrictions, the linear probability model with caseworker "
       "effects, quartiles, the policy experiment) and through the corrections, and compared with its truth. Every "
       "number is a mean over the registers of a grid point, with its Monte Carlo standard error in grey. "
       "<b>True gain</b> is what giving every caseworker the mean effect of the <i>estimated</i> top quartile would "
       "truly deliver; <b>oracle</b> uses the true top quartile. The <b>naive</b> gain is Table 1's increase: "
       "selecting the top quartile on noisy estimates overstates it (the winner's curse). <b>EB</b> is the mean "
       "posterior effect of the selected caseworkers (normal or nonparametric prior), <b>cross-fit</b> selects on "
       "half of the citizens and evaluates on the other half (unbiased for the true gain of the half-sample "
       "selections, which is below the true gain: conservative), <b>conditional</b> is the median-unbiased "
       "estimate given the selection. Coverage is the share of registers whose 95% interval holds its target (the "
       "true gain, or for the cross-fit also the half-sample selections' true gain); it should be near 0.95. "
       "<i>n=</i> marks means over fewer registers than the point has (a value that could not be computed).</p>"
       "</div>\n";

  o += "<h2>The policy experiment: estimated against true gain (pp)</h2>\n";
  o += PointTable(s,
                  {{"citizens_per_caseworker", "citizens per caseworker", 1, "%.1f"},
                   {"true_sd", "true sd of effects", 100, "%.2f"},
                   {"gain_naive", "naive", 100, "%.2f"},
                   {"gain_true", "true gain", 100, "%.2f"},
                   {"gain_oracle", "oracle", 100, "%.2f"},
                   {"gain_eb_normal", "EB normal", 100, "%.2f"},
                   {"gain_eb_npmle", "EB NPMLE", 100, "%.2f"},
                   {"gain_cross_fit", "cross-fit", 100, "%.2f"},
                   {"gain_true_half", "true gain of half-sample selection", 100, "%.2f"},
                   {"gain_conditional", "conditional (median-unbiased: its mean is unstable)", 100, "%.2f"}},
                  "Mean gain per grid point (Monte Carlo standard error)");
  o += "<h2>Coverage of 95% intervals for the true gain</h2>\n";
  o += PointTable(s,
                  {{"cover_naive", "naive (delta method)", 1, "%.3f"},
                   {"cover_cross_fit", "cross-fit (of its target)", 1, "%.3f"},
                   {"cover_cross_fit_full", "cross-fit (of the true gain)", 1, "%.3f"},
                   {"cover_conditional", "conditional", 1, "%.3f"},
                   {"cover_hybrid", "hybrid", 1, "%.3f"},
                   {"cover_boot", "pairs bootstrap (fixed weights)", 1, "%.3f"},
                   {"naive_length", "naive length (pp)", 100, "%.2f"},
                   {"hybrid_length", "hybrid length (pp)", 100, "%.2f"}},
                  "Share of registers whose interval holds its target");
  o += "<h2>Rankings and classification</h2>\n";
  o += PointTable(s,
                  {{"corr_spearman", "rank correlation with truth", 1, "%.3f"},
                   {"top_hit_raw", "true top quartile placed in top quartile", 1, "%.3f"},
                   {"top_hit_eb", "same, ranked on EB means", 1, "%.3f"},
                   {"prob_top_true_top", "mean P(top) of the true top", 1, "%.3f"},
                   {"rank_cover_marginal", "marginal rank sets covering the true rank", 1, "%.3f"},
                   {"top_set_cover", "\"could be top\" set holds the whole true top", 1, "%.3f"},
                   {"top_set_size", "size of that set", 1, "%.1f"},
                   {"perm_p_variance", "permutation p (variance)", 1, "%.3f"}},
                  "Means per grid point");
  o += "<h2>Variance of the effects and accuracy of the effects</h2>\n";
  o += PointTable(s,
                  {{"var_true", "true variance", 1e4, "%.2f"},
                   {"var_plugin", "plug-in", 1e4, "%.2f"},
                   {"var_kss", "leave-out (KSS)", 1e4, "%.2f"},
                   {"var_true_unweighted", "true (per caseworker)", 1e4, "%.2f"},
                   {"var_plugin_unweighted", "plug-in (per caseworker)", 1e4, "%.2f"},
                   {"var_kss_unweighted", "KSS (per caseworker)", 1e4, "%.2f"},
                   {"rmse_raw", "RMSE raw (pp)", 100, "%.2f"},
                   {"rmse_eb_normal", "RMSE EB normal (pp)", 100, "%.2f"},
                   {"rmse_eb_npmle", "RMSE EB NPMLE (pp)", 100, "%.2f"}},
                  "Variances in pp&sup2; (response-weighted unless marked), RMSE in pp");

  for (size_t a = 0; a < s.axes.size(); ++a) {
    std::map<double, int> distinct;
    for (const auto& p : s.points) distinct[p.grid[a]] = 1;
    if (distinct.size() < 2) continue;
    o += "<h2>Against " + HtmlEscape(s.axes[a]) + "</h2><div class=\"figs\">";
    o += AxisChart(s, a,
                   {{"gain_naive", "naive"}, {"gain_true", "true gain"}, {"gain_oracle", "oracle"},
                    {"gain_eb_normal", "EB normal"}, {"gain_cross_fit", "cross-fit"}},
                   100, "gain (pp)", NAN, "Policy gain");
    o += AxisChart(s, a,
                   {{"cover_naive", "naive"}, {"cover_cross_fit", "cross-fit"},
                    {"cover_conditional", "conditional"}, {"cover_hybrid", "hybrid"}},
                   1, "coverage", 0.95, "Coverage of 95% intervals");
    o += AxisChart(s, a, {{"top_hit_raw", "raw ranks"}, {"top_hit_eb", "EB ranks"}, {"corr_spearman", "rank corr."}},
                   1, "share / correlation", NAN, "Classification of the true top quartile");
    o += AxisChart(s, a, {{"var_true", "true"}, {"var_plugin", "plug-in"}, {"var_kss", "KSS"}}, 1e4,
                   "variance (pp\u00b2)", NAN, "Variance of the effects");
    o += "</div>\n";
  }
  o += "</main></body></html>\n";
  return o;
}

}  // namespace cwfx::report
