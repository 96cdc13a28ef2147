// Direct solution of the one- or two-factor fixed-effect normal equations by
// a grounded graph Laplacian factorised once with CHOLMOD (see the banner of
// fixed_effect_solver.h for the maths).
#include "solve/fixed_effect_solver.h"

#include <algorithm>
#include <chrono>
#include <numeric>
#include <sstream>

#include "core/error.h"
#include "solve/cholmod_handle_internal.h"

namespace cwfx::solve {

std::string SolverSummary::BriefReport() const {
  std::ostringstream os;
  if (num_factors == 1) {
    os << "direct solver: one factor (diagonal system)";
  } else {
    os << "direct solver: reduced Laplacian on factor " << reduced_factor << ", " << reduced_size
       << " rows after grounding " << num_components << " component(s), " << laplacian_nnz
       << " nonzeros, factor " << factor_nnz << " nonzeros; setup " << setup_seconds
       << " s, CHOLMOD " << factorise_seconds << " s";
  }
  if (!ok) os << "; FAILED: " << message;
  return os.str();
}

struct FixedEffectSolver::Impl {
  int num_q = 0;
  int64_t n = 0;
  std::vector<std::vector<int32_t>> codes_q_n;
  std::vector<int32_t> levels_q;
  std::vector<double> w_n;  // empty = unit weights
  std::vector<Eigen::VectorXd> d_q;  // per-level weight sums
  int r = 0, e = 1;                  // reduced and eliminated factor index
  Eigen::VectorXd inv_d_e;
  Eigen::SparseMatrix<double> c_er;  // G_e x G_r weighted cell counts
  Eigen::SparseMatrix<double> lap;   // G_r x G_r reduced Laplacian
  std::vector<std::vector<int32_t>> comp_q_g;
  std::vector<int32_t> refs;
  std::vector<int64_t> grounded_index_g;  // -1 for references
  int64_t m = 0;
  internal::CholmodFactor factor;
  SolverSummary summary;

  double w(int64_t i) const { return w_n.empty() ? 1.0 : w_n[static_cast<size_t>(i)]; }

  // Per-level weighted sums of the r columns of v (n x r).
  std::vector<Eigen::MatrixXd> LevelSums(const Eigen::Ref<const Eigen::MatrixXd>& v_nr) const {
    std::vector<Eigen::MatrixXd> s_q;
    for (int q = 0; q < num_q; ++q) {
      Eigen::MatrixXd s = Eigen::MatrixXd::Zero(levels_q[q], v_nr.cols());
      const int32_t* codes = codes_q_n[q].data();
      for (Eigen::Index c = 0; c < v_nr.cols(); ++c) {
        const double* col = v_nr.col(c).data();
        double* out = s.col(c).data();
        if (w_n.empty()) {
          for (int64_t i = 0; i < n; ++i) out[codes[i]] += col[i];
        } else {
          for (int64_t i = 0; i < n; ++i) out[codes[i]] += w_n[i] * col[i];
        }
      }
      s_q.push_back(std::move(s));
    }
    return s_q;
  }

  Eigen::MatrixXd SolveGrounded(const Eigen::MatrixXd& rhs) const {
    Eigen::MatrixXd x = Eigen::MatrixXd::Zero(rhs.rows(), rhs.cols());
    if (m == 0 || rhs.cols() == 0) return x;
    if (!summary.ok) throw ComputationError("FixedEffectSolver: the factorisation failed: " + summary.message);
    Eigen::MatrixXd b(m, rhs.cols());
    for (Eigen::Index g = 0; g < rhs.rows(); ++g) {
      const int64_t k = grounded_index_g[static_cast<size_t>(g)];
      if (k >= 0) b.row(k) = rhs.row(g);
    }
    internal::CholmodCommon common;
    cholmod_dense bd;
    bd.nrow = static_cast<size_t>(m);
    bd.ncol = static_cast<size_t>(b.cols());
    bd.nzmax = bd.nrow * bd.ncol;
    bd.d = bd.nrow;
    bd.x = b.data();
    bd.z = nullptr;
    bd.xtype = CHOLMOD_REAL;
    bd.dtype = CHOLMOD_DOUBLE;
    cholmod_dense* xd = cholmod_l_solve(CHOLMOD_A, factor.get(), &bd, common.get());
    common.Check("solve");
    if (xd == nullptr) throw ComputationError("CHOLMOD solve failed");
    const double* xs = static_cast<const double*>(xd->x);
    for (Eigen::Index g = 0; g < rhs.rows(); ++g) {
      const int64_t k = grounded_index_g[static_cast<size_t>(g)];
      if (k >= 0)
        for (Eigen::Index c = 0; c < rhs.cols(); ++c) x(g, c) = xs[k + c * m];
    }
    cholmod_l_free_dense(&xd, common.get());
    return x;
  }

