// Accelerated alternating projections on fixed-effect coefficients.
//
// CONVENTION: a suffix tells an array's length: _n observations, _g levels of
// one factor, _l levels of all factors together (global level index
// l = level_offset[q] + g), _s state coefficients (levels of factors 0..Q-2),
// _c collapsed cells, _q factors.
//
// KERNEL. For factor q, the observations are sorted by (code_q, other codes,
// observation index) and runs of identical codes are merged into cells with
// summed weights; row g of factor q lists its cells, each holding the global
// level indices of the other Q-1 factors. One Gauss-Seidel update of factor q
// is then a sparse matrix-vector product over that CSR structure:
//   a[l(q,g)] = (Sx[l(q,g)] - sum_{cells e of row g} w_e * sum_o a[other_o(e)]) / W[l(q,g)]
// Rows are independent (a cell never refers to its own factor), so the rows of
// one factor are updated in parallel, each summed sequentially: the result does
// not depend on how rows are split between threads.
//
// ACCELERATION (Irons and Tuck 1969, as used by Berge 2018 / fixest): with X the
// state, GX = G(X), GGX = G(GX), d = GGX - GX, d2 = GGX - 2 GX + X,
//   X <- GGX - (<d, d2> / <d2, d2>) d,
// followed from the 40th sweep on by one plain sweep after each extrapolation.
// Inner products are summed over fixed blocks folded in order.
//
// CONJUGATE GRADIENT (default). The normal equations' block of the last factor
// is diagonal (W_last), so it is eliminated exactly; the state v (factors
// 0..Q-2) solves the Schur complement system
//   S v = b,  S = A_ss - A_sl W_last^-1 A_ls,  b = Sx_s - A_sl W_last^-1 Sx_last,
// a weighted graph Laplacian for two factors (singular once per connected
// component; b is consistent, so CG stays in the range). Preconditioner:
// diag(S), computed exactly at construction (0 for levels whose diagonal
// vanishes: their component has nothing to identify). Columns are solved in
// blocks of up to 8, interleaved [level][column], so one pass over the cells
// serves the whole block; for two factors the product S p is one fused pass
// over factor 1's cells with scatter buffers per fixed block of factor-1
// levels (deterministic). References: Hestenes and Stiefel (1952) for CG; the
// reduced Laplacian system is trick 4 of /work/shared/ALGORITHMS.md (solved
// there directly by CHOLMOD in the solve module; here iteratively).
#include "absorb/absorber.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <iomanip>
#include <limits>
#include <mutex>
#include <numeric>
#include <sstream>

#include "core/error.h"

namespace cwfx::absorb {

namespace {

constexpr int64_t kObsBlock = int64_t{1} << 15;    // fixed reduction blocks over observations
constexpr int64_t kStateBlock = int64_t{1} << 12;  // fixed reduction blocks over state coefficients
constexpr int64_t kCellsPerTask = 8192;            // target work per parallel chunk of rows
constexpr int kProjectAfterAccelerationFrom = 40;  // sweeps before the post-extrapolation sweep starts
constexpr int kMaxParts = 3;                       // partial sums per reduction block
// Conjugate gradient stops at this criterion at the latest (below it, rounding
// in the implicit Schur complement can stall it) and when its criterion has
// not improved for kCgStagnation iterations; the accelerated sweeps, which do
// not amplify rounding, then finish the job from where it stopped.
constexpr double kCgFloor = 1e-10;
// Workspace bytes of one block of columns above which blocks run one after
// the other rather than side by side.
constexpr double kMaxBlockBytesSideBySide = 64.0 * 1024 * 1024;
constexpr int kCgStagnation = 50;
constexpr int64_t kFusedBlocks = 16;  // fixed scatter blocks of the fused two-factor Schur product

// Per-block partial results of fn(lo, hi, out[kMaxParts]) over fixed blocks,
// written to parts; the caller folds them in block order.
template <class Fn>
int64_t ReduceBlocks(const parallel::Context& ctx, int64_t n, int64_t block, double* parts, Fn&& fn,
                     int64_t stride = kMaxParts) {
  const int64_t nblocks = (n + block - 1) / block;
  parallel::ParallelFor(ctx, 0, nblocks, 1, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) fn(b * block, std::min(n, (b + 1) * block), parts + b * stride);
  });
  return nblocks;
}

}  // namespace

// Per-column scratch, taken from the plan's pool before a column's iterations.
struct Absorber::Workspace {
  std::vector<double> a_l, sx_l, x_s, gx_s, parts;
  std::vector<double> t_l, r_s, q_s, z_s;  // conjugate gradient only
};

struct Absorber::Plan {
  int num_factors = 0;
  int64_t num_obs = 0;
  std::vector<int64_t> level_offset_q;  // Q + 1 entries
  int64_t num_levels_total = 0;
  int64_t num_state = 0;  // levels of factors 0..Q-2
  std::vector<double> inv_weight_l;
  std::vector<double> weight_l;
  // Conjugate gradient on the Schur complement of the state system (factor
  // Q-1 eliminated): 1 / its diagonal, 0 where the diagonal vanishes (a level
  // whose every link runs through factor Q-1 levels of its own).
  std::vector<double> schur_inv_diag_s;

  struct FactorCells {
    std::vector<int64_t> row_obs_g;   // L + 1 offsets into perm_n
    std::vector<int32_t> perm_n;      // observations sorted by (code, other codes, index)
    std::vector<int64_t> row_cell_g;  // L + 1 offsets into cells
    std::vector<int32_t> other_c;     // (Q - 1) global level indices per cell
    std::vector<double> weight_c;     // summed observation weight per cell
    int64_t grain = 1;                // rows per parallel chunk
  };
  std::vector<FactorCells> cells_q;

  using Workspace = Absorber::Workspace;
  mutable std::mutex pool_mutex;
  mutable std::vector<std::unique_ptr<Workspace>> pool;

  std::unique_ptr<Workspace> Acquire() const {
    {
      std::lock_guard<std::mutex> lock(pool_mutex);
      if (!pool.empty()) {
        auto ws = std::move(pool.back());
        pool.pop_back();
        return ws;
      }
    }
    auto ws = std::make_unique<Workspace>();
    ws->a_l.resize(static_cast<size_t>(num_levels_total));
    ws->sx_l.resize(static_cast<size_t>(num_levels_total));
    ws->x_s.resize(static_cast<size_t>(num_state));
    ws->gx_s.resize(static_cast<size_t>(num_state));
    const int64_t blocks = std::max((num_obs + kObsBlock - 1) / kObsBlock, (num_state + kStateBlock - 1) / kStateBlock);
    ws->parts.resize(static_cast<size_t>(std::max<int64_t>(1, blocks) * kMaxParts));
    return ws;
  }
  void Release(std::unique_ptr<Workspace> ws) const {
    std::lock_guard<std::mutex> lock(pool_mutex);
    pool.push_back(std::move(ws));
  }
  // Keeps at most `count` pooled workspaces: a block of columns pools one
  // per column, which on a large register outlives its use (16 bytes per
  // level each: 0.4 GB at 10^7 rows and 2 million citizens).
  void TrimPool(size_t count) const {
    std::lock_guard<std::mutex> lock(pool_mutex);
    if (pool.size() > count) pool.resize(count);
  }

  // For each row g of factor q (global level l = offset_q + g):
  //   s = sum_{cells e of row g} w_e * sum_o z_l[other_o(e)],  then out(l, s).
  // Rows are summed sequentially and written only by out, in parallel.
  template <class Out>
  void RowPass(int q, const double* z_l, const parallel::Context& ctx, Out&& out) const {
    const FactorCells& fc = cells_q[static_cast<size_t>(q)];
    const int64_t off = level_offset_q[static_cast<size_t>(q)];
    const int64_t levels = level_offset_q[static_cast<size_t>(q) + 1] - off;
    const int m = num_factors - 1;
    const int64_t* row = fc.row_cell_g.data();
    const int32_t* other = fc.other_c.data();
    const double* w = fc.weight_c.data();
    parallel::ParallelFor(ctx, 0, levels, fc.grain, [&](int64_t g0, int64_t g1) {
      if (m == 1) {
        for (int64_t g = g0; g < g1; ++g) {
          double s = 0.0;
          for (int64_t e = row[g]; e < row[g + 1]; ++e) s += w[e] * z_l[other[e]];
          out(off + g, s);
        }
      } else {
        for (int64_t g = g0; g < g1; ++g) {
          double s = 0.0;
          for (int64_t e = row[g]; e < row[g + 1]; ++e) {
            const int32_t* o = other + e * m;
            double t = 0.0;
            for (int k = 0; k < m; ++k) t += z_l[o[k]];
            s += w[e] * t;
          }
          out(off + g, s);
        }
      }
    });
  }

  // One Gauss-Seidel update of factor q in a_l (in place: a row never reads
  // its own factor).
  void UpdateFactor(int q, const double* sx_l, double* a_l, const parallel::Context& ctx) const {
    const double* inv = inv_weight_l.data();
    RowPass(q, a_l, ctx, [&](int64_t l, double s) { a_l[l] = (sx_l[l] - s) * inv[l]; });
  }

