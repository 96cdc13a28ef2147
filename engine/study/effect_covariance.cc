#include "study/effect_covariance.h"

#include <string>
#include <vector>

#include "core/error.h"

namespace cwfx::study {

double EffectCovariance::Covariance(const Eigen::VectorXd& c_beta, const Eigen::VectorXd& c_psi_g,
                                    const Eigen::VectorXd& d_beta, const Eigen::VectorXd& d_psi_g) const {
  CWFX_CHECK(c_psi_g.size() == weight_g.size() && d_psi_g.size() == weight_g.size(),
             "one psi coefficient per caseworker");
  Eigen::VectorXd bc = -xbar_gk.transpose() * c_psi_g;
  Eigen::VectorXd bd = -xbar_gk.transpose() * d_psi_g;
  if (c_beta.size() > 0) bc += c_beta;
  if (d_beta.size() > 0) bd += d_beta;
  const double fe_part = sigma2 * (c_psi_g.array() * d_psi_g.array() / weight_g.array()).sum();
  return bc.dot(vbeta_kk * bd) + fe_part;
}

EffectCovariance BuildEffectCovariance(const fit::Design& design, const fit::FitResult& fit,
                                       bool use_fit_vcov) {
  if (design.factors.size() != 1) {
    throw Error("delta-method covariance of caseworker effects needs exactly one absorbed factor (found " +
                std::to_string(design.factors.size()) + ")");
  }
  const auto& f = design.factors[0];
  const int64_t n = design.num_obs();
  const int32_t G = f.num_levels;
  // Kept covariates, by name.
  std::vector<int> cols;
  for (const auto& name : fit.covariate_names) {
    int found = -1;
    for (int j = 0; j < design.num_covariates(); ++j) {
      if (design.covariate_names[static_cast<size_t>(j)] == name) found = j;
    }
    CWFX_CHECK(found >= 0, "fit covariate not in the design: " + name);
    cols.push_back(found);
  }
  const auto k = static_cast<Eigen::Index>(cols.size());
  EffectCovariance c;
  c.sigma2 = fit.sigma2;
  c.weight_g = Eigen::VectorXd::Zero(G);
  c.xbar_gk = Eigen::MatrixXd::Zero(G, k);
  c.xbar_k = Eigen::VectorXd::Zero(k);
  const bool weighted = !design.weights_n.empty();
  double total = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double w = weighted ? design.weights_n[static_cast<size_t>(i)] : 1.0;
    const int32_t g = f.codes_n[static_cast<size_t>(i)];
    c.weight_g[g] += w;
    total += w;
    for (Eigen::Index j = 0; j < k; ++j) {
      const double x = design.X_nk(i, cols[static_cast<size_t>(j)]);
      c.xbar_gk(g, j) += w * x;
      c.xbar_k[j] += w * x;
    }
  }
  for (int32_t g = 0; g < G; ++g) {
    if (c.weight_g[g] > 0) c.xbar_gk.row(g) /= c.weight_g[g];
  }
  if (total > 0) c.xbar_k /= total;
  if (use_fit_vcov) {
    c.vbeta_kk = fit.vcov_kk;
    c.vbeta_from_fit = true;
  } else {
    Eigen::MatrixXd xtx = Eigen::MatrixXd::Zero(k, k);
    Eigen::VectorXd xt(k);
    for (int64_t i = 0; i < n; ++i) {
      const double w = weighted ? design.weights_n[static_cast<size_t>(i)] : 1.0;
      const int32_t g = f.codes_n[static_cast<size_t>(i)];
      for (Eigen::Index j = 0; j < k; ++j) xt[j] = design.X_nk(i, cols[static_cast<size_t>(j)]) - c.xbar_gk(g, j);
      xtx.selfadjointView<Eigen::Lower>().rankUpdate(xt, w);
    }
    xtx = xtx.selfadjointView<Eigen::Lower>();
    c.vbeta_kk = k > 0 ? Eigen::MatrixXd(fit.sigma2 * xtx.ldlt().solve(Eigen::MatrixXd::Identity(k, k)))
                       : Eigen::MatrixXd(0, 0);
  }
  return c;
}

}  // namespace cwfx::study
