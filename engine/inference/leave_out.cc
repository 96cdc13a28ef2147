// Leave-one-out (KSS) variance components: the leave-one-out connected set,
// exact leverages (closed form for one factor, blocks of CHOLMOD solves for
// two) and the random-projection (JLA) approximation. The maths, the sources
// and how the JLA correction was settled are in leave_out.h.
//
// CONVENTION: suffix _n observations, _g levels of one factor, _k covariates,
// _q factors, _nm observations x draws (or x right-hand sides).
#include "inference/leave_out.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <numeric>
#include <optional>
#include <sstream>

#include "absorb/identify.h"
#include "core/error.h"
#include "core/random_stream.h"
#include "solve/fixed_effect_solver.h"

namespace cwfx::inference {

namespace {

// Philox domain of the Rademacher draws ("KSSL"), apart from the generator's
// entity kinds, the replication schemes and the rank draws.
constexpr uint32_t kDrawDomain = 0x4b53534cu;
// Observations per block of exact solves (right-hand sides per CHOLMOD call).
constexpr int64_t kExactBlock = 64;
// Draws per batch of the random projection (fixed: results never depend on
// the thread count).
constexpr int kDrawBatch = 16;
// Observations per block of the parallel per-observation loops.
constexpr int64_t kObsBlock = 4096;

std::string Num(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", x);
  return buf;
}

void CheckFactorShapes(const std::vector<absorb::Factor>& factors, const char* what) {
  if (factors.empty() || factors.size() > 2)
    throw Error(std::string(what) + ": needs one factor (caseworker) or two (caseworker, citizen), got " +
                std::to_string(factors.size()));
  const size_t n = factors[0].codes_n.size();
  for (const auto& f : factors) {
    if (f.codes_n.size() != n)
      throw Error(std::string(what) + ": factor '" + f.name + "' has " + std::to_string(f.codes_n.size()) +
                  " codes, factor '" + factors[0].name + "' " + std::to_string(n));
    if (f.num_levels <= 0 && n > 0) throw Error(std::string(what) + ": factor '" + f.name + "' has no levels");
    for (size_t i = 0; i < n; ++i)
      if (f.codes_n[i] < 0 || f.codes_n[i] >= f.num_levels)
        throw Error(std::string(what) + ": factor '" + f.name + "' has code " + std::to_string(f.codes_n[i]) +
                    " at observation " + std::to_string(i) + ", outside [0, " + std::to_string(f.num_levels) + ")");
  }
}

// ------------------------------------------------ leave-one-out set helpers

// Union-find over the levels of both factors (factor 1's level g is node L0 + g).
struct UnionFind {
  std::vector<int32_t> parent;
  explicit UnionFind(size_t size) : parent(size) { std::iota(parent.begin(), parent.end(), 0); }
  int32_t Find(int32_t x) {
    while (parent[static_cast<size_t>(x)] != x) {
      parent[static_cast<size_t>(x)] = parent[static_cast<size_t>(parent[static_cast<size_t>(x)])];
      x = parent[static_cast<size_t>(x)];
    }
    return x;
  }
  void Unite(int32_t a, int32_t b) {
    a = Find(a);
    b = Find(b);
    if (a != b) parent[static_cast<size_t>(std::max(a, b))] = std::min(a, b);
  }
};

// Keeps only the kept observations of the largest connected component (most
// observations; ties: the component met first in observation order). Returns
// the number of observations dropped.
int64_t KeepLargestComponent(const std::vector<absorb::Factor>& f, std::vector<uint8_t>& keep_n) {
  const int32_t L0 = f[0].num_levels, L1 = f[1].num_levels;
  const size_t n = keep_n.size();
  UnionFind uf(static_cast<size_t>(L0) + static_cast<size_t>(L1));
  for (size_t i = 0; i < n; ++i)
    if (keep_n[i]) uf.Unite(f[0].codes_n[i], L0 + f[1].codes_n[i]);
  std::vector<int64_t> obs_of_root(static_cast<size_t>(L0) + static_cast<size_t>(L1), 0);
  std::vector<int64_t> first_of_root(obs_of_root.size(), -1);
  for (size_t i = 0; i < n; ++i) {
    if (!keep_n[i]) continue;
    const auto r = static_cast<size_t>(uf.Find(f[0].codes_n[i]));
    if (first_of_root[r] < 0) first_of_root[r] = static_cast<int64_t>(i);
    ++obs_of_root[r];
  }
  int64_t best = -1, best_count = 0, best_first = 0;
  for (size_t r = 0; r < obs_of_root.size(); ++r) {
    if (obs_of_root[r] == 0) continue;
    if (obs_of_root[r] > best_count || (obs_of_root[r] == best_count && first_of_root[r] < best_first)) {
      best = static_cast<int64_t>(r);
      best_count = obs_of_root[r];
      best_first = first_of_root[r];
    }
  }
  int64_t dropped = 0;
  for (size_t i = 0; i < n; ++i) {
    if (keep_n[i] && uf.Find(f[0].codes_n[i]) != best) {
      keep_n[i] = 0;
      ++dropped;
    }
  }
  return dropped;
}

// Marks the bridges of the multigraph of kept observations (nodes: levels of
// both factors, one edge per observation) by an iterative Tarjan low-link
// search. Only the tree edge to the parent is skipped (by edge id), so a
// parallel edge counts as a back edge and an edge of multiplicity > 1 is never
// a bridge. Returns the number of bridges.
int64_t MarkBridges(const std::vector<absorb::Factor>& f, const std::vector<uint8_t>& keep_n,
                    std::vector<uint8_t>& bridge_n) {
  const int32_t L0 = f[0].num_levels, L1 = f[1].num_levels;
  const size_t nodes = static_cast<size_t>(L0) + static_cast<size_t>(L1);
  const size_t n = keep_n.size();
  bridge_n.assign(n, 0);
  auto end_a = [&](size_t i) { return static_cast<int64_t>(f[0].codes_n[i]); };
  auto end_b = [&](size_t i) { return static_cast<int64_t>(L0) + f[1].codes_n[i]; };
  // Adjacency (CSR): per node, its incident kept edges.
  std::vector<int64_t> start(nodes + 1, 0);
  for (size_t i = 0; i < n; ++i)
    if (keep_n[i]) {
      ++start[static_cast<size_t>(end_a(i)) + 1];
      ++start[static_cast<size_t>(end_b(i)) + 1];
    }
  for (size_t v = 0; v < nodes; ++v) start[v + 1] += start[v];
  std::vector<int64_t> adj(static_cast<size_t>(start[nodes]));
  {
    std::vector<int64_t> fill(start.begin(), start.end() - 1);
    for (size_t i = 0; i < n; ++i)
      if (keep_n[i]) {
        adj[static_cast<size_t>(fill[static_cast<size_t>(end_a(i))]++)] = static_cast<int64_t>(i);
        adj[static_cast<size_t>(fill[static_cast<size_t>(end_b(i))]++)] = static_cast<int64_t>(i);
      }
  }
  auto other = [&](int64_t v, int64_t e) {
    const size_t ei = static_cast<size_t>(e);
    return end_a(ei) == v ? end_b(ei) : end_a(ei);
  };
  std::vector<int64_t> disc(nodes, -1), low(nodes, 0), parent_edge(nodes, -1), next(nodes, 0);
  std::vector<int64_t> stack;
  int64_t timer = 0, bridges = 0;
  for (size_t root = 0; root < nodes; ++root) {
    if (disc[root] >= 0 || start[root] == start[root + 1]) continue;
    disc[root] = low[root] = timer++;
    next[root] = start[root];
    stack.push_back(static_cast<int64_t>(root));
    while (!stack.empty()) {
      const int64_t u = stack.back();
      const size_t us = static_cast<size_t>(u);
      if (next[us] < start[us + 1]) {
        const int64_t e = adj[static_cast<size_t>(next[us]++)];
        if (e == parent_edge[us]) continue;
        const int64_t v = other(u, e);
        const size_t vs = static_cast<size_t>(v);
        if (disc[vs] < 0) {
          disc[vs] = low[vs] = timer++;
          parent_edge[vs] = e;
          next[vs] = start[vs];
          stack.push_back(v);
        } else {
          low[us] = std::min(low[us], disc[vs]);
        }
      } else {
        stack.pop_back();
        if (parent_edge[us] >= 0) {
          const size_t p = static_cast<size_t>(other(u, parent_edge[us]));
          low[p] = std::min(low[p], low[us]);
          if (low[us] > disc[p]) {
            bridge_n[static_cast<size_t>(parent_edge[us])] = 1;
            ++bridges;
          }
        }
      }
    }
  }
  return bridges;
}

// ------------------------------------------------------------ the problem

// Everything about the design the estimators need, validated.
struct Problem {
  const fit::Design* design = nullptr;
  int64_t n = 0;
  int num_q = 1;
  const int32_t* c0 = nullptr;  // caseworker codes
  const int32_t* c1 = nullptr;  // citizen codes (two factors)
  int32_t L0 = 0, L1 = 0;
  Eigen::VectorXd count0_g, count1_g;

