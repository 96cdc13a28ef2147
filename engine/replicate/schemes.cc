#include "replicate/schemes.h"

#include <cmath>

#include "core/error.h"

namespace cwfx::replicate {
namespace {
// Stream domains of the schemes (the generator uses 1..3).
constexpr uint32_t kDomainBase = 0x52455000u;  // "REP"
}  // namespace

random::Stream ReplicationStream(uint64_t seed, Scheme scheme, int64_t replication) {
  return random::Stream(seed, kDomainBase + static_cast<uint32_t>(scheme), static_cast<uint64_t>(replication));
}

void DrawCitizenCounts(random::Stream& rng, int32_t num_citizens, std::vector<double>& count_c) {
  count_c.assign(static_cast<size_t>(num_citizens), 0.0);
  for (int32_t k = 0; k < num_citizens; ++k) count_c[static_cast<size_t>(rng.Below(num_citizens))] += 1.0;
}

void DrawExponentialWeights(random::Stream& rng, int32_t num_citizens, std::vector<double>& weight_c) {
  weight_c.resize(static_cast<size_t>(num_citizens));
  for (double& w : weight_c) w = -std::log(rng.Uniform());
}

void DrawWildWeights(random::Stream& rng, WildWeights kind, int32_t num_citizens, std::vector<double>& v_c) {
  v_c.resize(static_cast<size_t>(num_citizens));
  if (kind == WildWeights::kRademacher) {
    for (double& v : v_c) v = rng.Uniform() < 0.5 ? -1.0 : 1.0;
    return;
  }
  static const double kWebb[6] = {-std::sqrt(1.5), -1.0, -std::sqrt(0.5), std::sqrt(0.5), 1.0, std::sqrt(1.5)};
  for (double& v : v_c) v = kWebb[rng.Below(6)];
}

void DrawPermutedCaseworkers(random::Stream& rng, const ReplicationProblem& problem,
                             std::vector<int32_t>& spell_label_s, std::vector<int32_t>& caseworker_n) {
  spell_label_s = problem.spell_caseworker_s;
  const auto strata = static_cast<int64_t>(problem.stratum_offset.size()) - 1;
  for (int64_t s = 0; s < strata; ++s) {
    const int64_t lo = problem.stratum_offset[static_cast<size_t>(s)];
    const int64_t hi = problem.stratum_offset[static_cast<size_t>(s) + 1];
    for (int64_t k = hi - lo - 1; k > 0; --k) {
      const int64_t j = rng.Below(k + 1);
      std::swap(spell_label_s[static_cast<size_t>(problem.stratum_spells_s[static_cast<size_t>(lo + k)])],
                spell_label_s[static_cast<size_t>(problem.stratum_spells_s[static_cast<size_t>(lo + j)])]);
    }
  }
  caseworker_n.resize(problem.spell_n.size());
  for (size_t i = 0; i < caseworker_n.size(); ++i) {
    caseworker_n[i] = spell_label_s[static_cast<size_t>(problem.spell_n[i])];
  }
}

ReplicationDraw RunReplication(const ReplicaEstimator& estimator, int64_t replication, EstimatorWorkspace& ws,
                               const parallel::Context& ctx) {
  const ReplicationProblem& p = estimator.problem();
  random::Stream rng = ReplicationStream(p.options.seed, p.options.scheme, replication);
  try {
    switch (p.options.scheme) {
      case Scheme::kPairs:
      case Scheme::kBayes: {
        if (p.options.scheme == Scheme::kPairs) {
          DrawCitizenCounts(rng, p.num_citizens, ws.cluster_weight_c);
        } else {
          DrawExponentialWeights(rng, p.num_citizens, ws.cluster_weight_c);
        }
        std::vector<double> weights(p.citizen_n.size());
        for (size_t i = 0; i < weights.size(); ++i) {
          weights[i] = ws.cluster_weight_c[static_cast<size_t>(p.citizen_n[i])];
        }
        return estimator.EstimateWeighted(weights, ws, ctx);
      }
      case Scheme::kWild:
        DrawWildWeights(rng, p.options.wild_weights, p.num_citizens, ws.cluster_weight_c);
        return estimator.EstimateWild(ws.cluster_weight_c, ws, ctx);
      case Scheme::kPermute: {
        std::vector<int32_t> labels, caseworker_n;
        DrawPermutedCaseworkers(rng, p, labels, caseworker_n);
        return estimator.EstimatePermuted(caseworker_n, ws, ctx);
      }
    }
  } catch (const Error& e) {
    return FailedDraw(p, e.what());
  }
  return FailedDraw(p, "unknown scheme");
}

}  // namespace cwfx::replicate