  std::vector<Eigen::MatrixXd> SolveSums(const std::vector<Eigen::MatrixXd>& s_q) const {
    CWFX_CHECK(static_cast<int>(s_q.size()) == num_q, "one block of sums per factor");
    for (int q = 0; q < num_q; ++q)
      CWFX_CHECK(s_q[q].rows() == levels_q[q] && s_q[q].cols() == s_q[0].cols(),
                 "level sums have the wrong shape");
    std::vector<Eigen::MatrixXd> theta(static_cast<size_t>(num_q));
    if (num_q == 1) {
      theta[0] = s_q[0].array().colwise() / d_q[0].array();
      return theta;
    }
    const Eigen::MatrixXd& s_r = s_q[r];
    const Eigen::MatrixXd& s_e = s_q[e];
    const Eigen::MatrixXd se_scaled = inv_d_e.asDiagonal() * s_e;
    const Eigen::MatrixXd rhs = s_r - c_er.transpose() * se_scaled;
    Eigen::MatrixXd x_r = SolveGrounded(rhs);
    Eigen::MatrixXd x_e = inv_d_e.asDiagonal() * (s_e - c_er * x_r);
    theta[r] = std::move(x_r);
    theta[e] = std::move(x_e);
    return theta;
  }
};

namespace {
int32_t Find(std::vector<int32_t>& parent, int32_t x) {
  while (parent[x] != x) {
    parent[x] = parent[parent[x]];
    x = parent[x];
  }
  return x;
}
}  // namespace

FixedEffectSolver::FixedEffectSolver(std::span<const FactorCodes> factors,
                                     std::span<const double> weights_n)
    : impl_(std::make_unique<Impl>()) {
  const auto t0 = std::chrono::steady_clock::now();
  Impl& s = *impl_;
  if (factors.empty() || factors.size() > 2)
    throw Error("FixedEffectSolver: needs 1 or 2 factors, got " + std::to_string(factors.size()));
  s.num_q = static_cast<int>(factors.size());
  s.n = static_cast<int64_t>(factors[0].codes_n.size());
  if (!weights_n.empty() && static_cast<int64_t>(weights_n.size()) != s.n)
    throw Error("FixedEffectSolver: weights have a different length than the factor codes");
  s.w_n.assign(weights_n.begin(), weights_n.end());
  for (int64_t i = 0; i < static_cast<int64_t>(s.w_n.size()); ++i)
    if (!(s.w_n[i] > 0)) throw Error("FixedEffectSolver: weight of observation " + std::to_string(i) + " is not positive");
  for (int q = 0; q < s.num_q; ++q) {
    const FactorCodes& f = factors[q];
    if (static_cast<int64_t>(f.codes_n.size()) != s.n)
      throw Error("FixedEffectSolver: factors have different lengths");
    if (f.num_levels <= 0) throw Error("FixedEffectSolver: a factor has no levels");
    s.codes_q_n.emplace_back(f.codes_n.begin(), f.codes_n.end());
    s.levels_q.push_back(f.num_levels);
    Eigen::VectorXd d = Eigen::VectorXd::Zero(f.num_levels);
    for (int64_t i = 0; i < s.n; ++i) {
      const int32_t c = f.codes_n[i];
      if (c < 0 || c >= f.num_levels) throw Error("FixedEffectSolver: a code is out of range");
      d[c] += s.w(i);
    }
    for (int32_t g = 0; g < f.num_levels; ++g)
      if (!(d[g] > 0))
        throw Error("FixedEffectSolver: level " + std::to_string(g) + " of factor " + std::to_string(q) +
                    " has no observation of positive weight");
    s.d_q.push_back(std::move(d));
  }
  s.summary.num_factors = s.num_q;

  if (s.num_q == 1) {
    const int32_t g0 = s.levels_q[0];
    s.comp_q_g.emplace_back(static_cast<size_t>(g0));
    std::iota(s.comp_q_g[0].begin(), s.comp_q_g[0].end(), 0);
    s.summary.num_components = g0;
    s.summary.reduced_size = g0;
    s.lap.resize(g0, g0);
    std::vector<Eigen::Triplet<double>> diag;
    for (int32_t g = 0; g < g0; ++g) diag.emplace_back(g, g, s.d_q[0][g]);
    s.lap.setFromTriplets(diag.begin(), diag.end());
    s.summary.setup_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return;
  }

  // Reduce to the side with fewer levels.
  s.r = s.levels_q[0] <= s.levels_q[1] ? 0 : 1;
  s.e = 1 - s.r;
  s.summary.reduced_factor = s.r;
  const int32_t gr = s.levels_q[s.r], ge = s.levels_q[s.e];
  const std::vector<int32_t>& cr = s.codes_q_n[s.r];
  const std::vector<int32_t>& ce = s.codes_q_n[s.e];
  {
    std::vector<Eigen::Triplet<double>> trip;
    trip.reserve(static_cast<size_t>(s.n));
    for (int64_t i = 0; i < s.n; ++i) trip.emplace_back(ce[i], cr[i], s.w(i));
    s.c_er.resize(ge, gr);
    s.c_er.setFromTriplets(trip.begin(), trip.end());
  }
  s.inv_d_e = s.d_q[s.e].cwiseInverse();

  // Components by union-find over the cells (reduced levels 0..gr-1, then
  // eliminated levels gr..gr+ge-1).
  std::vector<int32_t> parent(static_cast<size_t>(gr) + static_cast<size_t>(ge));
  std::iota(parent.begin(), parent.end(), 0);
  for (int k = 0; k < s.c_er.outerSize(); ++k)
    for (Eigen::SparseMatrix<double>::InnerIterator it(s.c_er, k); it; ++it) {
      const int32_t a = Find(parent, static_cast<int32_t>(it.col()));
      const int32_t b = Find(parent, gr + static_cast<int32_t>(it.row()));
      if (a != b) parent[std::max(a, b)] = std::min(a, b);
    }
  std::vector<int32_t> comp_of_root(parent.size(), -1);
  int32_t nc = 0;
  s.comp_q_g.assign(2, {});
  s.comp_q_g[s.r].resize(static_cast<size_t>(gr));
  s.comp_q_g[s.e].resize(static_cast<size_t>(ge));
  for (int32_t g = 0; g < gr; ++g) {
    const int32_t root = Find(parent, g);
    if (comp_of_root[root] < 0) comp_of_root[root] = nc++;
    s.comp_q_g[s.r][g] = comp_of_root[root];
  }
  for (int32_t g = 0; g < ge; ++g) s.comp_q_g[s.e][g] = comp_of_root[Find(parent, gr + g)];
  s.summary.num_components = nc;
  // Reference per component: the reduced-side level with the largest weight.
  s.refs.assign(static_cast<size_t>(nc), -1);
  for (int32_t g = 0; g < gr; ++g) {
    int32_t& ref = s.refs[s.comp_q_g[s.r][g]];
    if (ref < 0 || s.d_q[s.r][g] > s.d_q[s.r][ref]) ref = g;
  }
  s.grounded_index_g.assign(static_cast<size_t>(gr), 0);
  for (int32_t ref : s.refs) s.grounded_index_g[ref] = -1;
  for (int32_t g = 0; g < gr; ++g)
    if (s.grounded_index_g[g] == 0) s.grounded_index_g[g] = s.m++;
  s.summary.reduced_size = s.m;

  // L = diag(d_r) - C' diag(1/d_e) C.
  {
    Eigen::SparseMatrix<double> scaled = s.inv_d_e.asDiagonal() * s.c_er;
    Eigen::SparseMatrix<double> ctc = s.c_er.transpose() * scaled;
    Eigen::SparseMatrix<double> dr(gr, gr);
    std::vector<Eigen::Triplet<double>> diag;
    for (int32_t g = 0; g < gr; ++g) diag.emplace_back(g, g, s.d_q[s.r][g]);
    dr.setFromTriplets(diag.begin(), diag.end());
    s.lap = dr - ctc;
    s.lap.makeCompressed();
  }
  const auto t1 = std::chrono::steady_clock::now();
  s.summary.setup_seconds = std::chrono::duration<double>(t1 - t0).count();
  if (s.m == 0) return;

  // Grounded lower triangle as a CHOLMOD matrix.
  internal::CholmodCommon common;
  int64_t nnz = 0;
  for (int k = 0; k < s.lap.outerSize(); ++k) {
    if (s.grounded_index_g[k] < 0) continue;
    for (Eigen::SparseMatrix<double>::InnerIterator it(s.lap, k); it; ++it)
      if (it.row() >= k && s.grounded_index_g[it.row()] >= 0) ++nnz;
  }
  cholmod_sparse* a = cholmod_l_allocate_sparse(static_cast<size_t>(s.m), static_cast<size_t>(s.m),
                                                static_cast<size_t>(nnz), 1, 1, -1, CHOLMOD_REAL,
                                                common.get());
  common.Check("allocate");
  if (a == nullptr) throw ComputationError("CHOLMOD allocate failed");
  {
    auto* ap = static_cast<SuiteSparse_long*>(a->p);
    auto* ai = static_cast<SuiteSparse_long*>(a->i);
    auto* ax = static_cast<double*>(a->x);
    SuiteSparse_long pos = 0;
    for (int k = 0; k < s.lap.outerSize(); ++k) {
      const int64_t col = s.grounded_index_g[k];
      if (col < 0) continue;
      ap[col] = pos;
      for (Eigen::SparseMatrix<double>::InnerIterator it(s.lap, k); it; ++it) {
        if (it.row() < k) continue;
        const int64_t row = s.grounded_index_g[it.row()];
        if (row < 0) continue;
        ai[pos] = row;
        ax[pos] = it.value();
        ++pos;
      }
    }
    ap[s.m] = pos;
  }
  s.summary.laplacian_nnz = nnz;
  cholmod_factor* f = cholmod_l_analyze(a, common.get());
  if (f == nullptr || !common.Check("analyse")) {
    cholmod_l_free_sparse(&a, common.get());
    if (f != nullptr) cholmod_l_free_factor(&f, common.get());
    s.summary.ok = false;
    s.summary.message = "CHOLMOD analyse failed";
    return;
  }
  cholmod_l_factorize(a, f, common.get());
  bool posdef = true;
  try {
    posdef = common.Check("factorise");
  } catch (...) {
    cholmod_l_free_sparse(&a, common.get());
    cholmod_l_free_factor(&f, common.get());
    throw;
  }
  if (!posdef || f->minor < f->n) {
    s.summary.ok = false;
    s.summary.message = "grounded Laplacian is not numerically positive definite (pivot " +
                        std::to_string(f->minor) + " of " + std::to_string(f->n) + ")";
  }
  s.summary.factor_nnz = static_cast<int64_t>(common.get()->lnz);
  cholmod_l_free_sparse(&a, common.get());
  s.factor.reset(f);
  s.summary.factorise_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
}

FixedEffectSolver::~FixedEffectSolver() = default;
FixedEffectSolver::FixedEffectSolver(FixedEffectSolver&&) noexcept = default;
FixedEffectSolver& FixedEffectSolver::operator=(FixedEffectSolver&&) noexcept = default;

const SolverSummary& FixedEffectSolver::summary() const { return impl_->summary; }
int FixedEffectSolver::num_factors() const { return impl_->num_q; }
int64_t FixedEffectSolver::num_obs() const { return impl_->n; }
int32_t FixedEffectSolver::num_levels(int q) const { return impl_->levels_q.at(static_cast<size_t>(q)); }
const std::vector<int32_t>& FixedEffectSolver::component_g(int q) const {
  return impl_->comp_q_g.at(static_cast<size_t>(q));
}
const std::vector<int32_t>& FixedEffectSolver::reference_levels() const { return impl_->refs; }
const Eigen::SparseMatrix<double>& FixedEffectSolver::ReducedLaplacian() const { return impl_->lap; }

std::vector<Eigen::VectorXd> FixedEffectSolver::Recover(std::span<const double> fe_n) const {
  CWFX_CHECK(static_cast<int64_t>(fe_n.size()) == impl_->n, "fe_n has the wrong length");
  Eigen::Map<const Eigen::MatrixXd> v(fe_n.data(), impl_->n, 1);
  std::vector<Eigen::MatrixXd> theta = impl_->SolveSums(impl_->LevelSums(v));
  std::vector<Eigen::VectorXd> out;
  for (auto& t : theta) out.emplace_back(t.col(0));
  return out;
}

std::vector<Eigen::MatrixXd> FixedEffectSolver::RecoverMany(Eigen::Ref<const Eigen::MatrixXd> fe_nr) const {
  CWFX_CHECK(fe_nr.rows() == impl_->n, "fe_nr has the wrong number of rows");
  return impl_->SolveSums(impl_->LevelSums(fe_nr));
}

std::vector<Eigen::MatrixXd> FixedEffectSolver::SolveLevelSums(const std::vector<Eigen::MatrixXd>& sums_q) const {
  return impl_->SolveSums(sums_q);
}

void FixedEffectSolver::Absorb(Eigen::Ref<Eigen::MatrixXd> columns_nr) const {
  CWFX_CHECK(columns_nr.rows() == impl_->n, "columns have the wrong number of rows");
  const std::vector<Eigen::MatrixXd> theta = impl_->SolveSums(impl_->LevelSums(columns_nr));
  for (Eigen::Index c = 0; c < columns_nr.cols(); ++c) {
    double* col = columns_nr.col(c).data();
    for (int q = 0; q < impl_->num_q; ++q) {
      const int32_t* codes = impl_->codes_q_n[q].data();
      const double* t = theta[q].col(c).data();
      for (int64_t i = 0; i < impl_->n; ++i) col[i] -= t[codes[i]];
    }
  }
}

Eigen::MatrixXd FixedEffectSolver::SolveReduced(Eigen::MatrixXd rhs) const {
  const Impl& s = *impl_;
  CWFX_CHECK(rhs.rows() == s.levels_q[s.r], "rhs has the wrong number of rows");
  if (s.num_q == 1) return rhs.array().colwise() / s.d_q[0].array();
  return s.SolveGrounded(rhs);
}

}  // namespace cwfx::solve