  ColumnConvergence SolveSchurCg(const double* sx, double inv_scale, double tolerance, int max_iterations,
                                 Workspace& ws, const parallel::Context& ctx, const SchurPreconditioner* pre,
                                 int probe_at = 0) const;

  // Conjugate gradient for B columns at once (the same Schur system, the same
  // criterion as SolveSchurCg), so every pass over the cells serves B columns:
  // block vectors are interleaved, element (l, j) at [l * B + j]. A column
  // that converges (or stalls) is frozen (step 0) while the others go on.
  // On entry ws[j]->sx_l holds column j's level sums; on exit ws[j]->a_l holds
  // its state and the eliminated factor Q-1.
  // With `pre`, z = pre^-1 r replaces the Jacobi step. With b_sb (S x B,
  // interleaved) the system's right-hand side is b_sb instead of the one
  // from the level sums, and factor Q-1 is not filled in.
  template <int B>
  void BlockCg(Workspace* const* ws, const double* inv_scale, double tolerance, int max_iterations,
               ColumnConvergence* out, const parallel::Context& ctx, const SchurPreconditioner* pre,
               const double* b_sb = nullptr) const;

  // Two factors, B columns: qv = S p in ONE pass over factor 1's cells,
  // without materialising u = W_1^-1 A_10 p: for each factor-1 level h,
  // u_h = (sum_e w_e p[g_e]) / W_h, then every cell scatters w_e u_h into its
  // factor-0 level g_e. The scatter goes to one buffer per fixed block of
  // factor-1 levels (nblk blocks, chosen from the sizes only), folded in block
  // order: deterministic for any thread count. qv = W_0 p - sum of buffers.
  template <int B>
  void ApplySchurFused(const double* p_sb, double* qv_sb, double* partial, int64_t nblk,
                       const parallel::Context& ctx) const {
    const FactorCells& fc = cells_q[1];
    const int64_t off = level_offset_q[1];
    const int64_t L1 = level_offset_q[2] - off;
    const int64_t S = num_state;
    const int64_t* row = fc.row_cell_g.data();
    const int32_t* other = fc.other_c.data();
    const double* w = fc.weight_c.data();
    const double* inv = inv_weight_l.data() + off;
    parallel::ParallelFor(ctx, 0, nblk, 1, [&](int64_t b0, int64_t b1) {
      for (int64_t blk = b0; blk < b1; ++blk) {
        double* acc = partial + blk * S * B;
        std::fill(acc, acc + S * B, 0.0);
        const int64_t h0 = blk * L1 / nblk, h1 = (blk + 1) * L1 / nblk;
        alignas(64) double u[B];
        for (int64_t h = h0; h < h1; ++h) {
          for (int j = 0; j < B; ++j) u[j] = 0.0;
          for (int64_t e = row[h]; e < row[h + 1]; ++e) {
            const double* pg = p_sb + static_cast<int64_t>(other[e]) * B;
            for (int j = 0; j < B; ++j) u[j] += w[e] * pg[j];
          }
          for (int j = 0; j < B; ++j) u[j] *= inv[h];
          for (int64_t e = row[h]; e < row[h + 1]; ++e) {
            double* ag = acc + static_cast<int64_t>(other[e]) * B;
            for (int j = 0; j < B; ++j) ag[j] += w[e] * u[j];
          }
        }
      }
    });
    const double* wl = weight_l.data();
    parallel::ParallelFor(ctx, 0, S, kStateBlock, [&](int64_t lo, int64_t hi) {
      for (int64_t l = lo; l < hi; ++l)
        for (int j = 0; j < B; ++j) {
          double sum = 0.0;
          for (int64_t blk = 0; blk < nblk; ++blk) sum += partial[(blk * S + l) * B + j];
          qv_sb[l * B + j] = wl[l] * p_sb[l * B + j] - sum;
        }
    });
  }

  template <int B, class Out>
  void RowPassBlock(int q, const double* z_lb, const parallel::Context& ctx, Out&& out) const {
    const FactorCells& fc = cells_q[static_cast<size_t>(q)];
    const int64_t off = level_offset_q[static_cast<size_t>(q)];
    const int64_t levels = level_offset_q[static_cast<size_t>(q) + 1] - off;
    const int m = num_factors - 1;
    const int64_t* row = fc.row_cell_g.data();
    const int32_t* other = fc.other_c.data();
    const double* w = fc.weight_c.data();
    parallel::ParallelFor(ctx, 0, levels, std::max<int64_t>(1, fc.grain / 2), [&](int64_t g0, int64_t g1) {
      alignas(64) double s[B];
      if (m == 1) {
        for (int64_t g = g0; g < g1; ++g) {
          for (int j = 0; j < B; ++j) s[j] = 0.0;
          for (int64_t e = row[g]; e < row[g + 1]; ++e) {
            const double we = w[e];
            const double* __restrict z = z_lb + static_cast<int64_t>(other[e]) * B;
            for (int j = 0; j < B; ++j) s[j] += we * z[j];
          }
          out(off + g, s);
        }
      } else {
        for (int64_t g = g0; g < g1; ++g) {
          for (int j = 0; j < B; ++j) s[j] = 0.0;
          for (int64_t e = row[g]; e < row[g + 1]; ++e) {
            const double we = w[e];
            const int32_t* o = other + e * m;
            for (int j = 0; j < B; ++j) {
              double t = 0.0;
              for (int k = 0; k < m; ++k) t += z_lb[static_cast<int64_t>(o[k]) * B + j];
              s[j] += we * t;
            }
          }
          out(off + g, s);
        }
      }
    });
  }

  // G: factor Q-1 from the state, then factors 0..Q-2 in order.
  void Sweep(const double* sx_l, double* a_l, const parallel::Context& ctx) const {
    UpdateFactor(num_factors - 1, sx_l, a_l, ctx);
    for (int q = 0; q + 1 < num_factors; ++q) UpdateFactor(q, sx_l, a_l, ctx);
  }
};

