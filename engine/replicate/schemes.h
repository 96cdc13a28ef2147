// The random part of each scheme: what replication r draws, from its own
// Philox stream keyed by (seed, domain of the scheme, r), and the replication
// itself (draw, then re-estimate).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "core/random_stream.h"
#include "parallel/parallel.h"
#include "replicate/estimator.h"
#include "replicate/replication_options.h"

namespace cwfx::replicate {

random::Stream ReplicationStream(uint64_t seed, Scheme scheme, int64_t replication);

// Pairs: how often each of the C citizens is drawn in C draws with replacement.
void DrawCitizenCounts(random::Stream& rng, int32_t num_citizens, std::vector<double>& count_c);
// Bayesian bootstrap: Exp(1) per citizen.
void DrawExponentialWeights(random::Stream& rng, int32_t num_citizens, std::vector<double>& weight_c);
// Wild: Rademacher (+-1, each 1/2) or Webb (+-sqrt(3/2), +-1, +-sqrt(1/2), each 1/6).
void DrawWildWeights(random::Stream& rng, WildWeights kind, int32_t num_citizens, std::vector<double>& v_c);
// Permutation: each stratum's spells get a uniformly shuffled copy of the
// stratum's caseworker labels (Fisher-Yates); caseworker_n follows the spells.
void DrawPermutedCaseworkers(random::Stream& rng, const ReplicationProblem& problem,
                             std::vector<int32_t>& spell_label_s, std::vector<int32_t>& caseworker_n);

// Replication r of the problem's scheme: its draws and the re-estimate. A
// replication that cannot be estimated (cwfx::Error) comes back as a
// FailedDraw with the message, so one bad resample never stops a run.
ReplicationDraw RunReplication(const ReplicaEstimator& estimator, int64_t replication, EstimatorWorkspace& ws,
                               const parallel::Context& ctx);

}  // namespace cwfx::replicate