  Location Where(int64_t i) const {
    Location loc;
    loc.file = design->source;
    if (i >= 0 && i < design->num_obs()) loc.row = design->InputRow(i) + 1;
    return loc;
  }
};

Problem MakeProblem(const fit::Design& d) {
  Problem p;
  p.design = &d;
  const Location file{d.source, -1, ""};
  if (d.factors.empty() || d.factors.size() > 2)
    throw Error(file, "leave-out variance components need one absorbed factor (caseworker) or two (caseworker, "
                      "citizen); the design has " + std::to_string(d.factors.size()));
  if (!d.weights_n.empty())
    throw Error(file, "leave-out variance components are implemented for unweighted designs only (weights '" +
                          d.weights_name + "')");
  p.n = d.y_n.size();
  if (d.X_nk.rows() != p.n)
    throw Error(file, "the covariate matrix has " + std::to_string(d.X_nk.rows()) + " rows, the outcome " +
                          std::to_string(p.n));
  CheckFactorShapes(d.factors, "leave-out variance");
  if (static_cast<int64_t>(d.factors[0].codes_n.size()) != p.n)
    throw Error(file, "the factors have " + std::to_string(d.factors[0].codes_n.size()) +
                          " codes, the outcome " + std::to_string(p.n) + " rows");
  for (int64_t i = 0; i < p.n; ++i) {
    if (!std::isfinite(d.y_n[i])) throw Error(p.Where(i), "the outcome is not finite");
    for (Eigen::Index j = 0; j < d.X_nk.cols(); ++j)
      if (!std::isfinite(d.X_nk(i, j))) {
        Location loc = p.Where(i);
        if (static_cast<size_t>(j) < d.covariate_names.size()) loc.column = d.covariate_names[static_cast<size_t>(j)];
        throw Error(loc, "covariate is not finite");
      }
  }
  p.num_q = static_cast<int>(d.factors.size());
  p.c0 = d.factors[0].codes_n.data();
  p.L0 = d.factors[0].num_levels;
  p.count0_g = Eigen::VectorXd::Zero(p.L0);
  for (int64_t i = 0; i < p.n; ++i) p.count0_g[p.c0[i]] += 1.0;
  if (p.num_q == 2) {
    p.c1 = d.factors[1].codes_n.data();
    p.L1 = d.factors[1].num_levels;
    p.count1_g = Eigen::VectorXd::Zero(p.L1);
    for (int64_t i = 0; i < p.n; ++i) p.count1_g[p.c1[i]] += 1.0;
  }
  for (int q = 0; q < p.num_q; ++q) {
    const Eigen::VectorXd& cnt = q == 0 ? p.count0_g : p.count1_g;
    for (Eigen::Index g = 0; g < cnt.size(); ++g)
      if (cnt[g] == 0)
        throw Error(file, "level " + std::to_string(g) + " of factor '" + d.factors[static_cast<size_t>(q)].name +
                              "' has no observation (re-code the factor densely, e.g. RestrictDesign)");
  }
  if (p.num_q == 2) {
    UnionFind uf(static_cast<size_t>(p.L0) + static_cast<size_t>(p.L1));
    for (int64_t i = 0; i < p.n; ++i) uf.Unite(p.c0[i], p.L0 + p.c1[i]);
    const int32_t root = uf.Find(0);
    for (int32_t v = 1; v < p.L0 + p.L1; ++v)
      if (uf.Find(v) != root)
        throw Error(file, "the caseworker-citizen graph is not connected: restrict the design to the leave-one-out "
                          "connected set first (LeaveOneOutConnectedSet, RestrictDesign)");
  }
  if (p.n < 3) throw Error(file, "leave-out variance components need at least 3 observations");
  return p;
}

// Group means of the columns of v_nm by factor codes (one factor).
Eigen::MatrixXd GroupMeans(const int32_t* codes, const Eigen::VectorXd& count_g, const Eigen::MatrixXd& v_nm) {
  Eigen::MatrixXd s = Eigen::MatrixXd::Zero(count_g.size(), v_nm.cols());
  for (Eigen::Index c = 0; c < v_nm.cols(); ++c) {
    const double* col = v_nm.col(c).data();
    double* out = s.col(c).data();
    for (Eigen::Index i = 0; i < v_nm.rows(); ++i) out[codes[i]] += col[i];
  }
  return s.array().colwise() / count_g.array();
}

// ------------------------------------------------------------- projections

// D N^- (level sums) and P_D (columns) for the chosen backend.
class Projector {
 public:
  Projector(const Problem& p, bool direct, const LeaveOutOptions& opt, const parallel::Context& ctx) : p_(p) {
    if (p.num_q == 1) {
      kind_ = Kind::kOneFactor;
      return;
    }
    if (direct) {
      const solve::FactorCodes fc[2] = {
          {std::span<const int32_t>(p.c0, static_cast<size_t>(p.n)), p.L0},
          {std::span<const int32_t>(p.c1, static_cast<size_t>(p.n)), p.L1}};
      solver_ = std::make_unique<solve::FixedEffectSolver>(std::span<const solve::FactorCodes>(fc, 2),
                                                           std::span<const double>());
      if (solver_->ok()) {
        kind_ = Kind::kDirect;
        return;
      }
      solver_.reset();
    }
    kind_ = Kind::kIterative;
    absorber_ = std::make_unique<absorb::Absorber>(p.design->factors, std::vector<double>(), opt.absorb, ctx);
    BuildSpanningTree();
  }

