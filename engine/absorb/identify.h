// Identification of fixed effects: recursive singleton removal, connected
// components of the factor graph, absorbed degrees of freedom and the
// normalisation of recovered effects.
//
// CONVENTION: _n observations, _g levels of one factor, _q factors.
#pragma once

#include <Eigen/Dense>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "absorb/factor.h"

namespace cwfx::absorb {

// ---------------------------------------------------------------- singletons

struct SingletonReport {
  int64_t dropped = 0;  // observations removed in total
  int rounds = 0;       // rounds that removed at least one observation
};

// Recursive singleton removal. Round 1 marks every observation whose level,
// in ANY factor, has exactly one observation; those are removed, level counts
// are updated, and the next round marks observations whose level now has
// exactly one remaining observation; and so on until a round finds none (a
// cascade). Returns keep_n: 1 = keep, 0 = singleton. O(N * Q) in total.
// Regression weights play no role (a zero-weight observation still counts).
std::vector<uint8_t> FindNonSingletons(const std::vector<Factor>& factors, SingletonReport* report = nullptr);

// ---------------------------------------------------------------- subsetting

struct SubsetResult {
  Factor factor;                     // codes of the kept rows, dense in [0, num_levels)
  std::vector<int32_t> old_level_g;  // old_level_g[new code] = old code
};

// The factor restricted to kept_rows (observation indices, in the order given),
// re-coded densely: levels that still occur keep their relative order
// (new code a < new code b iff old code a < old code b).
SubsetResult SubsetFactor(const Factor& f, std::span<const int64_t> kept_rows);

// Row indices where keep_n is non-zero, in increasing order.
std::vector<int64_t> KeptRows(const std::vector<uint8_t>& keep_n);

// ------------------------------------------------------ connected components

// Connected components ("mobility groups") of the factor graph.
// - 1 factor: a single component (id 0) holding every observation and level;
//   a one-way model has no redundancy to resolve.
// - 2 factors: components of the bipartite graph whose nodes are the levels of
//   factor 0 and of factor 1, with one edge per observation (union-find).
// - 3+ factors: the components of factors 0 and 1 only, as for 2 factors;
//   further factors do not merge or split components here. of_level_q[q] for
//   q >= 2 holds a level's component if all its observations lie in one
//   component, else -1.
// Component ids are numbered 0, 1, ... in order of first appearance in
// observation order (observation 0 is in component 0). Levels without any
// observation get -1.
struct Components {
  int32_t count = 0;
  std::vector<int32_t> of_obs_n;
  std::vector<std::vector<int32_t>> of_level_q;  // per factor, component id per level
  std::vector<int64_t> obs_per_component;
};

Components FindComponents(const std::vector<Factor>& factors);

// keep_n mask of the observations in the component with the most observations
// (ties: the smallest id).
std::vector<uint8_t> KeepLargestComponent(const Components& c);

// ------------------------------------------------------- degrees of freedom

struct DofReport {
  int64_t absorbed = 0;  // rank of the dummy matrix of all factors (or an upper bound)
  bool exact = true;
  std::string rule;      // the rule applied, in words (for the output)
};

// Degrees of freedom absorbed by the factors (L_q = num_levels of factor q,
// C = components.count):
// - 1 factor:  L_0. Exact.
// - 2 factors: L_0 + L_1 - C. Exact (one redundancy per connected component
//   of the bipartite graph).
// - 3+ factors: L_0 + L_1 - C + sum_{q >= 2} (L_q - 1), exact = false. This
//   resolves the redundancies of the first two factors exactly and assumes one
//   per further factor (its sum equals the constant). Further redundancies
//   (a factor nested in another, disconnected pieces of the further factors)
//   make the true rank SMALLER, so this can only over-count absorbed degrees
//   of freedom: the residual degrees of freedom are then under-counted and
//   standard errors come out larger, the conservative direction. fixest's
//   default count for 3+ factors follows the same idea (exact references for
//   the first two factors, one per further factor).
// Every level is assumed to have at least one observation.
DofReport AbsorbedDof(const std::vector<Factor>& factors, const Components& c);

// ---------------------------------------------------------- normalisation

enum class Normalisation {
  kNone,
  // Default. Factor 0 (the caseworker) has mean zero over the OBSERVATIONS of
  // each connected component (each observation counts once; regression weights
  // are ignored): m_k = (1/n_k) sum_{i in k} alpha_0[code_0(i)] is subtracted
  // from every factor-0 level of component k and added to every factor-1 level
  // (the citizen) of component k. Each factor q >= 2 gets mean zero over all
  // observations: m_q = (1/N) sum_i alpha_q[code_q(i)] is subtracted from all
  // its levels and added to every factor-1 level. Factor 1 thus carries each
  // component's level (the intercept).
  kFirstFactorMeanZero,
  // Factor 0's level with the smallest code in each component is the reference
  // (effect exactly 0); its value is moved into factor 1 within the component.
  // Factors q >= 2: as kFirstFactorMeanZero.
  kFirstFactorReference,
};

// Normalises recovered effects in place. The fitted sum
// sum_q effects_q[q][code_q(i)] is unchanged for every observation (up to
// rounding). With 1 factor nothing is done under any mode: the effects are the
// (weighted) group means of the fixed-effect part and are identified as they
// are. Levels with component -1 are left untouched.
void NormaliseEffects(std::vector<Eigen::VectorXd>& effects_q, const std::vector<Factor>& factors,
                      const Components& c, Normalisation mode = Normalisation::kFirstFactorMeanZero);

}  // namespace cwfx::absorb
