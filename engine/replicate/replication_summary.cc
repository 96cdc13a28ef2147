#include "replicate/replication_summary.h"

#include <cmath>
#include <cstdio>
#include <limits>

#include "core/error.h"
#include "replicate/replication_options.h"
#include "study/quartiles.h"

namespace cwfx::replicate {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Column c of a draw matrix over the stored rows.
std::vector<double> Column(const store::DrawMatrix& m, const std::vector<uint8_t>& stored, int64_t c) {
  std::vector<double> out;
  out.reserve(static_cast<size_t>(m.rows));
  for (int64_t r = 0; r < m.rows; ++r) {
    if (stored[static_cast<size_t>(r)]) out.push_back(m.values_rc[static_cast<size_t>(r * m.cols + c)]);
  }
  return out;
}

int64_t ColumnIndex(const store::DrawMatrix& m, const std::string& label) {
  for (size_t c = 0; c < m.columns.size(); ++c) {
    if (m.columns[c] == label) return static_cast<int64_t>(c);
  }
  throw Error("draw dataset '" + m.name + "' has no column '" + label + "'");
}

double EstimateOf(const store::DrawSet& d, const std::string& dataset, int64_t c) {
  for (const auto& e : d.estimate) {
    if (e.name == dataset && c < static_cast<int64_t>(e.values_rc.size())) return e.values_rc[static_cast<size_t>(c)];
  }
  return kNaN;
}

}  // namespace