template <int B>
void Absorber::Plan::BlockCg(Workspace* const* ws, const double* inv_scale, double tolerance, int max_iterations,
                             ColumnConvergence* out, const parallel::Context& ctx, const SchurPreconditioner* pre,
                             const double* b_sb) const {
  const int Q = num_factors;
  const int64_t S = num_state;
  const int64_t L = num_levels_total;
  const int64_t last_off = level_offset_q[static_cast<size_t>(Q) - 1];
  const double* inv = inv_weight_l.data();
  const double* wl = weight_l.data();
  const double* minv = schur_inv_diag_s.data();
  // Two factors: the fused Schur product (see ApplySchurFused) when its
  // per-block buffers stay small next to the factor-1 levels.
  const int64_t L1 = L - last_off;
  const int64_t fused_blocks = Q == 2 ? std::min<int64_t>(kFusedBlocks, L1 / std::max<int64_t>(1, 2 * S)) : 0;
  std::vector<double> partial(fused_blocks >= 2 ? static_cast<size_t>(fused_blocks * S * B) : 0);
  if (fused_blocks < 2) partial.clear();
  const int64_t use_fused = fused_blocks >= 2 ? fused_blocks : 0;
  // Block scratch: allocated once per block of columns, before the iterations.
  // t spans every level only when a pass needs the eliminated factors' part
  // (the level sums' right-hand side, or the unfused product): at 10^7 rows
  // the full block was 130 MB of fresh pages per call of SolveSchur.
  const bool state_only = b_sb != nullptr && use_fused > 0;
  std::vector<double> t(static_cast<size_t>((state_only ? S : L) * B)), r(static_cast<size_t>(S * B)),
      qv(static_cast<size_t>(S * B)), z(static_cast<size_t>(S * B));
  const int64_t nblocks = std::max<int64_t>(1, (S + kStateBlock - 1) / kStateBlock);
  std::vector<double> parts(static_cast<size_t>(nblocks * 3 * B));
  double* a[B];
  const double* sx[B];
  for (int j = 0; j < B; ++j) a[j] = ws[j]->a_l.data(), sx[j] = ws[j]->sx_l.data();
  auto fold = [&](int64_t nb, int k, bool is_max, double* res) {
    for (int j = 0; j < B; ++j) res[j] = 0.0;
    for (int64_t b = 0; b < nb; ++b)
      for (int j = 0; j < B; ++j) {
        const double v = parts[static_cast<size_t>((b * 3 + k) * B + j)];
        res[j] = is_max ? std::max(res[j], v) : res[j] + v;
      }
  };

  // b into r.
  if (b_sb != nullptr) {
    std::copy(b_sb, b_sb + S * B, r.begin());
  } else {
    std::fill(t.begin(), t.begin() + S * B, 0.0);
    for (int64_t l = last_off; l < L; ++l)
      for (int j = 0; j < B; ++j) t[static_cast<size_t>(l * B + j)] = -sx[j][l] * inv[l];
    for (int q = 0; q + 1 < Q; ++q)
      RowPassBlock<B>(q, t.data(), ctx, [&](int64_t l, const double* s) {
        for (int j = 0; j < B; ++j) r[static_cast<size_t>(l * B + j)] = sx[j][l] + s[j];
      });
  }
  // With b_sb only the state part of a is the answer (and read).
  for (int j = 0; j < B; ++j) std::fill(a[j], a[j] + (b_sb != nullptr ? S : L), 0.0);
  if (pre != nullptr) pre->Apply(r.data(), z.data(), B);

  double rz[B], crit[B], alpha[B], beta[B], best[B], tmp[B], step[B];
  int best_it[B];
  bool active[B];
  int64_t nb = ReduceBlocks(ctx, S, kStateBlock, parts.data(), [&](int64_t lo, int64_t hi, double* o) {
    double prz[B] = {}, pzmax[B] = {};
    for (int64_t l = lo; l < hi; ++l)
      for (int j = 0; j < B; ++j) {
        const size_t k = static_cast<size_t>(l * B + j);
        if (pre == nullptr) z[k] = minv[l] * r[k];
        t[k] = z[k];
        prz[j] += r[k] * z[k];
        pzmax[j] = std::max(pzmax[j], std::abs(z[k]));
      }
    for (int j = 0; j < B; ++j) o[j] = prz[j], o[B + j] = pzmax[j], o[2 * B + j] = 0.0;
  }, 3 * B);
  fold(nb, 0, false, rz);
  fold(nb, 1, true, crit);
  int it = 0, num_active = 0;
  for (int j = 0; j < B; ++j) {
    crit[j] *= inv_scale[j];
    out[j] = ColumnConvergence{0, crit[j], crit[j] < tolerance};
    active[j] = !out[j].converged;
    num_active += active[j];
    best[j] = crit[j];
    best_it[j] = 0;
  }
  auto freeze = [&](int j) {
    active[j] = false;
    --num_active;
    out[j].iterations = it;
    out[j].criterion = crit[j];
    out[j].converged = crit[j] < tolerance;
  };
  while (num_active > 0 && it < max_iterations) {
    // qv = S p, p = t[0 : S*B).
    if (use_fused > 0) {
      ApplySchurFused<B>(t.data(), qv.data(), partial.data(), use_fused, ctx);
    } else {
      RowPassBlock<B>(Q - 1, t.data(), ctx, [&](int64_t l, const double* s) {
        for (int j = 0; j < B; ++j) t[static_cast<size_t>(l * B + j)] = -s[j] * inv[l];
      });
      for (int q = 0; q + 1 < Q; ++q)
        RowPassBlock<B>(q, t.data(), ctx, [&](int64_t l, const double* s) {
          for (int j = 0; j < B; ++j) {
            const size_t k = static_cast<size_t>(l * B + j);
            qv[k] = wl[l] * t[k] + s[j];
          }
        });
    }
    ++it;
    nb = ReduceBlocks(ctx, S, kStateBlock, parts.data(), [&](int64_t lo, int64_t hi, double* o) {
      double ppq[B] = {};
      for (int64_t l = lo; l < hi; ++l)
        for (int j = 0; j < B; ++j) ppq[j] += t[static_cast<size_t>(l * B + j)] * qv[static_cast<size_t>(l * B + j)];
      for (int j = 0; j < B; ++j) o[j] = ppq[j], o[B + j] = 0.0, o[2 * B + j] = 0.0;
    }, 3 * B);
    fold(nb, 0, false, tmp);
    for (int j = 0; j < B; ++j) {
      alpha[j] = 0.0;
      if (!active[j]) continue;
      if (!(tmp[j] > 0.0) || !std::isfinite(tmp[j])) {
        freeze(j);  // exact solution reached (or breakdown)
        continue;
      }
      alpha[j] = rz[j] / tmp[j];
    }
    nb = ReduceBlocks(ctx, S, kStateBlock, parts.data(), [&](int64_t lo, int64_t hi, double* o) {
      double prz[B] = {}, pstep[B] = {}, pzmax[B] = {};
      for (int64_t l = lo; l < hi; ++l)
        for (int j = 0; j < B; ++j) {
          const size_t k = static_cast<size_t>(l * B + j);
          const double dv = alpha[j] * t[k];
          a[j][l] += dv;
          r[k] -= alpha[j] * qv[k];
          if (pre == nullptr) {
            z[k] = minv[l] * r[k];
            prz[j] += r[k] * z[k];
            pzmax[j] = std::max(pzmax[j], std::abs(z[k]));
          }
          pstep[j] = std::max(pstep[j], std::abs(dv));
        }
      for (int j = 0; j < B; ++j) o[j] = prz[j], o[B + j] = pstep[j], o[2 * B + j] = pzmax[j];
    }, 3 * B);
    fold(nb, 1, true, step);
    if (pre != nullptr) {
      pre->Apply(r.data(), z.data(), B);
      nb = ReduceBlocks(ctx, S, kStateBlock, parts.data(), [&](int64_t lo, int64_t hi, double* o) {
        double prz[B] = {}, pzmax[B] = {};
        for (int64_t l = lo; l < hi; ++l)
          for (int j = 0; j < B; ++j) {
            const size_t k = static_cast<size_t>(l * B + j);
            prz[j] += r[k] * z[k];
            pzmax[j] = std::max(pzmax[j], std::abs(z[k]));
          }
        for (int j = 0; j < B; ++j) o[j] = prz[j], o[B + j] = 0.0, o[2 * B + j] = pzmax[j];
      }, 3 * B);
    }
    fold(nb, 0, false, tmp);
    double zmax[B];
    fold(nb, 2, true, zmax);
    for (int j = 0; j < B; ++j) {
      beta[j] = 0.0;
      if (!active[j]) continue;
      // A plain linear solve (SolveSchur) stops on its preconditioned
      // residual: on a singular S its steps need not shrink once the residual
      // is at rounding level (the rounding is not in S's range).
      crit[j] = (b_sb != nullptr ? zmax[j] : std::max(step[j], zmax[j])) * inv_scale[j];
      if (crit[j] < tolerance) {
        freeze(j);
        continue;
      }
      if (crit[j] < best[j]) {
        best[j] = crit[j];
        best_it[j] = it;
      } else if (it - best_it[j] >= kCgStagnation) {
        freeze(j);
        continue;
      }
      beta[j] = rz[j] > 0.0 ? tmp[j] / rz[j] : 0.0;
      rz[j] = tmp[j];
    }
    parallel::ParallelFor(ctx, 0, S, kStateBlock, [&](int64_t lo, int64_t hi) {
      for (int64_t l = lo; l < hi; ++l)
        for (int j = 0; j < B; ++j) {
          const size_t k = static_cast<size_t>(l * B + j);
          t[k] = z[k] + beta[j] * t[k];
        }
    });
  }
  for (int j = 0; j < B; ++j) {
    if (active[j]) freeze(j);
  }
  if (b_sb == nullptr)
    for (int j = 0; j < B; ++j) UpdateFactor(Q - 1, sx[j], a[j], ctx);
}

bool AbsorbSummary::AllConverged() const {
  for (const auto& c : columns)
    if (!c.converged) return false;
  return true;
}

std::string AbsorbSummary::BriefReport(const std::vector<std::string>& column_names) const {
  std::ostringstream os;
  os << std::setprecision(3);
  int bad = 0, max_it = 0;
  double worst = 0.0;
  for (size_t j = 0; j < columns.size(); ++j) {
    max_it = std::max(max_it, columns[j].iterations);
    worst = std::max(worst, columns[j].criterion);
    if (!columns[j].converged) ++bad;
  }
  if (bad > 0) {
    os << "WARNING: fixed-effect absorption did not converge for " << bad << " of " << columns.size()
       << " columns; their residuals are NOT reliable (raise max_iterations or check the design):\n";
    for (size_t j = 0; j < columns.size(); ++j) {
      if (columns[j].converged) continue;
      os << "WARNING: column "
         << (j < column_names.size() ? "'" + column_names[j] + "'" : std::to_string(j))
         << " did not converge after " << columns[j].iterations << " iterations (criterion "
         << columns[j].criterion << ")\n";
    }
  } else {
    os << "all " << columns.size() << " columns converged in at most " << max_it
       << " iterations (worst criterion " << worst << ")";
  }
  return os.str();
}

Absorber::Absorber(std::vector<Factor> factors, std::vector<double> weights_n, AbsorbOptions options)
    : Absorber(std::move(factors), std::move(weights_n), options, parallel::Context(1)) {}

