#include "replicate/estimator.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "absorb/absorber.h"
#include "absorb/identify.h"
#include "core/error.h"
#include "solve/fixed_effect_solver.h"
#include "study/quartiles.h"

namespace cwfx::replicate {
namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
}  // namespace

const std::vector<std::string>& PolicyColumns() {
  static const std::vector<std::string> kColumns = {"actual", "counterfactual", "increase"};
  return kColumns;
}

const std::vector<std::string>& StatisticColumns() {
  static const std::vector<std::string> kColumns = {"variance_of_effects", "sd_of_effects", "fixed_contrast",
                                                    "caseworkers_present", "status"};
  return kColumns;
}

ReplicationDraw FailedDraw(const ReplicationProblem& problem, const std::string& message) {
  ReplicationDraw d;
  const auto G = static_cast<size_t>(problem.num_caseworkers());
  d.coef_k = Eigen::VectorXd::Constant(static_cast<Eigen::Index>(problem.covariate_names.size()), kNaN);
  d.effect_g.assign(G, kNaN);
  d.rank_g.assign(G, 0);
  d.quartile_g.assign(G, 0);
  d.policy[0] = d.policy[1] = d.policy[2] = kNaN;
  d.variance_of_effects = d.sd_of_effects = d.fixed_contrast = kNaN;
  d.status = DrawStatus::kFailed;
  d.message = message;
  return d;
}

Eigen::VectorXd SolveNormalEquations(const Eigen::MatrixXd& a_kk, const Eigen::VectorXd& r_k) {
  const Eigen::Index K = a_kk.rows();
  Eigen::VectorXd b = Eigen::VectorXd::Zero(K);
  if (K == 0) return b;
  const double max_diag = a_kk.diagonal().maxCoeff();
  std::vector<Eigen::Index> keep;
  for (Eigen::Index k = 0; k < K; ++k) {
    if (a_kk(k, k) > 1e-12 * max_diag && a_kk(k, k) > 0) keep.push_back(k);
  }
  const auto m = static_cast<Eigen::Index>(keep.size());
  if (m == 0) return b;
  // Scaled to unit diagonal, so the pivot test below is scale-free.
  Eigen::VectorXd s(m), r(m);
  Eigen::MatrixXd a(m, m);
  for (Eigen::Index i = 0; i < m; ++i) s[i] = 1.0 / std::sqrt(a_kk(keep[i], keep[i]));
  for (Eigen::Index i = 0; i < m; ++i) {
    r[i] = s[i] * r_k[keep[i]];
    for (Eigen::Index j = 0; j < m; ++j) a(i, j) = s[i] * a_kk(keep[i], keep[j]) * s[j];
  }
  Eigen::VectorXd x;
  const Eigen::LDLT<Eigen::MatrixXd> ldlt(a);
  if (ldlt.info() == Eigen::Success && ldlt.vectorD().minCoeff() > 1e-10) {
    x = ldlt.solve(r);
  } else {
    Eigen::CompleteOrthogonalDecomposition<Eigen::MatrixXd> cod(a);
    cod.setThreshold(1e-10);
    x = cod.solve(r);
  }
  for (Eigen::Index i = 0; i < m; ++i) b[keep[i]] = s[i] * x[i];
  return b;
}

