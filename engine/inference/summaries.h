// Summaries of replication draws (../shared/METHODS.md section 6): bootstrap
// standard errors and percentile intervals of smooth quantities, the bootstrap
// covariance of the caseworker effects, quartile stability shares, and
// permutation p-values. Pure functions over draw matrices (rows =
// replications); NaN marks a value a replication could not produce (e.g. a
// caseworker absent from a pairs-bootstrap sample) and is skipped.
#pragma once

#include <Eigen/Dense>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace cwfx::inference {

struct ScalarSummary {
  std::string name;
  double estimate = 0;     // the full-sample value
  double mean = 0;         // mean of the draws
  double std_error = 0;    // standard deviation of the draws (divisor B - 1)
  double lower = 0;        // percentile interval: (alpha/2, 1 - alpha/2) quantiles of the draws
  double upper = 0;
  int64_t draws = 0;       // finite draws used
};

// Quantiles by linear interpolation between order statistics (R type 7).
double Quantile(std::vector<double> values, double p);

// Summary of one quantity from its draws (NaN draws skipped; fewer than 2
// finite draws give NaN summaries).
ScalarSummary SummariseDraws(const std::string& name, double estimate, std::span<const double> draws,
                             double alpha = 0.05);

// Covariance of the columns of draws_rg over replications (divisor B - 1),
// each pair over the replications where both are finite.
Eigen::MatrixXd DrawCovariance(const Eigen::MatrixXd& draws_rg);

// The nearest positive semi-definite matrix (Frobenius norm) to a symmetric
// one: negative eigenvalues set to zero. A covariance from pairwise-complete
// draws need not be semi-definite (a unit absent from some replications);
// `smallest_eigenvalue` (optional) gets the most negative one clipped (0 when
// there was nothing to repair).
Eigen::MatrixXd NearestPsd(const Eigen::MatrixXd& sym_gg, double* smallest_eigenvalue = nullptr);

// Share of replications in which each unit lands in each quartile (G x 4,
// column 0 = bottom). quartile_rg holds 1..4, 0 = absent (not counted: the
// shares are over the replications where the unit is present).
Eigen::MatrixXd QuartileStability(const Eigen::MatrixXi& quartile_rg);

// Permutation p-value (1 + #{T_b >= T}) / (1 + B), NaN draws skipped.
double PermutationPValue(double observed, std::span<const double> null_draws);

}  // namespace cwfx::inference
