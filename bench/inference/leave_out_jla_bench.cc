// Settles the JLA non-linearity correction (inference/leave_out.h, "HOW THE
// VARIANT WAS SETTLED") by simulation against exact leverages.
//
//   leave_out_jla_bench [--seeds R] [--projections 50,200] [--threads T] [--designs a,b,c]
//
// Designs: two-factor caseworker-citizen registers with low mobility (most
// citizens stay with one caseworker), a few thousand observations after the
// leave-one-out connected set, so that many leverages are large and the
// non-linearity of 1/M_bar matters:
//   a: 150 caseworkers, 1200 citizens x 3 responses, move probability 0.10
//   b: 250 caseworkers, 2000 citizens x 2 responses, move probability 0.25
//   c: 100 caseworkers,  900 citizens x 4 responses, move probability 0.08, 2 covariates
// The outcome is drawn once per design (heteroskedastic noise); the data are
// then fixed and only the JLA draws vary: seed s = 1..R of the Rademacher
// streams. Every variant is evaluated on the SAME draws (the run uses
// JlaCorrection::kNone and keeps the per-observation moments; each variant's
// factor is JlaCorrectionFactor of those moments), so the variants differ
// only by their correction.
//
// Reported per design, p and variant, as mean over seeds and its Monte Carlo
// standard error (sd / sqrt(R)):
//   dev(target)  = KSS_JLA - KSS_exact for the response-weighted caseworker
//                  variance, the citizen variance and the covariance (all JLA
//                  ingredients: P_bar, M_bar, B_hat, correction);
//   dlev(target) = the same with the exact B_ii in place of B_hat (B_hat is
//                  unbiased and drawn independently of the leverage draws, so
//                  this has the same expectation and isolates the leverage
//                  correction with far less noise);
//   rel 1/M      = mean over observations of M_ii x factor_i / M_bar_ii - 1,
//                  the relative error of the estimate of 1/M_ii itself; also
//                  over the observations with P_ii > 0.7 only, and with the
//                  control variate (P (M_hat - M) - M (P_hat - P)) / M added
//                  (P_hat and M_hat are exactly unbiased, so its mean is 0; it
//                  removes the first-order noise of M_bar: "cv", ~5x smaller SE).
// Results and the verdict: the banner of inference/leave_out.h.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "absorb/identify.h"
#include "inference/leave_out.h"

namespace {

using namespace cwfx;
using inference::JlaCorrection;

struct DesignSpec {
  char name;
  int32_t caseworkers, citizens;
  int responses;
  double p_move;
  int covariates;
  uint64_t seed;
};

// Caseworker-citizen register: each citizen's first caseworker is uniform,
// each later response moves to a uniform caseworker with probability p_move.
fit::Design Generate(const DesignSpec& s) {
  std::mt19937_64 rng(s.seed);
  std::normal_distribution<double> z(0.0, 1.0);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::uniform_int_distribution<int32_t> pick(0, s.caseworkers - 1);
  std::vector<double> psi(static_cast<size_t>(s.caseworkers)), alpha(static_cast<size_t>(s.citizens));
  for (auto& v : psi) v = 0.3 * z(rng);
  for (auto& v : alpha) v = z(rng);
  fit::Design d;
  d.source = std::string("design ") + s.name;
  absorb::Factor cw{"caseworker", {}, s.caseworkers}, ci{"citizen", {}, s.citizens};
  for (int32_t c = 0; c < s.citizens; ++c) {
    int32_t j = pick(rng);
    for (int t = 0; t < s.responses; ++t) {
      if (t > 0 && u(rng) < s.p_move) j = pick(rng);
      cw.codes_n.push_back(j);
      ci.codes_n.push_back(c);
    }
  }
  const auto n = static_cast<Eigen::Index>(cw.codes_n.size());
  d.y_n.resize(n);
  d.X_nk.resize(n, s.covariates);
  for (Eigen::Index i = 0; i < n; ++i) {
    const auto j = static_cast<size_t>(cw.codes_n[static_cast<size_t>(i)]);
    const auto c = static_cast<size_t>(ci.codes_n[static_cast<size_t>(i)]);
    double y = psi[j] + alpha[c];
    for (int q = 0; q < s.covariates; ++q) {
      d.X_nk(i, q) = z(rng) + 0.5 * alpha[c];
      y += 0.4 * d.X_nk(i, q);
    }
    const double sd = 0.5 + 0.5 * static_cast<double>(j % 3);
    d.y_n[i] = y + sd * z(rng);
  }
  for (int q = 0; q < s.covariates; ++q) d.covariate_names.push_back("x" + std::to_string(q + 1));
  d.factors = {cw, ci};
  d.components = absorb::FindComponents(d.factors);
  const inference::LeaveOutSample keep = inference::LeaveOneOutConnectedSet(d.factors);
  return inference::RestrictDesign(d, keep.keep_n);
}

std::vector<int> ParseInts(const char* s) {
  std::vector<int> out;
  std::stringstream ss(s);
  std::string tok;
  while (std::getline(ss, tok, ',')) out.push_back(std::atoi(tok.c_str()));
  return out;
}

struct Acc {
  double s = 0, s2 = 0;
  int r = 0;
  void Add(double x) {
    s += x;
    s2 += x * x;
    ++r;
  }
  double Mean() const { return s / r; }
  double Se() const {
    const double m = Mean();
    return r > 1 ? std::sqrt(std::max(0.0, s2 / r - m * m) / (r - 1)) : 0.0;
  }
};

constexpr JlaCorrection kVariants[] = {JlaCorrection::kNone, JlaCorrection::kC1, JlaCorrection::kC2,
                                       JlaCorrection::kC1SignFlip, JlaCorrection::kC2SignFlip};
constexpr int kNumVariants = 5;
constexpr int kTargets = 3;  // weighted caseworker variance, citizen variance, covariance
constexpr double kHigh = 0.7;  // "high leverage" for the rel 1/M column

}  // namespace

