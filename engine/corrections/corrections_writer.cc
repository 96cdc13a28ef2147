#include "corrections/corrections_writer.h"

#include <string>
#include <vector>

namespace cwfx::corrections {
namespace {

void MaybeDoubles(store::H5File& f, const std::string& path, const std::vector<double>& v) {
  if (!v.empty()) f.WriteDoubles(path, v);
}

void MaybeInt32(store::H5File& f, const std::string& path, const std::vector<int32_t>& v) {
  if (!v.empty()) f.WriteInt32(path, v);
}

}  // namespace

void WriteCorrections(store::H5File& f, const CorrectionResult& r) {
  f.CreateGroup("/corrections");
  f.SetAttribute("/corrections", "top_size", static_cast<int64_t>(r.top_size));
  f.SetAttribute("/corrections", "alpha", r.alpha);
  f.WriteStrings("/corrections/warnings", r.warnings);

  const PolicyCorrections& p = r.policy;
  constexpr double kNaN = PolicyCorrections::kNaN;
  const std::vector<std::string> quantity = {"naive", "eb_normal", "eb_npmle", "cross_fit", "conditional", "hybrid"};
  const std::vector<double> estimate = {p.naive, p.eb_normal, p.eb_npmle, p.cross_fit, p.conditional_median,
                                        p.hybrid_estimate};
  const std::vector<double> lower = {p.naive_lower, kNaN, kNaN, p.cross_fit_lower, p.conditional_lower, p.hybrid_lower};
  const std::vector<double> upper = {p.naive_upper, kNaN, kNaN, p.cross_fit_upper, p.conditional_upper, p.hybrid_upper};
  f.CreateGroup("/corrections/policy");
  f.WriteStrings("/corrections/policy/quantity", quantity);
  f.WriteDoubles("/corrections/policy/estimate", estimate);
  f.WriteDoubles("/corrections/policy/lower", lower);
  f.WriteDoubles("/corrections/policy/upper", upper);
  f.SetAttribute("/corrections/policy", "cross_fit_splits", static_cast<int64_t>(p.cross_fit_splits));

  const VarianceCorrections& v = r.variance;
  const std::string g = "/corrections/variance";
  f.CreateGroup(g);
  f.SetAttribute(g, "plugin", v.plugin);
  f.SetAttribute(g, "kss", v.kss);
  f.SetAttribute(g, "plugin_unweighted", v.plugin_unweighted);
  f.SetAttribute(g, "kss_unweighted", v.kss_unweighted);
  f.SetAttribute(g, "normal_prior", v.normal_prior);
  f.SetAttribute(g, "npmle_prior", v.npmle_prior);
  f.SetAttribute(g, "citizen_plugin", v.citizen_plugin);
  f.SetAttribute(g, "citizen_kss", v.citizen_kss);
  f.SetAttribute(g, "cov_plugin", v.cov_plugin);
  f.SetAttribute(g, "cov_kss", v.cov_kss);
  f.SetAttribute(g, "leave_out_obs", v.leave_out_obs);
  f.SetAttribute(g, "leverage_method", v.leverage_method);

  const EffectCorrections& e = r.effects;
  const std::string h = "/corrections/effects";
  f.CreateGroup(h);
  MaybeDoubles(f, h + "/effect", e.effect_g);
  MaybeDoubles(f, h + "/std_error", e.std_error_g);
  MaybeDoubles(f, h + "/eb_normal", e.normal_mean_g);
  MaybeDoubles(f, h + "/eb_npmle", e.npmle_mean_g);
  MaybeDoubles(f, h + "/prob_top_normal", e.normal_prob_top_g);
  MaybeDoubles(f, h + "/prob_top_npmle", e.npmle_prob_top_g);
  MaybeDoubles(f, h + "/expected_rank_normal", e.normal_expected_rank_g);
  MaybeDoubles(f, h + "/expected_rank_npmle", e.npmle_expected_rank_g);
  MaybeInt32(f, h + "/rank_set_lower", e.marginal_lower_g);
  MaybeInt32(f, h + "/rank_set_upper", e.marginal_upper_g);
  if (!e.could_be_top_g.empty()) {
    const std::vector<int32_t> top(e.could_be_top_g.begin(), e.could_be_top_g.end());
    f.WriteInt32(h + "/could_be_top", top);
  }
}

}  // namespace cwfx::corrections