  bool direct() const { return kind_ == Kind::kDirect; }
  bool one_factor() const { return kind_ == Kind::kOneFactor; }
  const solve::FixedEffectSolver* solver() const { return solver_.get(); }
  std::string Name() const {
    switch (kind_) {
      case Kind::kOneFactor: return "closed form (one factor)";
      case Kind::kDirect: return "direct (CHOLMOD reduced Laplacian)";
      case Kind::kIterative: return "iterative (absorber)";
    }
    return "";
  }
  bool converged() const { return converged_; }

  // Replaces the columns by their residuals from the projection on the dummies.
  void Absorb(Eigen::MatrixXd& cols_nm, const parallel::Context& ctx) {
    if (cols_nm.cols() == 0) return;
    switch (kind_) {
      case Kind::kOneFactor: {
        const Eigen::MatrixXd m = GroupMeans(p_.c0, p_.count0_g, cols_nm);
        parallel::ParallelFor(ctx, 0, cols_nm.cols(), 1, [&](int64_t a, int64_t b) {
          for (int64_t c = a; c < b; ++c)
            for (int64_t i = 0; i < p_.n; ++i) cols_nm(i, c) -= m(p_.c0[i], c);
        });
        break;
      }
      case Kind::kDirect:
        parallel::ParallelFor(ctx, 0, NumGroups(cols_nm.cols()), 1, [&](int64_t a, int64_t b) {
          for (int64_t gi = a; gi < b; ++gi) {
            const auto [lo, hi] = Group(gi, cols_nm.cols());
            solver_->Absorb(cols_nm.middleCols(lo, hi - lo));
          }
        });
        break;
      case Kind::kIterative: {
        const absorb::AbsorbSummary s = absorber_->Absorb(cols_nm, ctx);
        if (!s.AllConverged()) converged_ = false;
        break;
      }
    }
  }

  // Effects of each factor from fe_n (the fixed-effect part of a column).
  std::vector<Eigen::VectorXd> Recover(const Eigen::VectorXd& fe_n, const parallel::Context& ctx) {
    switch (kind_) {
      case Kind::kOneFactor: {
        Eigen::MatrixXd m = GroupMeans(p_.c0, p_.count0_g, fe_n);
        return {m.col(0)};
      }
      case Kind::kDirect:
        return solver_->Recover(std::span<const double>(fe_n.data(), static_cast<size_t>(fe_n.size())));
      case Kind::kIterative: {
        absorb::Absorber::Recovered r =
            absorber_->RecoverEffects(std::span<const double>(fe_n.data(), static_cast<size_t>(fe_n.size())), ctx);
        if (!r.convergence.converged) converged_ = false;
        return r.effects_q;
      }
    }
    return {};
  }

  // N^- D' v for the columns of v (levels x m per factor): the effects.
  std::vector<Eigen::MatrixXd> RecoverMany(const Eigen::MatrixXd& v_nm) const {
    if (kind_ == Kind::kOneFactor) return {GroupMeans(p_.c0, p_.count0_g, v_nm)};
    CWFX_CHECK(kind_ == Kind::kDirect, "RecoverMany needs the direct solver");
    return solver_->RecoverMany(v_nm);
  }

  // g = D N^- b for level sums b = (b0 [L0 x m], b1 [L1 x m]; b1 empty = 0),
  // an n x m matrix of fitted values. b must be consistent (sum over the
  // caseworker levels = sum over the citizen levels, column by column).
  Eigen::MatrixXd ProjectLevelSums(const Eigen::MatrixXd& b0, const Eigen::MatrixXd& b1,
                                   const parallel::Context& ctx) {
    const Eigen::Index m = b0.cols();
    Eigen::MatrixXd g(p_.n, m);
    switch (kind_) {
      case Kind::kOneFactor: {
        const Eigen::MatrixXd t = b0.array().colwise() / p_.count0_g.array();
        Gather(t, Eigen::MatrixXd(), g, ctx);
        break;
      }
      case Kind::kDirect: {
        const Eigen::MatrixXd b1z = b1.size() ? b1 : Eigen::MatrixXd::Zero(p_.L1, m);
        std::vector<std::vector<Eigen::MatrixXd>> parts(static_cast<size_t>(NumGroups(m)));
        parallel::ParallelFor(ctx, 0, NumGroups(m), 1, [&](int64_t a, int64_t bnd) {
          for (int64_t gi = a; gi < bnd; ++gi) {
            const auto [lo, hi] = Group(gi, m);
            parts[static_cast<size_t>(gi)] =
                solver_->SolveLevelSums({b0.middleCols(lo, hi - lo), b1z.middleCols(lo, hi - lo)});
          }
        });
        Eigen::MatrixXd t0(p_.L0, m), t1(p_.L1, m);
        for (int64_t gi = 0; gi < NumGroups(m); ++gi) {
          const auto [lo, hi] = Group(gi, m);
          t0.middleCols(lo, hi - lo) = parts[static_cast<size_t>(gi)][0];
          t1.middleCols(lo, hi - lo) = parts[static_cast<size_t>(gi)][1];
        }
        Gather(t0, t1, g, ctx);
        break;
      }
      case Kind::kIterative: {
        // v with D'v = b on the spanning tree, then D N^- b = P_D v = v - M_D v.
        Eigen::MatrixXd v = Eigen::MatrixXd::Zero(p_.n, m);
        parallel::ParallelFor(ctx, 0, m, 1, [&](int64_t a, int64_t bnd) {
          std::vector<double> res(tree_order_.size());
          for (int64_t c = a; c < bnd; ++c) {
            for (int32_t u = 0; u < p_.L0; ++u) res[static_cast<size_t>(u)] = b0(u, c);
            for (int32_t u = 0; u < p_.L1; ++u)
              res[static_cast<size_t>(p_.L0 + u)] = b1.size() ? b1(u, c) : 0.0;
            for (size_t k = tree_order_.size(); k-- > 1;) {
              const int32_t u = tree_order_[k];
              const int64_t e = parent_edge_[static_cast<size_t>(u)];
              const double flow = res[static_cast<size_t>(u)];
              v(e, c) = flow;
              const int32_t par = p_.c0[e] == u ? p_.L0 + p_.c1[e] : p_.c0[e];
              res[static_cast<size_t>(par)] -= flow;
            }
          }
        });
        g = v;
        Absorb(v, ctx);
        g -= v;
        break;
      }
    }
    return g;
  }