ReplicationDraw ReplicaEstimator::Summarise(Eigen::VectorXd coef_k, std::span<const double> psi_g,
                                            std::span<const double> level_weight_g,
                                            double weighted_outcome_mean) const {
  const int32_t G = p_.num_caseworkers();
  std::vector<int32_t> present;
  double wsum = 0, wpsi = 0;
  for (int32_t g = 0; g < G; ++g) {
    const double psi = psi_g[static_cast<size_t>(g)];
    if (!std::isfinite(psi)) continue;
    present.push_back(g);
    wsum += level_weight_g[static_cast<size_t>(g)];
    wpsi += level_weight_g[static_cast<size_t>(g)] * psi;
  }
  const auto P = static_cast<int32_t>(present.size());
  if (P < study::kNumQuartiles) {
    return FailedDraw(p_, "only " + std::to_string(P) + " caseworker(s) present; 4 are needed for quartiles");
  }
  ReplicationDraw d;
  d.coef_k = std::move(coef_k);
  d.caseworkers_present = P;
  const double centre = wpsi / wsum;
  d.effect_g.assign(static_cast<size_t>(G), kNaN);
  for (int32_t g : present) d.effect_g[static_cast<size_t>(g)] = psi_g[static_cast<size_t>(g)] - centre;

  // Ranks and quartiles: the study's rule over the caseworkers present.
  std::sort(present.begin(), present.end(), [&](int32_t a, int32_t b) {
    const double ea = d.effect_g[static_cast<size_t>(a)], eb = d.effect_g[static_cast<size_t>(b)];
    if (ea != eb) return ea > eb;
    return p_.id_order_g[static_cast<size_t>(a)] < p_.id_order_g[static_cast<size_t>(b)];
  });
  const std::vector<int32_t> sizes = study::QuartileSizes(P);
  d.rank_g.assign(static_cast<size_t>(G), 0);
  d.quartile_g.assign(static_cast<size_t>(G), 0);
  int32_t pos = 0;
  double top_sum = 0;
  for (int32_t q = study::kNumQuartiles; q >= 1; --q) {
    for (int32_t k = 0; k < sizes[static_cast<size_t>(q - 1)]; ++k, ++pos) {
      const auto g = static_cast<size_t>(present[static_cast<size_t>(pos)]);
      d.rank_g[g] = pos + 1;
      d.quartile_g[g] = q;
      if (q == study::kNumQuartiles) top_sum += d.effect_g[g];
    }
  }
  const double top_mean = top_sum / sizes.back();
  d.policy[0] = weighted_outcome_mean;
  d.policy[1] = weighted_outcome_mean + top_mean;
  d.policy[2] = top_mean;

  double var = 0, contrast = 0;
  for (int32_t g = 0; g < G; ++g) {
    const double e = d.effect_g[static_cast<size_t>(g)];
    if (std::isfinite(e)) {
      var += level_weight_g[static_cast<size_t>(g)] * e * e;
      contrast += p_.fixed_contrast_g[g] * psi_g[static_cast<size_t>(g)];
    } else if (p_.fixed_contrast_g[g] != 0) {
      contrast = kNaN;  // a caseworker the fixed contrast needs is absent
    }
  }
  d.variance_of_effects = var / wsum;
  d.sd_of_effects = std::sqrt(d.variance_of_effects);
  d.fixed_contrast = contrast;
  return d;
}

ReplicaEstimator::CoreFit ReplicaEstimator::FitCore(std::span<const double> weights_n,
                                                    std::span<const int32_t> caseworker_n, EstimatorWorkspace& ws,
                                                    const parallel::Context& ctx) const {
  CWFX_CHECK(static_cast<int64_t>(weights_n.size()) == p_.num_obs(), "one weight per observation");
  CWFX_CHECK(static_cast<int64_t>(caseworker_n.size()) == p_.num_obs(), "one caseworker per observation");
  return p_.one_factor() ? FitOneFactor(weights_n, caseworker_n, ws) : FitAbsorbed(weights_n, caseworker_n, ctx);
}

