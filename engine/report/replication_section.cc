#include "report/replication_section.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <utility>
#include <vector>

#include "report/format_internal.h"
#include "report/svg_chart.h"

namespace cwfx::report::internal {
namespace {

using inference::RankConfidenceSets;
using inference::ScalarSummary;
using replicate::ReplicationSummary;

// How a summarised quantity is shown: label, scale to display units, the
// estimate's format (with its unit) and the plain format of s.e. and bounds.
struct Display {
  std::string label;
  double scale;
  const char* fmt;
  const char* plain;
};

Display DisplayOf(const std::string& name) {
  if (name == "actual") return {"Actual share reaching the outcome", 100, "%.2f%%", "%.2f"};
  if (name == "variance_of_effects") {
    return {"Variance of the caseworker effects (response-weighted)", 1e4, "%.2f pp&sup2;", "%.2f"};
  }
  if (name == "sd_of_effects") return {"Std. deviation of the caseworker effects", 100, "%.2f pp", "%.2f"};
  if (name == "fixed_contrast") {
    return {"Top-quartile mean effect minus the average, full-sample quartiles held fixed", 100, "%+.2f pp",
            "%.2f"};
  }
  if (name == "counterfactual") {
    return {"All caseworkers at the top-quartile mean (quartile re-selected)", 100, "%.2f%%", "%.2f"};
  }
  if (name == "increase") return {"Increase (quartile re-selected)", 100, "%.2f pp", "%.2f"};
  return {HtmlEscape(name), 1, "%.4f", "%.4f"};
}

// "95%" from the rank sets' alpha (the same alpha as the percentile intervals), "" if unknown.
std::string LevelText(const ReplicationSummary& s) {
  const RankConfidenceSets* sets = s.have_analytic_rank_sets    ? &s.analytic_rank_sets
                                   : s.have_bootstrap_rank_sets ? &s.bootstrap_rank_sets
                                                                : nullptr;
  return sets ? F("%g%%", 100 * (1 - sets->alpha)) : std::string();
}

std::string Interval(const Display& d, double lo, double hi) {
  if (!std::isfinite(lo) || !std::isfinite(hi)) return "&ndash;";
  return "[" + F(d.plain, lo * d.scale) + ", " + F(d.plain, hi * d.scale) + "]";
}

// The cells estimate, bootstrap s.e., percentile interval of one quantity.
std::string SummaryCells(const ScalarSummary& x, const Display& d) {
  return "<td>" + F(d.fmt, x.estimate * d.scale) + "</td><td>" + F(d.plain, x.std_error * d.scale) + "</td><td>" +
         Interval(d, x.lower, x.upper) + "</td>";
}

std::string Header(const ReplicationSummary& s, size_t index) {
  std::string o = "<h3 class=\"sub\" id=\"replication_" + std::to_string(index) + "\">" +
                  (s.bootstrap ? "Bootstrap: " : "Permutation test: ") + HtmlEscape(s.scheme) + "</h3>";
  o += "<p class=\"meta\">Scheme <b>" + HtmlEscape(s.scheme) + "</b> (" +
       (s.bootstrap ? "bootstrap" : "permutation, draws under the null of no caseworker effects") + ") &middot; " +
       I(s.stored) + " of " + I(s.replications) + " replications stored &middot; " + I(s.failed) + " failed";
  if (s.not_converged > 0) o += " &middot; " + I(s.not_converged) + " not converged";
  o += " &middot; status: " + HtmlEscape(s.status.empty() ? "unknown" : s.status) + "</p>\n";
  return o;
}

std::string SmoothTable(const ReplicationSummary& s, size_t index) {
  if (s.smooth.empty()) return "";
  const std::string level = LevelText(s);
  std::string o = "<div class=\"fig\" id=\"replication_" + std::to_string(index) +
                  "_smooth\"><div class=\"side\"><h3>Smooth quantities</h3><table><tr><th class=\"l\">Quantity</th><th>Estimate</th><th>Bootstrap s.e.</th><th>" +
                  (level.empty() ? std::string("Percentile interval") : level + " percentile interval") +
                  "</th><th>Draws</th></tr>";
  bool outside = false;
  for (const auto& x : s.smooth) {
    const Display d = DisplayOf(x.name);
    const bool out = x.estimate < x.lower || x.estimate > x.upper;
    outside = outside || out;
    o += "<tr><td class=\"l\">" + d.label + (out ? " &dagger;" : "") + "</td>" + SummaryCells(x, d) + "<td>" +
         I(x.draws) + "</td></tr>";
  }
  o += "</table><p class=\"note\">Estimate: the full sample. Standard errors and interval bounds are in the "
       "estimate's unit (percentage points for shares and effects). Unlike the ranking and the re-selected "
       "quartile below, these quantities are smooth in the data, so bootstrap standard errors and percentile "
       "intervals apply. The variance and s.d. of the estimated effects contain sampling noise, and each "
       "replication adds its own, so their draws sit above the estimate (not bias-corrected here).";
  if (outside) o += " &dagger; The estimate lies outside its percentile interval: the draws are shifted against it.";
  o += "</p></div></div>\n";
  return o;
}

std::string SelectionTable(const ReplicationSummary& s, const study::PolicyExperiment& t) {
  if (s.selection.empty()) return "";
  std::string o = "<div class=\"fig\"><div class=\"side\"><h3>Policy experiment, top quartile re-selected in every "
                  "replication</h3><table><tr><th class=\"l\">Quantity</th><th>Estimate</th><th>Bootstrap s.e.</th>"
                  "<th>Percentile range (not a confidence interval)</th><th>Delta-method s.e. (Table 1)</th>"
                  "<th>Mean of the draws</th><th>Draws</th></tr>";
  for (const auto& x : s.selection) {
    const Display d = DisplayOf(x.name);
    const double delta = x.name == "increase"         ? t.increase_std_error
                         : x.name == "counterfactual" ? t.counterfactual_std_error
                                                      : NAN;
    o += "<tr><td class=\"l\">" + d.label + "</td>" + SummaryCells(x, d) + "<td>" + F(d.plain, delta * d.scale) +
         "</td><td>" + F(d.fmt, x.mean * d.scale) + "</td><td>" + I(x.draws) + "</td></tr>";
  }
  o += "</table><p class=\"note caveat\"><b>Not valid confidence intervals.</b> Each replication re-selects the "
       "top quartile on its own noisy estimates. Selecting the top quartile is not smooth in the estimates, so "
       "these percentile ranges are not valid confidence intervals, and both the full-sample increase and its "
       "draws are biased upwards by the selection (winner's curse). The delta-method standard error of Table 1 "
       "takes quartile membership as fixed; the bootstrap one lets it change between replications; neither "
       "corrects the bias.";
  for (const auto& x : s.selection) {
    if (x.name == "increase" && std::isfinite(x.mean) && x.mean > x.estimate) {
      o += " Here the re-selected increases average " + F("%.2f", 100 * (x.mean - x.estimate)) +
           " pp above the full-sample estimate, a symptom of that selection.";
    }
  }
  o += "</p></div></div>\n";
  return o;
}

std::string CoefficientTable(const ReplicationSummary& s, const fit::FitResult& fit) {
  if (s.coefficients.empty()) return "";
  std::string o = "<details><summary>Coefficients (" + std::to_string(s.coefficients.size()) +
                  "): bootstrap standard errors beside the model's</summary><table><tr><th class=\"l\">Covariate"
                  "</th><th>Estimate</th><th>Bootstrap s.e.</th><th>" +
                  (LevelText(s).empty() ? std::string("Percentile interval") : LevelText(s) + " percentile interval") +
                  "</th><th>Model s.e.</th><th>Draws</th></tr>";
  for (const auto& x : s.coefficients) {
    double model_se = NAN;
    for (size_t k = 0; k < fit.covariate_names.size(); ++k) {
      if (fit.covariate_names[k] == x.name && static_cast<Eigen::Index>(k) < fit.std_error_k.size()) {
        model_se = fit.std_error_k[static_cast<Eigen::Index>(k)];
      }
    }
    const Display d{HtmlEscape(x.name), 1, "%.4f", "%.4f"};
    o += "<tr><td class=\"l\">" + d.label + "</td>" + SummaryCells(x, d) + "<td>" + F("%.4f", model_se) +
         "</td><td>" + I(x.draws) + "</td></tr>";
  }
  o += "</table></details>\n";
  return o;
}

// Caseworker indices by full-sample effect, largest first (ties: smaller
// index first; non-finite effects last).
std::vector<size_t> OrderByEffect(const ReplicationSummary& s) {
  std::vector<size_t> order(s.effect_g.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    const double ea = s.effect_g[a], eb = s.effect_g[b];
    if (std::isfinite(ea) != std::isfinite(eb)) return std::isfinite(ea);
    return ea > eb;
  });
  return order;
}

// The study's quartile sizes, bottom first: the top gets floor(G/4), the
// remainder goes to the lower quartiles from the bottom up.
std::vector<int64_t> QuartileSizes(int64_t G) {
  const int64_t top = G / 4, rest = G - top;
  std::vector<int64_t> sizes(4, rest / 3);
  for (int64_t q = 0; q < rest % 3; ++q) ++sizes[static_cast<size_t>(q)];
  sizes[3] = top;
  return sizes;
}

std::string CaseworkerLabel(const ReplicationSummary& s, size_t g) {
  return g < s.caseworker_ids.size() ? s.caseworker_ids[g] : "caseworker " + std::to_string(g + 1);
}

// Full-sample quartile (0 = bottom .. 3 = top) of each position in OrderByEffect.
std::vector<int> QuartileOfPosition(size_t G) {
  const auto sizes = QuartileSizes(static_cast<int64_t>(G));
  std::vector<int> q_of(G, 0);
  size_t p = 0;
  for (int q = 3; q >= 0; --q) {
    for (int64_t k = 0; k < sizes[static_cast<size_t>(q)] && p < G; ++k) q_of[p++] = q;
  }
  return q_of;
}

std::string StabilitySide(const ReplicationSummary& s, const std::vector<size_t>& order) {
  const std::vector<int> q_of = QuartileOfPosition(order.size());
  int64_t stable = 0, counted = 0, top_stable = 0, top_n = 0;
  double mean_same = 0;
  for (size_t p = 0; p < order.size(); ++p) {
    const double same = s.quartile_share_gq(static_cast<Eigen::Index>(order[p]), q_of[p]);
    if (!std::isfinite(same)) continue;
    ++counted;
    mean_same += same;
    stable += same >= 0.9;
    if (q_of[p] == 3) {
      ++top_n;
      top_stable += same >= 0.9;
    }
  }
  std::string o = "<table><tr><th class=\"l\">Full-sample quartile kept in the replications</th><th></th></tr>";
  o += "<tr><td class=\"l\">Caseworkers in their full-sample quartile in &ge; 90% of replications</td><td>" +
       I(stable) + " of " + I(counted) + "</td></tr>";
  o += "<tr><td class=\"l\">Top-quartile caseworkers in the top quartile in &ge; 90% of replications</td><td>" +
       I(top_stable) + " of " + I(top_n) + "</td></tr>";
  o += "<tr><td class=\"l\">Mean share of replications in the full-sample quartile</td><td>" +
       F("%.1f%%", counted > 0 ? 100 * mean_same / static_cast<double>(counted) : NAN) + "</td></tr></table>";
  o += "<p class=\"note\">Each column is one caseworker, ordered by the full-sample effect (largest left); its "
       "segments give the share of replications in which the caseworker landed in each quartile (hover for the "
       "caseworker's id). Dashed lines: the full-sample quartile boundaries. A stable ranking shows solid blocks. "
       "These shares measure the <b>stability of the ranking</b> under resampling; they are not the probability "
       "that a caseworker truly belongs to a quartile.</p>";
  return o;
}

std::string StabilityFigure(const ReplicationSummary& s, size_t index) {
  const auto G = static_cast<size_t>(s.quartile_share_gq.rows());
  if (G == 0 || G != s.effect_g.size() || s.quartile_share_gq.cols() != 4) return "";
  const std::vector<size_t> order = OrderByEffect(s);
  StackedColumnsSpec c;
  c.series = {"Q4 (top)", "Q3", "Q2", "Q1 (bottom)"};
  c.colors = {kQuartileColors[3], kQuartileColors[2], kQuartileColors[1], kQuartileColors[0]};
  for (size_t g : order) {
    const auto gi = static_cast<Eigen::Index>(g);
    c.labels.push_back(CaseworkerLabel(s, g));
    c.parts.push_back({s.quartile_share_gq(gi, 3), s.quartile_share_gq(gi, 2), s.quartile_share_gq(gi, 1),
                       s.quartile_share_gq(gi, 0)});
  }
  const auto sizes = QuartileSizes(static_cast<int64_t>(G));
  double cum = 0;
  for (int q = 3; q >= 1; --q) c.dividers.push_back(cum += static_cast<double>(sizes[static_cast<size_t>(q)]));
  c.divider_label = "full-sample quartile boundaries";
  c.x_label = "caseworkers, ordered by full-sample effect (largest left)";
  c.y_label = "% of replications";
  c.item_class = "stab-col";
  c.aria_label = "Stability of the ranking: share of replications in each quartile";
  return "<div class=\"fig\" id=\"replication_" + std::to_string(index) +
         "_stability\"><div><h3>Stability of the ranking: share of replications in each quartile &mdash; not the "
         "probability of true membership</h3>" +
         StackedColumnsSvg(c) + "</div><div class=\"side\">" + StabilitySide(s, order) + "</div></div>\n";
}

// Median of the widths upper - lower + 1 (number of ranks in each set).
double MedianWidth(const std::vector<int32_t>& lower, const std::vector<int32_t>& upper) {
  std::vector<double> w;
  for (size_t g = 0; g < lower.size() && g < upper.size(); ++g) w.push_back(upper[g] - lower[g] + 1);
  if (w.empty()) return NAN;
  std::sort(w.begin(), w.end());
  const size_t m = w.size() / 2;
  return w.size() % 2 ? w[m] : (w[m - 1] + w[m]) / 2;
}

std::string RankSetSide(const RankConfidenceSets& r, const std::string& level) {
  const size_t G = r.rank_g.size();
  int64_t could = 0, surely = 0, single = 0;
  for (size_t g = 0; g < G; ++g) {
    could += g < r.could_be_top_g.size() && r.could_be_top_g[g];
    surely += g < r.simultaneous_upper_g.size() && r.simultaneous_upper_g[g] <= r.top_size;
    single += g < r.marginal_lower_g.size() && r.marginal_lower_g[g] == r.marginal_upper_g[g];
  }
  const std::string tau = std::to_string(r.top_size);
  std::string o = "<table><tr><th class=\"l\">At the " + level + " level</th><th>Caseworkers</th></tr>";
  o += "<tr><td class=\"l\"><b>Could be in the top quartile</b> (among the top " + tau +
       "; simultaneous lower bound &le; " + tau + ")</td><td><b>" + I(could) + " of " + I(static_cast<int64_t>(G)) + "</b></td></tr>";
  o += "<tr><td class=\"l\">Certainly among the top " + tau + " (simultaneous upper bound &le; " + tau +
       ")</td><td>" +
       I(surely) + "</td></tr>";
  o += "<tr><td class=\"l\">Rank established exactly (marginal set of one rank)</td><td>" + I(single) + "</td></tr>";
  o += "<tr><td class=\"l\">Median number of ranks in a marginal set</td><td>" +
       F("%.1f", MedianWidth(r.marginal_lower_g, r.marginal_upper_g)) + "</td></tr>";
  o += "<tr><td class=\"l\">Median number of ranks in a simultaneous set</td><td>" +
       F("%.1f", MedianWidth(r.simultaneous_lower_g, r.simultaneous_upper_g)) + "</td></tr>";
  o += "<tr><td class=\"l\">Simultaneous critical value (first step)</td><td>" +
       F("%.2f", r.simultaneous_critical_value) + "</td></tr></table>";
  o += "<p class=\"note\">Rank 1 is the largest effect. Each caseworker's marginal set covers its true rank with "
       "probability " +
       level + "; the simultaneous sets cover all true ranks at once (Mogstad, Romano, Shaikh and Wilhelm 2024: "
       "a max-t statistic on pairwise differences, " +
       std::to_string(r.draws) +
       " parametric draws). Bootstrap percentiles of the ranks are not valid rank intervals (ranks are not smooth "
       "in the estimates) and are not shown.</p>";
  return o;
}

std::string RankSetFigure(const ReplicationSummary& s, const RankConfidenceSets& r, const std::string& source,
                          const std::string& id) {
  const size_t G = r.rank_g.size();
  if (G == 0 || r.marginal_lower_g.size() != G || r.simultaneous_lower_g.size() != G) return "";
  std::vector<size_t> order(G);
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return r.rank_g[a] < r.rank_g[b]; });
  IntervalPlotSpec c;
  for (size_t g : order) {
    c.labels.push_back(CaseworkerLabel(s, g) + ": rank " + std::to_string(r.rank_g[g]) + ", marginal [" +
                       std::to_string(r.marginal_lower_g[g]) + ", " + std::to_string(r.marginal_upper_g[g]) +
                       "], simultaneous [" + std::to_string(r.simultaneous_lower_g[g]) + ", " +
                       std::to_string(r.simultaneous_upper_g[g]) + "]");
    c.point.push_back(r.rank_g[g]);
    c.inner_lo.push_back(r.marginal_lower_g[g]);
    c.inner_hi.push_back(r.marginal_upper_g[g]);
    c.outer_lo.push_back(r.simultaneous_lower_g[g]);
    c.outer_hi.push_back(r.simultaneous_upper_g[g]);
    c.highlight.push_back(g < r.could_be_top_g.size() ? r.could_be_top_g[g] : 0);
  }
  const std::string level = F("%g%%", 100 * (1 - r.alpha));
  c.point_label = "estimated rank";
  c.highlight_label = "could be in the top quartile";
  c.inner_label = "marginal " + level + " set";
  c.outer_label = "simultaneous " + level + " set";
  c.y_min = 0.5;
  c.y_max = static_cast<double>(G) + 0.5;
  c.y_reversed = true;
  for (double t : NiceTicks(0, static_cast<double>(G), 6)) {
    if (t >= 1 && t <= static_cast<double>(G)) c.y_ticks.push_back(t);
  }
  if (c.y_ticks.empty() || c.y_ticks.front() != 1) c.y_ticks.insert(c.y_ticks.begin(), 1);
  c.reference = r.top_size + 0.5;
  c.reference_label = "top quartile: ranks 1–" + std::to_string(r.top_size);
  c.x_label = "caseworkers, ordered by estimated rank (best left)";
  c.y_label = "rank (1 = largest effect)";
  c.item_class = "rank-ci";
  c.aria_label = "Rank confidence sets, " + source + " covariance";
  return "<div class=\"fig\" id=\"" + id + "\"><div><h3>Rank confidence sets (" + HtmlEscape(source) +
         " covariance of the effects)</h3>" + IntervalPlotSvg(c) + "</div><div class=\"side\">" +
         RankSetSide(r, level) + "</div></div>\n";
}

