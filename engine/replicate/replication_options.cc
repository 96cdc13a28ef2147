#include "replicate/replication_options.h"

#include <nlohmann/json.hpp>

#include "core/error.h"

namespace cwfx::replicate {

const char* SchemeName(Scheme scheme) {
  switch (scheme) {
    case Scheme::kPairs: return "pairs";
    case Scheme::kBayes: return "bayes";
    case Scheme::kWild: return "wild";
    case Scheme::kPermute: return "permute";
  }
  return "?";
}

Scheme ParseScheme(const std::string& name) {
  for (Scheme s : {Scheme::kPairs, Scheme::kBayes, Scheme::kWild, Scheme::kPermute}) {
    if (name == SchemeName(s)) return s;
  }
  throw Error("unknown replication scheme '" + name + "' (choose pairs, bayes, wild or permute)");
}

const char* WildWeightsName(WildWeights weights) {
  return weights == WildWeights::kRademacher ? "rademacher" : "webb";
}

WildWeights ParseWildWeights(const std::string& name) {
  if (name == "rademacher") return WildWeights::kRademacher;
  if (name == "webb") return WildWeights::kWebb;
  throw Error("unknown wild bootstrap weights '" + name + "' (choose rademacher or webb)");
}

bool IsBootstrap(Scheme scheme) { return scheme != Scheme::kPermute; }

void ReplicationOptions::Validate() const {
  if (replications < 1) throw Error("replications must be >= 1");
  if (scheme == Scheme::kPermute && permute_strata.empty()) {
    throw Error("permutation needs at least one stratum column (e.g. job_centre_id)");
  }
  if (rank_draws < 100) throw Error("rank_draws must be >= 100");
  if (!(alpha > 0 && alpha < 0.5)) throw Error("alpha must be in (0, 0.5)");
}

std::string ReplicationOptions::ToJson() const {
  nlohmann::json j = {{"scheme", SchemeName(scheme)}, {"seed", std::to_string(seed)}};
  if (scheme == Scheme::kWild) j["wild_weights"] = WildWeightsName(wild_weights);
  if (scheme == Scheme::kPermute) j["permute_strata"] = permute_strata;
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace cwfx::replicate