Absorber::Absorber(std::vector<Factor> factors, std::vector<double> weights_n, AbsorbOptions options,
                   const parallel::Context& ctx)
    : weights_n_(std::move(weights_n)), options_(options) {
  if (factors.empty()) throw Error("Absorber: at least one factor is required");
  {
    // Eliminate the factor with the most levels (the last of them on ties):
    // the state, and with it every vector of the iterations and a direct
    // factor of the Schur complement, lives on the smaller side.
    const int given = static_cast<int>(factors.size());
    int largest = given - 1;
    for (int q = given - 1; q >= 0; --q)
      if (factors[static_cast<size_t>(q)].num_levels > factors[static_cast<size_t>(largest)].num_levels) largest = q;
    given_offset_q_.assign(static_cast<size_t>(given) + 1, 0);
    for (int q = 0; q < given; ++q)
      given_offset_q_[static_cast<size_t>(q) + 1] =
          given_offset_q_[static_cast<size_t>(q)] + std::max<int64_t>(0, factors[static_cast<size_t>(q)].num_levels);
    for (int q = 0; q < given; ++q)
      if (q != largest) given_q_.push_back(q);
    given_q_.push_back(largest);
    for (int q : given_q_) factors_.push_back(std::move(factors[static_cast<size_t>(q)]));
  }
  if (!(options_.tolerance > 0.0)) throw Error("Absorber: tolerance must be positive");
  if (options_.max_iterations < 1) throw Error("Absorber: max_iterations must be at least 1");
  if (options_.column_block != 1 && options_.column_block != 2 && options_.column_block != 4 &&
      options_.column_block != 8)
    throw Error("Absorber: column_block must be 1, 2, 4 or 8, not " + std::to_string(options_.column_block));
  const size_t n = factors_[0].codes_n.size();
  if (n >= static_cast<size_t>(std::numeric_limits<int32_t>::max()))
    throw Error("Absorber: more than 2^31 - 1 observations are not supported");
  if (!weights_n_.empty() && weights_n_.size() != n)
    throw Error("Absorber: " + std::to_string(weights_n_.size()) + " weights for " + std::to_string(n) +
                " observations");
  for (size_t i = 0; i < weights_n_.size(); ++i)
    if (!(weights_n_[i] >= 0.0) || !std::isfinite(weights_n_[i]))
      throw Error("Absorber: weight of observation " + std::to_string(i) + " is negative or not finite");

  auto plan = std::make_shared<Plan>();
  const int Q = static_cast<int>(factors_.size());
  plan->num_factors = Q;
  plan->num_obs = static_cast<int64_t>(n);
  plan->level_offset_q.assign(static_cast<size_t>(Q) + 1, 0);
  for (int q = 0; q < Q; ++q) {
    const Factor& f = factors_[static_cast<size_t>(q)];
    if (f.codes_n.size() != n)
      throw Error("Absorber: factor '" + f.name + "' has " + std::to_string(f.codes_n.size()) +
                  " codes, expected " + std::to_string(n));
    if (f.num_levels < 1 && n > 0) throw Error("Absorber: factor '" + f.name + "' has no levels");
    plan->level_offset_q[static_cast<size_t>(q) + 1] = plan->level_offset_q[static_cast<size_t>(q)] + f.num_levels;
  }
  plan->num_levels_total = plan->level_offset_q.back();
  if (plan->num_levels_total >= std::numeric_limits<int32_t>::max())
    throw Error("Absorber: more than 2^31 - 1 levels in total are not supported");
  plan->num_state = Q >= 2 ? plan->level_offset_q[static_cast<size_t>(Q) - 1] : 0;
  plan->inv_weight_l.assign(static_cast<size_t>(plan->num_levels_total), 0.0);
  plan->weight_l.assign(static_cast<size_t>(plan->num_levels_total), 0.0);

  auto weight = [&](int64_t i) { return weights_n_.empty() ? 1.0 : weights_n_[static_cast<size_t>(i)]; };
  plan->cells_q.resize(static_cast<size_t>(Q));
  for (int q = 0; q < Q; ++q) {
    const Factor& f = factors_[static_cast<size_t>(q)];
    const int64_t L = f.num_levels;
    const int64_t off = plan->level_offset_q[static_cast<size_t>(q)];
    Plan::FactorCells& fc = plan->cells_q[static_cast<size_t>(q)];
    // Counting sort of observations by level (stable).
    fc.row_obs_g.assign(static_cast<size_t>(L) + 1, 0);
    std::vector<double> lw_g(static_cast<size_t>(L), 0.0);
    for (size_t i = 0; i < n; ++i) {
      const int32_t c = f.codes_n[i];
      if (c < 0 || c >= f.num_levels)
        throw Error("Absorber: factor '" + f.name + "' has code " + std::to_string(c) + " at observation " +
                    std::to_string(i) + ", outside [0, " + std::to_string(f.num_levels) + ")");
      ++fc.row_obs_g[static_cast<size_t>(c) + 1];
      lw_g[static_cast<size_t>(c)] += weight(static_cast<int64_t>(i));
    }
    std::vector<double> inv_g(static_cast<size_t>(L));
    for (int64_t g = 0; g < L; ++g) {
      if (!(lw_g[static_cast<size_t>(g)] > 0.0))
        throw Error("Absorber: level " + std::to_string(g) + " of factor '" + f.name +
                    "' has no observation of positive weight");
      inv_g[static_cast<size_t>(g)] = 1.0 / lw_g[static_cast<size_t>(g)];
      plan->inv_weight_l[static_cast<size_t>(off + g)] = inv_g[static_cast<size_t>(g)];
      plan->weight_l[static_cast<size_t>(off + g)] = lw_g[static_cast<size_t>(g)];
    }
    for (int64_t g = 0; g < L; ++g) fc.row_obs_g[static_cast<size_t>(g) + 1] += fc.row_obs_g[static_cast<size_t>(g)];
    fc.perm_n.resize(n);
    {
      std::vector<int64_t> next(fc.row_obs_g.begin(), fc.row_obs_g.end() - 1);
      for (size_t i = 0; i < n; ++i) fc.perm_n[static_cast<size_t>(next[static_cast<size_t>(f.codes_n[i])]++)] = static_cast<int32_t>(i);
    }
    if (Q == 1) continue;
    // Within each row, order by the other factors' codes, then merge equal tuples.
    const int m = Q - 1;
    std::vector<const int32_t*> others;
    std::vector<int64_t> other_off;
    for (int p = 0; p < Q; ++p) {
      if (p == q) continue;
      others.push_back(factors_[static_cast<size_t>(p)].codes_n.data());
      other_off.push_back(plan->level_offset_q[static_cast<size_t>(p)]);
    }
    auto less = [&](int32_t i, int32_t j) {
      for (int k = 0; k < m; ++k) {
        if (others[static_cast<size_t>(k)][i] != others[static_cast<size_t>(k)][j])
          return others[static_cast<size_t>(k)][i] < others[static_cast<size_t>(k)][j];
      }
      return i < j;
    };
    auto same = [&](int32_t i, int32_t j) {
      for (int k = 0; k < m; ++k)
        if (others[static_cast<size_t>(k)][i] != others[static_cast<size_t>(k)][j]) return false;
      return true;
    };
    // Rows are independent: sorted, counted and filled in parallel.
    const int64_t row_grain = std::max<int64_t>(16, L * 4096 / std::max<int64_t>(1, static_cast<int64_t>(n)));
    fc.row_cell_g.assign(static_cast<size_t>(L) + 1, 0);
    parallel::ParallelFor(ctx, 0, L, row_grain, [&](int64_t g0, int64_t g1) {
      for (int64_t g = g0; g < g1; ++g) {
        int32_t* b = fc.perm_n.data() + fc.row_obs_g[static_cast<size_t>(g)];
        int32_t* e = fc.perm_n.data() + fc.row_obs_g[static_cast<size_t>(g) + 1];
        std::sort(b, e, less);
        int64_t cells = 0;
        for (int32_t* p = b; p < e; ++p)
          if (p == b || !same(*(p - 1), *p)) ++cells;
        fc.row_cell_g[static_cast<size_t>(g) + 1] = cells;
      }
    });
    for (int64_t g = 0; g < L; ++g) fc.row_cell_g[static_cast<size_t>(g) + 1] += fc.row_cell_g[static_cast<size_t>(g)];
    const int64_t num_cells = fc.row_cell_g.back();
    fc.other_c.resize(static_cast<size_t>(num_cells * m));
    fc.weight_c.assign(static_cast<size_t>(num_cells), 0.0);
    parallel::ParallelFor(ctx, 0, L, row_grain, [&](int64_t g0, int64_t g1) {
      for (int64_t g = g0; g < g1; ++g) {
        int64_t c = fc.row_cell_g[static_cast<size_t>(g)] - 1;
        for (int64_t j = fc.row_obs_g[static_cast<size_t>(g)]; j < fc.row_obs_g[static_cast<size_t>(g) + 1]; ++j) {
          const int32_t i = fc.perm_n[static_cast<size_t>(j)];
          if (j == fc.row_obs_g[static_cast<size_t>(g)] || !same(fc.perm_n[static_cast<size_t>(j) - 1], i)) {
            ++c;
            for (int k = 0; k < m; ++k)
              fc.other_c[static_cast<size_t>(c * m + k)] =
                  static_cast<int32_t>(other_off[static_cast<size_t>(k)] + others[static_cast<size_t>(k)][i]);
          }
          fc.weight_c[static_cast<size_t>(c)] += weight(i);
        }
      }
    });
    fc.grain = std::max<int64_t>(16, L * kCellsPerTask / std::max<int64_t>(1, num_cells));
  }
  // Diagonal of the Schur complement S = A_ss - A_sl diag(W_last)^-1 A_ls:
  // S_gg = W_g - sum_h (weight shared by level g and last-factor level h)^2 / W_h.
  if (Q >= 2) {
    plan->schur_inv_diag_s.assign(static_cast<size_t>(plan->num_state), 0.0);
    const std::vector<int32_t>& last = factors_[static_cast<size_t>(Q) - 1].codes_n;
    const int64_t last_off = plan->level_offset_q[static_cast<size_t>(Q) - 1];
    for (int q = 0; q + 1 < Q; ++q) {
      const Plan::FactorCells& fc = plan->cells_q[static_cast<size_t>(q)];
      const int64_t off = plan->level_offset_q[static_cast<size_t>(q)];
      const int64_t L = factors_[static_cast<size_t>(q)].num_levels;
      const int64_t row_grain = std::max<int64_t>(16, L * 4096 / std::max<int64_t>(1, static_cast<int64_t>(n)));
      parallel::ParallelFor(ctx, 0, L, row_grain, [&](int64_t g0, int64_t g1) {
        std::vector<std::pair<int32_t, double>> links;  // per chunk, construction only
        for (int64_t g = g0; g < g1; ++g) {
          links.clear();
          for (int64_t j = fc.row_obs_g[static_cast<size_t>(g)]; j < fc.row_obs_g[static_cast<size_t>(g) + 1]; ++j) {
            const int32_t i = fc.perm_n[static_cast<size_t>(j)];
            links.emplace_back(last[static_cast<size_t>(i)], weight(i));
          }
          std::sort(links.begin(), links.end());
          double sub = 0.0;
          for (size_t a = 0; a < links.size();) {
            double c = 0.0;
            size_t b = a;
            for (; b < links.size() && links[b].first == links[a].first; ++b) c += links[b].second;
            sub += c * c * plan->inv_weight_l[static_cast<size_t>(last_off + links[a].first)];
            a = b;
          }
          const double wg = plan->weight_l[static_cast<size_t>(off + g)];
          const double d = wg - sub;
          plan->schur_inv_diag_s[static_cast<size_t>(off + g)] = d > 1e-11 * wg ? 1.0 / d : 0.0;
        }
      });
    }
  }
  plan_ = std::move(plan);
}

