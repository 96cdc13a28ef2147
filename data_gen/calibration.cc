#include "data_gen/calibration.h"

#include <Eigen/Dense>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <unordered_map>
#include <vector>

#include "core/error.h"

namespace cwfx::datagen {
namespace {

// R2 of OLS of y on X (X holds its own intercept column); rank-revealing QR.
double OlsR2(const Eigen::MatrixXd& x, const Eigen::VectorXd& y) {
  const Eigen::ColPivHouseholderQR<Eigen::MatrixXd> qr(x);
  const Eigen::VectorXd beta = qr.solve(y);
  const Eigen::VectorXd resid = y - x * beta;
  const double mean = y.mean();
  const double sst = (y.array() - mean).square().sum();
  return sst > 0.0 ? 1.0 - resid.squaredNorm() / sst : 0.0;
}

int64_t Distinct(std::span<const double> v) {
  std::vector<double> s(v.begin(), v.end());
  std::sort(s.begin(), s.end());
  return static_cast<int64_t>(std::unique(s.begin(), s.end()) - s.begin());
}

}  // namespace

std::string CalibrationStats::Table() const {
  char buf[2048];
  std::snprintf(buf, sizeof buf,
                "raw: %lld responses, %lld citizens, %lld caseworkers\n"
                "sample: %lld responses, %lld caseworkers, %lld citizens, outcome rate %.2f%%\n"
                "outcome share by true-effect quartile: %.1f%% %.1f%% %.1f%% %.1f%%\n"
                "mean true effect by quartile (pp): %.1f %.1f %.1f %.1f\n"
                "citizens per caseworker by quartile: %.1f %.1f %.1f %.1f\n"
                "R2 without / with caseworker dummies: %.1f%% / %.1f%%\n"
                "corr(caseworker effect, citizen effect) over responses: %.3f\n",
                static_cast<long long>(raw_responses), static_cast<long long>(raw_citizens),
                static_cast<long long>(raw_caseworkers), static_cast<long long>(sample_responses),
                static_cast<long long>(sample_caseworkers), static_cast<long long>(sample_citizens),
                100.0 * sample_outcome_rate, 100.0 * quartile_outcome_share[0], 100.0 * quartile_outcome_share[1],
                100.0 * quartile_outcome_share[2], 100.0 * quartile_outcome_share[3],
                100.0 * quartile_mean_true_effect[0], 100.0 * quartile_mean_true_effect[1],
                100.0 * quartile_mean_true_effect[2], 100.0 * quartile_mean_true_effect[3],
                quartile_citizens_per_caseworker[0], quartile_citizens_per_caseworker[1],
                quartile_citizens_per_caseworker[2], quartile_citizens_per_caseworker[3],
                100.0 * r2_without_caseworkers, 100.0 * r2_with_caseworkers, corr_caseworker_citizen_effect);
  return buf;
}

CalibrationStats ComputeCalibration(const Register& reg, const sample::SampleOptions& options) {
  CalibrationStats st;
  st.raw_responses = reg.responses.num_rows();
  st.raw_citizens = Distinct(reg.responses.Numeric("citizen_id"));
  st.raw_caseworkers = Distinct(reg.responses.Numeric("caseworker_id"));

  sample::SampleReport rep;
  const table::Table s = sample::ApplyStudySample(reg.responses, options, &rep);
  st.sample_responses = rep.responses;
  st.sample_caseworkers = rep.caseworkers;
  st.sample_citizens = rep.citizens;
  const int64_t n = s.num_rows();
  const auto y = s.Numeric("outcome");
  st.sample_outcome_rate = std::accumulate(y.begin(), y.end(), 0.0) / static_cast<double>(n);

  // True effects (ids are 1-based positions in the truth tables).
  const auto cw_effect = reg.caseworkers.Numeric("true_effect");
  const auto ci_effect = reg.citizens.Numeric("true_effect");
  const auto cw_id = s.Numeric("caseworker_id");
  const auto ci_id = s.Numeric("citizen_id");

  // Caseworkers of the sample ranked by true effect, split as the report does.
  std::vector<int64_t> cws(cw_id.begin(), cw_id.end());
  for (size_t r = 0; r < cws.size(); ++r) cws[r] = static_cast<int64_t>(cw_id[r]);
  std::sort(cws.begin(), cws.end());
  cws.erase(std::unique(cws.begin(), cws.end()), cws.end());
  std::sort(cws.begin(), cws.end(), [&](int64_t a, int64_t b) {
    return cw_effect[static_cast<size_t>(a - 1)] < cw_effect[static_cast<size_t>(b - 1)];
  });
  std::unordered_map<int64_t, int> quartile_of;
  const int64_t j = static_cast<int64_t>(cws.size());
  std::array<int64_t, 4> cw_count{};
  for (int64_t k = 0; k < j; ++k) {
    const int q = static_cast<int>(k * 4 / j);
    quartile_of[cws[static_cast<size_t>(k)]] = q;
    ++cw_count[static_cast<size_t>(q)];
    st.quartile_mean_true_effect[static_cast<size_t>(q)] += cw_effect[static_cast<size_t>(cws[static_cast<size_t>(k)] - 1)];
  }
  std::array<double, 4> rows{}, hits{};
  std::vector<std::pair<int64_t, int64_t>> pairs;  // (caseworker, citizen)
  for (int64_t r = 0; r < n; ++r) {
    const int q = quartile_of[static_cast<int64_t>(cw_id[static_cast<size_t>(r)])];
    rows[static_cast<size_t>(q)] += 1.0;
    hits[static_cast<size_t>(q)] += y[static_cast<size_t>(r)];
    pairs.emplace_back(static_cast<int64_t>(cw_id[static_cast<size_t>(r)]),
                       static_cast<int64_t>(ci_id[static_cast<size_t>(r)]));
  }
  std::sort(pairs.begin(), pairs.end());
  pairs.erase(std::unique(pairs.begin(), pairs.end()), pairs.end());
  std::array<double, 4> pair_count{};
  for (const auto& p : pairs) pair_count[static_cast<size_t>(quartile_of[p.first])] += 1.0;
  for (size_t q = 0; q < 4; ++q) {
    st.quartile_outcome_share[q] = rows[q] > 0 ? hits[q] / rows[q] : 0.0;
    st.quartile_mean_true_effect[q] = cw_count[q] > 0 ? st.quartile_mean_true_effect[q] / cw_count[q] : 0.0;
    st.quartile_citizens_per_caseworker[q] = cw_count[q] > 0 ? pair_count[q] / cw_count[q] : 0.0;
  }

  // Sorting: correlation of the two true effects over sample responses.
  {
    double ma = 0, mb = 0;
    for (int64_t r = 0; r < n; ++r) {
      ma += cw_effect[static_cast<size_t>(cw_id[static_cast<size_t>(r)] - 1)];
      mb += ci_effect[static_cast<size_t>(ci_id[static_cast<size_t>(r)] - 1)];
    }
    ma /= static_cast<double>(n);
    mb /= static_cast<double>(n);
    double sab = 0, saa = 0, sbb = 0;
    for (int64_t r = 0; r < n; ++r) {
      const double a = cw_effect[static_cast<size_t>(cw_id[static_cast<size_t>(r)] - 1)] - ma;
      const double b = ci_effect[static_cast<size_t>(ci_id[static_cast<size_t>(r)] - 1)] - mb;
      sab += a * b;
      saa += a * a;
      sbb += b * b;
    }
    st.corr_caseworker_citizen_effect = saa > 0 && sbb > 0 ? sab / std::sqrt(saa * sbb) : 0.0;
  }

  // LPM design: intercept, covariates (education and ethnicity as dummies),
  // B levels and changes; then the same plus caseworker dummies (one dropped).
  std::vector<std::string> plain = {"gender", "age", "civil_status", "employment_history", "benefit_history",
                                    "medicine", "doctor_visits"};
  for (int k = 1; k <= 11; ++k) plain.push_back("somatic_" + std::to_string(k));
  for (int k = 1; k <= 10; ++k) plain.push_back("psych_" + std::to_string(k));
  for (int k = 1; k <= 11; ++k) plain.push_back("B" + std::to_string(k));
  for (int k = 1; k <= 11; ++k) plain.push_back(options.change_prefix + "B" + std::to_string(k));
  const int64_t k_cov = 1 + static_cast<int64_t>(plain.size()) + 4;
  const int64_t k_all = k_cov + std::max<int64_t>(0, j - 1);
  Eigen::MatrixXd x = Eigen::MatrixXd::Zero(n, k_all);
  x.col(0).setOnes();
  for (size_t c = 0; c < plain.size(); ++c) {
    const auto v = s.Numeric(plain[c]);
    for (int64_t r = 0; r < n; ++r) x(r, static_cast<int64_t>(c) + 1) = v[static_cast<size_t>(r)];
  }
  const auto edu = s.Numeric("education");
  const auto eth = s.Numeric("ethnicity");
  const int64_t base = 1 + static_cast<int64_t>(plain.size());
  std::unordered_map<int64_t, int64_t> dummy_of;
  for (int64_t k = 1; k < j; ++k) dummy_of[cws[static_cast<size_t>(k)]] = k_cov + k - 1;
  for (int64_t r = 0; r < n; ++r) {
    const size_t u = static_cast<size_t>(r);
    x(r, base + 0) = edu[u] == 1.0 ? 1.0 : 0.0;
    x(r, base + 1) = edu[u] == 2.0 ? 1.0 : 0.0;
    x(r, base + 2) = eth[u] == 1.0 ? 1.0 : 0.0;
    x(r, base + 3) = eth[u] == 2.0 ? 1.0 : 0.0;
    const auto it = dummy_of.find(static_cast<int64_t>(cw_id[u]));
    if (it != dummy_of.end()) x(r, it->second) = 1.0;
  }
  const Eigen::VectorXd yv = Eigen::Map<const Eigen::VectorXd>(y.data(), n);
  st.r2_without_caseworkers = OlsR2(x.leftCols(k_cov), yv);
  st.r2_with_caseworkers = OlsR2(x, yv);
  return st;
}

}  // namespace cwfx::datagen