int main(int argc, char** argv) {
  int seeds = 200, threads = 1;
  std::vector<int> projections = {50, 200};
  std::string designs = "abc";
  for (int a = 1; a < argc; ++a) {
    const bool more = a + 1 < argc;
    if (!std::strcmp(argv[a], "--seeds") && more) {
      seeds = std::atoi(argv[++a]);
    } else if (!std::strcmp(argv[a], "--projections") && more) {
      projections = ParseInts(argv[++a]);
    } else if (!std::strcmp(argv[a], "--threads") && more) {
      threads = std::atoi(argv[++a]);
    } else if (!std::strcmp(argv[a], "--designs") && more) {
      designs = argv[++a];
    } else {
      std::fprintf(stderr,
                   "usage: %s [--seeds R] [--projections 50,200] [--threads T] [--designs abc]\n", argv[0]);
      return 2;
    }
  }
  const DesignSpec specs[] = {{'a', 150, 1200, 3, 0.10, 0, 101},
                              {'b', 250, 2000, 2, 0.25, 0, 102},
                              {'c', 100, 900, 4, 0.08, 2, 103}};
  const parallel::Context ctx(threads);
  const auto t0 = std::chrono::steady_clock::now();
  std::printf("# leave_out_jla_bench --seeds %d --threads %d; deviations are KSS_JLA - KSS_exact, mean over seeds (MC SE)\n",
              seeds, threads);
  for (const DesignSpec& spec : specs) {
    if (designs.find(spec.name) == std::string::npos) continue;
    const fit::Design d = Generate(spec);
    inference::LeaveOutOptions exact_opt;
    exact_opt.leverages = inference::LeverageMethod::kExact;
    exact_opt.keep_observation_terms = true;
    const inference::VarianceComponents ex = inference::LeaveOutVariance(d, exact_opt, ctx);
    const Eigen::VectorXd& P = ex.terms.leverage_n;
    const Eigen::VectorXd M = (1.0 - P.array()).matrix();
    const double exact_kss[kTargets] = {ex.var_caseworker_kss, ex.var_citizen_kss, ex.cov_kss};
    const double plugin[kTargets] = {ex.var_caseworker_plugin, ex.var_citizen_plugin, ex.cov_plugin};
    const Eigen::VectorXd* exact_b[kTargets] = {&ex.terms.b_caseworker_n, &ex.terms.b_citizen_n, &ex.terms.b_cov_n};
    int64_t high = 0;
    for (Eigen::Index i = 0; i < P.size(); ++i) high += P[i] > kHigh;
    std::printf("\n## design %c: n = %lld, caseworkers = %d, citizens = %d, covariates = %d; P_ii mean %.3f, max %.4f, "
                "share > %.1f %.3f\n",
                spec.name, static_cast<long long>(ex.n), ex.caseworkers, ex.citizens, ex.covariates, P.mean(),
                ex.max_leverage, kHigh, static_cast<double>(high) / static_cast<double>(P.size()));
    std::printf("exact: var_cw plug-in %.6f KSS %.6f | var_ci plug-in %.6f KSS %.6f | cov plug-in %.6f KSS %.6f\n",
                plugin[0], exact_kss[0], plugin[1], exact_kss[1], plugin[2], exact_kss[2]);
    for (int p : projections) {
      Acc dev[kNumVariants][kTargets], dlev[kNumVariants][kTargets], rel[kNumVariants], rel_high[kNumVariants],
          rel_cv[kNumVariants];
      for (int s = 1; s <= seeds; ++s) {
        inference::LeaveOutOptions o;
        o.leverages = inference::LeverageMethod::kRandomProjection;
        o.projections = p;
        o.seed = static_cast<uint64_t>(s);
        o.jla_correction = JlaCorrection::kNone;
        o.keep_observation_terms = true;
        const inference::VarianceComponents v = inference::LeaveOutVariance(d, o, ctx);
        const inference::ObservationTerms& t = v.terms;
        const Eigen::VectorXd* jla_b[kTargets] = {&t.b_caseworker_n, &t.b_citizen_n, &t.b_cov_n};
        const double jla_plugin[kTargets] = {v.var_caseworker_plugin, v.var_citizen_plugin, v.cov_plugin};
        for (int k = 0; k < kNumVariants; ++k) {
          double sb[kTargets] = {0, 0, 0}, se[kTargets] = {0, 0, 0}, srel = 0, srel_high = 0, srel_cv = 0;
          for (Eigen::Index i = 0; i < P.size(); ++i) {
            const double pbar = t.leverage_n[i], mbar = 1.0 - pbar;
            const double f = inference::JlaCorrectionFactor(pbar, mbar, t.m_pp_n[i], t.m_mm_n[i], t.m_pm_n[i], p,
                                                            kVariants[k]);
            const double s2 = t.sigma2_n[i] * f;  // sigma2_n is uncorrected (kNone)
            for (int a = 0; a < kTargets; ++a) {
              sb[a] += (*jla_b[a])[i] * s2;
              se[a] += (*exact_b[a])[i] * s2;
            }
            srel += M[i] * f / mbar - 1.0;
            if (P[i] > kHigh) srel_high += M[i] * f / mbar - 1.0;
            // Control variate: P_hat and M_hat are exactly unbiased, and
            // P (M_hat - M) - M (P_hat - P) is the first-order error of M_bar.
            srel_cv += M[i] * f / mbar - 1.0 + (P[i] * (t.m_hat_n[i] - M[i]) - M[i] * (t.p_hat_n[i] - P[i])) / M[i];
          }
          for (int a = 0; a < kTargets; ++a) {
            dev[k][a].Add(jla_plugin[a] - sb[a] - exact_kss[a]);
            dlev[k][a].Add(plugin[a] - se[a] - exact_kss[a]);
          }
          rel[k].Add(srel / static_cast<double>(P.size()));
          if (high > 0) rel_high[k].Add(srel_high / static_cast<double>(high));
          rel_cv[k].Add(srel_cv / static_cast<double>(P.size()));
        }
      }
      std::printf("\n### design %c, p = %d, %d seeds\n", spec.name, p, seeds);
      std::printf("| variant | rel 1/M | rel 1/M (P > %.1f) | rel 1/M (cv) | dev var_cw | dev var_ci | dev cov | dlev var_cw | dlev var_ci | dlev cov |\n", kHigh);
      std::printf("|---|---|---|---|---|---|---|---|---|---|\n");
      for (int k = 0; k < kNumVariants; ++k) {
        std::printf("| %s | %+.5f (%.5f) |", inference::JlaCorrectionName(kVariants[k]), rel[k].Mean(), rel[k].Se());
        std::printf(" %+.5f (%.5f) |", high > 0 ? rel_high[k].Mean() : 0.0, high > 0 ? rel_high[k].Se() : 0.0);
        std::printf(" %+.6f (%.6f) |", rel_cv[k].Mean(), rel_cv[k].Se());
        for (int a = 0; a < kTargets; ++a) std::printf(" %+.6f (%.6f) |", dev[k][a].Mean(), dev[k][a].Se());
        for (int a = 0; a < kTargets; ++a) std::printf(" %+.6f (%.6f) |", dlev[k][a].Mean(), dlev[k][a].Se());
        std::printf("\n");
      }
      std::fflush(stdout);
    }
  }
  std::printf("\n# %.1f s\n", std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  return 0;
}