std::string SetText(const std::vector<int32_t>& lo, const std::vector<int32_t>& hi, size_t g) {
  if (g >= lo.size() || g >= hi.size()) return "&ndash;";
  return "[" + std::to_string(lo[g]) + ", " + std::to_string(hi[g]) + "]";
}

// Per caseworker, by estimated rank: effect, bootstrap s.e., quartile shares, rank sets.
std::string CaseworkerTable(const ReplicationSummary& s) {
  const size_t G = s.effect_g.size();
  if (G == 0) return "";
  std::vector<std::pair<const RankConfidenceSets*, std::string>> sets;
  if (s.have_analytic_rank_sets) sets.emplace_back(&s.analytic_rank_sets, "analytic");
  if (s.have_bootstrap_rank_sets) sets.emplace_back(&s.bootstrap_rank_sets, "bootstrap");
  const bool shares = static_cast<size_t>(s.quartile_share_gq.rows()) == G && s.quartile_share_gq.cols() == 4;
  std::string o = "<details><summary>Every caseworker (" + std::to_string(G) +
                  "): effect, bootstrap s.e., quartile shares and rank sets</summary><table><tr><th>Position</th>"
                  "<th class=\"l\">Caseworker</th><th>Effect (pp)</th><th>Bootstrap s.e.</th>";
  if (shares) o += "<th>in Q1 %</th><th>in Q2 %</th><th>in Q3 %</th><th>in Q4 %</th>";
  for (const auto& [r, name] : sets) {
    o += "<th>Marginal set (" + name + ")</th><th>Simultaneous set (" + name + ")</th><th>Could be top (" + name +
         ")</th>";
  }
  o += "</tr>";
  const std::vector<size_t> order = OrderByEffect(s);
  for (size_t p = 0; p < order.size(); ++p) {
    const size_t g = order[p];
    o += "<tr><td>" + std::to_string(p + 1) + "</td><td class=\"l\">" + HtmlEscape(CaseworkerLabel(s, g)) +
         "</td><td>" + F("%+.2f", 100 * s.effect_g[g]) + "</td><td>" +
         F("%.2f", g < s.bootstrap_std_error_g.size() ? 100 * s.bootstrap_std_error_g[g] : NAN) + "</td>";
    if (shares) {
      for (int q = 0; q < 4; ++q) o += "<td>" + F("%.0f", 100 * s.quartile_share_gq(static_cast<Eigen::Index>(g), q)) + "</td>";
    }
    for (const auto& [r, name] : sets) {
      o += "<td>" + SetText(r->marginal_lower_g, r->marginal_upper_g, g) + "</td><td>" +
           SetText(r->simultaneous_lower_g, r->simultaneous_upper_g, g) + "</td><td>" +
           (g < r->could_be_top_g.size() && r->could_be_top_g[g] ? "yes" : "") + "</td>";
    }
    o += "</tr>";
  }
  o += "</table></details>\n";
  return o;
}