ReplicaEstimator::CoreFit ReplicaEstimator::FitOneFactor(std::span<const double> weights_n,
                                                         std::span<const int32_t> caseworker_n,
                                                         EstimatorWorkspace& ws) const {
  const int64_t n = p_.num_obs();
  const int32_t G = p_.num_caseworkers();
  const Eigen::Index K = p_.X_nk.cols();
  ws.level_weight_g.assign(static_cast<size_t>(G), 0.0);
  ws.level_y_g.assign(static_cast<size_t>(G), 0.0);
  ws.level_x_gk.setZero(G, K);
  ws.codes_n.clear();  // rows with weight, in order
  double wy = 0, w_total = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double w = weights_n[static_cast<size_t>(i)];
    if (w == 0) continue;
    const int32_t g = caseworker_n[static_cast<size_t>(i)];
    ws.level_weight_g[static_cast<size_t>(g)] += w;
    ws.level_y_g[static_cast<size_t>(g)] += w * p_.y_n[i];
    wy += w * p_.y_n[i];
    w_total += w;
    ws.codes_n.push_back(static_cast<int32_t>(i));
  }
  const auto m = static_cast<Eigen::Index>(ws.codes_n.size());
  for (Eigen::Index k = 0; k < K; ++k) {
    const double* x = p_.X_nk.col(k).data();
    for (int32_t i : ws.codes_n) {
      ws.level_x_gk(caseworker_n[static_cast<size_t>(i)], k) += weights_n[static_cast<size_t>(i)] * x[i];
    }
  }
  for (int32_t g = 0; g < G; ++g) {
    const double W = ws.level_weight_g[static_cast<size_t>(g)];
    if (W > 0) {
      ws.level_y_g[static_cast<size_t>(g)] /= W;
      ws.level_x_gk.row(g) /= W;
    }
  }
  // sqrt(w)-scaled within-caseworker deviations of the rows with weight.
  ws.xt_nk.resize(m, K);
  ws.yt_n.resize(m);
  for (Eigen::Index k = 0; k < K; ++k) {
    const double* x = p_.X_nk.col(k).data();
    double* out = ws.xt_nk.col(k).data();
    for (Eigen::Index r = 0; r < m; ++r) {
      const int32_t i = ws.codes_n[static_cast<size_t>(r)];
      out[r] = std::sqrt(weights_n[static_cast<size_t>(i)]) * (x[i] - ws.level_x_gk(caseworker_n[static_cast<size_t>(i)], k));
    }
  }
  for (Eigen::Index r = 0; r < m; ++r) {
    const int32_t i = ws.codes_n[static_cast<size_t>(r)];
    ws.yt_n[r] = std::sqrt(weights_n[static_cast<size_t>(i)]) * (p_.y_n[i] - ws.level_y_g[static_cast<size_t>(caseworker_n[static_cast<size_t>(i)])]);
  }
  Eigen::MatrixXd a = Eigen::MatrixXd::Zero(K, K);
  a.selfadjointView<Eigen::Lower>().rankUpdate(ws.xt_nk.transpose());
  a.triangularView<Eigen::StrictlyUpper>() = a.transpose();
  CoreFit f;
  f.coef_k = SolveNormalEquations(a, ws.xt_nk.transpose() * ws.yt_n);
  f.psi_g.assign(static_cast<size_t>(G), kNaN);
  for (int32_t g = 0; g < G; ++g) {
    if (ws.level_weight_g[static_cast<size_t>(g)] > 0) {
      f.psi_g[static_cast<size_t>(g)] = ws.level_y_g[static_cast<size_t>(g)] - ws.level_x_gk.row(g).dot(f.coef_k);
    }
  }
  f.level_weight_g = ws.level_weight_g;
  f.outcome_mean = wy / w_total;
  return f;
}