  // P_D q for the columns of q.
  Eigen::MatrixXd ProjectColumns(const Eigen::MatrixXd& q_nm, const parallel::Context& ctx) {
    Eigen::MatrixXd r = q_nm;
    Absorb(r, ctx);
    return q_nm - r;
  }

 private:
  enum class Kind { kOneFactor, kDirect, kIterative };
  static constexpr int64_t kGroup = 4;  // right-hand sides per solver call (fixed)
  static int64_t NumGroups(int64_t m) { return (m + kGroup - 1) / kGroup; }
  static std::pair<int64_t, int64_t> Group(int64_t gi, int64_t m) {
    return {gi * kGroup, std::min(m, (gi + 1) * kGroup)};
  }

  // g(i, c) = t0(c0[i], c) + t1(c1[i], c).
  void Gather(const Eigen::MatrixXd& t0, const Eigen::MatrixXd& t1, Eigen::MatrixXd& g,
              const parallel::Context& ctx) const {
    parallel::ParallelFor(ctx, 0, g.cols(), 1, [&](int64_t a, int64_t b) {
      for (int64_t c = a; c < b; ++c)
        for (int64_t i = 0; i < p_.n; ++i)
          g(i, c) = t0(p_.c0[i], c) + (t1.size() ? t1(p_.c1[i], c) : 0.0);
    });
  }

  // Breadth-first spanning tree of the (connected) caseworker-citizen graph:
  // nodes 0..L0-1 caseworkers, L0.. citizens; root caseworker 0.
  void BuildSpanningTree() {
    const int32_t nodes = p_.L0 + p_.L1;
    std::vector<int64_t> start(static_cast<size_t>(nodes) + 1, 0);
    for (int64_t i = 0; i < p_.n; ++i) {
      ++start[static_cast<size_t>(p_.c0[i]) + 1];
      ++start[static_cast<size_t>(p_.L0 + p_.c1[i]) + 1];
    }
    for (int32_t v = 0; v < nodes; ++v) start[static_cast<size_t>(v) + 1] += start[static_cast<size_t>(v)];
    std::vector<int64_t> adj(static_cast<size_t>(start.back()));
    std::vector<int64_t> fill(start.begin(), start.end() - 1);
    for (int64_t i = 0; i < p_.n; ++i) {
      adj[static_cast<size_t>(fill[static_cast<size_t>(p_.c0[i])]++)] = i;
      adj[static_cast<size_t>(fill[static_cast<size_t>(p_.L0 + p_.c1[i])]++)] = i;
    }
    parent_edge_.assign(static_cast<size_t>(nodes), -1);
    std::vector<uint8_t> seen(static_cast<size_t>(nodes), 0);
    tree_order_.clear();
    tree_order_.push_back(0);
    seen[0] = 1;
    for (size_t h = 0; h < tree_order_.size(); ++h) {
      const int32_t u = tree_order_[h];
      for (int64_t k = start[static_cast<size_t>(u)]; k < start[static_cast<size_t>(u) + 1]; ++k) {
        const int64_t e = adj[static_cast<size_t>(k)];
        const int32_t w = p_.c0[e] == u ? p_.L0 + p_.c1[e] : p_.c0[e];
        if (seen[static_cast<size_t>(w)]) continue;
        seen[static_cast<size_t>(w)] = 1;
        parent_edge_[static_cast<size_t>(w)] = e;
        tree_order_.push_back(w);
      }
    }
    CWFX_CHECK(static_cast<int32_t>(tree_order_.size()) == nodes, "the graph was checked to be connected");
  }

