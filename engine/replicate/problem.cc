#include "replicate/problem.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <numeric>
#include <tuple>

#include "absorb/absorber.h"
#include "absorb/identify.h"
#include "core/error.h"
#include "fit/design.h"
#include "replicate/estimator.h"
#include "solve/fixed_effect_solver.h"
#include "table/id_coding.h"

namespace cwfx::replicate {
namespace {

// Position of each id in the study's tie-break order (integers numerically,
// otherwise as text; study/quartiles.h).
std::vector<int32_t> IdOrder(const std::vector<std::string>& ids) {
  const auto G = static_cast<int32_t>(ids.size());
  std::vector<int64_t> num(ids.size(), 0);
  bool all_int = true;
  for (size_t g = 0; g < ids.size() && all_int; ++g) {
    const std::string& s = ids[g];
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), num[g]);
    all_int = !s.empty() && ec == std::errc() && ptr == s.data() + s.size();
  }
  std::vector<int32_t> order(static_cast<size_t>(G));
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int32_t a, int32_t b) {
    return all_int ? num[static_cast<size_t>(a)] < num[static_cast<size_t>(b)]
                   : ids[static_cast<size_t>(a)] < ids[static_cast<size_t>(b)];
  });
  std::vector<int32_t> pos(static_cast<size_t>(G));
  for (int32_t k = 0; k < G; ++k) pos[static_cast<size_t>(order[static_cast<size_t>(k)])] = k;
  return pos;
}

// Dense codes (in order of first appearance) of the design rows' values of a
// table column.
std::vector<int32_t> CodesOverDesign(const table::Table& data, const fit::Design& design, const std::string& column,
                                     int32_t* num_levels) {
  const table::IdCoding coding = table::CodeIds(data, column);
  std::vector<int32_t> remap(coding.labels.size(), -1);
  std::vector<int32_t> out(static_cast<size_t>(design.num_obs()));
  int32_t next = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    const int32_t c = coding.codes_n[static_cast<size_t>(design.SourceRow(static_cast<int64_t>(i)))];
    if (remap[static_cast<size_t>(c)] < 0) remap[static_cast<size_t>(c)] = next++;
    out[i] = remap[static_cast<size_t>(c)];
  }
  *num_levels = next;
  return out;
}

void BuildPermutationSpells(const table::Table& data, const fit::Design& design, ReplicationProblem& p) {
  const auto n = static_cast<size_t>(design.num_obs());
  std::vector<std::vector<int32_t>> strata_codes;
  for (const std::string& col : p.options.permute_strata) {
    if (!data.Has(col)) {
      throw Error(Location{p.source, -1, col},
                  "the permutation stratum column is missing (set the strata with --strata, e.g. job_centre_id)");
    }
    int32_t levels = 0;
    strata_codes.push_back(CodesOverDesign(data, design, col, &levels));
  }
  // Stratum = the combination of the stratum columns' codes.
  std::map<std::vector<int32_t>, int32_t> stratum_of;
  std::vector<int32_t> stratum_n(n);
  for (size_t i = 0; i < n; ++i) {
    std::vector<int32_t> key;
    key.reserve(strata_codes.size());
    for (const auto& c : strata_codes) key.push_back(c[i]);
    auto it = stratum_of.emplace(std::move(key), static_cast<int32_t>(stratum_of.size())).first;
    stratum_n[i] = it->second;
  }
  // Spell = (stratum, citizen, caseworker), numbered in order of first appearance.
  std::map<std::tuple<int32_t, int32_t, int32_t>, int32_t> spell_of;
  std::vector<int32_t> spell_stratum;
  p.spell_n.resize(n);
  p.spell_caseworker_s.clear();
  const std::vector<int32_t>& cw = p.factors[0].codes_n;
  for (size_t i = 0; i < n; ++i) {
    const auto key = std::make_tuple(stratum_n[i], p.citizen_n[i], cw[i]);
    auto [it, inserted] = spell_of.emplace(key, static_cast<int32_t>(spell_of.size()));
    if (inserted) {
      p.spell_caseworker_s.push_back(cw[i]);
      spell_stratum.push_back(stratum_n[i]);
    }
    p.spell_n[i] = it->second;
  }
  const auto S = static_cast<int32_t>(stratum_of.size());
  p.stratum_offset.assign(static_cast<size_t>(S) + 1, 0);
  for (int32_t st : spell_stratum) ++p.stratum_offset[static_cast<size_t>(st) + 1];
  for (int32_t s = 0; s < S; ++s) p.stratum_offset[static_cast<size_t>(s) + 1] += p.stratum_offset[static_cast<size_t>(s)];
  p.stratum_spells_s.assign(spell_stratum.size(), 0);
  std::vector<int64_t> fill(p.stratum_offset.begin(), p.stratum_offset.end() - 1);
  for (size_t s = 0; s < spell_stratum.size(); ++s) {
    p.stratum_spells_s[static_cast<size_t>(fill[static_cast<size_t>(spell_stratum[s])]++)] = static_cast<int32_t>(s);
  }
}

}  // namespace