ReplicationSummary SummariseDraws(const store::DrawSet& draws, const Eigen::MatrixXd& analytic_effect_cov_gg,
                                  const SummaryOptions& options, const parallel::Context& ctx) {
  ReplicationSummary s;
  s.scheme = draws.identity.scheme;
  s.bootstrap = IsBootstrap(ParseScheme(s.scheme));
  s.replications = draws.replications;
  s.status = draws.status;
  const std::vector<uint8_t>& stored = draws.completed;
  for (uint8_t c : stored) s.stored += c;

  const store::DrawMatrix& stats = draws.Dataset("statistics");
  const std::vector<double> status = Column(stats, stored, ColumnIndex(stats, "status"));
  for (double v : status) {
    s.failed += v == 2.0;
    s.not_converged += v == 1.0;
  }
  const store::DrawMatrix& policy = draws.Dataset("policy");
  const auto summarise = [&](const store::DrawMatrix& m, const std::string& label) {
    const int64_t c = ColumnIndex(m, label);
    return inference::SummariseDraws(label, EstimateOf(draws, m.name, c), Column(m, stored, c), options.alpha);
  };

  const store::DrawMatrix& effect = draws.Dataset("caseworker_effect");
  s.caseworker_ids = effect.columns;
  const auto G = static_cast<int32_t>(effect.cols);
  s.effect_g.resize(static_cast<size_t>(G));
  for (int32_t g = 0; g < G; ++g) s.effect_g[static_cast<size_t>(g)] = EstimateOf(draws, "caseworker_effect", g);

  if (s.bootstrap) {
    for (const auto& m : draws.datasets) {
      if (m.name != "coefficients") continue;
      for (const auto& label : m.columns) s.coefficients.push_back(summarise(m, label));
    }
    s.smooth.push_back(summarise(policy, "actual"));
    for (const char* label : {"variance_of_effects", "sd_of_effects", "fixed_contrast"}) {
      s.smooth.push_back(summarise(stats, label));
    }
    s.selection.push_back(summarise(policy, "counterfactual"));
    s.selection.push_back(summarise(policy, "increase"));

    // Effects: standard errors, covariance, quartile stability.
    Eigen::MatrixXd effect_rg(s.stored, G);
    Eigen::MatrixXi quartile_rg(s.stored, G);
    const store::DrawMatrix& quartile = draws.Dataset("caseworker_quartile");
    int64_t row = 0;
    for (int64_t r = 0; r < effect.rows; ++r) {
      if (!stored[static_cast<size_t>(r)]) continue;
      for (int32_t g = 0; g < G; ++g) {
        effect_rg(row, g) = effect.values_rc[static_cast<size_t>(r * G + g)];
        quartile_rg(row, g) = static_cast<int>(quartile.values_rc[static_cast<size_t>(r * G + g)]);
      }
      ++row;
    }
    s.quartile_share_gq = inference::QuartileStability(quartile_rg);
    s.bootstrap_std_error_g.resize(static_cast<size_t>(G));
    for (int32_t g = 0; g < G; ++g) {
      std::vector<double> col(effect_rg.col(g).data(), effect_rg.col(g).data() + effect_rg.rows());
      s.bootstrap_std_error_g[static_cast<size_t>(g)] = inference::SummariseDraws("", 0, col).std_error;
    }
    bool effects_finite = true;
    for (double e : s.effect_g) effects_finite = effects_finite && std::isfinite(e);
    inference::RankInferenceOptions ro;
    ro.alpha = options.alpha;
    ro.draws = options.rank_draws;
    ro.seed = options.rank_seed;
    ro.max_units = options.max_rank_units;
    // "Could be in the top quartile" uses the study's top quartile size.
    if (G >= study::kNumQuartiles) ro.top_size = study::QuartileSizes(G).back();
    const Eigen::Map<const Eigen::VectorXd> theta(s.effect_g.data(), G);
    if (!effects_finite) {
      s.notes.push_back("the full-sample effects are not all finite: no rank confidence sets");
    } else if (G > options.max_rank_units) {
      s.notes.push_back("rank confidence sets skipped: " + std::to_string(G) + " caseworkers exceed the limit of " +
                        std::to_string(options.max_rank_units));
    } else {
      if (s.stored - s.failed >= 2) {
        Eigen::MatrixXd cov = inference::DrawCovariance(effect_rg);
        if (cov.allFinite()) {
          // A caseworker absent from some resamples makes the covariance
          // pairwise: it may be indefinite. Its nearest semi-definite matrix
          // is used, and said so; a rank set that still cannot be computed
          // is a note, never the end of a run whose draws are stored.
          int absent = 0;
          for (int32_t g = 0; g < G; ++g) absent += effect_rg.col(g).allFinite() ? 0 : 1;
          double clipped = 0.0;
          if (absent > 0) cov = inference::NearestPsd(cov, &clipped);
          if (clipped < 0.0) {
            char buf[320];
            std::snprintf(buf, sizeof buf,
                          "%d caseworker(s) are absent from some resamples, so the bootstrap covariance of the "
                          "effects is pairwise and was not positive semi-definite (smallest eigenvalue %.3g); the "
                          "rank sets use its nearest semi-definite matrix (negative eigenvalues set to zero)",
                          absent, clipped);
            s.notes.push_back(buf);
          }
          try {
            s.bootstrap_rank_sets = inference::ComputeRankConfidenceSets(theta, cov, ro, ctx);
            s.have_bootstrap_rank_sets = true;
          } catch (const Error& e) {
            s.notes.push_back(std::string("no bootstrap rank sets: ") + e.what());
          }
        } else {
          s.notes.push_back("the bootstrap covariance of the effects has undefined entries (a caseworker absent "
                            "from too many replications): no bootstrap rank sets");
        }
      }
      if (analytic_effect_cov_gg.rows() == G) {
        s.analytic_rank_sets = inference::ComputeRankConfidenceSets(theta, analytic_effect_cov_gg, ro, ctx);
        s.have_analytic_rank_sets = true;
      }
    }
  } else {
    const int64_t cv = ColumnIndex(stats, "variance_of_effects");
    const int64_t ci = ColumnIndex(policy, "increase");
    s.observed_variance = EstimateOf(draws, "statistics", cv);
    s.observed_increase = EstimateOf(draws, "policy", ci);
    for (double v : Column(stats, stored, cv)) {
      if (std::isfinite(v)) s.null_variance.push_back(v);
    }
    for (double v : Column(policy, stored, ci)) {
      if (std::isfinite(v)) s.null_increase.push_back(v);
    }
    s.permutation_p_variance = inference::PermutationPValue(s.observed_variance, s.null_variance);
    s.permutation_p_increase = inference::PermutationPValue(s.observed_increase, s.null_increase);
  }
  if (s.failed > 0) {
    s.notes.push_back(std::to_string(s.failed) + " replication(s) could not be estimated and are left out");
  }
  if (s.stored < s.replications) {
    s.notes.push_back("only " + std::to_string(s.stored) + " of " + std::to_string(s.replications) +
                      " replications are stored (interrupted run; --resume completes it)");
  }
  return s;
}

}  // namespace cwfx::replicate
