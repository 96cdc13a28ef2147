// What a replication run draws: the scheme, how many replications, the seed,
// and each scheme's settings (../shared/METHODS.md section 6).
//
//   pairs    cluster (pairs) bootstrap: C citizens drawn with replacement, each
//            with all its responses (a citizen drawn k times has weight k).
//   bayes    Bayesian bootstrap (Rubin 1981): weight Exp(1) per citizen.
//   wild     wild cluster bootstrap, unrestricted (WCU): y* = fitted + v_c u~_i
//            with v_c Rademacher or Webb per citizen and u~ the residuals
//            scaled by sqrt(n / (n - k - absorbed dof)). The design is fixed,
//            so a replication is a linear map of v: one set of cluster
//            scores, one factorisation, no refit.
//   permute  randomisation test of "no caseworker effects": caseworker labels
//            permuted among the spells (citizen x caseworker) of each stratum
//            (job centre, and optionally a time block column), which keeps
//            every caseworker's number of spells.
//
// Replication r of a run reads only the Philox stream keyed by
// (seed, domain of the scheme, r) (core/random_stream.h), so its draws do not
// depend on threads, order of completion, processes or resumes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace cwfx::replicate {

enum class Scheme { kPairs, kBayes, kWild, kPermute };
enum class WildWeights { kRademacher, kWebb };

const char* SchemeName(Scheme scheme);
Scheme ParseScheme(const std::string& name);  // throws cwfx::Error listing the choices
const char* WildWeightsName(WildWeights weights);
WildWeights ParseWildWeights(const std::string& name);

// True for the schemes whose draws estimate sampling variability (pairs,
// bayes, wild); false for permute (draws under the null).
bool IsBootstrap(Scheme scheme);

struct ReplicationOptions {
  Scheme scheme = Scheme::kPairs;
  int64_t replications = 1000;
  uint64_t seed = 1;
  WildWeights wild_weights = WildWeights::kRademacher;
  // Columns whose combination defines a permutation stratum (e.g.
  // {"job_centre_id"} or {"job_centre_id", "quarter"}).
  std::vector<std::string> permute_strata = {"job_centre_id"};
  // Rank confidence sets (inference/rank_inference.h): parametric draws and
  // level; skipped above max_rank_units caseworkers.
  int rank_draws = 1000;
  double alpha = 0.05;
  int32_t max_rank_units = 2000;

  void Validate() const;       // throws cwfx::Error
  // The settings that shape the draws (not `replications`: a run may be
  // extended, since every draw is a pure function of (seed, r)).
  std::string ToJson() const;
};

}  // namespace cwfx::replicate