ReplicationProblem BuildProblem(const table::Table& register_table, const study::StudyResult& study,
                                const ReplicationOptions& options, const parallel::Context& ctx) {
  options.Validate();
  ReplicationProblem p;
  p.study = study.options;
  p.options = options;
  p.source = register_table.source();

  std::vector<std::string> covs;
  const table::Table data = study::PrepareStudyTable(register_table, study.options, nullptr, &covs);
  const fit::Design design = fit::BuildDesign(data, study::StudyDesignSpec(study.options, covs));
  const int64_t n = design.num_obs();

  p.y_n = design.y_n;
  p.covariate_names = study.fit.covariate_names;
  p.X_nk.resize(n, static_cast<Eigen::Index>(p.covariate_names.size()));
  for (size_t k = 0; k < p.covariate_names.size(); ++k) {
    const auto it = std::find(design.covariate_names.begin(), design.covariate_names.end(), p.covariate_names[k]);
    CWFX_CHECK(it != design.covariate_names.end(), "kept covariate in the design");
    p.X_nk.col(static_cast<Eigen::Index>(k)) = design.X_nk.col(it - design.covariate_names.begin());
  }
  p.factors = design.factors;
  p.caseworker_ids = design.level_labels_q[0];
  CWFX_CHECK(p.caseworker_ids == study.ranking.id_g, "the replication design has the study's caseworkers");
  p.id_order_g = IdOrder(p.caseworker_ids);
  p.citizen_n = CodesOverDesign(data, design, study.options.citizen_column, &p.num_citizens);
  if (options.scheme == Scheme::kPermute) BuildPermutationSpells(data, design, p);

  // The smooth contrast with fixed weights: the study's top quartile minus the
  // response-weighted mean.
  const int32_t G = p.num_caseworkers();
  p.fixed_contrast_g = Eigen::VectorXd::Zero(G);
  const int32_t n_top = study.ranking.sizes_q.back();
  for (int32_t g = 0; g < G; ++g) {
    if (study.ranking.quartile_g[static_cast<size_t>(g)] == 4) p.fixed_contrast_g[g] += 1.0 / n_top;
    p.fixed_contrast_g[g] -= static_cast<double>(study.ranking.n_responses_g[static_cast<size_t>(g)]) / static_cast<double>(n);
  }

  // The absorbed covariates and residuals of the full sample, and the solvers
  // the wild bootstrap reuses.
  const auto K = static_cast<Eigen::Index>(p.covariate_names.size());
  Eigen::MatrixXd cols(n, K + 1);
  cols.col(0) = p.y_n;
  cols.rightCols(K) = p.X_nk;
  if (p.one_factor()) {
    const std::vector<int32_t>& cw = p.factors[0].codes_n;
    Eigen::MatrixXd sums = Eigen::MatrixXd::Zero(G, K + 1);
    Eigen::VectorXd count = Eigen::VectorXd::Zero(G);
    for (int64_t i = 0; i < n; ++i) count[cw[static_cast<size_t>(i)]] += 1.0;
    for (Eigen::Index k = 0; k <= K; ++k) {
      for (int64_t i = 0; i < n; ++i) sums(cw[static_cast<size_t>(i)], k) += cols(i, k);
      for (int64_t i = 0; i < n; ++i) cols(i, k) -= sums(cw[static_cast<size_t>(i)], k) / count[cw[static_cast<size_t>(i)]];
    }
  } else {
    absorb::AbsorbOptions ao;
    ao.tolerance = study.options.absorb_tolerance;
    ao.max_iterations = study.options.absorb_max_iterations;
    auto absorber = std::make_shared<absorb::Absorber>(p.factors, std::vector<double>{}, ao, ctx);
    const absorb::AbsorbSummary summary = absorber->Absorb(cols, ctx);
    if (!summary.AllConverged()) {
      throw Error("replications: the full-sample absorption did not converge (" + summary.BriefReport() +
                  "); raise the study's absorb iterations");
    }
    p.absorber = absorber;
    p.components = std::make_shared<absorb::Components>(absorb::FindComponents(p.factors));
    if (p.factors.size() == 2 && std::min(p.factors[0].num_levels, p.factors[1].num_levels) <= 20000) {
      std::vector<solve::FactorCodes> fc;
      for (const auto& f : p.factors) fc.push_back({f.codes_n, f.num_levels});
      auto solver = std::make_shared<solve::FixedEffectSolver>(fc, std::span<const double>{});
      if (solver->ok()) p.fe_solver = solver;
    }
  }
  p.Xt_nk = cols.rightCols(K);
  const Eigen::MatrixXd xtx = p.Xt_nk.transpose() * p.Xt_nk;
  p.beta_k = SolveNormalEquations(xtx, p.Xt_nk.transpose() * cols.col(0));
  const Eigen::VectorXd residual = cols.col(0) - p.Xt_nk * p.beta_k;
  p.fitted_n = p.y_n - residual;
  p.xtx_ldlt.compute(xtx);
  const double dof = static_cast<double>(n - K - study.fit.absorbed_dof);
  const double scale = dof > 0 ? std::sqrt(static_cast<double>(n) / dof) : 1.0;
  p.scaled_residual_n = residual * scale;
  p.cluster_scores_kc = Eigen::MatrixXd::Zero(K, p.num_citizens);
  for (int64_t i = 0; i < n; ++i) {
    p.cluster_scores_kc.col(p.citizen_n[static_cast<size_t>(i)]) += p.Xt_nk.row(i).transpose() * p.scaled_residual_n[i];
  }

  if (p.one_factor() && G <= options.max_rank_units) {
    const std::vector<int32_t>& cw = p.factors[0].codes_n;
    Eigen::VectorXd count = Eigen::VectorXd::Zero(G);
    Eigen::MatrixXd xbar_gk = Eigen::MatrixXd::Zero(G, K);
    for (int64_t i = 0; i < n; ++i) {
      count[cw[static_cast<size_t>(i)]] += 1.0;
      xbar_gk.row(cw[static_cast<size_t>(i)]) += p.X_nk.row(i);
    }
    for (int32_t g = 0; g < G; ++g) xbar_gk.row(g) /= count[g];
    const double s2 = study.fit.sigma2;
    const Eigen::MatrixXd vbeta = s2 * p.xtx_ldlt.solve(Eigen::MatrixXd::Identity(K, K));
    Eigen::MatrixXd cov = xbar_gk * vbeta * xbar_gk.transpose();
    cov.diagonal() += s2 * count.cwiseInverse();
    // Centring: e = P psi with P = I - 1 w', w the response shares.
    const Eigen::VectorXd w = count / static_cast<double>(n);
    const Eigen::VectorXd cw_vec = cov * w;
    const double wcw = w.dot(cw_vec);
    p.analytic_effect_cov_gg = cov;
    p.analytic_effect_cov_gg.colwise() -= cw_vec;
    p.analytic_effect_cov_gg.rowwise() -= cw_vec.transpose();
    p.analytic_effect_cov_gg.array() += wcw;
  }

  // The full-sample effects, from the same estimator the replications use.
  const ReplicaEstimator estimator(p);
  EstimatorWorkspace ws;
  const std::vector<double> ones(static_cast<size_t>(n), 1.0);
  const auto core = estimator.FitCore(ones, p.factors[0].codes_n, ws, ctx);
  p.psi_hat_g = Eigen::Map<const Eigen::VectorXd>(core.psi_g.data(), G);
  return p;
}

}  // namespace cwfx::replicate
