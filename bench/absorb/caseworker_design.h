// A caseworker-citizen register for the absorb benchmarks: citizens with 4-5
// observations each, caseworkers with 30-200 citizens, caseworkers grouped in
// offices of 50; 10% of citizens move once to another caseworker of the same
// office, 1% to any caseworker (so the graph is connected, but mixes slowly).
// Observations are sorted by citizen, as in a register.
#pragma once

#include <Eigen/Dense>

#include <cstdint>
#include <random>
#include <vector>

#include "absorb/factor.h"

namespace cwfx::bench {

struct CaseworkerDesign {
  std::vector<absorb::Factor> factors;  // 0 = caseworker, 1 = citizen
  Eigen::MatrixXd columns_nk;           // 15 covariates + outcome
};

inline CaseworkerDesign MakeCaseworkerDesign(int64_t n, int k = 16, uint64_t seed = 1) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> obs_per_citizen(4, 5), citizens_per_cw(30, 200);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  CaseworkerDesign d;
  d.factors.resize(2);
  d.factors[0].name = "caseworker";
  d.factors[1].name = "citizen";
  auto& cw = d.factors[0].codes_n;
  auto& ci = d.factors[1].codes_n;
  cw.reserve(static_cast<size_t>(n));
  ci.reserve(static_cast<size_t>(n));
  int32_t citizen = 0, caseworker = 0;
  int left_for_cw = citizens_per_cw(rng);
  while (static_cast<int64_t>(cw.size()) < n) {
    if (left_for_cw-- == 0) {
      ++caseworker;
      left_for_cw = citizens_per_cw(rng) - 1;
    }
    const int m = obs_per_citizen(rng);
    const double r = u(rng);
    int32_t dest = caseworker;
    if (r < 0.01) {
      dest = static_cast<int32_t>(rng() % static_cast<uint64_t>(caseworker + 1));
    } else if (r < 0.11) {
      const int32_t office = caseworker / 50;
      dest = office * 50 + static_cast<int32_t>(rng() % 50);
      if (dest > caseworker) dest = caseworker;  // only caseworkers that exist so far
    }
    const int switch_at = 1 + static_cast<int>(rng() % static_cast<uint64_t>(m - 1));
    for (int t = 0; t < m && static_cast<int64_t>(cw.size()) < n; ++t) {
      cw.push_back(t < switch_at ? caseworker : dest);
      ci.push_back(citizen);
    }
    ++citizen;
  }
  d.factors[0].num_levels = caseworker + 1;
  d.factors[1].num_levels = citizen;
  // Effects plus noise.
  std::normal_distribution<double> nd;
  std::vector<double> cw_eff(static_cast<size_t>(caseworker + 1)), ci_eff(static_cast<size_t>(citizen));
  for (auto& e : cw_eff) e = nd(rng);
  for (auto& e : ci_eff) e = 2.0 * nd(rng);
  d.columns_nk.resize(n, k);
  for (int j = 0; j < k; ++j) {
    const double a = 0.3 * (j % 3), b = 0.5 * (j % 2);
    for (int64_t i = 0; i < n; ++i)
      d.columns_nk(i, j) = a * cw_eff[static_cast<size_t>(cw[static_cast<size_t>(i)])] +
                           b * ci_eff[static_cast<size_t>(ci[static_cast<size_t>(i)])] + nd(rng);
  }
  return d;
}

}  // namespace cwfx::bench