ReplicaEstimator::CoreFit ReplicaEstimator::FitAbsorbed(std::span<const double> weights_n,
                                                        std::span<const int32_t> caseworker_n,
                                                        const parallel::Context& ctx) const {
  const int64_t n = p_.num_obs();
  const int32_t G = p_.num_caseworkers();
  const Eigen::Index K = p_.X_nk.cols();
  std::vector<int64_t> rows;
  bool unit = true;
  for (int64_t i = 0; i < n; ++i) {
    const double w = weights_n[static_cast<size_t>(i)];
    if (w == 0) continue;
    rows.push_back(i);
    unit = unit && w == 1.0;
  }
  const auto m = static_cast<int64_t>(rows.size());
  // The factors over the rows with weight, levels renumbered densely.
  std::vector<absorb::Factor> factors(p_.factors.size());
  std::vector<std::vector<int32_t>> new_to_old(p_.factors.size());
  for (size_t q = 0; q < p_.factors.size(); ++q) {
    const int32_t levels = p_.factors[q].num_levels;
    std::vector<int32_t> remap(static_cast<size_t>(levels), -1);
    factors[q].name = p_.factors[q].name;
    factors[q].codes_n.resize(static_cast<size_t>(m));
    for (int64_t r = 0; r < m; ++r) {
      const int32_t old = q == 0 ? caseworker_n[static_cast<size_t>(rows[static_cast<size_t>(r)])]
                                 : p_.factors[q].codes_n[static_cast<size_t>(rows[static_cast<size_t>(r)])];
      if (remap[static_cast<size_t>(old)] < 0) {
        remap[static_cast<size_t>(old)] = static_cast<int32_t>(new_to_old[q].size());
        new_to_old[q].push_back(old);
      }
      factors[q].codes_n[static_cast<size_t>(r)] = remap[static_cast<size_t>(old)];
    }
    factors[q].num_levels = static_cast<int32_t>(new_to_old[q].size());
  }
  std::vector<double> w;
  if (!unit) {
    w.resize(static_cast<size_t>(m));
    for (int64_t r = 0; r < m; ++r) w[static_cast<size_t>(r)] = weights_n[static_cast<size_t>(rows[static_cast<size_t>(r)])];
  }
  absorb::AbsorbOptions ao;
  ao.tolerance = p_.study.absorb_tolerance;
  ao.max_iterations = p_.study.absorb_max_iterations;
  const absorb::Absorber absorber(factors, w, ao);
  Eigen::MatrixXd cols(m, K + 1);
  for (int64_t r = 0; r < m; ++r) {
    cols(r, 0) = p_.y_n[rows[static_cast<size_t>(r)]];
    cols.row(r).tail(K) = p_.X_nk.row(rows[static_cast<size_t>(r)]);
  }
  const Eigen::MatrixXd raw = cols;
  const absorb::AbsorbSummary summary = absorber.Absorb(cols, ctx);
  CoreFit f;
  f.converged = summary.AllConverged();
  Eigen::MatrixXd xw = cols.rightCols(K);
  if (!unit) {
    for (int64_t r = 0; r < m; ++r) xw.row(r) *= w[static_cast<size_t>(r)];
  }
  const Eigen::MatrixXd a = xw.transpose() * cols.rightCols(K);
  f.coef_k = SolveNormalEquations(a, xw.transpose() * cols.col(0));
  // The fixed-effect part: y - X beta - residual.
  const Eigen::VectorXd residual = cols.col(0) - cols.rightCols(K) * f.coef_k;
  const Eigen::VectorXd fe = raw.col(0) - raw.rightCols(K) * f.coef_k - residual;
  absorb::Absorber::Recovered rec = absorber.RecoverEffects(std::span<const double>(fe.data(), static_cast<size_t>(m)), ctx);
  f.converged = f.converged && rec.convergence.converged;
  absorb::NormaliseEffects(rec.effects_q, factors, absorb::FindComponents(factors));
  f.psi_g.assign(static_cast<size_t>(G), kNaN);
  f.level_weight_g.assign(static_cast<size_t>(G), 0.0);
  for (size_t j = 0; j < new_to_old[0].size(); ++j) {
    f.psi_g[static_cast<size_t>(new_to_old[0][j])] = rec.effects_q[0][static_cast<Eigen::Index>(j)];
  }
  double wy = 0, w_total = 0;
  for (int64_t r = 0; r < m; ++r) {
    const double wr = unit ? 1.0 : w[static_cast<size_t>(r)];
    f.level_weight_g[static_cast<size_t>(caseworker_n[static_cast<size_t>(rows[static_cast<size_t>(r)])])] += wr;
    wy += wr * raw(r, 0);
    w_total += wr;
  }
  f.outcome_mean = wy / w_total;
  return f;
}