std::string BootstrapBlock(const ReplicationSummary& s, const study::StudyResult& r, size_t index) {
  std::string o = SmoothTable(s, index) + SelectionTable(s, r.table1) + CoefficientTable(s, r.fit) + StabilityFigure(s, index);
  const std::string prefix = "replication_" + std::to_string(index) + "_ranks_";
  if (s.have_analytic_rank_sets) o += RankSetFigure(s, s.analytic_rank_sets, "analytic", prefix + "analytic");
  if (s.have_bootstrap_rank_sets) o += RankSetFigure(s, s.bootstrap_rank_sets, "bootstrap", prefix + "bootstrap");
  if (!s.have_analytic_rank_sets && !s.have_bootstrap_rank_sets) {
    o += "<p class=\"note\">No rank confidence sets for this run (see the notes). Bootstrap percentiles of the "
         "ranks are not valid rank intervals and are not shown.</p>\n";
  }
  o += CaseworkerTable(s);
  return o;
}

double NullQuantile(std::vector<double> v, double p) {
  if (v.empty()) return NAN;
  std::sort(v.begin(), v.end());
  const double h = (static_cast<double>(v.size()) - 1) * p;
  const auto lo = static_cast<size_t>(std::floor(h));
  const size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (h - static_cast<double>(lo)) * (v[hi] - v[lo]);
}

