// Identification helpers: singleton cascades (frontier by rounds over level
// lists), union-find components of the first two factors, dof rules and the
// normalisation of effects. See identify.h for the contracts.
#include "absorb/identify.h"

#include <algorithm>
#include <numeric>

#include "core/error.h"

namespace cwfx::absorb {

namespace {

void CheckFactors(const std::vector<Factor>& factors, const char* who) {
  if (factors.empty()) throw Error(std::string(who) + ": at least one factor is required");
  const size_t n = factors[0].codes_n.size();
  for (const auto& f : factors) {
    if (f.codes_n.size() != n)
      throw Error(std::string(who) + ": factor '" + f.name + "' has " + std::to_string(f.codes_n.size()) +
                  " codes, expected " + std::to_string(n));
    for (size_t i = 0; i < n; ++i)
      if (f.codes_n[i] < 0 || f.codes_n[i] >= f.num_levels)
        throw Error(std::string(who) + ": factor '" + f.name + "' has code " + std::to_string(f.codes_n[i]) +
                    " at observation " + std::to_string(i) + ", outside [0, " + std::to_string(f.num_levels) + ")");
  }
}

// Observations of each level: CSR (offsets_g has L + 1 entries).
struct LevelLists {
  std::vector<int64_t> offsets_g;
  std::vector<int64_t> obs;
};

LevelLists ListsOf(const Factor& f) {
  LevelLists ll;
  ll.offsets_g.assign(static_cast<size_t>(f.num_levels) + 1, 0);
  for (auto c : f.codes_n) ++ll.offsets_g[static_cast<size_t>(c) + 1];
  for (size_t g = 0; g < static_cast<size_t>(f.num_levels); ++g) ll.offsets_g[g + 1] += ll.offsets_g[g];
  ll.obs.resize(f.codes_n.size());
  std::vector<int64_t> next(ll.offsets_g.begin(), ll.offsets_g.end() - 1);
  for (size_t i = 0; i < f.codes_n.size(); ++i) ll.obs[static_cast<size_t>(next[static_cast<size_t>(f.codes_n[i])]++)] = static_cast<int64_t>(i);
  return ll;
}

int32_t Find(std::vector<int32_t>& parent, int32_t x) {
  while (parent[static_cast<size_t>(x)] != x) {
    parent[static_cast<size_t>(x)] = parent[static_cast<size_t>(parent[static_cast<size_t>(x)])];
    x = parent[static_cast<size_t>(x)];
  }
  return x;
}

}  // namespace

std::vector<uint8_t> FindNonSingletons(const std::vector<Factor>& factors, SingletonReport* report) {
  CheckFactors(factors, "FindNonSingletons");
  const size_t n = factors[0].codes_n.size();
  const size_t Q = factors.size();
  std::vector<uint8_t> keep(n, 1);
  std::vector<LevelLists> lists;
  std::vector<std::vector<int64_t>> count_q(Q);
  std::vector<std::pair<int, int32_t>> frontier, next;
  for (size_t q = 0; q < Q; ++q) {
    count_q[q].assign(static_cast<size_t>(factors[q].num_levels), 0);
    for (int32_t c : factors[q].codes_n) ++count_q[q][static_cast<size_t>(c)];
    for (int32_t g = 0; g < factors[q].num_levels; ++g)
      if (count_q[q][static_cast<size_t>(g)] == 1) frontier.emplace_back(static_cast<int>(q), g);
  }
  SingletonReport rep;
  // The level lists (8 bytes per observation and factor) only when a
  // singleton is there to cascade.
  if (!frontier.empty())
    for (size_t q = 0; q < Q; ++q) lists.push_back(ListsOf(factors[q]));
  std::vector<int64_t> drop;
  while (!frontier.empty()) {
    drop.clear();
    for (auto [q, g] : frontier) {
      if (count_q[static_cast<size_t>(q)][static_cast<size_t>(g)] != 1) continue;
      const LevelLists& ll = lists[static_cast<size_t>(q)];
      for (int64_t j = ll.offsets_g[static_cast<size_t>(g)]; j < ll.offsets_g[static_cast<size_t>(g) + 1]; ++j) {
        const int64_t i = ll.obs[static_cast<size_t>(j)];
        if (keep[static_cast<size_t>(i)] == 1) {
          keep[static_cast<size_t>(i)] = 2;  // marked in this round
          drop.push_back(i);
          break;
        }
      }
    }
    next.clear();
    for (int64_t i : drop) {
      keep[static_cast<size_t>(i)] = 0;
      for (size_t q = 0; q < Q; ++q) {
        const int32_t g = factors[q].codes_n[static_cast<size_t>(i)];
        if (--count_q[q][static_cast<size_t>(g)] == 1) next.emplace_back(static_cast<int>(q), g);
      }
    }
    if (!drop.empty()) {
      ++rep.rounds;
      rep.dropped += static_cast<int64_t>(drop.size());
    }
    frontier.swap(next);
  }
  if (report != nullptr) *report = rep;
  return keep;
}

SubsetResult SubsetFactor(const Factor& f, std::span<const int64_t> kept_rows) {
  std::vector<int32_t> map(static_cast<size_t>(f.num_levels), -1);
  for (int64_t i : kept_rows) {
    if (i < 0 || i >= static_cast<int64_t>(f.codes_n.size()))
      throw Error("SubsetFactor: row " + std::to_string(i) + " outside factor '" + f.name + "'");
    map[static_cast<size_t>(f.codes_n[static_cast<size_t>(i)])] = 0;
  }
  SubsetResult r;
  r.factor.name = f.name;
  for (int32_t g = 0; g < f.num_levels; ++g) {
    if (map[static_cast<size_t>(g)] < 0) continue;
    map[static_cast<size_t>(g)] = static_cast<int32_t>(r.old_level_g.size());
    r.old_level_g.push_back(g);
  }
  r.factor.num_levels = static_cast<int32_t>(r.old_level_g.size());
  r.factor.codes_n.reserve(kept_rows.size());
  for (int64_t i : kept_rows) r.factor.codes_n.push_back(map[static_cast<size_t>(f.codes_n[static_cast<size_t>(i)])]);
  return r;
}

std::vector<int64_t> KeptRows(const std::vector<uint8_t>& keep_n) {
  std::vector<int64_t> rows;
  for (size_t i = 0; i < keep_n.size(); ++i)
    if (keep_n[i]) rows.push_back(static_cast<int64_t>(i));
  return rows;
}

Components FindComponents(const std::vector<Factor>& factors) {
  CheckFactors(factors, "FindComponents");
  const size_t n = factors[0].codes_n.size();
  const size_t Q = factors.size();
  Components c;
  c.of_obs_n.assign(n, -1);
  c.of_level_q.resize(Q);
  for (size_t q = 0; q < Q; ++q) c.of_level_q[q].assign(static_cast<size_t>(factors[q].num_levels), -1);
  if (n == 0) return c;
  if (Q == 1) {
    c.count = 1;
    std::fill(c.of_obs_n.begin(), c.of_obs_n.end(), 0);
    for (auto x : factors[0].codes_n) c.of_level_q[0][static_cast<size_t>(x)] = 0;
    c.obs_per_component = {static_cast<int64_t>(n)};
    return c;
  }
  const int32_t L0 = factors[0].num_levels, L1 = factors[1].num_levels;
  std::vector<int32_t> parent(static_cast<size_t>(L0) + static_cast<size_t>(L1));
  std::iota(parent.begin(), parent.end(), 0);
  std::vector<int32_t> size(parent.size(), 1);
  for (size_t i = 0; i < n; ++i) {
    int32_t a = Find(parent, factors[0].codes_n[i]);
    int32_t b = Find(parent, L0 + factors[1].codes_n[i]);
    if (a == b) continue;
    if (size[static_cast<size_t>(a)] < size[static_cast<size_t>(b)]) std::swap(a, b);
    parent[static_cast<size_t>(b)] = a;
    size[static_cast<size_t>(a)] += size[static_cast<size_t>(b)];
  }
  std::vector<int32_t> id_of_root(parent.size(), -1);
  for (size_t i = 0; i < n; ++i) {
    const int32_t root = Find(parent, factors[0].codes_n[i]);
    int32_t& id = id_of_root[static_cast<size_t>(root)];
    if (id < 0) {
      id = c.count++;
      c.obs_per_component.push_back(0);
    }
    c.of_obs_n[i] = id;
    ++c.obs_per_component[static_cast<size_t>(id)];
    c.of_level_q[0][static_cast<size_t>(factors[0].codes_n[i])] = id;
    c.of_level_q[1][static_cast<size_t>(factors[1].codes_n[i])] = id;
  }
  for (size_t q = 2; q < Q; ++q) {
    std::vector<int32_t>& lv = c.of_level_q[q];
    std::vector<uint8_t> mixed(lv.size(), 0);
    for (size_t i = 0; i < n; ++i) {
      const size_t g = static_cast<size_t>(factors[q].codes_n[i]);
      if (lv[g] < 0 && !mixed[g]) {
        lv[g] = c.of_obs_n[i];
      } else if (lv[g] >= 0 && lv[g] != c.of_obs_n[i]) {
        lv[g] = -1;
        mixed[g] = 1;
      }
    }
  }
  return c;
}

std::vector<uint8_t> KeepLargestComponent(const Components& c) {
  std::vector<uint8_t> keep(c.of_obs_n.size(), 0);
  if (c.count == 0) return keep;
  const int32_t best = static_cast<int32_t>(
      std::max_element(c.obs_per_component.begin(), c.obs_per_component.end()) - c.obs_per_component.begin());
  for (size_t i = 0; i < keep.size(); ++i) keep[i] = c.of_obs_n[i] == best ? 1 : 0;
  return keep;
}

DofReport AbsorbedDof(const std::vector<Factor>& factors, const Components& c) {
  DofReport r;
  if (factors.empty()) {
    r.rule = "no fixed effects";
    return r;
  }
  if (factors.size() == 1) {
    r.absorbed = factors[0].num_levels;
    r.exact = true;
    r.rule = "one factor: its number of levels (exact)";
    return r;
  }
  r.absorbed = static_cast<int64_t>(factors[0].num_levels) + factors[1].num_levels - c.count;
  if (factors.size() == 2) {
    r.exact = true;
    r.rule = "two factors: levels of both minus the number of connected components (" + std::to_string(c.count) +
             ") (exact)";
    return r;
  }
  for (size_t q = 2; q < factors.size(); ++q) r.absorbed += factors[q].num_levels - 1;
  r.exact = false;
  r.rule = "three or more factors: levels of the first two minus their connected components (" +
           std::to_string(c.count) +
           "), plus levels minus one for each further factor (an upper bound on the rank: further redundancies "
           "are not detected, which over-counts absorbed degrees of freedom and errs towards larger standard "
           "errors)";
  return r;
}

void NormaliseEffects(std::vector<Eigen::VectorXd>& effects_q, const std::vector<Factor>& factors,
                      const Components& c, Normalisation mode) {
  if (effects_q.size() != factors.size())
    throw Error("NormaliseEffects: " + std::to_string(effects_q.size()) + " effect vectors for " +
                std::to_string(factors.size()) + " factors");
  for (size_t q = 0; q < factors.size(); ++q)
    if (effects_q[q].size() != factors[q].num_levels)
      throw Error("NormaliseEffects: effects of factor '" + factors[q].name + "' have the wrong length");
  if (factors.size() < 2 || mode == Normalisation::kNone) return;
  const size_t n = factors[0].codes_n.size();
  if (c.of_obs_n.size() != n || c.of_level_q.size() != factors.size())
    throw Error("NormaliseEffects: components do not belong to these factors");
  const auto& c0 = factors[0].codes_n;
  std::vector<double> shift_k(static_cast<size_t>(c.count), 0.0);
  if (mode == Normalisation::kFirstFactorMeanZero) {
    for (size_t i = 0; i < n; ++i) shift_k[static_cast<size_t>(c.of_obs_n[i])] += effects_q[0](c0[i]);
    for (int32_t k = 0; k < c.count; ++k)
      if (c.obs_per_component[static_cast<size_t>(k)] > 0)
        shift_k[static_cast<size_t>(k)] /= static_cast<double>(c.obs_per_component[static_cast<size_t>(k)]);
  } else {
    std::vector<uint8_t> set(static_cast<size_t>(c.count), 0);
    for (int32_t g = 0; g < factors[0].num_levels; ++g) {
      const int32_t k = c.of_level_q[0][static_cast<size_t>(g)];
      if (k >= 0 && !set[static_cast<size_t>(k)]) {
        set[static_cast<size_t>(k)] = 1;
        shift_k[static_cast<size_t>(k)] = effects_q[0](g);
      }
    }
  }
  for (int32_t g = 0; g < factors[0].num_levels; ++g) {
    const int32_t k = c.of_level_q[0][static_cast<size_t>(g)];
    if (k >= 0) effects_q[0](g) -= shift_k[static_cast<size_t>(k)];
  }
  for (int32_t h = 0; h < factors[1].num_levels; ++h) {
    const int32_t k = c.of_level_q[1][static_cast<size_t>(h)];
    if (k >= 0) effects_q[1](h) += shift_k[static_cast<size_t>(k)];
  }
  for (size_t q = 2; q < factors.size(); ++q) {
    if (n == 0) break;
    double m = 0.0;
    for (size_t i = 0; i < n; ++i) m += effects_q[q](factors[q].codes_n[i]);
    m /= static_cast<double>(n);
    effects_q[q].array() -= m;
    effects_q[1].array() += m;
  }
}

}  // namespace cwfx::absorb