int64_t Absorber::num_obs() const { return static_cast<int64_t>(factors_[0].codes_n.size()); }

void Absorber::ComputeLevelSums(const double* x_n, Workspace& ws, const parallel::Context& ctx) const {
  const Plan& plan = *plan_;
  const int64_t n = plan.num_obs;
  const double* w_n = weights_n_.empty() ? nullptr : weights_n_.data();
  double* sx = ws.sx_l.data();
  for (int q = 0; q < plan.num_factors; ++q) {
    const Plan::FactorCells& fc = plan.cells_q[static_cast<size_t>(q)];
    const int64_t off = plan.level_offset_q[static_cast<size_t>(q)];
    const int64_t L = plan.level_offset_q[static_cast<size_t>(q) + 1] - off;
    const int64_t grain = std::max<int64_t>(16, L * kCellsPerTask / std::max<int64_t>(1, n));
    parallel::ParallelFor(ctx, 0, L, grain, [&](int64_t g0, int64_t g1) {
      for (int64_t g = g0; g < g1; ++g) {
        double s = 0.0;
        for (int64_t j = fc.row_obs_g[static_cast<size_t>(g)]; j < fc.row_obs_g[static_cast<size_t>(g) + 1]; ++j) {
          const int32_t i = fc.perm_n[static_cast<size_t>(j)];
          s += (w_n ? w_n[i] : 1.0) * x_n[i];
        }
        sx[off + g] = s;
      }
    });
  }
}

double Absorber::InverseScale(const double* x_n, Workspace& ws, const parallel::Context& ctx) const {
  // Weighted standard deviation (shifted sums against cancellation).
  const int64_t n = plan_->num_obs;
  const double* w_n = weights_n_.empty() ? nullptr : weights_n_.data();
  double* parts = ws.parts.data();
  const double shift = n > 0 ? x_n[0] : 0.0;
  const int64_t nb = ReduceBlocks(ctx, n, kObsBlock, parts, [&](int64_t lo, int64_t hi, double* out) {
    double sw = 0, s1 = 0, s2 = 0;
    for (int64_t i = lo; i < hi; ++i) {
      const double w = w_n ? w_n[i] : 1.0, d = x_n[i] - shift;
      sw += w;
      s1 += w * d;
      s2 += w * d * d;
    }
    out[0] = sw, out[1] = s1, out[2] = s2;
  });
  double sw = 0, s1 = 0, s2 = 0;
  for (int64_t b = 0; b < nb; ++b)
    sw += parts[b * kMaxParts], s1 += parts[b * kMaxParts + 1], s2 += parts[b * kMaxParts + 2];
  double scale = sw > 0 ? std::sqrt(std::max(0.0, s2 / sw - (s1 / sw) * (s1 / sw))) : 0.0;
  if (!(scale > 0.0) || !std::isfinite(scale)) scale = std::max(1.0, std::abs(shift + (sw > 0 ? s1 / sw : 0.0)));
  return 1.0 / scale;
}

ColumnConvergence Absorber::SolveColumn(const double* x_n, double* residual_n, double tolerance, int max_iterations,
                                        double* alpha_out, const parallel::Context& ctx, Workspace* prepared,
                                        const ColumnConvergence* cg_done, double prepared_inv_scale) const {
  const Plan& plan = *plan_;
  const int Q = plan.num_factors;
  const int64_t n = plan.num_obs;
  const int64_t S = plan.num_state;
  std::unique_ptr<Workspace> own;
  Workspace* ws = prepared;
  if (ws == nullptr) {
    own = plan.Acquire();
    ws = own.get();
    ComputeLevelSums(x_n, *ws, ctx);
  }
  double* a = ws->a_l.data();
  double* sx = ws->sx_l.data();
  double* x_s = ws->x_s.data();
  double* gx_s = ws->gx_s.data();
  double* parts = ws->parts.data();

  ColumnConvergence cc;
  if (Q == 1) {
    for (int64_t l = 0; l < plan.num_levels_total; ++l) a[l] = sx[l] * plan.inv_weight_l[static_cast<size_t>(l)];
    cc.iterations = 1;
    cc.criterion = 0.0;
    cc.converged = true;
  } else {
    const double inv_scale = prepared_inv_scale > 0.0 ? prepared_inv_scale : InverseScale(x_n, *ws, ctx);

    auto max_change = [&](const double* before) {
      const int64_t nbs = ReduceBlocks(ctx, S, kStateBlock, parts, [&](int64_t lo, int64_t hi, double* out) {
        double mx = 0;
        for (int64_t l = lo; l < hi; ++l) mx = std::max(mx, std::abs(a[l] - before[l]));
        out[0] = mx;
      });
      double mx = 0;
      for (int64_t b = 0; b < nbs; ++b) mx = std::max(mx, parts[b * kMaxParts]);
      return mx * inv_scale;
    };
    bool accelerate = options_.acceleration == Acceleration::kIronsTuck;
    int it = 0;
    if (cg_done != nullptr) {
      cc = *cg_done;
      it = cc.iterations;
      if (cc.converged) max_iterations = it;  // done: skip the sweeps
      accelerate = true;
    } else if (options_.acceleration == Acceleration::kConjugateGradient) {
      std::fill(a, a + plan.num_levels_total, 0.0);
      cc = plan.SolveSchurCg(sx, inv_scale, std::max(tolerance, kCgFloor), max_iterations, *ws, ctx,
                             preconditioner_.get());
      it = cc.iterations;
      if (cc.converged && cc.criterion < tolerance) {
        max_iterations = it;  // done: skip the sweeps
      } else {
        cc.converged = false;
      }
      accelerate = true;  // polish with Irons-Tuck sweeps from the CG solution
    } else {
      std::fill(a, a + plan.num_levels_total, 0.0);
    }
    while (it < max_iterations) {
      if (!accelerate || max_iterations - it < 2) {
        std::copy(a, a + S, x_s);
        plan.Sweep(sx, a, ctx);
        ++it;
        cc.criterion = max_change(x_s);
        if (cc.criterion < tolerance) {
          cc.converged = true;
          break;
        }
        continue;
      }
      // Irons-Tuck step: X = x_s, GX = gx_s, GGX = a.
      std::copy(a, a + S, x_s);
      plan.Sweep(sx, a, ctx);
      std::copy(a, a + S, gx_s);
      plan.Sweep(sx, a, ctx);
      it += 2;
      const int64_t nbs = ReduceBlocks(ctx, S, kStateBlock, parts, [&](int64_t lo, int64_t hi, double* out) {
        double mx = 0, vp = 0, ss = 0;
        for (int64_t l = lo; l < hi; ++l) {
          const double d = a[l] - gx_s[l];
          const double d2 = d - (gx_s[l] - x_s[l]);
          mx = std::max(mx, std::abs(d));
          vp += d * d2;
          ss += d2 * d2;
        }
        out[0] = mx, out[1] = vp, out[2] = ss;
      });
      double mx = 0, vp = 0, ss = 0;
      for (int64_t b = 0; b < nbs; ++b)
        mx = std::max(mx, parts[b * kMaxParts]), vp += parts[b * kMaxParts + 1], ss += parts[b * kMaxParts + 2];
      cc.criterion = mx * inv_scale;
      if (cc.criterion < tolerance) {
        cc.converged = true;
        break;
      }
      if (it >= max_iterations) break;
      if (ss > 0.0 && std::isfinite(vp / ss)) {
        const double coef = vp / ss;
        parallel::ParallelFor(ctx, 0, S, kStateBlock, [&](int64_t lo, int64_t hi) {
          for (int64_t l = lo; l < hi; ++l) a[l] -= coef * (a[l] - gx_s[l]);
        });
      }
      if (it >= kProjectAfterAccelerationFrom) {
        plan.Sweep(sx, a, ctx);
        ++it;
      }
    }
    cc.iterations = it;
  }

  if (residual_n != nullptr) {
    std::vector<const int32_t*> codes(static_cast<size_t>(Q));  // once per column, not per iteration
    for (int q = 0; q < Q; ++q) codes[static_cast<size_t>(q)] = factors_[static_cast<size_t>(q)].codes_n.data();
    const int64_t* off = plan.level_offset_q.data();
    parallel::ParallelFor(ctx, 0, n, kObsBlock / 2, [&](int64_t lo, int64_t hi) {
      if (Q == 1) {
        const int32_t* c0 = codes[0];
        for (int64_t i = lo; i < hi; ++i) residual_n[i] = x_n[i] - a[c0[i]];
      } else if (Q == 2) {
        const double* a1 = a + off[1];
        const int32_t* c0 = codes[0];
        const int32_t* c1 = codes[1];
        for (int64_t i = lo; i < hi; ++i) residual_n[i] = x_n[i] - (a[c0[i]] + a1[c1[i]]);
      } else {
        for (int64_t i = lo; i < hi; ++i) {
          double s = 0.0;
          for (int q = 0; q < Q; ++q) s += a[off[q] + codes[static_cast<size_t>(q)][i]];
          residual_n[i] = x_n[i] - s;
        }
      }
    });
  }
  if (alpha_out != nullptr) std::copy(a, a + plan.num_levels_total, alpha_out);
  if (own) plan.Release(std::move(own));
  return cc;
}

