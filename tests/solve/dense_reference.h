// Dense oracles for the fixed-effect tests (header-only, test code): random
// small designs, explicit dummy matrices, least squares by column-pivoting QR.
#pragma once

#include <Eigen/Dense>

#include <cstdint>
#include <random>
#include <vector>

namespace cwfx::testing {

struct RandomFactors {
  std::vector<std::vector<int32_t>> codes_q_n;
  std::vector<int32_t> levels_q;
};

// Q factors over n observations. Factor 0 has levels_q[0] levels drawn
// uniformly; factor q>0 levels are drawn within `blocks` disjoint blocks tied
// to factor 0's level (so blocks > 1 gives a disconnected graph). Every level
// is guaranteed at least `min_per_level` observations (by construction of the
// first rows). Codes are dense.
inline RandomFactors MakeFactors(int64_t n, std::vector<int32_t> levels_q, int blocks, uint64_t seed,
                                 int min_per_level = 2) {
  std::mt19937_64 rng(seed);
  RandomFactors f;
  f.levels_q = levels_q;
  const int num_q = static_cast<int>(levels_q.size());
  f.codes_q_n.assign(static_cast<size_t>(num_q), std::vector<int32_t>(static_cast<size_t>(n)));
  const int32_t g0 = levels_q[0];
  auto block_of0 = [&](int32_t a) { return static_cast<int32_t>(static_cast<int64_t>(a) * blocks / g0); };
  for (int64_t i = 0; i < n; ++i) {
    int32_t a = i < static_cast<int64_t>(g0) * min_per_level
                    ? static_cast<int32_t>(i % g0)
                    : static_cast<int32_t>(std::uniform_int_distribution<int32_t>(0, g0 - 1)(rng));
    f.codes_q_n[0][i] = a;
  }
  for (int q = 1; q < num_q; ++q) {
    const int32_t gq = levels_q[q];
    const int32_t per_block = gq / blocks;
    for (int64_t i = 0; i < n; ++i) {
      const int32_t b = block_of0(f.codes_q_n[0][i]);
      const int32_t lo = b * per_block, hi = (b == blocks - 1 ? gq : lo + per_block) - 1;
      f.codes_q_n[q][i] = std::uniform_int_distribution<int32_t>(lo, hi)(rng);
    }
    // Make sure every level appears: assign the first levels deterministically
    // to observations of the right block.
    std::vector<int> seen(static_cast<size_t>(gq), 0);
    for (int64_t i = 0; i < n; ++i) seen[f.codes_q_n[q][i]]++;
    for (int32_t g = 0; g < gq; ++g) {
      const int32_t b = std::min(blocks - 1, per_block > 0 ? g / per_block : 0);
      while (seen[g] < min_per_level) {
        // find an observation in block b whose level has > min_per_level obs
        for (int64_t i = 0; i < n; ++i) {
          const int32_t cur = f.codes_q_n[q][i];
          if (block_of0(f.codes_q_n[0][i]) == b && seen[cur] > min_per_level) {
            seen[cur]--;
            f.codes_q_n[q][i] = g;
            seen[g]++;
            break;
          }
        }
      }
    }
  }
  return f;
}

// n x G dummy matrix of one factor.
inline Eigen::MatrixXd Dummies(const std::vector<int32_t>& codes_n, int32_t levels) {
  Eigen::MatrixXd d = Eigen::MatrixXd::Zero(static_cast<Eigen::Index>(codes_n.size()), levels);
  for (size_t i = 0; i < codes_n.size(); ++i) d(static_cast<Eigen::Index>(i), codes_n[i]) = 1.0;
  return d;
}

// All factors' dummies side by side (rank deficient when Q >= 2).
inline Eigen::MatrixXd AllDummies(const RandomFactors& f) {
  Eigen::Index cols = 0;
  for (int32_t g : f.levels_q) cols += g;
  Eigen::MatrixXd d(static_cast<Eigen::Index>(f.codes_q_n[0].size()), cols);
  Eigen::Index at = 0;
  for (size_t q = 0; q < f.levels_q.size(); ++q) {
    d.middleCols(at, f.levels_q[q]) = Dummies(f.codes_q_n[q], f.levels_q[q]);
    at += f.levels_q[q];
  }
  return d;
}

// Weighted residual of columns v on the span of z (any rank), via QR.
inline Eigen::MatrixXd DenseResidual(const Eigen::MatrixXd& z, const Eigen::MatrixXd& v,
                                     const Eigen::VectorXd& w) {
  const Eigen::VectorXd sw = w.size() ? Eigen::VectorXd(w.cwiseSqrt()) : Eigen::VectorXd::Ones(z.rows());
  Eigen::MatrixXd zs = sw.asDiagonal() * z;
  Eigen::MatrixXd vs = sw.asDiagonal() * v;
  Eigen::CompleteOrthogonalDecomposition<Eigen::MatrixXd> cod;
  cod.setThreshold(1e-10);
  cod.compute(zs);
  Eigen::MatrixXd coef = cod.solve(vs);
  return v - z * coef;
}

inline int DenseRank(const Eigen::MatrixXd& z) {
  Eigen::ColPivHouseholderQR<Eigen::MatrixXd> qr;
  qr.setThreshold(1e-10);
  qr.compute(z);
  return static_cast<int>(qr.rank());
}

}  // namespace cwfx::testing
