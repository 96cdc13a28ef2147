#include "corrections/corrections.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/error.h"
#include "core/random_stream.h"
#include "replicate/estimator.h"

namespace cwfx::corrections {
namespace {

constexpr uint32_t kCrossFitDomain = 0x58464954u;  // "XFIT"
constexpr double kNaN = PolicyCorrections::kNaN;

// Citizens grouped by the first caseworker they meet in the sample (CSR).
struct CitizenGroups {
  std::vector<int64_t> offset_g;
  std::vector<int32_t> citizens;
};

CitizenGroups GroupCitizens(const replicate::ReplicationProblem& p) {
  const int32_t G = p.num_caseworkers();
  std::vector<int32_t> first_cw_c(static_cast<size_t>(p.num_citizens), -1);
  const auto& cw_n = p.factors[0].codes_n;
  for (size_t i = 0; i < cw_n.size(); ++i) {
    int32_t& f = first_cw_c[static_cast<size_t>(p.citizen_n[i])];
    if (f < 0) f = cw_n[i];
  }
  CitizenGroups out;
  out.offset_g.assign(static_cast<size_t>(G) + 1, 0);
  for (int32_t f : first_cw_c)
    if (f >= 0) ++out.offset_g[static_cast<size_t>(f) + 1];
  std::partial_sum(out.offset_g.begin(), out.offset_g.end(), out.offset_g.begin());
  out.citizens.resize(static_cast<size_t>(out.offset_g.back()));
  std::vector<int64_t> next(out.offset_g.begin(), out.offset_g.end() - 1);
  for (int32_t c = 0; c < p.num_citizens; ++c) {
    const int32_t f = first_cw_c[static_cast<size_t>(c)];
    if (f >= 0) out.citizens[static_cast<size_t>(next[static_cast<size_t>(f)]++)] = c;
  }
  return out;
}

// The top `count` of the present caseworkers by value (ties: the study's id order).
std::vector<int32_t> TopPresent(const std::vector<double>& value_g, const std::vector<uint8_t>& present_g,
                                const std::vector<int32_t>& id_order_g, int32_t count) {
  std::vector<int32_t> idx;
  for (size_t g = 0; g < value_g.size(); ++g)
    if (present_g[g]) idx.push_back(static_cast<int32_t>(g));
  std::sort(idx.begin(), idx.end(), [&](int32_t a, int32_t b) {
    const double va = value_g[static_cast<size_t>(a)], vb = value_g[static_cast<size_t>(b)];
    if (va != vb) return va > vb;
    return id_order_g[static_cast<size_t>(a)] < id_order_g[static_cast<size_t>(b)];
  });
  idx.resize(static_cast<size_t>(std::min<int64_t>(count, static_cast<int64_t>(idx.size()))));
  return idx;
}

// Gain of `selected` evaluated on `eval`: the selected caseworkers' mean
// minus the mean over the caseworkers present in eval, weighted by their
// full-sample responses weight_g (the policy's population, not the half's),
// and its contrast vector.
double EvaluateGain(const std::vector<int32_t>& selected, const replicate::ReplicaEstimator::CoreFit& eval,
                    const std::vector<double>& weight_g, Eigen::VectorXd* eta_g) {
  const auto G = static_cast<Eigen::Index>(eval.psi_g.size());
  double wsum = 0, wmean = 0;
  for (Eigen::Index g = 0; g < G; ++g) {
    if (std::isnan(eval.psi_g[static_cast<size_t>(g)])) continue;
    wsum += weight_g[static_cast<size_t>(g)];
    wmean += weight_g[static_cast<size_t>(g)] * eval.psi_g[static_cast<size_t>(g)];
  }
  wmean /= wsum;
  double top = 0;
  for (int32_t g : selected) top += eval.psi_g[static_cast<size_t>(g)];
  top /= static_cast<double>(selected.size());
  if (eta_g != nullptr) {
    eta_g->setZero(G);
    for (Eigen::Index g = 0; g < G; ++g) {
      if (!std::isnan(eval.psi_g[static_cast<size_t>(g)])) (*eta_g)[g] = -weight_g[static_cast<size_t>(g)] / wsum;
    }
    for (int32_t g : selected) (*eta_g)[g] += 1.0 / static_cast<double>(selected.size());
  }
  return top - wmean;
}

fit::Design LeaveOutDesign(const replicate::ReplicationProblem& p) {
  fit::Design d;
  d.source = p.source;
  d.outcome_name = p.study.outcome;
  d.y_n = p.y_n;
  d.X_nk = p.X_nk;
  d.covariate_names = p.covariate_names;
  const size_t q = std::min<size_t>(p.factors.size(), p.study.add_citizen_effects ? 2 : 1);
  d.factors.assign(p.factors.begin(), p.factors.begin() + static_cast<std::ptrdiff_t>(q));
  d.level_labels_q.assign(q, {});
  d.level_labels_q[0] = p.caseworker_ids;
  d.components = absorb::FindComponents(d.factors);
  return d;
}

std::vector<double> ToStd(const Eigen::VectorXd& v) { return {v.data(), v.data() + v.size()}; }

}  // namespace

void CorrectionOptions::Validate() const {
  auto require = [](bool ok, const std::string& field, const std::string& expected) {
    if (!ok) throw Error(Location{"CorrectionOptions", -1, field}, "expected " + expected);
  };
  require(alpha > 0 && alpha < 1, "alpha", "a level in (0, 1)");
  require(npmle_grid_points >= 2, "npmle_grid_points", ">= 2");
  require(npmle_tolerance >= 0, "npmle_tolerance", ">= 0");
  require(npmle_max_iterations >= 1, "npmle_max_iterations", ">= 1");
  require(posterior_draws >= 0, "posterior_draws", ">= 0");
  require(cross_fit_splits >= 0, "cross_fit_splits", ">= 0");
  require(projection_draws >= 100, "projection_draws", ">= 100");
  require(rank_draws >= 100, "rank_draws", ">= 100");
}

CrossFitResult CrossFitGain(const replicate::ReplicationProblem& p, int splits, uint64_t seed,
                            const parallel::Context& ctx) {
  CrossFitResult out;
  if (splits <= 0) return out;
  const int32_t G = p.num_caseworkers();
  const int64_t n = p.num_obs();
  const CitizenGroups groups = GroupCitizens(p);
  const replicate::ReplicaEstimator est(p);
  const bool have_cov = p.analytic_effect_cov_gg.rows() == G;
  std::vector<double> count_g(static_cast<size_t>(G), 0.0);
  for (int32_t g : p.factors[0].codes_n) count_g[static_cast<size_t>(g)] += 1.0;

  // Each split is a pure function of (seed, split); results are summed in split order.
  std::vector<double> gain_s(static_cast<size_t>(2 * splits), kNaN), se_s(static_cast<size_t>(2 * splits), kNaN);
  std::vector<std::vector<int32_t>> chosen_s(static_cast<size_t>(2 * splits));
  parallel::ParallelFor(ctx, 0, splits, 1, [&](int64_t lo, int64_t hi) {
    replicate::EstimatorWorkspace ws;
    std::vector<uint8_t> in_a_c(static_cast<size_t>(p.num_citizens), 0);
    std::vector<double> wa_n(static_cast<size_t>(n)), wb_n(static_cast<size_t>(n));
    std::vector<int32_t> order;
    static const parallel::Context serial(1);
    for (int64_t s = lo; s < hi; ++s) {
      random::Stream rng(seed, kCrossFitDomain, static_cast<uint64_t>(s));
      for (int32_t g = 0; g < G; ++g) {
        const auto b = groups.offset_g[static_cast<size_t>(g)], e = groups.offset_g[static_cast<size_t>(g) + 1];
        order.assign(groups.citizens.begin() + b, groups.citizens.begin() + e);
        for (auto k = static_cast<int64_t>(order.size()) - 1; k > 0; --k) {
          std::swap(order[static_cast<size_t>(k)], order[static_cast<size_t>(rng.Below(k + 1))]);
        }
        const int start = rng.Bernoulli(0.5) ? 1 : 0;
        for (size_t k = 0; k < order.size(); ++k) {
          in_a_c[static_cast<size_t>(order[k])] = static_cast<uint8_t>((k + static_cast<size_t>(start)) % 2);
        }
      }
      for (int64_t i = 0; i < n; ++i) {
        const bool a = in_a_c[static_cast<size_t>(p.citizen_n[static_cast<size_t>(i)])] != 0;
        wa_n[static_cast<size_t>(i)] = a ? 1.0 : 0.0;
        wb_n[static_cast<size_t>(i)] = a ? 0.0 : 1.0;
      }
      const auto& inner = ctx.threads() == 1 || splits > 1 ? serial : ctx;
      const auto fa = est.FitCore(wa_n, p.factors[0].codes_n, ws, inner);
      const auto fb = est.FitCore(wb_n, p.factors[0].codes_n, ws, inner);
      for (int dir = 0; dir < 2; ++dir) {
        const auto& sel = dir == 0 ? fa : fb;
        const auto& eval = dir == 0 ? fb : fa;
        std::vector<uint8_t> present_g(static_cast<size_t>(G));
        int32_t present = 0;
        for (int32_t g = 0; g < G; ++g) {
          present_g[static_cast<size_t>(g)] =
              !std::isnan(sel.psi_g[static_cast<size_t>(g)]) && !std::isnan(eval.psi_g[static_cast<size_t>(g)]);
          present += present_g[static_cast<size_t>(g)];
        }
        const int32_t top = present / 4;
        if (top < 1) continue;
        const std::vector<int32_t> chosen = TopPresent(sel.psi_g, present_g, p.id_order_g, top);
        Eigen::VectorXd eta;
        const size_t slot = static_cast<size_t>(2 * s + dir);
        gain_s[slot] = EvaluateGain(chosen, eval, count_g, &eta);
        chosen_s[slot] = chosen;
        if (have_cov) {
          Eigen::VectorXd d(G);
          for (int32_t g = 0; g < G; ++g) {
            const double nb = eval.level_weight_g[static_cast<size_t>(g)];
            d[g] = nb > 0 ? std::sqrt(count_g[static_cast<size_t>(g)] / nb) : 0.0;
          }
          const Eigen::VectorXd de = d.cwiseProduct(eta);
          se_s[slot] = std::sqrt(std::max(0.0, de.dot(p.analytic_effect_cov_gg * de)));
        }
      }
    }
  });
  double gsum = 0, ssum = 0;
  int used = 0, used_se = 0;
  out.selection_g.assign(static_cast<size_t>(G), 0.0);
  for (size_t k = 0; k < gain_s.size(); ++k) {
    if (std::isnan(gain_s[k])) continue;
    gsum += gain_s[k];
    for (int32_t g : chosen_s[k]) out.selection_g[static_cast<size_t>(g)] += 1.0 / static_cast<double>(chosen_s[k].size());
    ++used;
    if (!std::isnan(se_s[k])) {
      ssum += se_s[k];
      ++used_se;
    }
  }
  out.splits_used = used;
  for (double& v : out.selection_g) v = used > 0 ? v / used : kNaN;
  if (used > 0) out.gain = gsum / used;
  if (used_se > 0) out.std_error = ssum / used_se;
  return out;
}

CorrectionResult RunCorrections(const replicate::ReplicationProblem& p, const study::StudyResult& study,
                                const CorrectionOptions& options, const parallel::Context& ctx) {
  options.Validate();
  CorrectionResult res;
  res.alpha = options.alpha;
  const int32_t G = p.num_caseworkers();
  const auto& rk = study.ranking;
  if (static_cast<int32_t>(rk.effect_g.size()) != G)
    throw Error("RunCorrections: the problem and the study disagree on the number of caseworkers");
  res.top_size = rk.sizes_q.back();
  const double z = inference::NormalQuantile(1 - options.alpha / 2);

  Eigen::VectorXd w_g(G), psi_g(G);
  double n = 0;
  for (int32_t g = 0; g < G; ++g) n += static_cast<double>(rk.n_responses_g[static_cast<size_t>(g)]);
  for (int32_t g = 0; g < G; ++g) {
    w_g[g] = static_cast<double>(rk.n_responses_g[static_cast<size_t>(g)]) / n;
    psi_g[g] = rk.effect_g[static_cast<size_t>(g)] - study.effect_centre;
  }
  std::vector<int32_t> selected;
  std::vector<uint8_t> selected_g(static_cast<size_t>(G), 0);
  for (int32_t g = 0; g < G; ++g) {
    if (rk.quartile_g[static_cast<size_t>(g)] == 4) {
      selected.push_back(g);
      selected_g[static_cast<size_t>(g)] = 1;
    }
  }
  Eigen::VectorXd eta_g = -w_g;
  for (int32_t g : selected) eta_g[g] += 1.0 / static_cast<double>(selected.size());

  EffectCorrections& ef = res.effects;
  ef.effect_g = ToStd(psi_g);
  PolicyCorrections& pol = res.policy;
  pol.naive = eta_g.dot(psi_g);
  VarianceCorrections& var = res.variance;
  var.plugin = w_g.dot(psi_g.cwiseAbs2());
  {
    const double m = psi_g.mean();
    var.plugin_unweighted = (psi_g.array() - m).square().mean();
  }

  const Eigen::MatrixXd& sigma = p.analytic_effect_cov_gg;
  const bool have_cov = sigma.rows() == G;
  if (!have_cov) {
    res.warnings.push_back(
        "the analytic covariance of the effects needs the one-factor model: shrinkage, conditional inference, "
        "rank sets and the naive standard error are skipped");
  } else {
    ef.std_error_g.resize(static_cast<size_t>(G));
    for (int32_t g = 0; g < G; ++g) ef.std_error_g[static_cast<size_t>(g)] = std::sqrt(std::max(0.0, sigma(g, g)));
    pol.naive_std_error = std::sqrt(std::max(0.0, eta_g.dot(sigma * eta_g)));
    pol.naive_lower = pol.naive - z * pol.naive_std_error;
    pol.naive_upper = pol.naive + z * pol.naive_std_error;
    const bool noisy = std::all_of(ef.std_error_g.begin(), ef.std_error_g.end(), [](double s) { return s > 0; });

    if (options.shrinkage && noisy) {
      inference::ShrinkageOptions so;
      so.posterior_draws = options.posterior_draws;
      so.seed = options.seed;
      so.top_size = res.top_size;
      so.prior = inference::PriorKind::kNormal;
      const inference::ShrinkageResult normal = inference::Shrink(ef.effect_g, ef.std_error_g, so, ctx);
      so.prior = inference::PriorKind::kNonparametric;
      so.grid_points = options.npmle_grid_points;
      so.em_tolerance = options.npmle_tolerance;
      so.max_em_iterations = options.npmle_max_iterations;
      const inference::ShrinkageResult npmle = inference::Shrink(ef.effect_g, ef.std_error_g, so, ctx);
      ef.normal_mean_g = normal.posterior_mean_g;
      ef.normal_prob_top_g = normal.prob_top_g;
      ef.normal_expected_rank_g = normal.expected_rank_g;
      ef.normal_rank_g = normal.rank_by_posterior_mean_g;
      ef.npmle_mean_g = npmle.posterior_mean_g;
      ef.npmle_prob_top_g = npmle.prob_top_g;
      ef.npmle_expected_rank_g = npmle.expected_rank_g;
      const std::vector<double> weights(w_g.data(), w_g.data() + G);
      pol.eb_normal = inference::PosteriorSelectedMeanGain(normal, selected_g, weights);
      pol.eb_npmle = inference::PosteriorSelectedMeanGain(npmle, selected_g, weights);
      var.normal_prior = normal.prior_variance;
      var.npmle_prior = npmle.prior_variance;
      if (!npmle.converged) res.warnings.push_back("the NPMLE prior's EM stopped at its iteration cap");
    } else if (options.shrinkage) {
      // No estimation noise: the posterior is the estimate itself.
      ef.normal_mean_g = ef.npmle_mean_g = ef.effect_g;
      pol.eb_normal = pol.eb_npmle = pol.naive;
      res.warnings.push_back("some effects have a zero standard error: shrinkage leaves the estimates as they are");
    }

    if (options.conditional_inference && pol.naive_std_error > 0 && res.top_size < G) {
      inference::SelectionInferenceOptions si;
      si.alpha = options.alpha;
      si.projection_draws = options.projection_draws;
      si.seed = options.seed;
      try {
        const inference::SelectedMeanInference c = inference::InferSelectedMean(psi_g, sigma, selected, eta_g, si);
        pol.conditional_median = c.median_unbiased;
        pol.conditional_lower = c.conditional_lower;
        pol.conditional_upper = c.conditional_upper;
        pol.hybrid_estimate = c.hybrid_estimate;
        pol.hybrid_lower = c.hybrid_lower;
        pol.hybrid_upper = c.hybrid_upper;
      } catch (const Error& e) {
        res.warnings.push_back(std::string("conditional inference skipped: ") + e.what());
      }
    }

    if (options.rank_sets) {
      inference::RankInferenceOptions ro;
      ro.alpha = options.alpha;
      ro.draws = options.rank_draws;
      ro.seed = options.seed;
      ro.top_size = res.top_size;
      const inference::RankConfidenceSets rs = inference::ComputeRankConfidenceSets(psi_g, sigma, ro, ctx);
      ef.marginal_lower_g = rs.marginal_lower_g;
      ef.marginal_upper_g = rs.marginal_upper_g;
      ef.simultaneous_lower_g = rs.simultaneous_lower_g;
      ef.simultaneous_upper_g = rs.simultaneous_upper_g;
      ef.could_be_top_g = rs.could_be_top_g;
    }
  }

  if (options.cross_fit_splits > 0) {
    const CrossFitResult cf = CrossFitGain(p, options.cross_fit_splits, options.seed, ctx);
    pol.cross_fit = cf.gain;
    pol.cross_fit_std_error = cf.std_error;
    pol.cross_fit_splits = cf.splits_used;
    pol.cross_fit_selection_g = cf.selection_g;
    pol.cross_fit_lower = cf.gain - z * cf.std_error;
    pol.cross_fit_upper = cf.gain + z * cf.std_error;
  }

  if (options.leave_out_variance) {
    inference::LeaveOutOptions lo;
    lo.seed = options.seed;
    try {
      const inference::LeaveOutEstimate le = inference::EstimateLeaveOut(LeaveOutDesign(p), lo, ctx);
      // Plug-in and KSS on the same (leave-one-out) sample.
      var.plugin = le.components.var_caseworker_plugin;
      var.plugin_unweighted = le.components.var_caseworker_unweighted_plugin;
      var.kss = le.components.var_caseworker_kss;
      var.kss_unweighted = le.components.var_caseworker_unweighted_kss;
      var.citizen_plugin = le.components.var_citizen_plugin;
      var.citizen_kss = le.components.var_citizen_kss;
      var.cov_plugin = le.components.cov_plugin;
      var.cov_kss = le.components.cov_kss;
      var.leave_out_obs = le.sample.kept;
      var.leave_out_dropped = p.num_obs() - le.sample.kept;
      var.leverage_method = le.components.leverage_method;
    } catch (const Error& e) {
      res.warnings.push_back(std::string("leave-out variance skipped: ") + e.what());
    }
  }
  return res;
}

}  // namespace cwfx::corrections