Absorber::SweepCost Absorber::sweep_cost() const {
  SweepCost cost;
  const Plan& plan = *plan_;
  if (plan.num_factors < 2) return cost;
  const int64_t m = plan.num_factors - 1;
  for (const auto& fc : plan.cells_q) {
    const int64_t cells = fc.row_cell_g.back();
    const int64_t levels = static_cast<int64_t>(fc.row_cell_g.size()) - 1;
    cost.cells += cells;
    cost.bytes += cells * (12 * m + 8) + 32 * levels;
  }
  return cost;
}

void Absorber::RunSweeps(int count, const parallel::Context& ctx) const {
  const Plan& plan = *plan_;
  if (plan.num_factors < 2) return;
  std::unique_ptr<Workspace> ws = plan.Acquire();
  std::fill(ws->sx_l.begin(), ws->sx_l.end(), 0.0);
  std::fill(ws->a_l.begin(), ws->a_l.end(), 0.0);
  for (int s = 0; s < count; ++s) plan.Sweep(ws->sx_l.data(), ws->a_l.data(), ctx);
  plan.Release(std::move(ws));
}

// Preconditioned conjugate gradient on the Schur complement of the state
// system (factor Q-1 eliminated exactly, as its block of the normal equations
// is diagonal):  S v = b,  S = A_ss - A_sl W_last^-1 A_ls,
// b = Sx_s - A_sl W_last^-1 Sx_last, with Jacobi preconditioner diag(S).
// One application of S costs one pass over every factor's cells, like a sweep.
// Criterion per iteration: max(|step of v|_inf, |diag(S)^-1 r|_inf) / scale,
// the change made and the change a Jacobi step would still make.
// On exit a_l holds v and the exactly eliminated factor Q-1.
ColumnConvergence Absorber::Plan::SolveSchurCg(const double* sx, double inv_scale, double tolerance,
                                               int max_iterations, Workspace& ws, const parallel::Context& ctx,
                                               const SchurPreconditioner* pre, int probe_at) const {
  const Plan& plan = *this;
  const int Q = plan.num_factors;
  const int64_t S = plan.num_state;
  // Sized on first use (single-column CG only), before the iterations.
  ws.t_l.resize(static_cast<size_t>(plan.num_levels_total));
  ws.r_s.resize(static_cast<size_t>(S));
  ws.q_s.resize(static_cast<size_t>(S));
  ws.z_s.resize(static_cast<size_t>(S));
  const int64_t last_off = plan.level_offset_q[static_cast<size_t>(Q) - 1];
  const int64_t L = plan.num_levels_total;
  double* a = ws.a_l.data();
  double* t = ws.t_l.data();  // t[0:S) = search direction p; t[S:L) = -W_last^-1 A_ls p
  double* r = ws.r_s.data();
  double* qv = ws.q_s.data();
  double* z = ws.z_s.data();
  double* parts = ws.parts.data();
  const double* inv = plan.inv_weight_l.data();
  const double* wl = plan.weight_l.data();
  const double* minv = plan.schur_inv_diag_s.data();

  // b into r: t = (0, -Sx_last / W_last).
  std::fill(t, t + S, 0.0);
  for (int64_t l = last_off; l < L; ++l) t[l] = -sx[l] * inv[l];
  for (int q = 0; q + 1 < Q; ++q) plan.RowPass(q, t, ctx, [&](int64_t l, double s) { r[l] = sx[l] + s; });
  std::fill(a, a + L, 0.0);

  auto apply_s = [&]() {  // qv = S p, p = t[0:S)
    plan.RowPass(Q - 1, t, ctx, [&](int64_t l, double s) { t[l] = -s * inv[l]; });
    for (int q = 0; q + 1 < Q; ++q) plan.RowPass(q, t, ctx, [&](int64_t l, double s) { qv[l] = wl[l] * t[l] + s; });
  };
  auto fold = [&](int64_t nb, int k, bool is_max) {
    double acc = 0.0;
    for (int64_t b = 0; b < nb; ++b) acc = is_max ? std::max(acc, parts[b * kMaxParts + k]) : acc + parts[b * kMaxParts + k];
    return acc;
  };

  ColumnConvergence cc;
  if (pre != nullptr) pre->Apply(r, z, 1);
  int64_t nb = ReduceBlocks(ctx, S, kStateBlock, parts, [&](int64_t lo, int64_t hi, double* out) {
    double rz = 0, zmax = 0;
    for (int64_t l = lo; l < hi; ++l) {
      if (pre == nullptr) z[l] = minv[l] * r[l];
      t[l] = z[l];
      rz += r[l] * z[l];
      zmax = std::max(zmax, std::abs(z[l]));
    }
    out[0] = rz, out[1] = zmax;
  });
  double rz = fold(nb, 0, false);
  cc.criterion = fold(nb, 1, true) * inv_scale;
  int it = 0;
  if (cc.criterion < tolerance) cc.converged = true;
  double best = cc.criterion;
  int best_it = 0;
  const double initial_criterion = cc.criterion;
  while (!cc.converged && it < max_iterations) {
    if (probe_at > 0 && it == probe_at) {
      // Extrapolate the geometric rate so far (CG's rate only improves).
      const double rate = std::log(cc.criterion / initial_criterion) / it;
      const double needed = rate < 0.0 ? std::log(tolerance / initial_criterion) / rate : HUGE_VAL;
      if (needed > max_iterations) break;
    }
    apply_s();
    ++it;
    nb = ReduceBlocks(ctx, S, kStateBlock, parts, [&](int64_t lo, int64_t hi, double* out) {
      double pq = 0;
      for (int64_t l = lo; l < hi; ++l) pq += t[l] * qv[l];
      out[0] = pq;
    });
    const double pq = fold(nb, 0, false);
    if (!(pq > 0.0) || !std::isfinite(pq)) break;  // exact solution reached (or breakdown)
    const double alpha = rz / pq;
    nb = ReduceBlocks(ctx, S, kStateBlock, parts, [&](int64_t lo, int64_t hi, double* out) {
      double rz_new = 0, step = 0, zmax = 0;
      for (int64_t l = lo; l < hi; ++l) {
        const double dv = alpha * t[l];
        a[l] += dv;
        r[l] -= alpha * qv[l];
        if (pre == nullptr) {
          z[l] = minv[l] * r[l];
          rz_new += r[l] * z[l];
          zmax = std::max(zmax, std::abs(z[l]));
        }
        step = std::max(step, std::abs(dv));
      }
      out[0] = rz_new, out[1] = step, out[2] = zmax;
    });
    const double step = fold(nb, 1, true);
    if (pre != nullptr) {
      pre->Apply(r, z, 1);
      nb = ReduceBlocks(ctx, S, kStateBlock, parts, [&](int64_t lo, int64_t hi, double* out) {
        double rz_new = 0, zmax = 0;
        for (int64_t l = lo; l < hi; ++l) {
          rz_new += r[l] * z[l];
          zmax = std::max(zmax, std::abs(z[l]));
        }
        out[0] = rz_new, out[1] = 0.0, out[2] = zmax;
      });
    }
    const double rz_new = fold(nb, 0, false);
    cc.criterion = std::max(step, fold(nb, 2, true)) * inv_scale;
    if (cc.criterion < tolerance) {
      cc.converged = true;
      break;
    }
    if (cc.criterion < best) {
      best = cc.criterion;
      best_it = it;
    } else if (it - best_it >= kCgStagnation) {
      break;
    }
    const double beta = rz > 0.0 ? rz_new / rz : 0.0;
    rz = rz_new;
    parallel::ParallelFor(ctx, 0, S, kStateBlock, [&](int64_t lo, int64_t hi) {
      for (int64_t l = lo; l < hi; ++l) t[l] = z[l] + beta * t[l];
    });
  }
  plan.UpdateFactor(Q - 1, sx, a, ctx);
  cc.iterations = it;
  return cc;
}