std::string NullRow(const std::string& label, const std::vector<double>& draws, double observed, double p,
                    double scale, const char* fmt) {
  const double mean =
      draws.empty() ? NAN : std::accumulate(draws.begin(), draws.end(), 0.0) / static_cast<double>(draws.size());
  return "<tr><td class=\"l\">" + label + "</td><td>" + F(fmt, observed * scale) + "</td><td>" +
         F(fmt, mean * scale) + "</td><td>" + F(fmt, NullQuantile(draws, 0.95) * scale) + "</td><td>" +
         I(static_cast<int64_t>(draws.size())) + "</td><td><b>" + P(p) + "</b></td></tr>";
}

std::string NullHistogram(const std::vector<double>& draws, double observed, double scale, const char* fmt,
                          const std::string& x_label) {
  HistogramSpec h;
  h.values = draws;
  h.observed = observed;
  h.scale = scale;
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, observed * scale);
  h.observed_label = std::isfinite(observed * scale) ? "observed " + std::string(buf) : "observed";
  h.x_label = x_label;
  h.y_label = "null draws";
  h.aria_label = "Null distribution of " + x_label;
  return HistogramSvg(h);
}

std::string PermutationBlock(const ReplicationSummary& s, size_t index) {
  std::string o = "<div class=\"fig\" id=\"replication_" + std::to_string(index) + "_null\"><div>" +
                  NullHistogram(s.null_variance, s.observed_variance, 1e4, "%.2f",
                                "variance of the caseworker effects (pp\u00b2)") +
                  "</div><div>" +
                  NullHistogram(s.null_increase, s.observed_increase, 100, "%.2f",
                                "policy increase (pp), top quartile re-selected") +
                  "</div><div class=\"side\"><h3>Do caseworker effects exist? Permutation p-values</h3><table><tr>"
                  "<th class=\"l\">Statistic</th><th>Observed</th><th>Null mean</th><th>Null 95th percentile</th>"
                  "<th>Null draws</th><th>p</th></tr>";
  o += NullRow("Variance of the caseworker effects (pp&sup2;)", s.null_variance, s.observed_variance,
               s.permutation_p_variance, 1e4, "%.2f");
  o += NullRow("Policy increase (pp)", s.null_increase, s.observed_increase, s.permutation_p_increase, 100, "%.2f");
  o += "</table><p class=\"note\">Histograms: the statistic recomputed on data where caseworkers have no effect "
       "(labels permuted); red line: the observed value. p = (1 + #{null draws &ge; observed}) / (1 + number of "
       "draws): variance p " +
       PEq(s.permutation_p_variance) + ", increase p " + PEq(s.permutation_p_increase);
  const size_t B = s.null_variance.size();
  if (B > 0 && B == s.null_increase.size()) {
    o += " (the smallest p-value " + I(static_cast<int64_t>(B)) + " draws allow is " +
         P(1.0 / (1.0 + static_cast<double>(B))) + ")";
  }
  o += ". Noise alone produces a positive variance and a positive gain; the test asks whether the observed values "
       "exceed what noise produces.</p></div></div>\n";
  return o;
}

