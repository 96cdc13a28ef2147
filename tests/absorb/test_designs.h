// Small random fixed-effect designs and a dense least-squares oracle for the
// absorb tests.
#pragma once

#include <Eigen/Dense>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "absorb/factor.h"

namespace cwfx::absorb::testing {

// Q factors over n observations, L levels each (every level used at least once).
// If `blocks` > 1 the levels of every factor are split into `blocks` disjoint
// groups, and each observation draws all its codes from one group, so the
// graph has at least `blocks` connected components.
inline std::vector<Factor> RandomFactors(int64_t n, const std::vector<int32_t>& levels_q, uint64_t seed,
                                         int blocks = 1) {
  std::mt19937_64 rng(seed);
  std::vector<Factor> fs(levels_q.size());
  for (size_t q = 0; q < levels_q.size(); ++q) {
    fs[q].name = std::string(1, static_cast<char>('a' + q));
    fs[q].num_levels = levels_q[q];
    fs[q].codes_n.resize(static_cast<size_t>(n));
  }
  for (int64_t i = 0; i < n; ++i) {
    const int b = static_cast<int>(rng() % static_cast<uint64_t>(blocks));
    for (size_t q = 0; q < levels_q.size(); ++q) {
      const int32_t per = levels_q[q] / blocks;
      const int32_t lo = b * per, hi = (b == blocks - 1) ? levels_q[q] : lo + per;
      int32_t c;
      if (i < levels_q[q]) {
        c = static_cast<int32_t>(i);  // make sure every level appears
      } else {
        c = lo + static_cast<int32_t>(rng() % static_cast<uint64_t>(hi - lo));
      }
      fs[q].codes_n[static_cast<size_t>(i)] = c;
    }
  }
  // Observations i < L_q forced code i: put them in a consistent block to keep
  // the component structure: recode those observations' other factors.
  if (blocks > 1) {
    for (int64_t i = 0; i < n; ++i) {
      // block of factor 0's code decides the others
      const int32_t per0 = levels_q[0] / blocks;
      int b = std::min(blocks - 1, fs[0].codes_n[static_cast<size_t>(i)] / per0);
      for (size_t q = 1; q < levels_q.size(); ++q) {
        const int32_t per = levels_q[q] / blocks;
        const int32_t lo = b * per, hi = (b == blocks - 1) ? levels_q[q] : lo + per;
        int32_t& c = fs[q].codes_n[static_cast<size_t>(i)];
        if (c < lo || c >= hi) c = lo + static_cast<int32_t>(rng() % static_cast<uint64_t>(hi - lo));
      }
    }
  }
  return fs;
}

// Drops unused levels (dense recode), so every level has an observation.
inline void Compact(std::vector<Factor>& fs) {
  for (auto& f : fs) {
    std::vector<int32_t> map(static_cast<size_t>(f.num_levels), -1);
    int32_t next = 0;
    for (auto c : f.codes_n)
      if (map[static_cast<size_t>(c)] < 0) map[static_cast<size_t>(c)] = 0;
    for (auto& m : map)
      if (m == 0) m = next++;
    for (auto& c : f.codes_n) c = map[static_cast<size_t>(c)];
    f.num_levels = next;
  }
}

// A slowly mixing caseworker x citizen design: `caseworkers` in a row, each
// with `per_cw` citizens of 4 observations; a fraction `move` of citizens
// spends its last two observations with the next caseworker (a chain).
inline std::vector<Factor> ChainDesign(int32_t caseworkers, int32_t per_cw, double move, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::vector<Factor> fs(2);
  fs[0].name = "caseworker";
  fs[1].name = "citizen";
  int32_t citizen = 0;
  for (int32_t g = 0; g < caseworkers; ++g) {
    for (int32_t c = 0; c < per_cw; ++c, ++citizen) {
      const bool mover = g + 1 < caseworkers && u(rng) < move;
      for (int t = 0; t < 4; ++t) {
        fs[0].codes_n.push_back(mover && t >= 2 ? g + 1 : g);
        fs[1].codes_n.push_back(citizen);
      }
    }
  }
  fs[0].num_levels = caseworkers;
  fs[1].num_levels = citizen;
  return fs;
}

inline Eigen::MatrixXd Dummies(const std::vector<Factor>& fs) {
  const int64_t n = static_cast<int64_t>(fs[0].codes_n.size());
  int64_t cols = 0;
  for (const auto& f : fs) cols += f.num_levels;
  Eigen::MatrixXd D = Eigen::MatrixXd::Zero(n, cols);
  int64_t off = 0;
  for (const auto& f : fs) {
    for (int64_t i = 0; i < n; ++i) D(i, off + f.codes_n[static_cast<size_t>(i)]) = 1.0;
    off += f.num_levels;
  }
  return D;
}

// Weighted residual of X on the dummies, by a rank-revealing dense solve.
inline Eigen::MatrixXd DenseResidual(const std::vector<Factor>& fs, const std::vector<double>& w,
                                     const Eigen::MatrixXd& X) {
  Eigen::MatrixXd D = Dummies(fs);
  const int64_t n = D.rows();
  Eigen::VectorXd sw = Eigen::VectorXd::Ones(n);
  if (!w.empty())
    for (int64_t i = 0; i < n; ++i) sw(i) = std::sqrt(w[static_cast<size_t>(i)]);
  Eigen::MatrixXd Dw = sw.asDiagonal() * D;
  Eigen::MatrixXd Xw = sw.asDiagonal() * X;
  Eigen::CompleteOrthogonalDecomposition<Eigen::MatrixXd> cod(Dw);
  Eigen::MatrixXd B = cod.solve(Xw);
  return X - D * B;
}

inline Eigen::MatrixXd RandomColumns(int64_t n, int64_t k, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> nd;
  Eigen::MatrixXd X(n, k);
  for (int64_t j = 0; j < k; ++j)
    for (int64_t i = 0; i < n; ++i) X(i, j) = nd(rng) * (1.0 + 10.0 * static_cast<double>(j));
  return X;
}

inline std::vector<double> RandomWeights(int64_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0.2, 3.0);
  std::vector<double> w(static_cast<size_t>(n));
  for (auto& x : w) x = u(rng);
  return w;
}

}  // namespace cwfx::absorb::testing
