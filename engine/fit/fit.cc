// Regression with absorbed fixed effects (see fit.h for every formula and
// convention). Flow: absorb [y X] once -> sequential pivoted Cholesky on the
// absorbed normal equations (collinearity) -> beta, residuals -> vcov -> R2
// (and the refit without one factor) -> fixed-effect recovery (CHOLMOD and/or
// sweeps), normalisation, standard errors of the first factor.
#include "fit/fit.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <optional>
#include <sstream>

#include "core/error.h"
#include "fit/effect_std_errors.h"
#include "solve/fixed_effect_solver.h"

namespace cwfx::fit {
namespace {

using Clock = std::chrono::steady_clock;
double Seconds(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// ------------------------------------------------ the absorbed regression
struct CoreFit {
  std::vector<int> kept;        // indices of kept covariates
  std::vector<int> dropped;
  Eigen::VectorXd beta;
  Eigen::MatrixXd h;            // (X~'WX~)^-1, kept x kept
  // The absorbed y~ and X~, absorbed in place (X~'s columns 0..kept the kept
  // covariates, dropped ones compacted away, the rest unused): the fit's
  // only copy of the data, or the design's own when the fit consumes it.
  Eigen::VectorXd yt;
  Eigen::MatrixXd xt;
  Eigen::VectorXd e;            // residuals
  double rss = 0;
  absorb::AbsorbSummary summary;
  bool direct = false;

  const Eigen::VectorXd& Yt() const { return yt; }
  auto Xt() const { return xt.leftCols(static_cast<Eigen::Index>(kept.size())); }
  void Release() {
    yt.resize(0);
    xt.resize(0, 0);
  }
};

std::vector<solve::FactorCodes> Views(const std::vector<absorb::Factor>& factors) {
  std::vector<solve::FactorCodes> v;
  for (const auto& f : factors) v.push_back({f.codes_n, f.num_levels});
  return v;
}

double WeightedCentredSS(const Eigen::Ref<const Eigen::VectorXd>& x, const std::vector<double>& w) {
  if (w.empty()) return (x.array() - x.mean()).square().sum();
  const Eigen::Map<const Eigen::VectorXd> wv(w.data(), static_cast<Eigen::Index>(w.size()));
  const double mean = wv.dot(x) / wv.sum();
  return (wv.array() * (x.array() - mean).square()).sum();
}

solve::BackendRequest Request(AbsorbMethod m) {
  switch (m) {
    case AbsorbMethod::kDirect: return solve::BackendRequest::kDirect;
    case AbsorbMethod::kIterative: return solve::BackendRequest::kIterative;
    case AbsorbMethod::kAuto: break;
  }
  return solve::BackendRequest::kAuto;
}

EffectStdErrorOptions StdErrorOptions(const FitOptions& o) {
  EffectStdErrorOptions e;
  e.normalisation = o.normalisation;
  e.projections = o.fe_std_error_projections;
  e.seed = o.fe_std_error_seed;
  e.max_levels_for_selected_inversion = o.max_levels_for_std_errors;
  return e;
}

// A' diag(s) A for a tall n x k block A (s empty: A'A), summed over fixed
// row chunks so that no n x k temporary is made.
Eigen::MatrixXd WeightedGram(const Eigen::Ref<const Eigen::MatrixXd>& a, const double* s) {
  const Eigen::Index n = a.rows(), k = a.cols();
  Eigen::MatrixXd g = Eigen::MatrixXd::Zero(k, k);
  constexpr Eigen::Index kChunk = 4096;
  Eigen::MatrixXd scaled(std::min(n, kChunk), k);
  for (Eigen::Index lo = 0; lo < n; lo += kChunk) {
    const Eigen::Index m = std::min(kChunk, n - lo);
    const auto block = a.middleRows(lo, m);
    if (s == nullptr) {
      g.selfadjointView<Eigen::Lower>().rankUpdate(block.transpose());
    } else {
      const Eigen::Map<const Eigen::VectorXd> sv(s + lo, m);
      scaled.topRows(m) = sv.asDiagonal() * block;
      g.noalias() += scaled.topRows(m).transpose() * block;
    }
  }
  if (s == nullptr) g.triangularView<Eigen::StrictlyUpper>() = g.transpose();
  return g;
}

// y and X (taken by value: a copy, or the design's own moved in) absorbed in
// place by `absorber` (its backend already prepared); effects_lk (optional)
// receives every column's effect coefficients, y's first.
CoreFit AbsorbAndSolve(const absorb::Absorber& absorber, const std::vector<double>& w, Eigen::VectorXd y,
                       Eigen::MatrixXd x, const FitOptions& opt, const parallel::Context& ctx,
                       Eigen::MatrixXd* effects_lk = nullptr) {
  const int64_t n = y.size();
  const int k = static_cast<int>(x.cols());
  CoreFit cf;
  std::vector<double> ss_raw(static_cast<size_t>(k));
  for (int j = 0; j < k; ++j) ss_raw[static_cast<size_t>(j)] = WeightedCentredSS(x.col(j), w);
  cf.yt = std::move(y);
  cf.xt = std::move(x);
  std::vector<double*> columns{cf.yt.data()};
  for (int j = 0; j < k; ++j) columns.push_back(cf.xt.col(j).data());
  cf.direct = absorber.has_preconditioner();
  cf.summary = absorber.Absorb(std::span<double* const>(columns), ctx, effects_lk);
  const double* wp = w.empty() ? nullptr : w.data();
  // a = X~'WX~, b = X~'Wy~.
  const Eigen::MatrixXd a = k > 0 ? WeightedGram(cf.xt, wp) : Eigen::MatrixXd(0, 0);
  Eigen::VectorXd b(k);
  if (k == 0) {
    // no covariates: nothing to project (Eigen's product on an empty matrix
    // binds a reference to its null data)
  } else if (wp == nullptr) {
    b.noalias() = cf.xt.transpose() * cf.yt;
  } else {
    const Eigen::VectorXd wy = Eigen::Map<const Eigen::VectorXd>(wp, n).cwiseProduct(cf.yt);
    b.noalias() = cf.xt.transpose() * wy;
  }
  // Sequential pivoted Cholesky in the given order.
  Eigen::MatrixXd lk(k, k);
  lk.setZero();
  for (int j = 0; j < k; ++j) {
    const int m = static_cast<int>(cf.kept.size());
    Eigen::VectorXd col(m);
    for (int i = 0; i < m; ++i) col[i] = a(cf.kept[i], j);
    Eigen::VectorXd l = m > 0 ? Eigen::VectorXd(lk.topLeftCorner(m, m).triangularView<Eigen::Lower>().solve(col))
                              : Eigen::VectorXd();
    const double d = a(j, j) - (m > 0 ? l.squaredNorm() : 0.0);
    const double ss = ss_raw[static_cast<size_t>(j)];
    if (ss > 0 && d > opt.collinearity_tolerance * ss) {
      if (m > 0) lk.row(m).head(m) = l.transpose();
      lk(m, m) = std::sqrt(d);
      cf.kept.push_back(j);
    } else {
      cf.dropped.push_back(j);
    }
  }
  const int kk = static_cast<int>(cf.kept.size());
  Eigen::VectorXd bk(kk);
  for (int i = 0; i < kk; ++i) {
    // kept[i] >= i: moving left in increasing order never overwrites a kept column.
    if (cf.kept[i] != i) cf.xt.col(i) = cf.xt.col(cf.kept[i]);
    bk[i] = b[cf.kept[i]];
  }
  const auto lt = lk.topLeftCorner(kk, kk).triangularView<Eigen::Lower>();
  Eigen::MatrixXd linv = lt.solve(Eigen::MatrixXd::Identity(kk, kk));
  cf.h = linv.transpose() * linv;
  cf.beta = cf.h * bk;
  cf.e = cf.Yt();
  cf.e.noalias() -= cf.Xt() * cf.beta;
  cf.rss = w.empty() ? cf.e.squaredNorm() : (Eigen::Map<const Eigen::VectorXd>(wp, n).array() * cf.e.array().square()).sum();
  return cf;
}

bool NestedIn(const absorb::Factor& f, const std::vector<int32_t>& cluster_n) {
  std::vector<int32_t> cl(static_cast<size_t>(f.num_levels), -1);
  for (size_t i = 0; i < cluster_n.size(); ++i) {
    int32_t& c = cl[f.codes_n[i]];
    if (c < 0) c = cluster_n[i];
    else if (c != cluster_n[i]) return false;
  }
  return true;
}

std::string Fmt(double v, int prec = 4) {
  std::ostringstream os;
  os.setf(std::ios::fixed);
  os.precision(prec);
  os << v;
  return os.str();
}

}  // namespace

const char* VcovName(VcovType v) {
  switch (v) {
    case VcovType::kIid: return "iid";
    case VcovType::kHC1: return "HC1";
    case VcovType::kCluster: return "cluster";
  }
  return "?";
}

void FitOptions::Validate() const {
  if (!(collinearity_tolerance > 0 && collinearity_tolerance < 1))
    throw Error("fit options: collinearity_tolerance must be in (0, 1)");
  if (!(absorb.tolerance > 0)) throw Error("fit options: absorb tolerance must be positive");
  if (absorb.max_iterations < 1) throw Error("fit options: absorb max_iterations must be >= 1");
  if (max_levels_for_std_errors < 0) throw Error("fit options: max_levels_for_std_errors must be >= 0");
}

namespace {

// `owned` is the design itself when the caller gave it up: its outcome and
// covariates are then absorbed in place (no n x (k+1) copy) unless a step
// after the absorption needs them raw (the refit without a factor, effects
// recovered by CHOLMOD or sweeps).
FitResult FitImpl(const Design& design, Design* owned, const FitOptions& options, const parallel::Context& ctx) {
  const auto t_start = Clock::now();
  options.Validate();
  FitResult r;
  const int64_t n = design.num_obs();
  const int k_in = design.num_covariates();
  const std::vector<double>& w = design.weights_n;
  const Eigen::Map<const Eigen::VectorXd> wv(w.data(), static_cast<Eigen::Index>(w.size()));
  if (n == 0) throw Error("fit: the design has no observations");
  if (options.vcov == VcovType::kCluster) {
    if (design.cluster_n.empty()) throw Error("fit: cluster-robust variance requested but the design has no cluster variable");
    if (design.num_clusters < 2)
      throw Error(Location{design.source, -1, design.cluster_name}, "cluster-robust variance needs at least 2 clusters");
  }
  const int num_q = static_cast<int>(design.factors.size());
  // Components as stated in the design; recomputed if the caller left them empty.
  const absorb::Components comps_local =
      num_q > 0 && design.components.of_level_q.size() != static_cast<size_t>(num_q)
          ? absorb::FindComponents(design.factors)
          : absorb::Components{};
  const absorb::Components& comps = comps_local.of_level_q.empty() ? design.components : comps_local;
  if (!options.r2_without_factor.empty()) {
    bool found = false;
    for (const auto& f : design.factors) found = found || f.name == options.r2_without_factor;
    if (!found) throw Error("fit: r2_without_factor '" + options.r2_without_factor + "' is not an absorbed factor");
  }

  // Factors actually absorbed (an intercept when there is none).
  std::vector<absorb::Factor> intercept;
  if (num_q == 0) intercept.push_back(absorb::Factor{"(intercept)", std::vector<int32_t>(static_cast<size_t>(n), 0), 1});
  const std::vector<absorb::Factor>& factors = num_q == 0 ? intercept : design.factors;

  r.outcome_name = design.outcome_name;
  r.n = n;
  r.vcov_type = options.vcov;
  r.cluster_name = design.cluster_name;
  r.num_clusters = design.num_clusters;
  r.design_report = design.report;
  r.num_components = comps.count;
  r.sum_weights = w.empty() ? static_cast<double>(n) : wv.sum();
  for (const auto& f : design.factors) {
    r.factor_names.push_back(f.name);
    r.factor_levels_q.push_back(f.num_levels);
  }

  // ---- the backend (one factor / direct / iterative: solve::PrepareBackend)
  auto t0 = Clock::now();
  absorb::Absorber absorber(factors, w, options.absorb, ctx);
  solve::BackendOptions backend_options = options.backend;
  backend_options.request = Request(options.absorb_method);
  if (num_q == 2 && options.recover_fixed_effects && options.fixed_effect_std_errors) {
    // The effects' standard errors are part of the bill: solves after the
    // absorption, or the selected inversion that a factor on the first factor
    // allows instead.
    const EffectStdErrorOptions se = StdErrorOptions(options);
    const solve::SchurFactorAnalysis unknown_cost;
    const EffectStdErrorRoute route = ChooseEffectStdErrorRoute(design, absorber, &unknown_cost, se);
    backend_options.selected_inversion = route == EffectStdErrorRoute::kSelectedInversion;
    backend_options.max_selected_inversion_flops = se.max_selected_inversion_flops;
    backend_options.state_solves_after =
        route == EffectStdErrorRoute::kSolves ? design.factors[0].num_levels : std::max(1, se.projections);
  }
  const solve::Backend backend = solve::PrepareBackend(absorber, k_in + 1, backend_options, ctx);
  r.backend = solve::BackendName(backend.kind);
  r.seconds_backend = backend.seconds;
  r.backend_reason = backend.reason;
  if (num_q == 0) r.backend_reason = "no fixed effect: the intercept is absorbed";

  // The FixedEffectSolver only for the recovery that asks for it.
  std::optional<solve::FixedEffectSolver> solver;
  const bool need_solver = num_q >= 1 && num_q <= 2 && options.recover_fixed_effects &&
                           (options.recovery == FeRecovery::kCholmod || options.compare_recoveries);
  int32_t reduced_side = 0;
  if (num_q == 2) reduced_side = std::min(design.factors[0].num_levels, design.factors[1].num_levels);
  if (need_solver && reduced_side > options.max_direct_levels) {
    r.warnings.push_back("note: the direct solver was not built (" + std::to_string(reduced_side) +
                         " levels on the reduced side exceed max_direct_levels = " +
                         std::to_string(options.max_direct_levels) + "); effects recovered from the absorption");
  } else if (need_solver) {
    const auto views = Views(design.factors);
    solver.emplace(views, std::span<const double>(w));
    r.solver_report = solver->summary().BriefReport();
    if (!solver->ok()) r.warnings.push_back("direct solver unavailable (" + solver->summary().message + "); using sweeps");
  }

  // ---- absorb + solve (one Absorber serves absorption, effects and sweep recovery)
  Eigen::MatrixXd effects_lk;
  const bool want_effects = options.recover_fixed_effects && num_q >= 1;
  // Before the outcome may be absorbed in place: its total sum of squares.
  if (w.empty()) {
    r.tss = (design.y_n.array() - design.y_n.mean()).square().sum();
  } else {
    const double ybar = wv.dot(design.y_n) / wv.sum();
    r.tss = (wv.array() * (design.y_n.array() - ybar).square()).sum();
  }
  const bool in_place = owned != nullptr && options.r2_without_factor.empty() &&
                        !(options.recover_fixed_effects && num_q >= 1 &&
                          (options.recovery != FeRecovery::kAbsorption || options.compare_recoveries));
  CoreFit cf = in_place ? AbsorbAndSolve(absorber, w, std::move(owned->y_n), std::move(owned->X_nk), options, ctx,
                                         want_effects ? &effects_lk : nullptr)
                        : AbsorbAndSolve(absorber, w, design.y_n, design.X_nk, options, ctx,
                                         want_effects ? &effects_lk : nullptr);
  r.seconds_absorb = Seconds(t0);
  r.absorb_method = r.backend;
  r.absorb_summary = cf.summary;
  {
    std::vector<std::string> names{design.outcome_name};
    names.insert(names.end(), design.covariate_names.begin(), design.covariate_names.end());
    if (!cf.summary.AllConverged()) {
      std::istringstream lines(cf.summary.BriefReport(names));
      for (std::string line; std::getline(lines, line);)
        if (!line.empty()) r.warnings.push_back(line);
    }
  }
  for (int j : cf.dropped) r.dropped_collinear.push_back(design.covariate_names[j]);
  if (k_in > 0 && cf.kept.empty())
    throw Error("fit: all covariates are collinear with the fixed effects (or constant): " + [&] {
      std::string s;
      for (size_t i = 0; i < r.dropped_collinear.size(); ++i) s += (i ? ", " : "") + r.dropped_collinear[i];
      return s;
    }());
  if (!r.dropped_collinear.empty()) {
    std::string s;
    for (size_t i = 0; i < r.dropped_collinear.size(); ++i) s += (i ? ", " : "") + r.dropped_collinear[i];
    r.warnings.push_back("dropped collinear covariate(s): " + s);
  }
  const int kk = static_cast<int>(cf.kept.size());
  for (int j : cf.kept) r.covariate_names.push_back(design.covariate_names[j]);
  r.coef_k = cf.beta;

  // ---- degrees of freedom
  if (num_q == 0) {
    r.absorbed_dof = 1;
    r.absorbed_dof_rule = "intercept only";
  } else {
    const absorb::DofReport dof = absorb::AbsorbedDof(design.factors, comps);
    r.absorbed_dof = dof.absorbed;
    r.absorbed_dof_exact = dof.exact;
    r.absorbed_dof_rule = dof.rule;
    if (!dof.exact) r.warnings.push_back("absorbed degrees of freedom are an upper bound (3+ factors): " + dof.rule);
  }
  r.dof_k = kk + r.absorbed_dof;
  r.residual_dof = n - r.dof_k;
  if (r.residual_dof <= 0)
    throw Error("fit: no residual degrees of freedom (n = " + std::to_string(n) + ", parameters K = " +
                std::to_string(r.dof_k) + ")");
  r.rss = cf.rss;
  r.sigma2 = cf.rss / static_cast<double>(r.residual_dof);

  // ---- vcov
  const double nd = static_cast<double>(n);
  if (kk > 0) {
    if (options.vcov == VcovType::kIid) {
      r.vcov_kk = r.sigma2 * cf.h;
      r.t_dof = static_cast<double>(r.residual_dof);
    } else if (options.vcov == VcovType::kHC1) {
      Eigen::VectorXd s2 = cf.e.array().square();
      if (!w.empty()) s2.array() *= wv.array().square();
      const Eigen::MatrixXd meat = WeightedGram(cf.Xt(), s2.data());
      r.vcov_kk = nd / static_cast<double>(r.residual_dof) * (cf.h * meat * cf.h);
      r.t_dof = static_cast<double>(r.residual_dof);
    } else {
      const int32_t g = design.num_clusters;
      Eigen::MatrixXd scores = Eigen::MatrixXd::Zero(g, kk);
      const auto xt = cf.Xt();
      for (int64_t i = 0; i < n; ++i) {
        const double s = cf.e[i] * (w.empty() ? 1.0 : w[i]);
        scores.row(design.cluster_n[i]) += s * xt.row(i);
      }
      const Eigen::MatrixXd meat = scores.transpose() * scores;
      int64_t nested_levels = 0;
      for (const auto& f : design.factors)
        if (NestedIn(f, design.cluster_n)) nested_levels += f.num_levels - 1;
      r.dof_cluster_k = std::max<int64_t>(kk + 1, r.dof_k - nested_levels);
      const double adj = static_cast<double>(g) / (g - 1.0) * (nd - 1) / (nd - static_cast<double>(r.dof_cluster_k));
      r.vcov_kk = adj * (cf.h * meat * cf.h);
      r.t_dof = g - 1.0;
    }
    r.std_error_k = r.vcov_kk.diagonal().cwiseMax(0.0).cwiseSqrt();
    r.t_k = r.coef_k.cwiseQuotient(r.std_error_k);
    r.p_k.resize(kk);
    for (int j = 0; j < kk; ++j) r.p_k[j] = StudentTwoSidedP(r.t_k[j], r.t_dof);
  }

  // ---- R2
  {
    if (w.empty()) {
      r.tss_within = cf.Yt().squaredNorm();
    } else {
      r.tss_within = (wv.array() * cf.Yt().array().square()).sum();
    }
    r.r2 = r.tss > 0 ? 1 - r.rss / r.tss : std::numeric_limits<double>::quiet_NaN();
    r.adj_r2 = r.tss > 0 ? 1 - (r.rss / static_cast<double>(r.residual_dof)) / (r.tss / (nd - 1))
                         : std::numeric_limits<double>::quiet_NaN();
    r.within_r2 = r.tss_within > 0 ? 1 - r.rss / r.tss_within : std::numeric_limits<double>::quiet_NaN();
  }
  cf.Release();  // the absorbed columns are done with: free them before the refit and the SEs
  if (!options.r2_without_factor.empty()) {
    r.r2_without_factor = options.r2_without_factor;
    std::vector<absorb::Factor> rest;
    for (const auto& f : design.factors)
      if (f.name != options.r2_without_factor) rest.push_back(f);
    if (rest.empty()) rest.push_back(absorb::Factor{"(intercept)", std::vector<int32_t>(static_cast<size_t>(n), 0), 1});
    absorb::Absorber rest_absorber(rest, w, options.absorb, ctx);
    solve::PrepareBackend(rest_absorber, k_in + 1, backend_options, ctx);
    CoreFit rf = AbsorbAndSolve(rest_absorber, w, design.y_n, design.X_nk, options, ctx);
    if (!rf.summary.AllConverged())
      r.warnings.push_back("refit without '" + options.r2_without_factor + "': absorption did not converge");
    r.r2_without = r.tss > 0 ? 1 - rf.rss / r.tss : std::numeric_limits<double>::quiet_NaN();
  }

  // ---- fixed effects
  if (options.recover_fixed_effects && num_q >= 1) {
    t0 = Clock::now();
    // By linearity, from the absorption's coefficients: y's minus beta times each kept covariate's.
    std::vector<Eigen::VectorXd> eff_absorption, eff_cholmod, eff_sweeps;
    {
      Eigen::VectorXd combo = effects_lk.col(0);
      for (int i = 0; i < kk; ++i) combo -= cf.beta[i] * effects_lk.col(1 + cf.kept[i]);
      for (int q = 0; q < num_q; ++q)
        eff_absorption.push_back(combo.segment(absorber.level_offset(q), design.factors[q].num_levels));
      absorb::NormaliseEffects(eff_absorption, design.factors, comps, options.normalisation);
    }
    const bool can_cholmod = solver && solver->ok();
    const bool want_cholmod = can_cholmod && (options.recovery == FeRecovery::kCholmod || options.compare_recoveries);
    const bool want_sweeps = options.recovery == FeRecovery::kSweeps || options.compare_recoveries ||
                             (options.recovery == FeRecovery::kCholmod && !can_cholmod);
    if (want_cholmod || want_sweeps) {
      Eigen::MatrixXd xk(n, kk);
      for (int i = 0; i < kk; ++i) xk.col(i) = design.X_nk.col(cf.kept[i]);
      const Eigen::VectorXd fe_n = design.y_n - xk * cf.beta - cf.e;
      const std::span<const double> fe_span(fe_n.data(), static_cast<size_t>(n));
      if (want_cholmod) {
        eff_cholmod = solver->Recover(fe_span);
        absorb::NormaliseEffects(eff_cholmod, design.factors, comps, options.normalisation);
      }
      if (want_sweeps) {
        const absorb::Absorber sweeper(design.factors, w, options.absorb, ctx);
        absorb::Absorber::Recovered rec = sweeper.RecoverEffects(fe_span, ctx);
        r.sweep_recovery = rec.convergence;
        if (!rec.convergence.converged)
          r.warnings.push_back("fixed-effect recovery by sweeps did not converge after " +
                               std::to_string(rec.convergence.iterations) + " iterations (criterion " +
                               Fmt(rec.convergence.criterion, 10) + ")");
        eff_sweeps = std::move(rec.effects_q);
        absorb::NormaliseEffects(eff_sweeps, design.factors, comps, options.normalisation);
      }
    }
    if (options.recovery == FeRecovery::kCholmod && !can_cholmod && num_q > 2)
      r.warnings.push_back("CHOLMOD recovery needs 1 or 2 factors; effects recovered by sweeps");
    const std::vector<Eigen::VectorXd>* used = &eff_absorption;
    r.fe_recovery = "absorption";
    if (options.recovery == FeRecovery::kCholmod && !eff_cholmod.empty()) {
      used = &eff_cholmod;
      r.fe_recovery = "cholmod";
    } else if (options.recovery != FeRecovery::kAbsorption && !eff_sweeps.empty()) {
      used = &eff_sweeps;
      r.fe_recovery = "sweeps";
    }
    if (options.compare_recoveries) {
      r.recovery_max_abs_diff = 0;
      for (const auto* other : {&eff_absorption, &eff_cholmod, &eff_sweeps}) {
        if (other == used || other->empty()) continue;
        for (int q = 0; q < num_q; ++q)
          r.recovery_max_abs_diff =
              std::max(r.recovery_max_abs_diff, ((*used)[q] - (*other)[q]).cwiseAbs().maxCoeff());
      }
    }
    const std::vector<Eigen::VectorXd>& eff = *used;
    switch (options.normalisation) {
      case absorb::Normalisation::kNone: r.fe_normalisation = "none (as recovered)"; break;
      case absorb::Normalisation::kFirstFactorMeanZero:
        r.fe_normalisation = num_q == 1 ? "none needed (one factor: effects include the intercept)"
                                        : "first factor mean zero over the observations of each connected component; "
                                          "second factor carries the component's level";
        break;
      case absorb::Normalisation::kFirstFactorReference:
        r.fe_normalisation = num_q == 1 ? "none needed (one factor: effects include the intercept)"
                                        : "first factor's smallest code in each component is the reference (0)";
        break;
    }
    for (int q = 0; q < num_q; ++q) {
      FixedEffectEstimates fe;
      fe.name = design.factors[q].name;
      fe.labels = q < static_cast<int>(design.level_labels_q.size()) ? design.level_labels_q[q]
                                                                       : std::vector<std::string>{};
      fe.effect_g = eff[q];
      fe.n_obs_g.assign(static_cast<size_t>(design.factors[q].num_levels), 0);
      for (int32_t c : design.factors[q].codes_n) ++fe.n_obs_g[c];
      fe.component_g = comps.of_level_q[q];
      r.fixed_effects.push_back(std::move(fe));
    }
    r.seconds_recover = Seconds(t0);

    // ---- standard errors of the first factor's effects
    if (options.fixed_effect_std_errors) {
      t0 = Clock::now();
      Eigen::MatrixXd gm = Eigen::MatrixXd::Zero(design.factors[0].num_levels, kk);
      for (int i = 0; i < kk; ++i)
        gm.col(i) = effects_lk.col(1 + cf.kept[i]).segment(absorber.level_offset(0), design.factors[0].num_levels);
      EffectStdErrors se = FirstFactorStdErrors(design, comps, r.fixed_effects[0].n_obs_g, r.sigma2, r.sigma2 * cf.h,
                                                gm, absorber, backend, StdErrorOptions(options), ctx);
      r.fe_std_error_method = se.method;
      if (se.se_g.size() > 0) r.fixed_effects[0].std_error_g = std::move(se.se_g);
      r.warnings.insert(r.warnings.end(), se.warnings.begin(), se.warnings.end());
      r.seconds_std_errors = Seconds(t0);
    }
  }
  if (options.keep_residuals) r.residual_n = std::move(cf.e);
  r.seconds_total = Seconds(t_start);
  return r;
}

}  // namespace

FitResult Fit(const Design& design, const FitOptions& options, const parallel::Context& ctx) {
  return FitImpl(design, nullptr, options, ctx);
}

FitResult Fit(Design&& design, const FitOptions& options, const parallel::Context& ctx) {
  return FitImpl(design, &design, options, ctx);
}

std::string FormatRegressionTable(const FitResult& r) {
  std::ostringstream os;
  const auto rule = std::string(72, '-');
  os << "Dependent variable: " << r.outcome_name << "\n";
  os << "Observations: " << r.n;
  if (r.design_report.singletons_dropped > 0) os << " (" << r.design_report.singletons_dropped << " singletons dropped)";
  if (r.design_report.rows_dropped_component > 0)
    os << " (" << r.design_report.rows_dropped_component << " rows outside the largest component dropped)";
  os << "\n";
  os << "Standard errors: " << VcovName(r.vcov_type);
  if (r.vcov_type == VcovType::kCluster) os << " by " << r.cluster_name << " (" << r.num_clusters << " clusters)";
  os << "\n" << rule << "\n";
  char line[256];
  std::snprintf(line, sizeof line, "%-24s %12s %12s %9s %9s\n", "", "Estimate", "Std. Error", "t value", "Pr(>|t|)");
  os << line;
  for (Eigen::Index j = 0; j < r.coef_k.size(); ++j) {
    const double p = r.p_k[j];
    const char* stars = p < 0.001 ? "***" : p < 0.01 ? "**" : p < 0.05 ? "*" : p < 0.1 ? "." : "";
    std::string name = r.covariate_names[static_cast<size_t>(j)];
    if (name.size() > 24) name = name.substr(0, 21) + "...";
    std::snprintf(line, sizeof line, "%-24s %12.6g %12.6g %9.3f %9.3g %s\n", name.c_str(), r.coef_k[j],
                  r.std_error_k[j], r.t_k[j], p, stars);
    os << line;
  }
  if (r.coef_k.size() == 0) os << "(no covariates)\n";
  os << "---\nSignif. codes: 0 '***' 0.001 '**' 0.01 '*' 0.05 '.' 0.1 ' ' 1\n" << rule << "\n";
  if (!r.dropped_collinear.empty()) {
    os << "Dropped (collinear):";
    for (const auto& d : r.dropped_collinear) os << " " << d;
    os << "\n";
  }
  os << "Fixed effects:";
  if (r.factor_names.empty()) os << " none (intercept)";
  for (size_t q = 0; q < r.factor_names.size(); ++q) os << " " << r.factor_names[q] << " (" << r.factor_levels_q[q] << ")";
  os << "\n";
  if (r.factor_names.size() >= 2) os << "Connected components: " << r.num_components << "\n";
  os << "Absorbed dof: " << r.absorbed_dof << (r.absorbed_dof_exact ? " (exact)" : " (upper bound)")
     << "; K = " << r.dof_k << "; residual dof = " << r.residual_dof;
  if (r.vcov_type == VcovType::kCluster) os << "; K (cluster, nested FE excluded) = " << r.dof_cluster_k;
  os << "\n";
  os << "RMSE: " << Fmt(std::sqrt(r.rss / static_cast<double>(r.n)), 6) << "   sigma: " << Fmt(std::sqrt(r.sigma2), 6)
     << "\n";
  os << "R2: " << Fmt(r.r2, 5) << "   Adj. R2: " << Fmt(r.adj_r2, 5) << "   Within R2: " << Fmt(r.within_r2, 5) << "\n";
  if (!r.r2_without_factor.empty())
    os << "R2 without " << r.r2_without_factor << ": " << Fmt(r.r2_without, 5) << "\n";
  os << "Absorption: " << r.absorb_method << "; " << r.absorb_summary.BriefReport() << "\n";
  if (!r.backend_reason.empty()) os << "Backend: " << r.backend_reason << "\n";
  if (!r.fe_recovery.empty()) {
    os << "Fixed effects recovered by " << r.fe_recovery << "; normalisation: " << r.fe_normalisation << "\n";
    if (!r.fe_std_error_method.empty())
      os << "Standard errors of the " << r.factor_names[0] << " effects: " << r.fe_std_error_method << "\n";
    if (r.recovery_max_abs_diff >= 0)
      os << "Cross-check CHOLMOD vs sweeps: max |difference| = " << r.recovery_max_abs_diff << "\n";
  }
  if (!r.warnings.empty()) {
    os << rule << "\nWarnings:\n";
    for (const auto& wmsg : r.warnings) os << "  - " << wmsg << "\n";
  }
  return os.str();
}

}  // namespace cwfx::fit