AbsorbSummary Absorber::Absorb(Eigen::Ref<Eigen::MatrixXd> columns_nk, const parallel::Context& ctx,
                              Eigen::MatrixXd* effects_lk) const {
  CWFX_CHECK(columns_nk.rows() == num_obs(), "Absorb: row count differs from the factors' length");
  std::vector<double*> columns(static_cast<size_t>(columns_nk.cols()));
  for (Eigen::Index j = 0; j < columns_nk.cols(); ++j) columns[static_cast<size_t>(j)] = columns_nk.col(j).data();
  return Absorb(std::span<double* const>(columns), ctx, effects_lk);
}

AbsorbSummary Absorber::Absorb(std::span<double* const> columns, const parallel::Context& ctx,
                              Eigen::MatrixXd* effects_lk) const {
  AbsorbSummary summary;
  const int64_t k = static_cast<int64_t>(columns.size());
  summary.columns.resize(static_cast<size_t>(k));
  const Plan& plan = *plan_;
  if (effects_lk != nullptr) effects_lk->setZero(plan.num_levels_total, k);
  // Column j's coefficients (internal layout) into effects_lk in the order the factors were given.
  auto store_effects = [&](int64_t j, const double* a_l) {
    if (effects_lk == nullptr) return;
    double* out = effects_lk->col(j).data();
    for (size_t q = 0; q < given_q_.size(); ++q) {
      const int64_t from = plan.level_offset_q[q], to = given_offset_q_[static_cast<size_t>(given_q_[q])];
      std::copy(a_l + from, a_l + plan.level_offset_q[q + 1], out + to);
    }
  };
  const bool blocked = options_.acceleration == Acceleration::kConjugateGradient && plan.num_factors >= 2 &&
                       k >= 2 && options_.column_block >= 2;
  if (!blocked) {
    parallel::ParallelFor(ctx, 0, k, 1, [&](int64_t j0, int64_t j1) {
      std::vector<double> a_l(effects_lk != nullptr ? static_cast<size_t>(plan.num_levels_total) : 0);
      for (int64_t j = j0; j < j1; ++j) {
        double* col = columns[static_cast<size_t>(j)];
        summary.columns[static_cast<size_t>(j)] = SolveColumn(col, col, options_.tolerance, options_.max_iterations,
                                                              a_l.empty() ? nullptr : a_l.data(), ctx);
        if (!a_l.empty()) store_effects(j, a_l.data());
      }
    });
    return summary;
  }
  // Conjugate gradient on blocks of up to column_block columns (fixed
  // grouping), each pass over the cells serving the whole block; blocks run
  // in parallel.
  const int64_t kColumnBlock = options_.column_block;
  const int64_t nblocks = (k + kColumnBlock - 1) / kColumnBlock;
  // Blocks side by side hold a workspace per column of each; where those
  // are large, one block at a time (its passes use every thread anyway).
  const double block_bytes = 16.0 * static_cast<double>(plan.num_levels_total) * static_cast<double>(kColumnBlock);
  const bool one_block_at_a_time = block_bytes > kMaxBlockBytesSideBySide;
  parallel::ParallelFor(ctx, 0, nblocks, one_block_at_a_time ? nblocks : 1, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      const int64_t j0 = b * kColumnBlock, count = std::min(k, j0 + kColumnBlock) - j0;
      const int width = count <= 2 ? 2 : count <= 4 ? 4 : 8;
      std::vector<std::unique_ptr<Workspace>> ws(static_cast<size_t>(width));
      std::vector<Workspace*> wsp(static_cast<size_t>(width));
      std::vector<double> inv_scale(static_cast<size_t>(width), 1.0);
      for (int j = 0; j < width; ++j) {
        ws[static_cast<size_t>(j)] = plan.Acquire();
        wsp[static_cast<size_t>(j)] = ws[static_cast<size_t>(j)].get();
        if (j < count) {
          const double* col = columns[static_cast<size_t>(j0 + j)];
          ComputeLevelSums(col, *wsp[static_cast<size_t>(j)], ctx);
          inv_scale[static_cast<size_t>(j)] = InverseScale(col, *wsp[static_cast<size_t>(j)], ctx);
        } else {
          std::fill(ws[static_cast<size_t>(j)]->sx_l.begin(), ws[static_cast<size_t>(j)]->sx_l.end(), 0.0);  // padding
        }
      }
      std::vector<ColumnConvergence> cg(static_cast<size_t>(width));
      const double cg_tol = std::max(options_.tolerance, kCgFloor);
      if (width == 2) {
        plan.BlockCg<2>(wsp.data(), inv_scale.data(), cg_tol, options_.max_iterations, cg.data(), ctx,
                             preconditioner_.get());
      } else if (width == 4) {
        plan.BlockCg<4>(wsp.data(), inv_scale.data(), cg_tol, options_.max_iterations, cg.data(), ctx,
                             preconditioner_.get());
      } else {
        plan.BlockCg<8>(wsp.data(), inv_scale.data(), cg_tol, options_.max_iterations, cg.data(), ctx,
                             preconditioner_.get());
      }
      for (int j = 0; j < count; ++j) {
        ColumnConvergence& c = cg[static_cast<size_t>(j)];
        c.converged = c.converged && c.criterion < options_.tolerance;
        double* col = columns[static_cast<size_t>(j0 + j)];
        summary.columns[static_cast<size_t>(j0 + j)] = SolveColumn(
            col, col, options_.tolerance, options_.max_iterations, nullptr, ctx, wsp[static_cast<size_t>(j)], &c,
            inv_scale[static_cast<size_t>(j)]);
        store_effects(j0 + j, wsp[static_cast<size_t>(j)]->a_l.data());
      }
      for (auto& w : ws) plan.Release(std::move(w));
    }
  });
  plan.TrimPool(2);
  return summary;
}

Absorber::Recovered Absorber::RecoverEffects(std::span<const double> fe_n, const parallel::Context& ctx) const {
  CWFX_CHECK(static_cast<int64_t>(fe_n.size()) == num_obs(), "RecoverEffects: length differs from the factors'");
  const double tol = std::max(1e-14, std::min(1e-12, options_.tolerance * 1e-4));
  const int max_it = options_.max_iterations > std::numeric_limits<int>::max() / 10
                         ? std::numeric_limits<int>::max()
                         : options_.max_iterations * 10;
  std::vector<double> alpha_l(static_cast<size_t>(plan_->num_levels_total));
  Recovered out;
  out.convergence = SolveColumn(fe_n.data(), nullptr, tol, max_it, alpha_l.data(), ctx);
  out.effects_q.resize(factors_.size());
  for (size_t q = 0; q < factors_.size(); ++q) {
    const int64_t off = plan_->level_offset_q[q];
    out.effects_q[static_cast<size_t>(given_q_[q])] =
        Eigen::Map<const Eigen::VectorXd>(alpha_l.data() + off, factors_[q].num_levels);
  }
  return out;
}

int Absorber::state_factor() const { return factors_.size() == 2 ? given_q_[0] : -1; }
int64_t Absorber::num_state() const { return plan_->num_state; }
int64_t Absorber::level_offset(int q) const { return given_offset_q_.at(static_cast<size_t>(q)); }
int64_t Absorber::num_cells() const {
  int64_t cells = 0;
  if (plan_->num_factors >= 2)
    for (const auto& fc : plan_->cells_q) cells += fc.row_cell_g.back();
  return cells;
}

