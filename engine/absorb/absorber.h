// Partialling fixed effects out of many columns at once by accelerated
// alternating projections (the method of alternating projections / Gauss-Seidel
// on the fixed-effect normal equations; Irons-Tuck extrapolation as in
// Berge (2018), fixest).
#pragma once

#include <Eigen/Dense>

#include <span>
#include <string>
#include <vector>

#include "absorb/factor.h"
#include "parallel/parallel.h"

namespace cwfx::absorb {

enum class Acceleration {
  kNone,       // plain sweeps (for tests and comparison)
  kIronsTuck,  // Irons-Tuck extrapolation every iteration (default)
};

struct AbsorbOptions {
  // Scale-free per-column criterion: iteration stops for a column when the
  // largest change of its fixed-effect coefficients in one sweep, relative to
  // the column's scale, falls below this.
  double tolerance = 1e-8;
  // Sweeps per column before giving up (non-convergence is reported, not thrown).
  int max_iterations = 10000;
  Acceleration acceleration = Acceleration::kIronsTuck;
};

struct ColumnConvergence {
  int iterations = 0;
  double criterion = 0.0;  // the achieved value of the stopping criterion
  bool converged = false;
};

struct AbsorbSummary {
  std::vector<ColumnConvergence> columns;
  bool AllConverged() const;
  // One line per non-converged column, or "all N columns converged in ..".
  std::string BriefReport(const std::vector<std::string>& column_names = {}) const;
};

class Absorber {
 public:
  // Every factor has codes for the same n observations, and every level has at
  // least one observation of positive weight. weights_n empty = unweighted.
  Absorber(std::vector<Factor> factors, std::vector<double> weights_n, AbsorbOptions options = {});

  int64_t num_obs() const;
  const std::vector<Factor>& factors() const { return factors_; }
  const std::vector<double>& weights() const { return weights_n_; }
  const AbsorbOptions& options() const { return options_; }

  // Replaces every column (n x k, column-major) by its (weighted) residual
  // from the projection onto the span of all factors' dummies.
  AbsorbSummary Absorb(Eigen::Ref<Eigen::MatrixXd> columns_nk, const parallel::Context& ctx) const;

  // Given fe_n = the fixed-effect part of a column (outcome - X*beta - residual),
  // finds per-factor effects alpha_q with sum_q alpha_q[code_q(i)] = fe_n(i) by
  // sweeps. Effects are NOT normalised here (see identify.h / fit).
  struct Recovered {
    std::vector<Eigen::VectorXd> effects_q;  // effects_q[q] has factors()[q].num_levels entries
    ColumnConvergence convergence;
  };
  Recovered RecoverEffects(std::span<const double> fe_n, const parallel::Context& ctx) const;

 private:
  std::vector<Factor> factors_;
  std::vector<double> weights_n_;
  AbsorbOptions options_;
  // Precomputed per factor: 1 / (sum of weights in each level).
  std::vector<std::vector<double>> inv_level_weight_q_;
};

}  // namespace cwfx::absorb