  const Problem& p_;
  Kind kind_ = Kind::kOneFactor;
  std::unique_ptr<solve::FixedEffectSolver> solver_;
  std::unique_ptr<absorb::Absorber> absorber_;
  std::vector<int32_t> tree_order_;    // BFS order of the nodes
  std::vector<int64_t> parent_edge_;   // per node, the observation linking it to its parent
  bool converged_ = true;
};

// ------------------------------------------------------------- the OLS fit

struct OlsFit {
  std::vector<int> kept_k;
  Eigen::MatrixXd Xt_nk;  // absorbed kept covariates
  Eigen::MatrixXd Xk_nk;  // raw kept covariates
  Eigen::MatrixXd H_kk;   // (Xt'Xt)^-1
  Eigen::VectorXd delta_k;
  Eigen::VectorXd resid_n;
  std::vector<Eigen::VectorXd> effects_q;
  std::vector<std::string> dropped;
};

OlsFit FitOls(const Problem& p, Projector& proj, const LeaveOutOptions& opt, const parallel::Context& ctx) {
  const fit::Design& d = *p.design;
  const int64_t n = p.n;
  const int k = static_cast<int>(d.X_nk.cols());
  Eigen::MatrixXd cols(n, k + 1);
  cols.col(0) = d.y_n;
  if (k > 0) cols.rightCols(k) = d.X_nk;
  proj.Absorb(cols, ctx);

  OlsFit f;
  // Sequential collinearity rule: covariate j is kept when its absorbed
  // residual sum of squares on the kept covariates before it exceeds
  // tolerance x its centred sum of squares (Cholesky of the Gram matrix,
  // column by column).
  const Eigen::MatrixXd G = cols.rightCols(k).transpose() * cols.rightCols(k);
  Eigen::MatrixXd L = Eigen::MatrixXd::Zero(k, k);  // Cholesky of the kept block
  for (int j = 0; j < k; ++j) {
    const int m = static_cast<int>(f.kept_k.size());
    Eigen::VectorXd g(m);
    for (int a = 0; a < m; ++a) g[a] = G(f.kept_k[static_cast<size_t>(a)], j);
    Eigen::VectorXd l = g;
    if (m > 0) L.topLeftCorner(m, m).triangularView<Eigen::Lower>().solveInPlace(l);
    const double rss = G(j, j) - l.squaredNorm();
    const double mean = d.X_nk.col(j).mean();
    const double css = (d.X_nk.col(j).array() - mean).square().sum();
    if (!(rss > opt.collinearity_tolerance * css) || css == 0.0) {
      f.dropped.push_back(static_cast<size_t>(j) < d.covariate_names.size() ? d.covariate_names[static_cast<size_t>(j)]
                                                                              : "x" + std::to_string(j));
      continue;
    }
    L.block(m, 0, 1, m) = l.transpose();
    L(m, m) = std::sqrt(rss);
    f.kept_k.push_back(j);
  }
  const int kk = static_cast<int>(f.kept_k.size());
  f.Xt_nk.resize(n, kk);
  f.Xk_nk.resize(n, kk);
  for (int a = 0; a < kk; ++a) {
    f.Xt_nk.col(a) = cols.col(1 + f.kept_k[static_cast<size_t>(a)]);
    f.Xk_nk.col(a) = d.X_nk.col(f.kept_k[static_cast<size_t>(a)]);
  }
  const Eigen::VectorXd yt = cols.col(0);
  if (kk > 0) {
    const Eigen::LLT<Eigen::MatrixXd> llt(f.Xt_nk.transpose() * f.Xt_nk);
    f.H_kk = llt.solve(Eigen::MatrixXd::Identity(kk, kk));
    f.delta_k = f.H_kk * (f.Xt_nk.transpose() * yt);
    f.resid_n = yt - f.Xt_nk * f.delta_k;
  } else {
    f.H_kk.resize(0, 0);
    f.delta_k.resize(0);
    f.resid_n = yt;
  }
  Eigen::VectorXd fe = d.y_n - f.resid_n;
  if (kk > 0) fe -= f.Xk_nk * f.delta_k;
  f.effects_q = proj.Recover(fe, ctx);
  return f;
}

// Sample variance (divisor n - 1) and covariance over observations.
double Covariance(const Eigen::VectorXd& a, const Eigen::VectorXd& b) {
  const double ma = a.mean(), mb = b.mean();
  double s = 0;
  for (Eigen::Index i = 0; i < a.size(); ++i) s += (a[i] - ma) * (b[i] - mb);
  return s / static_cast<double>(a.size() - 1);
}

// Per-observation leverage and B terms.
struct Terms {
  Eigen::VectorXd P_n, M_n, factor_n;  // factor_n: JLA correction (1 for exact)
  Eigen::VectorXd Bpsi_n, Bu_n, Balpha_n, Bcov_n;
  Eigen::VectorXd p_hat_n, m_hat_n, m_pp_n, m_mm_n, m_pm_n;  // JLA
};

// ---------------------------------------------------------- exact leverages

Terms ExactOneFactor(const Problem& p, const OlsFit& f, const parallel::Context& ctx) {
  const int64_t n = p.n;
  const double nd = static_cast<double>(n), J = static_cast<double>(p.L0);
  const int kk = static_cast<int>(f.kept_k.size());
  // Xbar (J x k): caseworker means of the raw kept covariates; the effect
  // block of S^-1 x_i is psi_i = e_j / n_j - Xbar delta_i, delta_i = H x~_i.
  const Eigen::MatrixXd Xbar = GroupMeans(p.c0, p.count0_g, f.Xk_nk);
  const Eigen::MatrixXd Gw = Xbar.transpose() * p.count0_g.asDiagonal() * Xbar;  // sum_g n_g xbar_g xbar_g'
  const Eigen::VectorXd mw = Xbar.transpose() * p.count0_g;                       // sum_g n_g xbar_g
  const Eigen::MatrixXd Gu = Xbar.transpose() * Xbar;
  const Eigen::VectorXd mu = Xbar.transpose() * Eigen::VectorXd::Ones(p.L0);
  Terms t;
  t.P_n.resize(n);
  t.Bpsi_n.resize(n);
  t.Bu_n.resize(n);
  parallel::ParallelFor(ctx, 0, n, kObsBlock, [&](int64_t a, int64_t b) {
    Eigen::VectorXd delta(kk);
    for (int64_t i = a; i < b; ++i) {
      const int32_t j = p.c0[i];
      const double nj = p.count0_g[j];
      double xhx = 0, xbd = 0, dgw = 0, dgu = 0, mwd = 0, mud = 0;
      if (kk > 0) {
        delta.noalias() = f.H_kk * f.Xt_nk.row(i).transpose();
        xhx = f.Xt_nk.row(i).dot(delta);
        xbd = Xbar.row(j).dot(delta);
        dgw = delta.dot(Gw * delta);
        dgu = delta.dot(Gu * delta);
        mwd = mw.dot(delta);
        mud = mu.dot(delta);
      }
      t.P_n[i] = 1.0 / nj + xhx;
      // sum_g n_g psi_g^2 and sum_g n_g psi_g
      const double sw2 = 1.0 / nj - 2.0 * xbd + dgw;
      const double sw1 = 1.0 - mwd;
      t.Bpsi_n[i] = (sw2 - sw1 * sw1 / nd) / (nd - 1.0);
      // sum_g psi_g^2 and sum_g psi_g
      const double su2 = 1.0 / (nj * nj) - 2.0 * xbd / nj + dgu;
      const double su1 = 1.0 / nj - mud;
      t.Bu_n[i] = (su2 - su1 * su1 / J) / J;
    }
  });
  return t;
}

Terms ExactTwoFactor(const Problem& p, const OlsFit& f, const Projector& proj, const parallel::Context& ctx) {
  const int64_t n = p.n;
  const double nd = static_cast<double>(n), J = static_cast<double>(p.L0);
  const int kk = static_cast<int>(f.kept_k.size());
  const solve::FixedEffectSolver& solver = *proj.solver();
  // Q = N^- D'X: the effects of every kept covariate column.
  std::vector<Eigen::MatrixXd> Q;
  if (kk > 0) Q = proj.RecoverMany(f.Xk_nk);
  Terms t;
  t.P_n.resize(n);
  t.Bpsi_n.resize(n);
  t.Bu_n.resize(n);
  t.Balpha_n.resize(n);
  t.Bcov_n.resize(n);
  const int64_t blocks = (n + kExactBlock - 1) / kExactBlock;
  parallel::ParallelFor(ctx, 0, blocks, 1, [&](int64_t b0, int64_t b1) {
    for (int64_t blk = b0; blk < b1; ++blk) {
      const int64_t i0 = blk * kExactBlock, m = std::min(kExactBlock, n - i0);
      std::vector<Eigen::MatrixXd> sums = {Eigen::MatrixXd::Zero(p.L0, m), Eigen::MatrixXd::Zero(p.L1, m)};
      for (int64_t c = 0; c < m; ++c) {
        sums[0](p.c0[i0 + c], c) = 1.0;
        sums[1](p.c1[i0 + c], c) = 1.0;
      }
      const std::vector<Eigen::MatrixXd> theta = solver.SolveLevelSums(sums);  // N^- d_i
      Eigen::MatrixXd Psi = theta[0], Alpha = theta[1];
      Eigen::MatrixXd Delta;
      if (kk > 0) {
        Delta = f.H_kk * f.Xt_nk.middleRows(i0, m).transpose();  // k x m
        Psi.noalias() -= Q[0] * Delta;
        Alpha.noalias() -= Q[1] * Delta;
      }
      for (int64_t c = 0; c < m; ++c) {
        const int64_t i = i0 + c;
        double P = theta[0](p.c0[i], c) + theta[1](p.c1[i], c);
        if (kk > 0) P += f.Xt_nk.row(i).dot(Delta.col(c));
        t.P_n[i] = P;
        const double* ps = Psi.col(c).data();
        const double* al = Alpha.col(c).data();
        double sp = 0, spp = 0, sa = 0, saa = 0, spa = 0;
        for (int64_t r = 0; r < n; ++r) {
          const double x = ps[p.c0[r]], y = al[p.c1[r]];
          sp += x;
          spp += x * x;
          sa += y;
          saa += y * y;
          spa += x * y;
        }
        t.Bpsi_n[i] = (spp - sp * sp / nd) / (nd - 1.0);
        t.Balpha_n[i] = (saa - sa * sa / nd) / (nd - 1.0);
        t.Bcov_n[i] = (spa - sp * sa / nd) / (nd - 1.0);
        double su = 0, suu = 0;
        for (int32_t g = 0; g < p.L0; ++g) {
          su += ps[g];
          suu += ps[g] * ps[g];
        }
        t.Bu_n[i] = (suu - su * su / J) / J;
      }
    }
  });
  return t;
}

// ------------------------------------------------------- random projection

// Rademacher signs from 32-bit words.
void FillRademacher(random::Stream& rng, double* out, int64_t len) {
  for (int64_t i = 0; i < len; i += 32) {
    uint32_t w = rng.Next32();
    const int64_t end = std::min<int64_t>(len, i + 32);
    for (int64_t k = i; k < end; ++k, w >>= 1) out[k] = (w & 1u) ? 1.0 : -1.0;
  }
}

Terms RandomProjection(const Problem& p, const OlsFit& f, Projector& proj, const LeaveOutOptions& opt,
                       const parallel::Context& ctx) {
  const int64_t n = p.n;
  const int kk = static_cast<int>(f.kept_k.size());
  const bool two = p.num_q == 2;
  const int P = opt.projections;
  Eigen::VectorXd sP = Eigen::VectorXd::Zero(n), sM = sP, sPP = sP, sMM = sP, sPM = sP, sBpsi = sP, sBu = sP;
  Eigen::VectorXd sBalpha, sBcov;
  if (two) {
    sBalpha = sP;
    sBcov = sP;
  }
  const double inv_sqrt_J = 1.0 / std::sqrt(static_cast<double>(p.L0));
  // Fitted values of a right-hand side (b, 0) with the covariates: g - X~ H X'g.
  auto with_covariates = [&](Eigen::MatrixXd& g) {
    if (kk == 0) return;
    const Eigen::MatrixXd d = f.H_kk * (f.Xk_nk.transpose() * g);
    g.noalias() -= f.Xt_nk * d;
  };
  for (int s0 = 0; s0 < P; s0 += kDrawBatch) {
    const int m = std::min(kDrawBatch, P - s0);
    Eigen::MatrixXd Qd(n, m), R(n, m), U(p.L0, m);
    parallel::ParallelFor(ctx, 0, m, 1, [&](int64_t a, int64_t b) {
      for (int64_t c = a; c < b; ++c) {
        random::Stream rng(opt.seed, kDrawDomain, static_cast<uint64_t>(s0 + c));
        FillRademacher(rng, Qd.col(c).data(), n);
        FillRademacher(rng, R.col(c).data(), n);
        FillRademacher(rng, U.col(c).data(), p.L0);
        R.col(c).array() -= R.col(c).mean();
        U.col(c).array() -= U.col(c).mean();
        U.col(c) *= inv_sqrt_J;
      }
    });
    // Level sums of the B draws: F'r~ (and D'r~).
    Eigen::MatrixXd b0 = Eigen::MatrixXd::Zero(p.L0, m), b1;
    if (two) b1 = Eigen::MatrixXd::Zero(p.L1, m);
    parallel::ParallelFor(ctx, 0, m, 1, [&](int64_t a, int64_t b) {
      for (int64_t c = a; c < b; ++c)
        for (int64_t i = 0; i < n; ++i) {
          b0(p.c0[i], c) += R(i, c);
          if (two) b1(p.c1[i], c) += R(i, c);
        }
    });
    // Z = P q = P_D q + X~ H X~'q.
    Eigen::MatrixXd Z = proj.ProjectColumns(Qd, ctx);
    if (kk > 0) Z.noalias() += f.Xt_nk * (f.H_kk * (f.Xt_nk.transpose() * Qd));
    Eigen::MatrixXd Gpsi = proj.ProjectLevelSums(b0, Eigen::MatrixXd(), ctx);
    with_covariates(Gpsi);
    Eigen::MatrixXd Gu = proj.ProjectLevelSums(U, Eigen::MatrixXd(), ctx);
    with_covariates(Gu);
    Eigen::MatrixXd Galpha;
    if (two) {
      Galpha = proj.ProjectLevelSums(Eigen::MatrixXd::Zero(p.L0, m), b1, ctx);
      with_covariates(Galpha);
    }
    parallel::ParallelFor(ctx, 0, n, kObsBlock, [&](int64_t a, int64_t b) {
      for (int64_t i = a; i < b; ++i)
        for (int c = 0; c < m; ++c) {
          const double z = Z(i, c), w = Qd(i, c) - z, z2 = z * z, w2 = w * w;
          sP[i] += z2;
          sM[i] += w2;
          sPP[i] += z2 * z2;
          sMM[i] += w2 * w2;
          sPM[i] += z2 * w2;
          sBpsi[i] += Gpsi(i, c) * Gpsi(i, c);
          sBu[i] += Gu(i, c) * Gu(i, c);
          if (two) {
            sBalpha[i] += Galpha(i, c) * Galpha(i, c);
            sBcov[i] += Gpsi(i, c) * Galpha(i, c);
          }
        }
    });
  }
  const double inv_p = 1.0 / static_cast<double>(P), inv_n1 = 1.0 / static_cast<double>(n - 1);
  Terms t;
  t.p_hat_n = sP * inv_p;
  t.m_hat_n = sM * inv_p;
  t.m_pp_n = sPP * inv_p;
  t.m_mm_n = sMM * inv_p;
  t.m_pm_n = sPM * inv_p;
  t.P_n.resize(n);
  t.M_n.resize(n);
  t.factor_n.resize(n);
  for (int64_t i = 0; i < n; ++i) {
    const double denom = t.p_hat_n[i] + t.m_hat_n[i];
    t.P_n[i] = t.p_hat_n[i] / denom;
    t.M_n[i] = t.m_hat_n[i] / denom;
    if (!(t.M_n[i] > 0))
      throw Error(p.Where(i), "the observation's estimated leverage is 1 (M_bar = 0): it cannot be left out");
    t.factor_n[i] = JlaCorrectionFactor(t.P_n[i], t.M_n[i], t.m_pp_n[i], t.m_mm_n[i], t.m_pm_n[i], P,
                                        opt.jla_correction);
  }
  t.Bpsi_n = sBpsi * (inv_p * inv_n1);
  t.Bu_n = sBu * inv_p;
  if (two) {
    t.Balpha_n = sBalpha * (inv_p * inv_n1);
    t.Bcov_n = sBcov * (inv_p * inv_n1);
  }
  return t;
}

double SumProducts(const Eigen::VectorXd& a, const Eigen::VectorXd& b) {
  double s = 0;
  for (Eigen::Index i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

}  // namespace

// ------------------------------------------------------------ public API

const char* JlaCorrectionName(JlaCorrection c) {
  switch (c) {
    case JlaCorrection::kNone: return "none";
    case JlaCorrection::kC1: return "c=1,+B";
    case JlaCorrection::kC2: return "c=2,+B";
    case JlaCorrection::kC1SignFlip: return "c=1,-B";
    case JlaCorrection::kC2SignFlip: return "c=2,-B";
  }
  return "?";
}

double JlaCorrectionFactor(double p_bar, double m_bar, double m_pp, double m_mm, double m_pm, int p,
                           JlaCorrection variant) {
  if (variant == JlaCorrection::kNone) return 1.0;
  const double c = (variant == JlaCorrection::kC2 || variant == JlaCorrection::kC2SignFlip) ? 2.0 : 1.0;
  const double sgn = (variant == JlaCorrection::kC1SignFlip || variant == JlaCorrection::kC2SignFlip) ? -1.0 : 1.0;
  const double inv_p = 1.0 / static_cast<double>(p);
  const double V = inv_p * (m_bar * m_bar * m_pp + p_bar * p_bar * m_mm - 2.0 * p_bar * m_bar * m_pm);
  const double B = inv_p * (m_bar * m_pp - p_bar * m_mm + c * (m_bar - p_bar) * m_pm);
  return 1.0 - V / (m_bar * m_bar) + sgn * B / m_bar;
}

void LeaveOutOptions::Validate() const {
  if (exact_max_obs < 0) throw Error("leave-out: exact_max_obs must be >= 0");
  if (projections < 1) throw Error("leave-out: projections must be >= 1, got " + std::to_string(projections));
  if (max_direct_levels < 1) throw Error("leave-out: max_direct_levels must be >= 1");
  if (!(collinearity_tolerance >= 0) || !std::isfinite(collinearity_tolerance))
    throw Error("leave-out: collinearity_tolerance must be finite and >= 0");
  if (!(leverage_tolerance > 0 && leverage_tolerance < 1))
    throw Error("leave-out: leverage_tolerance must lie in (0, 1)");
  if (!(absorb.tolerance > 0)) throw Error("leave-out: absorb.tolerance must be > 0");
  if (absorb.max_iterations < 1) throw Error("leave-out: absorb.max_iterations must be >= 1");
  if (absorb.column_block != 1 && absorb.column_block != 2 && absorb.column_block != 4 && absorb.column_block != 8)
    throw Error("leave-out: absorb.column_block must be 1, 2, 4 or 8");
}

std::string VarianceComponents::BriefReport() const {
  std::ostringstream os;
  os << "leave-out variance components: n = " << n << ", caseworkers = " << caseworkers;
  if (citizens > 0) os << ", citizens = " << citizens;
  os << ", covariates = " << covariates << "; leverages " << leverage_method << ", " << solver
     << "; max leverage " << Num(max_leverage) << "\n";
  os << "  var(caseworker), response-weighted: plug-in " << Num(var_caseworker_plugin) << ", KSS "
     << Num(var_caseworker_kss) << "\n";
  os << "  var(caseworker), unweighted:        plug-in " << Num(var_caseworker_unweighted_plugin) << ", KSS "
     << Num(var_caseworker_unweighted_kss) << "\n";
  if (citizens > 0) {
    os << "  var(citizen):                       plug-in " << Num(var_citizen_plugin) << ", KSS "
       << Num(var_citizen_kss) << "\n";
    os << "  cov(caseworker, citizen):           plug-in " << Num(cov_plugin) << ", KSS " << Num(cov_kss) << "\n";
  }
  if (!projections_converged) os << "  WARNING: some iterative projections did not converge\n";
  return os.str();
}

LeaveOutSample LeaveOneOutConnectedSet(const std::vector<absorb::Factor>& factors) {
  CheckFactorShapes(factors, "leave-one-out connected set");
  const size_t n = factors[0].codes_n.size();
  LeaveOutSample s;
  s.keep_n.assign(n, 1);
  if (factors.size() == 1) {
    std::vector<int64_t> count(static_cast<size_t>(factors[0].num_levels), 0);
    for (auto c : factors[0].codes_n) ++count[static_cast<size_t>(c)];
    for (size_t i = 0; i < n; ++i)
      if (count[static_cast<size_t>(factors[0].codes_n[i])] == 1) {
        s.keep_n[i] = 0;
        ++s.dropped_single;
      }
    s.rounds = s.dropped_single > 0 ? 1 : 0;
  } else if (n > 0) {
    s.dropped_component += KeepLargestComponent(factors, s.keep_n);
    std::vector<uint8_t> bridge_n;
    for (;;) {
      const int64_t b = MarkBridges(factors, s.keep_n, bridge_n);
      if (b == 0) break;
      for (size_t i = 0; i < n; ++i)
        if (bridge_n[i]) s.keep_n[i] = 0;
      s.dropped_bridges += b;
      ++s.rounds;
      s.dropped_component += KeepLargestComponent(factors, s.keep_n);
    }
  }
  s.kept = std::count(s.keep_n.begin(), s.keep_n.end(), uint8_t{1});
  return s;
}

fit::Design RestrictDesign(const fit::Design& design, std::span<const uint8_t> keep_n) {
  const int64_t n = design.y_n.size();
  if (static_cast<int64_t>(keep_n.size()) != n)
    throw Error(Location{design.source, -1, ""}, "RestrictDesign: keep_n has " + std::to_string(keep_n.size()) +
                                                     " entries, the design " + std::to_string(n) + " rows");
  std::vector<int64_t> rows;
  for (int64_t i = 0; i < n; ++i)
    if (keep_n[static_cast<size_t>(i)]) rows.push_back(i);
  if (rows.empty()) throw Error(Location{design.source, -1, ""}, "RestrictDesign: no observation kept");
  const auto m = static_cast<Eigen::Index>(rows.size());
  fit::Design out;
  out.source = design.source;
  out.outcome_name = design.outcome_name;
  out.covariate_names = design.covariate_names;
  out.weights_name = design.weights_name;
  out.cluster_name = design.cluster_name;
  out.y_n.resize(m);
  out.X_nk.resize(m, design.X_nk.cols());
  for (Eigen::Index r = 0; r < m; ++r) {
    out.y_n[r] = design.y_n[rows[static_cast<size_t>(r)]];
    out.X_nk.row(r) = design.X_nk.row(rows[static_cast<size_t>(r)]);
  }
  for (size_t q = 0; q < design.factors.size(); ++q) {
    absorb::SubsetResult sub = absorb::SubsetFactor(design.factors[q], rows);
    out.factors.push_back(std::move(sub.factor));
    if (q < design.level_labels_q.size() && !design.level_labels_q[q].empty()) {
      std::vector<std::string> labels;
      for (int32_t g : sub.old_level_g) labels.push_back(design.level_labels_q[q][static_cast<size_t>(g)]);
      out.level_labels_q.push_back(std::move(labels));
    } else {
      out.level_labels_q.emplace_back();
    }
  }
  auto pick = [&](const auto& v) {
    std::remove_cvref_t<decltype(v)> o;
    if (v.empty()) return o;
    for (int64_t i : rows) o.push_back(v[static_cast<size_t>(i)]);
    return o;
  };
  out.weights_n = pick(design.weights_n);
  for (int64_t i : rows) {
    out.source_row_n.push_back(design.SourceRow(i));
    out.input_row_n.push_back(design.InputRow(i));
  }
  if (!design.cluster_n.empty()) {
    std::vector<int32_t> map(static_cast<size_t>(design.num_clusters), -1);
    for (int64_t i : rows) map[static_cast<size_t>(design.cluster_n[static_cast<size_t>(i)])] = 0;
    int32_t next = 0;
    for (int32_t c = 0; c < design.num_clusters; ++c)
      if (map[static_cast<size_t>(c)] == 0) {
        map[static_cast<size_t>(c)] = next++;
        if (static_cast<size_t>(c) < design.cluster_labels.size()) out.cluster_labels.push_back(design.cluster_labels[static_cast<size_t>(c)]);
      }
    for (int64_t i : rows) out.cluster_n.push_back(map[static_cast<size_t>(design.cluster_n[static_cast<size_t>(i)])]);
    out.num_clusters = next;
  }
  if (!out.factors.empty()) out.components = absorb::FindComponents(out.factors);
  out.report = design.report;
  out.report.rows_out = m;
  out.report.levels_out_q.clear();
  for (const auto& f : out.factors) out.report.levels_out_q.push_back(f.num_levels);
  return out;
}

VarianceComponents LeaveOutVariance(const fit::Design& design, const LeaveOutOptions& options,
                                    const parallel::Context& ctx) {
  options.Validate();
  const Problem p = MakeProblem(design);
  const int64_t n = p.n;
  const bool two = p.num_q == 2;
  const bool exact = options.leverages == LeverageMethod::kExact ||
                     (options.leverages == LeverageMethod::kAuto && n <= options.exact_max_obs);
  const int32_t reduced_levels = two ? std::min(p.L0, p.L1) : p.L0;
  const bool direct = exact || options.solver == ProjectionSolver::kDirect ||
                      (options.solver == ProjectionSolver::kAuto && reduced_levels <= options.max_direct_levels);
  Projector proj(p, direct, options, ctx);
  if (exact && two && !proj.direct())
    throw Error(Location{design.source, -1, ""},
                "exact leverages: the CHOLMOD factorisation of the reduced Laplacian failed");

  OlsFit f = FitOls(p, proj, options, ctx);
  const int kk = static_cast<int>(f.kept_k.size());
  const int64_t params = p.L0 + (two ? p.L1 - 1 : 0) + kk;
  if (n <= params)
    throw Error(Location{design.source, -1, ""}, "leave-out variance components need more observations (" +
                                                     std::to_string(n) + ") than parameters (" +
                                                     std::to_string(params) + ")");

  Terms t;
  if (exact) {
    t = two ? ExactTwoFactor(p, f, proj, ctx) : ExactOneFactor(p, f, ctx);
    t.M_n = (1.0 - t.P_n.array()).matrix();
    t.factor_n = Eigen::VectorXd::Ones(n);
    for (int64_t i = 0; i < n; ++i)
      if (!(t.P_n[i] <= 1.0 - options.leverage_tolerance))
        throw Error(p.Where(i), "the observation has leverage P_ii = " + Num(t.P_n[i]) +
                                    ": it cannot be left out (estimate on the leave-one-out connected set; "
                                    "a covariate may single it out)");
  } else {
    t = RandomProjection(p, f, proj, options, ctx);
  }

  // sigma_hat_i^2 = (y_i - c) e_i / M_ii (x the JLA correction).
  const double centre = options.sigma_centering == SigmaCentering::kSampleMean ? design.y_n.mean() : 0.0;
  Eigen::VectorXd sigma2(n);
  for (int64_t i = 0; i < n; ++i) sigma2[i] = (design.y_n[i] - centre) * f.resid_n[i] / t.M_n[i] * t.factor_n[i];

  VarianceComponents v;
  v.n = n;
  v.caseworkers = p.L0;
  v.citizens = two ? p.L1 : 0;
  v.covariates = kk;
  v.dropped_collinear = f.dropped;
  v.solver = proj.Name();
  v.projections = exact ? 0 : options.projections;
  v.leverage_method = exact ? "exact" : "random projection (p = " + std::to_string(options.projections) + ", " +
                                            JlaCorrectionName(options.jla_correction) + ")";
  v.jla_correction = options.jla_correction;
  v.max_leverage = t.P_n.maxCoeff();
  v.mean_sigma2 = sigma2.mean();

  // Plug-ins.
  const Eigen::VectorXd& psi_g = f.effects_q[0];
  Eigen::VectorXd fpsi(n);
  for (int64_t i = 0; i < n; ++i) fpsi[i] = psi_g[p.c0[i]];
  v.var_caseworker_plugin = Covariance(fpsi, fpsi);
  {
    const double m = psi_g.mean();
    double s = 0;
    for (Eigen::Index g = 0; g < psi_g.size(); ++g) s += (psi_g[g] - m) * (psi_g[g] - m);
    v.var_caseworker_unweighted_plugin = s / static_cast<double>(p.L0);
  }
  v.var_caseworker_kss = v.var_caseworker_plugin - SumProducts(t.Bpsi_n, sigma2);
  v.var_caseworker_unweighted_kss = v.var_caseworker_unweighted_plugin - SumProducts(t.Bu_n, sigma2);
  if (two) {
    const Eigen::VectorXd& alpha_g = f.effects_q[1];
    Eigen::VectorXd falpha(n);
    for (int64_t i = 0; i < n; ++i) falpha[i] = alpha_g[p.c1[i]];
    v.var_citizen_plugin = Covariance(falpha, falpha);
    v.cov_plugin = Covariance(fpsi, falpha);
    v.var_citizen_kss = v.var_citizen_plugin - SumProducts(t.Balpha_n, sigma2);
    v.cov_kss = v.cov_plugin - SumProducts(t.Bcov_n, sigma2);
  }
  v.projections_converged = proj.converged();
  if (options.keep_observation_terms) {
    ObservationTerms& o = v.terms;
    o.leverage_n = t.P_n;
    o.residual_n = f.resid_n;
    o.sigma2_n = sigma2;
    o.b_caseworker_n = t.Bpsi_n;
    o.b_caseworker_unweighted_n = t.Bu_n;
    o.b_citizen_n = t.Balpha_n;
    o.b_cov_n = t.Bcov_n;
    o.p_hat_n = t.p_hat_n;
    o.m_hat_n = t.m_hat_n;
    o.m_pp_n = t.m_pp_n;
    o.m_mm_n = t.m_mm_n;
    o.m_pm_n = t.m_pm_n;
  }
  return v;
}

LeaveOutEstimate EstimateLeaveOut(const fit::Design& design, const LeaveOutOptions& options,
                                  const parallel::Context& ctx) {
  options.Validate();
  LeaveOutEstimate e;
  e.sample = LeaveOneOutConnectedSet(design.factors);
  if (e.sample.kept == 0)
    throw Error(Location{design.source, -1, ""}, "the leave-one-out connected set is empty");
  if (e.sample.kept == static_cast<int64_t>(design.y_n.size())) {
    e.components = LeaveOutVariance(design, options, ctx);
  } else {
    e.components = LeaveOutVariance(RestrictDesign(design, e.sample.keep_n), options, ctx);
  }
  return e;
}

}  // namespace cwfx::inference