ReplicationDraw ReplicaEstimator::EstimateWeighted(std::span<const double> weights_n, EstimatorWorkspace& ws,
                                                   const parallel::Context& ctx) const {
  CoreFit f = FitCore(weights_n, p_.factors[0].codes_n, ws, ctx);
  ReplicationDraw d = Summarise(std::move(f.coef_k), f.psi_g, f.level_weight_g, f.outcome_mean);
  if (!f.converged && d.status == DrawStatus::kOk) d.status = DrawStatus::kNotConverged;
  return d;
}

ReplicationDraw ReplicaEstimator::EstimatePermuted(std::span<const int32_t> caseworker_n, EstimatorWorkspace& ws,
                                                   const parallel::Context& ctx) const {
  ws.weights_n.assign(static_cast<size_t>(p_.num_obs()), 1.0);
  CoreFit f = FitCore(ws.weights_n, caseworker_n, ws, ctx);
  ReplicationDraw d = Summarise(std::move(f.coef_k), f.psi_g, f.level_weight_g, f.outcome_mean);
  if (!f.converged && d.status == DrawStatus::kOk) d.status = DrawStatus::kNotConverged;
  return d;
}

ReplicationDraw ReplicaEstimator::EstimateWild(std::span<const double> v_c, EstimatorWorkspace& ws,
                                               const parallel::Context& ctx) const {
  const int64_t n = p_.num_obs();
  const int32_t G = p_.num_caseworkers();
  CWFX_CHECK(static_cast<int32_t>(v_c.size()) == p_.num_citizens, "one wild weight per citizen");
  const Eigen::Map<const Eigen::VectorXd> v(v_c.data(), p_.num_citizens);
  // beta* - beta = (Xt'Xt)^-1 Xt' e*, and Xt' e* = S v.
  const Eigen::VectorXd dbeta = p_.xtx_ldlt.solve(p_.cluster_scores_kc * v);
  Eigen::VectorXd z(n);
  double e_sum = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double e = v_c[static_cast<size_t>(p_.citizen_n[static_cast<size_t>(i)])] * p_.scaled_residual_n[i];
    e_sum += e;
    z[i] = e;
  }
  z.noalias() -= p_.X_nk * dbeta;
  // The effects move by the fixed-effect projection of z.
  Eigen::VectorXd dpsi;
  bool converged = true;
  if (p_.one_factor()) {
    const std::vector<int32_t>& cw = p_.factors[0].codes_n;
    dpsi = Eigen::VectorXd::Zero(G);
    Eigen::VectorXd count = Eigen::VectorXd::Zero(G);
    for (int64_t i = 0; i < n; ++i) {
      dpsi[cw[static_cast<size_t>(i)]] += z[i];
      count[cw[static_cast<size_t>(i)]] += 1.0;
    }
    dpsi = dpsi.cwiseQuotient(count);
  } else {
    std::vector<Eigen::VectorXd> eff;
    const std::span<const double> zs(z.data(), static_cast<size_t>(n));
    if (p_.fe_solver) {
      eff = p_.fe_solver->Recover(zs);
    } else {
      absorb::Absorber::Recovered rec = p_.absorber->RecoverEffects(zs, ctx);
      converged = rec.convergence.converged;
      eff = std::move(rec.effects_q);
    }
    absorb::NormaliseEffects(eff, p_.factors, *p_.components);
    dpsi = eff[0];
  }
  ws.level_weight_g.assign(static_cast<size_t>(G), 0.0);
  for (int32_t g : p_.factors[0].codes_n) ws.level_weight_g[static_cast<size_t>(g)] += 1.0;
  const Eigen::VectorXd psi = p_.psi_hat_g + dpsi;
  ReplicationDraw d = Summarise(p_.beta_k + dbeta, std::span<const double>(psi.data(), static_cast<size_t>(G)),
                                ws.level_weight_g, p_.y_n.mean() + e_sum / static_cast<double>(n));
  if (!converged && d.status == DrawStatus::kOk) d.status = DrawStatus::kNotConverged;
  return d;
}

}  // namespace cwfx::replicate
