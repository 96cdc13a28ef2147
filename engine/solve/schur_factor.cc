// CHOLMOD factor of the absorber's Schur complement (see schur_factor.h).
#include "solve/schur_factor.h"

#include <dlfcn.h>

#include <algorithm>
#include <chrono>
#include <numeric>

#include "core/error.h"
#include "solve/cholmod_handle_internal.h"

namespace cwfx::solve {

int SetBlasThreads(int threads) {
  // Looked up at run time: the engine links the system BLAS (reference BLAS or
  // OpenBLAS, whichever Debian's alternatives point to), and only OpenBLAS
  // has threads to set.
  using Getter = int (*)();
  using Setter = void (*)(int);
  static const auto get = reinterpret_cast<Getter>(dlsym(RTLD_DEFAULT, "openblas_get_num_threads"));
  static const auto set = reinterpret_cast<Setter>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"));
  if (get == nullptr || set == nullptr) return 0;
  const int before = get();
  set(std::max(1, threads));
  return before;
}

struct SchurFactor::Impl {
  SchurFactorAnalysis analysis;
  std::vector<int32_t> component_g;
  std::vector<int64_t> references;
  std::vector<int64_t> grounded_g;  // index in the grounded matrix, -1 for a reference
  int64_t m = 0;                    // rows of the grounded matrix
  internal::CholmodCommon common;   // owns `a` and the factor's workspace
  cholmod_sparse* a = nullptr;      // grounded lower triangle (kept until Factorise)
  internal::CholmodFactor factor;
  bool factorised = false;
  std::string message;