std::string Notes(const ReplicationSummary& s) {
  if (s.notes.empty()) return "";
  std::string o = "<div class=\"box warn\"><b>Notes</b><ul>";
  for (const auto& n : s.notes) o += "<li>" + HtmlEscape(n) + "</li>";
  return o + "</ul></div>\n";
}

}  // namespace

bool HasQuartileStability(std::span<const ReplicationSummary> replications) {
  return std::any_of(replications.begin(), replications.end(),
                     [](const ReplicationSummary& s) { return s.bootstrap && s.quartile_share_gq.rows() > 0; });
}

std::string ReplicationSection(const study::StudyResult& result, std::span<const ReplicationSummary> replications) {
  if (replications.empty()) return "";
  std::string o =
      "<h2 id=\"replications\">Replications</h2><p>The study re-estimated many times. <b>Bootstrap</b> runs "
      "resample or reweight the data: they give standard errors and percentile intervals for smooth quantities, "
      "show how stable the quartile ranking is, and feed the covariance of the effects to confidence sets for the "
      "ranks. <b>Permutation</b> runs re-estimate on data where caseworkers have no effect, to test whether the "
      "effects exist at all.</p>\n";
  for (size_t i = 0; i < replications.size(); ++i) {
    const ReplicationSummary& s = replications[i];
    o += "<section class=\"replication\">" + Header(s, i) + Notes(s);
    o += s.bootstrap ? BootstrapBlock(s, result, i) : PermutationBlock(s, i);
    o += "</section>\n";
  }
  return o;
}

}  // namespace cwfx::report::internal
