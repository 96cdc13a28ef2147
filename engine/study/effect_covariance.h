// The joint covariance of the coefficients and the caseworker effects of a
// one-factor fit, in factored form, for delta-method standard errors of any
// linear function of them (the policy experiment, quartile mean effects).
//
// CONVENTION: suffix _n observations, _g caseworkers, _k kept covariates.
//
// ------------------------------------------------------------------ maths
// With one absorbed factor the recovered effect of caseworker j is
//   psi_j = ybar_j - xbar_j' beta     (weighted means over j's observations),
// and, conditional on X and the caseworker assignment, with homoskedastic
// errors of variance s2 (Fit's sigma2):
//   Cov(psi_j, psi_k)  = s2 / w_j 1{j=k} + xbar_j' V_beta xbar_k,
//   Cov(beta, psi_j)   = -V_beta xbar_j,
// because beta depends on the errors only through the within-caseworker
// demeaned X~, and sum_{i in j} w_i x~_i = 0 makes it uncorrelated with the
// caseworker means of the errors. Hence for theta = (beta, psi) and any
// coefficient vectors c = (c_beta, c_psi), d = (d_beta, d_psi):
//   Cov(c'theta, d'theta) = b_c' V_beta b_d + s2 sum_j c_psi_j d_psi_j / w_j,
//   b_c = c_beta - Xbar' c_psi,
// which never forms the G x G matrix. V_beta is s2 (X~' W X~)^-1 (the iid
// variance, which makes sqrt(Var(psi_j)) equal Fit's std_error_g), or, when
// asked, Fit's own vcov_kk (e.g. cluster-robust) in the same formula.
#pragma once

#include <Eigen/Dense>

#include "fit/design.h"
#include "fit/fit.h"

namespace cwfx::study {

struct EffectCovariance {
  double sigma2 = 0;          // s2
  Eigen::VectorXd weight_g;   // w_j: sum of weights (observations) of caseworker j
  Eigen::MatrixXd xbar_gk;    // weighted mean of each kept covariate per caseworker
  Eigen::VectorXd xbar_k;     // weighted mean of each kept covariate overall
  Eigen::MatrixXd vbeta_kk;   // V_beta used
  bool vbeta_from_fit = false;

  // Cov(c'theta, d'theta); c_beta / d_beta may be empty (= zero).
  double Covariance(const Eigen::VectorXd& c_beta, const Eigen::VectorXd& c_psi_g,
                    const Eigen::VectorXd& d_beta, const Eigen::VectorXd& d_psi_g) const;
  double Variance(const Eigen::VectorXd& c_beta, const Eigen::VectorXd& c_psi_g) const {
    return Covariance(c_beta, c_psi_g, c_beta, c_psi_g);
  }
};

// Needs a design with exactly one factor and the fit of it (kept covariates
// are matched by name). use_fit_vcov selects Fit's vcov_kk as V_beta.
// Throws cwfx::Error when the design has not exactly one factor.
EffectCovariance BuildEffectCovariance(const fit::Design& design, const fit::FitResult& fit,
                                       bool use_fit_vcov = false);

}  // namespace cwfx::study
