// Identification helpers against brute-force oracles: recount loops for
// singletons, BFS for components, the rank of the dummy matrix for the dof.
#include "absorb/identify.h"

#include <gtest/gtest.h>

#include <queue>

#include "test_designs.h"

namespace cwfx::absorb {
namespace {

using testing::RandomFactors;

// Repeatedly recount every level over the kept observations and drop every
// observation with a singleton level, until nothing changes.
std::vector<uint8_t> BruteForceNonSingletons(const std::vector<Factor>& fs, int* rounds) {
  const size_t n = fs[0].codes_n.size();
  std::vector<uint8_t> keep(n, 1);
  *rounds = 0;
  while (true) {
    std::vector<std::vector<int>> cnt(fs.size());
    for (size_t q = 0; q < fs.size(); ++q) {
      cnt[q].assign(static_cast<size_t>(fs[q].num_levels), 0);
      for (size_t i = 0; i < n; ++i)
        if (keep[i]) ++cnt[q][static_cast<size_t>(fs[q].codes_n[i])];
    }
    std::vector<size_t> drop;
    for (size_t i = 0; i < n; ++i) {
      if (!keep[i]) continue;
      for (size_t q = 0; q < fs.size(); ++q)
        if (cnt[q][static_cast<size_t>(fs[q].codes_n[i])] == 1) {
          drop.push_back(i);
          break;
        }
    }
    if (drop.empty()) break;
    for (auto i : drop) keep[i] = 0;
    ++*rounds;
  }
  return keep;
}

TEST(Singletons, MatchesBruteForceOnRandomDesigns) {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    for (int Q : {1, 2, 3}) {
      std::vector<int32_t> levels = {40, 120, 15};
      levels.resize(static_cast<size_t>(Q));
      auto fs = RandomFactors(200, levels, seed);
      SingletonReport rep;
      const auto keep = FindNonSingletons(fs, &rep);
      int rounds = 0;
      const auto expected = BruteForceNonSingletons(fs, &rounds);
      ASSERT_EQ(keep, expected) << "seed " << seed << " Q " << Q;
      int64_t dropped = 0;
      for (auto k : expected) dropped += k == 0;
      EXPECT_EQ(rep.dropped, dropped);
      EXPECT_EQ(rep.rounds, rounds);
    }
  }
}

// A chain 0-0, 1-0, 1-1, 2-1, ... : removing the singleton at one end
// exposes the next one: a full cascade, one observation per round.
TEST(Singletons, CascadeAlongAChain) {
  std::vector<Factor> fs(2);
  const int32_t L = 30;
  fs[0].num_levels = L;
  fs[1].num_levels = L;
  for (int32_t g = 0; g < L; ++g) {
    fs[0].codes_n.push_back(g);
    fs[1].codes_n.push_back(g);
    if (g + 1 < L) {
      fs[0].codes_n.push_back(g + 1);
      fs[1].codes_n.push_back(g);
    }
  }
  SingletonReport rep;
  const auto keep = FindNonSingletons(fs, &rep);
  int rounds = 0;
  EXPECT_EQ(keep, BruteForceNonSingletons(fs, &rounds));
  EXPECT_EQ(rep.dropped, static_cast<int64_t>(fs[0].codes_n.size()));  // everything goes
  EXPECT_EQ(rep.rounds, rounds);
  EXPECT_GT(rep.rounds, 10);
}

TEST(Subset, RecodesDenselyKeepingOrder) {
  Factor f{"f", {5, 2, 7, 2, 5, 0}, 8};
  const std::vector<int64_t> rows = {0, 1, 3, 4};
  const auto r = SubsetFactor(f, rows);
  EXPECT_EQ(r.factor.num_levels, 2);
  EXPECT_EQ(r.old_level_g, (std::vector<int32_t>{2, 5}));
  EXPECT_EQ(r.factor.codes_n, (std::vector<int32_t>{1, 0, 0, 1}));
  EXPECT_EQ(KeptRows({1, 0, 1, 1}), (std::vector<int64_t>{0, 2, 3}));
}

// Components by breadth-first search over the observation-level graph of the
// first two factors.
std::vector<int32_t> BfsComponents(const std::vector<Factor>& fs, int32_t* count) {
  const int32_t L0 = fs[0].num_levels, L1 = fs[1].num_levels;
  std::vector<std::vector<int32_t>> adj(static_cast<size_t>(L0 + L1));
  for (size_t i = 0; i < fs[0].codes_n.size(); ++i) {
    adj[static_cast<size_t>(fs[0].codes_n[i])].push_back(L0 + fs[1].codes_n[i]);
    adj[static_cast<size_t>(L0 + fs[1].codes_n[i])].push_back(fs[0].codes_n[i]);
  }
  std::vector<int32_t> comp(adj.size(), -1);
  *count = 0;
  for (size_t s = 0; s < adj.size(); ++s) {
    if (comp[s] >= 0 || adj[s].empty()) continue;
    std::queue<int32_t> bfs;
    bfs.push(static_cast<int32_t>(s));
    comp[s] = *count;
    while (!bfs.empty()) {
      const int32_t v = bfs.front();
      bfs.pop();
      for (auto u : adj[static_cast<size_t>(v)])
        if (comp[static_cast<size_t>(u)] < 0) comp[static_cast<size_t>(u)] = *count, bfs.push(u);
    }
    ++*count;
  }
  return comp;
}

TEST(Components, MatchBreadthFirstSearch) {
  for (uint64_t seed = 1; seed <= 10; ++seed) {
    for (int blocks : {1, 2, 5}) {
      auto fs = RandomFactors(150, {40, 90, 6}, seed, blocks);
      testing::Compact(fs);
      const Components c = FindComponents(fs);
      int32_t count = 0;
      const auto bfs = BfsComponents(fs, &count);
      ASSERT_EQ(c.count, count);
      // Same partition: equal ids under a bijection.
      std::vector<int32_t> to_bfs(static_cast<size_t>(count), -1);
      int64_t total = 0;
      for (size_t i = 0; i < fs[0].codes_n.size(); ++i) {
        const int32_t k = c.of_obs_n[i];
        const int32_t b = bfs[static_cast<size_t>(fs[0].codes_n[i])];
        ASSERT_EQ(b, bfs[static_cast<size_t>(fs[0].num_levels + fs[1].codes_n[i])]);
        if (to_bfs[static_cast<size_t>(k)] < 0) to_bfs[static_cast<size_t>(k)] = b;
        ASSERT_EQ(to_bfs[static_cast<size_t>(k)], b);
        EXPECT_EQ(c.of_level_q[0][static_cast<size_t>(fs[0].codes_n[i])], k);
        EXPECT_EQ(c.of_level_q[1][static_cast<size_t>(fs[1].codes_n[i])], k);
      }
      for (auto m : c.obs_per_component) total += m;
      EXPECT_EQ(total, static_cast<int64_t>(fs[0].codes_n.size()));
      EXPECT_EQ(c.of_obs_n[0], 0);
      // Largest component mask.
      const auto keep = KeepLargestComponent(c);
      int64_t kept = 0;
      for (auto k : keep) kept += k;
      EXPECT_EQ(kept, *std::max_element(c.obs_per_component.begin(), c.obs_per_component.end()));
    }
  }
}

TEST(Components, OneFactorIsOneComponent) {
  auto fs = RandomFactors(50, {7}, 1);
  const Components c = FindComponents(fs);
  EXPECT_EQ(c.count, 1);
  EXPECT_EQ(c.obs_per_component, (std::vector<int64_t>{50}));
}

int64_t Rank(const std::vector<Factor>& fs) {
  Eigen::ColPivHouseholderQR<Eigen::MatrixXd> qr(testing::Dummies(fs));
  return qr.rank();
}

TEST(Dof, MatchesRankOfDummyMatrix) {
  for (uint64_t seed = 1; seed <= 8; ++seed) {
    for (int blocks : {1, 3}) {
      for (int Q : {1, 2, 3}) {
        std::vector<int32_t> levels = {20, 60, 5};
        levels.resize(static_cast<size_t>(Q));
        auto fs = RandomFactors(160, levels, seed, blocks);
        testing::Compact(fs);
        const Components c = FindComponents(fs);
        const DofReport d = AbsorbedDof(fs, c);
        const int64_t rank = Rank(fs);
        EXPECT_FALSE(d.rule.empty());
        if (Q <= 2) {
          EXPECT_TRUE(d.exact);
          EXPECT_EQ(d.absorbed, rank) << "seed " << seed << " Q " << Q << " blocks " << blocks;
        } else {
          EXPECT_FALSE(d.exact);
          EXPECT_GE(d.absorbed, rank);  // never under-counts
        }
      }
    }
  }
}

TEST(Normalise, KeepsSumsAndCentresFirstFactorPerComponent) {
  auto fs = RandomFactors(300, {30, 80, 4}, 3, 3);
  testing::Compact(fs);
  const Components c = FindComponents(fs);
  ASSERT_GE(c.count, 3);
  std::mt19937_64 rng(1);
  std::normal_distribution<double> nd;
  std::vector<Eigen::VectorXd> eff;
  for (const auto& f : fs) {
    Eigen::VectorXd e(f.num_levels);
    for (auto& v : e) v = nd(rng) + 5.0;
    eff.push_back(e);
  }
  auto sum_at = [&](const std::vector<Eigen::VectorXd>& e, size_t i) {
    double s = 0;
    for (size_t q = 0; q < fs.size(); ++q) s += e[q](fs[q].codes_n[i]);
    return s;
  };
  for (auto mode : {Normalisation::kFirstFactorMeanZero, Normalisation::kFirstFactorReference}) {
    auto e = eff;
    NormaliseEffects(e, fs, c, mode);
    for (size_t i = 0; i < fs[0].codes_n.size(); ++i) EXPECT_NEAR(sum_at(e, i), sum_at(eff, i), 1e-12);
    std::vector<double> mean(static_cast<size_t>(c.count), 0.0);
    for (size_t i = 0; i < fs[0].codes_n.size(); ++i) mean[static_cast<size_t>(c.of_obs_n[i])] += e[0](fs[0].codes_n[i]);
    if (mode == Normalisation::kFirstFactorMeanZero) {
      for (int32_t k = 0; k < c.count; ++k) EXPECT_NEAR(mean[static_cast<size_t>(k)], 0.0, 1e-10);
    } else {
      for (int32_t g = 0; g < fs[0].num_levels; ++g) {
        const int32_t k = c.of_level_q[0][static_cast<size_t>(g)];
        bool first = true;
        for (int32_t h = 0; h < g; ++h) first = first && c.of_level_q[0][static_cast<size_t>(h)] != k;
        if (first) {
          EXPECT_EQ(e[0](g), 0.0);
        }
      }
    }
    double m2 = 0;
    for (size_t i = 0; i < fs[0].codes_n.size(); ++i) m2 += e[2](fs[2].codes_n[i]);
    EXPECT_NEAR(m2, 0.0, 1e-10);
  }
  // One factor: untouched.
  std::vector<Factor> one = {fs[0]};
  std::vector<Eigen::VectorXd> e1 = {eff[0]};
  NormaliseEffects(e1, one, FindComponents(one));
  EXPECT_TRUE(e1[0] == eff[0]);
}

}  // namespace
}  // namespace cwfx::absorb