  ~Impl() {
    if (a != nullptr) cholmod_l_free_sparse(&a, common.get());
  }
};

namespace {
using Lower = Eigen::SparseMatrix<double, Eigen::ColMajor, int64_t>;
int64_t Find(std::vector<int64_t>& parent, int64_t x) {
  while (parent[static_cast<size_t>(x)] != x) {
    parent[static_cast<size_t>(x)] = parent[static_cast<size_t>(parent[static_cast<size_t>(x)])];
    x = parent[static_cast<size_t>(x)];
  }
  return x;
}
}  // namespace

SchurFactor::SchurFactor(const absorb::SchurComplement& schur) : impl_(std::make_unique<Impl>()) {
  const auto t0 = std::chrono::steady_clock::now();
  Impl& s = *impl_;
  const auto& lower = schur.lower;
  const int64_t n = lower.rows();
  s.analysis.levels = n;
  s.analysis.matrix_nnz = lower.nonZeros();
  // Components of the graph of the off-diagonal entries.
  std::vector<int64_t> parent(static_cast<size_t>(n));
  std::iota(parent.begin(), parent.end(), 0);
  std::vector<double> diag(static_cast<size_t>(n), 0.0);
  for (int64_t c = 0; c < n; ++c)
    for (Lower::InnerIterator it(lower, c); it; ++it) {
      if (it.row() == c) {
        diag[static_cast<size_t>(c)] = it.value();
        continue;
      }
      if (it.value() == 0.0) continue;
      const int64_t a = Find(parent, c), b = Find(parent, it.row());
      if (a != b) parent[static_cast<size_t>(std::max(a, b))] = std::min(a, b);
    }
  s.component_g.assign(static_cast<size_t>(n), -1);
  std::vector<int32_t> comp_of_root(static_cast<size_t>(n), -1);
  int32_t nc = 0;
  for (int64_t g = 0; g < n; ++g) {
    const int64_t root = Find(parent, g);
    if (comp_of_root[static_cast<size_t>(root)] < 0) comp_of_root[static_cast<size_t>(root)] = nc++;
    s.component_g[static_cast<size_t>(g)] = comp_of_root[static_cast<size_t>(root)];
  }
  s.analysis.components = nc;
  s.references.assign(static_cast<size_t>(nc), -1);
  for (int64_t g = 0; g < n; ++g) {
    int64_t& ref = s.references[static_cast<size_t>(s.component_g[static_cast<size_t>(g)])];
    if (ref < 0 || diag[static_cast<size_t>(g)] > diag[static_cast<size_t>(ref)]) ref = g;
  }
  s.grounded_g.assign(static_cast<size_t>(n), 0);
  for (int64_t ref : s.references) s.grounded_g[static_cast<size_t>(ref)] = -1;
  for (int64_t g = 0; g < n; ++g)
    if (s.grounded_g[static_cast<size_t>(g)] == 0) s.grounded_g[static_cast<size_t>(g)] = s.m++;
  if (s.m == 0) {
    s.analysis.analyse_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return;
  }

  int64_t nnz = 0;
  for (int64_t c = 0; c < n; ++c) {
    if (s.grounded_g[static_cast<size_t>(c)] < 0) continue;
    for (Lower::InnerIterator it(lower, c); it; ++it)
      if (s.grounded_g[static_cast<size_t>(it.row())] >= 0) ++nnz;
  }
  s.a = cholmod_l_allocate_sparse(static_cast<size_t>(s.m), static_cast<size_t>(s.m), static_cast<size_t>(nnz), 1, 1,
                                  -1, CHOLMOD_REAL, s.common.get());
  s.common.Check("allocate");
  if (s.a == nullptr) throw ComputationError("CHOLMOD could not allocate the Schur complement");
  {
    auto* ap = static_cast<SuiteSparse_long*>(s.a->p);
    auto* ai = static_cast<SuiteSparse_long*>(s.a->i);
    auto* ax = static_cast<double*>(s.a->x);
    SuiteSparse_long pos = 0;
    for (int64_t c = 0; c < n; ++c) {
      const int64_t col = s.grounded_g[static_cast<size_t>(c)];
      if (col < 0) continue;
      ap[col] = pos;
      for (Lower::InnerIterator it(lower, c); it; ++it) {
        const int64_t row = s.grounded_g[static_cast<size_t>(it.row())];
        if (row < 0) continue;
        ai[pos] = row;
        ax[pos] = it.value();
        ++pos;
      }
    }
    ap[s.m] = pos;
  }
  cholmod_factor* f = cholmod_l_analyze(s.a, s.common.get());
  if (f == nullptr || !s.common.Check("analyse")) {
    if (f != nullptr) cholmod_l_free_factor(&f, s.common.get());
    throw ComputationError("CHOLMOD could not analyse the Schur complement");
  }
  s.factor.reset(f);
  s.analysis.predicted_nnz = s.common.get()->lnz;
  s.analysis.predicted_flops = s.common.get()->fl;
  s.analysis.supernodal = f->is_super != 0;
  s.analysis.analyse_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

SchurFactor::~SchurFactor() = default;

const SchurFactorAnalysis& SchurFactor::analysis() const { return impl_->analysis; }
bool SchurFactor::factorised() const { return impl_->factorised; }
const std::string& SchurFactor::message() const { return impl_->message; }
const std::vector<int32_t>& SchurFactor::component_of_level() const { return impl_->component_g; }
const std::vector<int64_t>& SchurFactor::reference_levels() const { return impl_->references; }

bool SchurFactor::Factorise(int threads) {
  Impl& s = *impl_;
  if (s.factorised) return true;
  const auto t0 = std::chrono::steady_clock::now();
  if (s.m > 0) {
    const int before = SetBlasThreads(threads);
    cholmod_l_factorize(s.a, s.factor.get(), s.common.get());
    if (before > 0) SetBlasThreads(1);
    const bool posdef = s.common.Check("factorise");
    cholmod_l_free_sparse(&s.a, s.common.get());
    if (!posdef || s.factor.get()->minor < s.factor.get()->n) {
      s.message = "the grounded Schur complement is not numerically positive definite (pivot " +
                  std::to_string(s.factor.get()->minor) + " of " + std::to_string(s.factor.get()->n) + ")";
      return false;
    }
  }
  s.factorised = true;
  s.analysis.factorise_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return true;
}

void SchurFactor::Apply(const double* r_sw, double* z_sw, int width) const {
  const Impl& s = *impl_;
  CWFX_CHECK(s.factorised, "SchurFactor::Apply before Factorise");
  const int64_t n = s.analysis.levels;
  std::fill(z_sw, z_sw + n * width, 0.0);
  if (s.m == 0) return;
  std::vector<double> b(static_cast<size_t>(s.m * width));
  for (int64_t g = 0; g < n; ++g) {
    const int64_t k = s.grounded_g[static_cast<size_t>(g)];
    if (k < 0) continue;
    for (int j = 0; j < width; ++j) b[static_cast<size_t>(k + j * s.m)] = r_sw[g * width + j];
  }
  internal::CholmodCommon common;
  cholmod_dense bd;
  bd.nrow = static_cast<size_t>(s.m);
  bd.ncol = static_cast<size_t>(width);
  bd.nzmax = bd.nrow * bd.ncol;
  bd.d = bd.nrow;
  bd.x = b.data();
  bd.z = nullptr;
  bd.xtype = CHOLMOD_REAL;
  bd.dtype = CHOLMOD_DOUBLE;
  cholmod_dense* xd = cholmod_l_solve(CHOLMOD_A, s.factor.get(), &bd, common.get());
  common.Check("solve");
  if (xd == nullptr) throw ComputationError("CHOLMOD solve failed");
  const double* x = static_cast<const double*>(xd->x);
  for (int64_t g = 0; g < n; ++g) {
    const int64_t k = s.grounded_g[static_cast<size_t>(g)];
    if (k < 0) continue;
    for (int j = 0; j < width; ++j) z_sw[g * width + j] = x[k + j * s.m];
  }
  cholmod_l_free_dense(&xd, common.get());
}

Eigen::VectorXd SchurFactor::DiagonalOfInverse() const {
  const Impl& s = *impl_;
  CWFX_CHECK(s.factorised, "SchurFactor::DiagonalOfInverse before Factorise");
  const int64_t n = s.analysis.levels;
  Eigen::VectorXd diag = Eigen::VectorXd::Zero(n);
  if (s.m == 0) return diag;
  internal::CholmodCommon common;
  cholmod_factor* l = cholmod_l_copy_factor(s.factor.get(), common.get());
  common.Check("copy factor");
  if (l == nullptr) throw ComputationError("CHOLMOD could not copy the factor");
  internal::CholmodFactor owner;
  owner.reset(l);
  // Simplicial LDL' (unit L, D on the diagonal), packed and monotonic.
  cholmod_l_change_factor(CHOLMOD_REAL, 0, 0, 1, 1, l, common.get());
  common.Check("change factor");
  const auto* lp = static_cast<const SuiteSparse_long*>(l->p);
  const auto* li = static_cast<const SuiteSparse_long*>(l->i);
  const auto* lnz = static_cast<const SuiteSparse_long*>(l->nz);
  const auto* lx = static_cast<const double*>(l->x);
  const auto* perm = static_cast<const SuiteSparse_long*>(l->Perm);
  const int64_t m = s.m;
  // Z = (LDL')^-1 on the pattern of L, aligned with li.
  std::vector<double> zx(static_cast<size_t>(lp[m]), 0.0);
  std::vector<int64_t> mark(static_cast<size_t>(m), -1);
  for (int64_t j = m - 1; j >= 0; --j) {
    const int64_t p0 = lp[j], p1 = lp[j] + lnz[j];  // p0: the diagonal (D_j)
    for (int64_t p = p0 + 1; p < p1; ++p) {
      mark[static_cast<size_t>(li[p])] = p;
      zx[static_cast<size_t>(p)] = 0.0;
    }
    // Z_ij = -sum_{k in struct(L_:j)} L_kj Z_ik for every i in struct(L_:j);
    // each pair (a > k) of the structure is visited once, from column k.
    for (int64_t p = p0 + 1; p < p1; ++p) {
      const int64_t k = li[p];
      const double lkj = lx[p];
      zx[static_cast<size_t>(p)] -= lkj * zx[static_cast<size_t>(lp[k])];
      for (int64_t q = lp[k] + 1; q < lp[k] + lnz[k]; ++q) {
        const int64_t mpos = mark[static_cast<size_t>(li[q])];
        if (mpos < 0) continue;
        const double zak = zx[static_cast<size_t>(q)];
        zx[static_cast<size_t>(mpos)] -= lkj * zak;
        zx[static_cast<size_t>(p)] -= lx[mpos] * zak;
      }
    }
    double zjj = 1.0 / lx[p0];
    for (int64_t p = p0 + 1; p < p1; ++p) {
      zjj -= lx[p] * zx[static_cast<size_t>(p)];
      mark[static_cast<size_t>(li[p])] = -1;
    }
    zx[static_cast<size_t>(p0)] = zjj;
  }
  // Back to levels: row perm[k] of the grounded matrix is row k of the factor.
  std::vector<int64_t> level_of_grounded(static_cast<size_t>(m));
  for (int64_t g = 0; g < n; ++g)
    if (s.grounded_g[static_cast<size_t>(g)] >= 0) level_of_grounded[static_cast<size_t>(s.grounded_g[static_cast<size_t>(g)])] = g;
  for (int64_t k = 0; k < m; ++k)
    diag[level_of_grounded[static_cast<size_t>(perm != nullptr ? perm[k] : k)]] = zx[static_cast<size_t>(lp[k])];
  return diag;
}

Eigen::MatrixXd SchurFactor::Solve(const Eigen::MatrixXd& rhs) const {
  const int64_t n = impl_->analysis.levels;
  CWFX_CHECK(rhs.rows() == n, "SchurFactor::Solve: wrong number of rows");
  const int width = static_cast<int>(rhs.cols());
  Eigen::MatrixXd in = rhs.transpose();  // interleaved: (level, column) at level * width + column
  Eigen::MatrixXd out(width, n);
  Apply(in.data(), out.data(), width);
  return out.transpose();
}

}  // namespace cwfx::solve