SchurComplement Absorber::BuildSchurComplement(const parallel::Context& ctx) const {
  const Plan& plan = *plan_;
  if (plan.num_factors != 2) throw Error("BuildSchurComplement: needs exactly two factors");
  const int64_t S = plan.num_state;
  const int64_t off1 = plan.level_offset_q[1];
  const Plan::FactorCells& state_cells = plan.cells_q[0];
  const Plan::FactorCells& elim_cells = plan.cells_q[1];
  const double* inv = plan.inv_weight_l.data();
  // Column g of the lower triangle: W_g on the diagonal minus, for every
  // eliminated level h that g shares, w_gh w_g'h / W_h at each g' >= g.
  // Fixed chunks of columns, each with its own accumulator: the entries and
  // their summation order do not depend on the threads.
  constexpr int64_t kColumnsPerChunk = 512;
  const int64_t nchunks = (S + kColumnsPerChunk - 1) / kColumnsPerChunk;
  struct Chunk {
    std::vector<int64_t> count_g;
    std::vector<int64_t> row;
    std::vector<double> value;
  };
  std::vector<Chunk> chunks(static_cast<size_t>(nchunks));
  parallel::ParallelFor(ctx, 0, nchunks, 1, [&](int64_t c0, int64_t c1) {
    std::vector<double> acc(static_cast<size_t>(S), 0.0);
    std::vector<uint8_t> seen(static_cast<size_t>(S), 0);
    std::vector<int64_t> touched;
    for (int64_t c = c0; c < c1; ++c) {
      Chunk& out = chunks[static_cast<size_t>(c)];
      const int64_t g0 = c * kColumnsPerChunk, g1 = std::min(S, g0 + kColumnsPerChunk);
      for (int64_t g = g0; g < g1; ++g) {
        touched.clear();
        touched.push_back(g);
        seen[static_cast<size_t>(g)] = 1;
        acc[static_cast<size_t>(g)] = plan.weight_l[static_cast<size_t>(g)];
        for (int64_t e = state_cells.row_cell_g[static_cast<size_t>(g)]; e < state_cells.row_cell_g[static_cast<size_t>(g) + 1]; ++e) {
          const int64_t h = state_cells.other_c[static_cast<size_t>(e)] - off1;
          const double f = state_cells.weight_c[static_cast<size_t>(e)] * inv[off1 + h];
          for (int64_t e2 = elim_cells.row_cell_g[static_cast<size_t>(h)]; e2 < elim_cells.row_cell_g[static_cast<size_t>(h) + 1]; ++e2) {
            const int64_t g2 = elim_cells.other_c[static_cast<size_t>(e2)];
            if (g2 < g) continue;
            if (!seen[static_cast<size_t>(g2)]) {
              seen[static_cast<size_t>(g2)] = 1;
              acc[static_cast<size_t>(g2)] = 0.0;
              touched.push_back(g2);
            }
            acc[static_cast<size_t>(g2)] -= f * elim_cells.weight_c[static_cast<size_t>(e2)];
          }
        }
        std::sort(touched.begin(), touched.end());
        out.count_g.push_back(static_cast<int64_t>(touched.size()));
        for (int64_t g2 : touched) {
          out.row.push_back(g2);
          out.value.push_back(acc[static_cast<size_t>(g2)]);
          seen[static_cast<size_t>(g2)] = 0;
        }
      }
    }
  });
  int64_t nnz = 0;
  for (const Chunk& c : chunks) nnz += static_cast<int64_t>(c.row.size());
  SchurComplement sc;
  sc.state_factor = state_factor();
  sc.lower.resize(S, S);
  sc.lower.resizeNonZeros(nnz);
  int64_t* outer = sc.lower.outerIndexPtr();
  int64_t* inner = sc.lower.innerIndexPtr();
  double* values = sc.lower.valuePtr();
  int64_t pos = 0, col = 0;
  outer[0] = 0;
  for (Chunk& c : chunks) {
    std::copy(c.row.begin(), c.row.end(), inner + pos);
    std::copy(c.value.begin(), c.value.end(), values + pos);
    for (int64_t cnt : c.count_g) {
      pos += cnt;
      outer[++col] = pos;
    }
    c = Chunk{};
  }
  return sc;
}

ColumnConvergence Absorber::PilotIterations(int cap, const parallel::Context& ctx, int probe_at) const {
  const Plan& plan = *plan_;
  CWFX_CHECK(plan.num_factors >= 2, "PilotIterations: needs two or more factors");
  const int64_t n = plan.num_obs;
  // A splitmix64 hash of the index, mapped to [-1, 1): no structure the
  // factors could share, the same bits on every machine and thread count.
  std::vector<double> x(static_cast<size_t>(n));
  parallel::ParallelFor(ctx, 0, n, kObsBlock, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) {
      uint64_t z = static_cast<uint64_t>(i) + 0x9e3779b97f4a7c15ULL;
      z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
      z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
      z ^= z >> 31;
      x[static_cast<size_t>(i)] = static_cast<double>(z >> 11) * 0x1.0p-52 - 1.0;
    }
  });
  std::unique_ptr<Workspace> ws = plan.Acquire();
  ComputeLevelSums(x.data(), *ws, ctx);
  const double inv_scale = InverseScale(x.data(), *ws, ctx);
  std::fill(ws->a_l.begin(), ws->a_l.end(), 0.0);
  if (options_.acceleration != Acceleration::kConjugateGradient) {
    // Sweeps: count them through the general path.
    std::vector<double> residual(static_cast<size_t>(n));
    return SolveColumn(x.data(), residual.data(), options_.tolerance, cap, nullptr, ctx);
  }
  return plan.SolveSchurCg(ws->sx_l.data(), inv_scale, std::max(options_.tolerance, kCgFloor), cap, *ws, ctx,
                           preconditioner_.get(), probe_at);
}

Eigen::MatrixXd Absorber::SolveSchur(const Eigen::MatrixXd& b_sr, const parallel::Context& ctx,
                                     ColumnConvergence* worst, double tolerance) const {
  const Plan& plan = *plan_;
  if (plan.num_factors != 2) throw Error("SolveSchur: needs exactly two factors");
  const int64_t S = plan.num_state;
  CWFX_CHECK(b_sr.rows() == S, "SolveSchur: right-hand side has the wrong number of rows");
  const int64_t r = b_sr.cols();
  Eigen::MatrixXd v(S, r);
  if (worst != nullptr) *worst = ColumnConvergence{0, 0.0, true};
  const double tol = std::max(tolerance > 0.0 ? tolerance : options_.tolerance, kCgFloor);
  const double* minv = plan.schur_inv_diag_s.data();
  for (int64_t j0 = 0; j0 < r; j0 += 8) {
    const int64_t count = std::min<int64_t>(8, r - j0);
    const int width = count <= 2 ? 2 : count <= 4 ? 4 : 8;
    std::vector<std::unique_ptr<Workspace>> ws(static_cast<size_t>(width));
    std::vector<Workspace*> wsp(static_cast<size_t>(width));
    std::vector<double> inv_scale(static_cast<size_t>(width), 1.0);
    std::vector<double> b(static_cast<size_t>(S * width), 0.0);
    for (int j = 0; j < width; ++j) {
      ws[static_cast<size_t>(j)] = plan.Acquire();
      wsp[static_cast<size_t>(j)] = ws[static_cast<size_t>(j)].get();
      if (j >= count) continue;
      // Scale: the largest Jacobi step from 0 (the criterion is relative to it).
      double mx = 0.0;
      for (int64_t l = 0; l < S; ++l) {
        b[static_cast<size_t>(l * width + j)] = b_sr(l, j0 + j);
        mx = std::max(mx, std::abs(minv[l] * b_sr(l, j0 + j)));
      }
      inv_scale[static_cast<size_t>(j)] = mx > 0.0 ? 1.0 / mx : 1.0;
    }
    std::vector<ColumnConvergence> cg(static_cast<size_t>(width));
    if (width == 2) {
      plan.BlockCg<2>(wsp.data(), inv_scale.data(), tol, options_.max_iterations, cg.data(), ctx, preconditioner_.get(), b.data());
    } else if (width == 4) {
      plan.BlockCg<4>(wsp.data(), inv_scale.data(), tol, options_.max_iterations, cg.data(), ctx, preconditioner_.get(), b.data());
    } else {
      plan.BlockCg<8>(wsp.data(), inv_scale.data(), tol, options_.max_iterations, cg.data(), ctx, preconditioner_.get(), b.data());
    }
    for (int j = 0; j < count; ++j) {
      v.col(j0 + j) = Eigen::Map<const Eigen::VectorXd>(wsp[static_cast<size_t>(j)]->a_l.data(), S);
      const ColumnConvergence& c = cg[static_cast<size_t>(j)];
      if (worst != nullptr) {
        worst->iterations = std::max(worst->iterations, c.iterations);
        worst->criterion = std::max(worst->criterion, c.criterion);
        worst->converged = worst->converged && c.converged;
      }
    }
    for (auto& w : ws) plan.Release(std::move(w));
  }
  return v;
}

}  // namespace cwfx::absorb
