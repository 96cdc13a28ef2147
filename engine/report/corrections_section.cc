#include "report/corrections_section.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "report/format_internal.h"
#include "report/svg_chart.h"

namespace cwfx::report {
namespace {

using internal::F;

std::string Interval(double lo, double hi, double scale) {
  if (!std::isfinite(lo) && !std::isfinite(hi)) return "&ndash;";
  return "[" + F("%.2f", scale * lo) + ", " + F("%.2f", scale * hi) + "]";
}

}  // namespace

std::string RenderCorrectionsSection(const study::StudyResult& st, const corrections::CorrectionResult& c) {
  const auto& p = c.policy;
  const auto& v = c.variance;
  const auto& e = c.effects;
  const double pc = 100;
  std::string o = "<h2>Corrections: winner's curse, shrinkage and leave-out variance</h2>\n";
  o += "<div class=\"box\"><p>Table 1 selects the top quartile on the same noisy estimates it then averages, so its "
       "increase overstates what the policy would deliver (the winner's curse), and its standard error treats the "
       "selection as fixed. The estimates below correct for that in different ways; <code>cwfx simulate</code> measures how "
       "each of them does on synthetic registers with known truth.</p>\n";
  o += "<table><tr><th class=\"l\">policy gain estimate</th><th>pp</th><th>" + F("%.0f", 100 * (1 - c.alpha)) +
       "% interval</th><th class=\"l\">what it is</th></tr>\n";
  auto row = [&](const std::string& name, double est, const std::string& ci, const std::string& what) {
    o += "<tr><td class=\"l\">" + name + "</td><td>" + F("%+.2f", pc * est) + "</td><td>" + ci +
         "</td><td class=\"l\">" + what + "</td></tr>\n";
  };
  row("naive (Table 1)", p.naive, Interval(p.naive_lower, p.naive_upper, pc),
      "top quartile's mean estimate minus the weighted mean; selection ignored");
  row("empirical Bayes, normal prior", p.eb_normal, "&ndash;",
      "mean posterior effect of the same caseworkers (no winner's curse if the prior is right)");
  row("empirical Bayes, NPMLE prior", p.eb_npmle, "&ndash;", "the same with a nonparametric prior");
  row("cross-fit (" + std::to_string(p.cross_fit_splits) + " selections)", p.cross_fit,
      Interval(p.cross_fit_lower, p.cross_fit_upper, pc),
      "selected on half the citizens, evaluated on the other half; conservative");
  row("conditional (median-unbiased)", p.conditional_median, Interval(p.conditional_lower, p.conditional_upper, pc),
      "given that these caseworkers were selected (polyhedral)");
  row("hybrid", p.hybrid_estimate, Interval(p.hybrid_lower, p.hybrid_upper, pc),
      "conditional interval intersected with a simultaneous one (Andrews, Kitagawa, McCloskey)");
  o += "</table>\n";

  o += "<h3 class=\"sub\">Variance of the caseworker effects</h3><table><tr><th class=\"l\"></th><th>plug-in</th>"
       "<th>leave-out (KSS)</th></tr>\n";
  o += "<tr><td class=\"l\">response-weighted (pp&sup2;)</td><td>" + F("%.2f", 1e4 * v.plugin) + "</td><td>" +
       F("%.2f", 1e4 * v.kss) + "</td></tr>\n";
  o += "<tr><td class=\"l\">each caseworker once (pp&sup2;)</td><td>" + F("%.2f", 1e4 * v.plugin_unweighted) +
       "</td><td>" + F("%.2f", 1e4 * v.kss_unweighted) + "</td></tr>\n";
  if (std::isfinite(v.citizen_kss)) {
    o += "<tr><td class=\"l\">citizen effects (pp&sup2;)</td><td>" + F("%.2f", 1e4 * v.citizen_plugin) + "</td><td>" +
         F("%.2f", 1e4 * v.citizen_kss) + "</td></tr>\n";
    o += "<tr><td class=\"l\">covariance (pp&sup2;)</td><td>" + F("%.2f", 1e4 * v.cov_plugin) + "</td><td>" +
         F("%.2f", 1e4 * v.cov_kss) + "</td></tr>\n";
  }
  o += "</table><p class=\"note\">The plug-in variance adds the estimation noise of every effect to the true "
       "spread; the leave-out estimate removes it (" +
       HtmlEscape(v.leverage_method.empty() ? "not computed" : v.leverage_method + " leverages") + ", " +
       std::to_string(v.leave_out_obs) + " observations). Prior variance of the empirical Bayes fits: normal " +
       F("%.2f", 1e4 * v.normal_prior) + ", NPMLE " + F("%.2f", 1e4 * v.npmle_prior) + " pp&sup2;.</p>\n";

  if (!e.normal_prob_top_g.empty()) {
    const auto G = e.normal_prob_top_g.size();
    std::vector<size_t> order(G);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return e.normal_prob_top_g[a] > e.normal_prob_top_g[b]; });
    o += "<h3 class=\"sub\">Who is in the top quartile? Posterior probabilities</h3>"
         "<p class=\"note\">P(top) is the posterior probability (empirical Bayes, prior estimated from all "
         "caseworkers) that a caseworker's true effect is among the top " +
         std::to_string(c.top_size) +
         "; unlike the bootstrap stability above, it is a probability of true membership under the model. "
         "Expected rank: the posterior mean rank (1 = best).</p><details><summary>The " +
         std::to_string(std::min<size_t>(G, 30)) +
         " caseworkers most likely in the top quartile</summary><table><tr><th class=\"l\">caseworker</th>"
         "<th>estimate (pp)</th><th>s.e.</th><th>EB normal (pp)</th><th>EB NPMLE (pp)</th><th>P(top) normal</th>"
         "<th>P(top) NPMLE</th><th>expected rank</th><th>rank set</th><th>could be top</th></tr>\n";
    auto at = [](const std::vector<double>& x, size_t j) { return j < x.size() ? x[j] : NAN; };
    for (size_t k = 0; k < std::min<size_t>(G, 30); ++k) {
      const size_t j = order[k];
      o += "<tr><td class=\"l\">" + HtmlEscape(st.ranking.id_g[j]) + "</td><td>" + F("%+.1f", pc * at(e.effect_g, j)) +
           "</td><td>" + F("%.1f", pc * at(e.std_error_g, j)) + "</td><td>" + F("%+.1f", pc * at(e.normal_mean_g, j)) +
           "</td><td>" + F("%+.1f", pc * at(e.npmle_mean_g, j)) + "</td><td>" + F("%.2f", at(e.normal_prob_top_g, j)) +
           "</td><td>" + F("%.2f", at(e.npmle_prob_top_g, j)) + "</td><td>" +
           F("%.1f", at(e.normal_expected_rank_g, j)) + "</td><td>" +
           (j < e.marginal_lower_g.size()
                ? std::to_string(e.marginal_lower_g[j]) + "&ndash;" + std::to_string(e.marginal_upper_g[j])
                : "&ndash;") +
           "</td><td>" + (j < e.could_be_top_g.size() ? (e.could_be_top_g[j] ? "yes" : "no") : "&ndash;") +
           "</td></tr>\n";
    }
    o += "</table></details>\n";
    // Raw against shrunk effects, sorted by the raw estimate.
    IntervalPlotSpec sp;
    std::vector<size_t> by_raw(G);
    std::iota(by_raw.begin(), by_raw.end(), 0);
    std::stable_sort(by_raw.begin(), by_raw.end(), [&](size_t a, size_t b) { return e.effect_g[a] < e.effect_g[b]; });
    double lo = 0, hi = 0;
    const double z = inference::NormalQuantile(1 - c.alpha / 2);
    for (size_t j : by_raw) {
      const double r = pc * e.effect_g[j], s = pc * at(e.std_error_g, j), m = pc * at(e.normal_mean_g, j);
      sp.labels.push_back(st.ranking.id_g[j] + ": estimate " + F("%+.1f", r) + " pp, EB " + F("%+.1f", m) +
                          " pp, P(top) " + F("%.2f", at(e.normal_prob_top_g, j)));
      sp.point.push_back(m);
      sp.inner_lo.push_back(r - z * s);
      sp.inner_hi.push_back(r + z * s);
      sp.highlight.push_back(at(e.normal_prob_top_g, j) >= 0.5 ? 1 : 0);
      lo = std::min({lo, r - z * s, m});
      hi = std::max({hi, r + z * s, m});
    }
    sp.y_min = std::floor(lo / 5) * 5;
    sp.y_max = std::ceil(hi / 5) * 5;
    sp.reference = 0;
    sp.point_label = "EB posterior mean";
    sp.highlight_label = "P(top) >= 0.5";
    sp.inner_label = "estimate +- " + F("%.2f", z) + " s.e.";
    sp.x_label = "caseworkers, ordered by their estimated effect";
    sp.y_label = "effect (pp)";
    sp.aria_label = "Estimated and shrunk caseworker effects";
    o += "<div class=\"fig\"><div><h3>Estimates and their empirical Bayes shrinkage</h3>" + IntervalPlotSvg(sp) +
         "</div></div>\n";
  }
  if (!c.warnings.empty()) {
    o += "<div class=\"box warn\"><ul>";
    for (const auto& w : c.warnings) o += "<li>" + HtmlEscape(w) + "</li>";
    o += "</ul></div>\n";
  }
  o += "</div>\n";
  return o;
}

}  // namespace cwfx::report
