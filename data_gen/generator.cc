// Synthetic caseworker register generator (see generator.h and CALIBRATION.md).
//
// Two passes over the citizens, both parallel over fixed blocks:
//   1. sizing: each citizen's number of responses from its own count stream;
//      a prefix sum gives each citizen's first row;
//   2. filling: each citizen's rows are written in place into preallocated
//      columns from the citizen's own stream.
// Caseworkers are drawn per job centre from the job centre's stream first.
// Because every stream is keyed by (seed, kind, id), the output does not
// depend on the thread count. Memory: the output columns (8 bytes per cell)
// plus O(citizens + caseworkers); no per-row heap objects.
//
// CONVENTION: suffix _w: length = number of caseworkers; _i: number of
// citizens; _c: number of job centres; _n: number of responses.
#include "data_gen/generator.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <limits>
#include <numbers>
#include <numeric>
#include <string>
#include <vector>

#include "core/error.h"
#include "data_gen/random_stream.h"

namespace cwfx::datagen {
namespace {

constexpr int kNumSomatic = 11;
constexpr int kNumPsych = 10;
constexpr int kNumB = 11;
constexpr int kNumActivities = 23;
constexpr int kNumRatings = 11;  // S2..S12

// Column layout of the responses table.
enum Col : int {
  kResponseId = 0,
  kCitizenId,
  kCaseworkerId,
  kJobCentreId,
  kDate,
  kQuarter,
  kGender,
  kAge,
  kEthnicity,
  kCivilStatus,
  kEmploymentHistory,
  kBenefitHistory,
  kEducation,
  kSomatic0,
  kPsych0 = kSomatic0 + kNumSomatic,
  kMedicine = kPsych0 + kNumPsych,
  kDoctorVisits,
  kB0,
  kS1First = kB0 + kNumB,
  kRating0 = kS1First + kNumActivities,
  kOutcome = kRating0 + kNumRatings,
  kNumCols
};

std::vector<std::string> ColumnNames() {
  std::vector<std::string> n = {"response_id", "citizen_id",   "caseworker_id",
                                "job_centre_id", "date",       "quarter",
                                "gender",        "age",        "ethnicity",
                                "civil_status",  "employment_history",
                                "benefit_history", "education"};
  for (int k = 1; k <= kNumSomatic; ++k) n.push_back("somatic_" + std::to_string(k));
  for (int k = 1; k <= kNumPsych; ++k) n.push_back("psych_" + std::to_string(k));
  n.push_back("medicine");
  n.push_back("doctor_visits");
  for (int k = 1; k <= kNumB; ++k) n.push_back("B" + std::to_string(k));
  for (int k = 1; k <= kNumActivities; ++k) n.push_back("S1_" + std::to_string(k));
  for (int k = 2; k <= 12; ++k) n.push_back("S" + std::to_string(k));
  n.push_back("outcome");
  return n;
}

// --- The model's fixed parts (documented in CALIBRATION.md) -------------------

// Prevalence at readiness 0 of the diagnosis groups (REPORT.md order).
constexpr std::array<double, kNumSomatic> kSomaticBase = {0.04, 0.06, 0.08, 0.10, 0.08, 0.25,
                                                          0.05, 0.12, 0.08, 0.30, 0.20};
constexpr std::array<double, kNumPsych> kPsychBase = {0.02, 0.15, 0.06, 0.20, 0.25,
                                                      0.03, 0.08, 0.03, 0.05, 0.06};

// Outcome coefficients before covariate_effect_scale.
constexpr double kDeltaGender = -0.01;
constexpr double kDeltaAge = -0.002;
constexpr double kDeltaEthnicity1 = 0.0;
constexpr double kDeltaEthnicity2 = -0.02;
constexpr double kDeltaCivil = 0.02;
constexpr double kDeltaEmployment = 0.20;
constexpr double kDeltaBenefit = -0.08;
constexpr double kDeltaEducation1 = 0.03;
constexpr double kDeltaEducation2 = 0.05;
constexpr std::array<double, kNumSomatic> kDeltaSomatic = {-0.01, -0.01, -0.01, -0.01, -0.01, -0.02,
                                                           -0.01, -0.01, -0.01, -0.01, -0.01};
constexpr std::array<double, kNumPsych> kDeltaPsych = {-0.03, -0.04, -0.05, -0.02, -0.02,
                                                       -0.01, -0.03, -0.04, -0.02, -0.01};
constexpr double kDeltaMedicine = -0.015;
constexpr double kDeltaDoctor = -0.002;
constexpr std::array<double, kNumB> kDeltaB = {0.02, 0.01, 0.005, 0.01, 0.01, 0.015,
                                               0.01, 0.02, 0.01,  0.02, -0.005};
constexpr double kDeltaChangeRatio = 0.8;  // delta(dB_k) = ratio * delta(B_k)

// S1 activities: probability at readiness 0 and average caseworker; logit
// slope per standard deviation of the caseworker effect (times
// activity_effect) and per unit of citizen readiness.
struct ActivitySpec {
  double base;
  double effect_slope;
  double readiness_slope;
};
constexpr std::array<ActivitySpec, kNumActivities> kActivities = {{
    {0.10, 0.40, 0.10},    // 1 general skills (upskilling)
    {0.08, 0.05, 0.10},    // 2 vocational upskilling
    {0.15, 0.00, 0.30},    // 3 knowledge of the labour market (job)
    {0.15, -0.30, -0.30},  // 4 social and personal competences (social)
    {0.20, 0.05, 0.30},    // 5 job search (job)
    {0.08, -0.30, -0.30},  // 6 strengthening network (social)
    {0.10, 0.00, 0.20},    // 7 mentor (job)
    {0.12, -0.30, -0.30},  // 8 everyday coping (social)
    {0.10, -0.30, -0.40},  // 9 diet and exercise (health)
    {0.15, -0.30, -0.40},  // 10 assessment/treatment (health)
    {0.15, -0.30, -0.40},  // 11 coping with health (health)
    {0.10, 0.00, 0.30},    // 12 internal internship (job)
    {0.10, 0.40, 0.30},    // 13 external internship (job)
    {0.05, 0.00, 0.20},    // 14 company centre (job)
    {0.08, -0.30, -0.30},  // 15 social mentor (social)
    {0.04, -0.30, -0.40},  // 16 addiction treatment (health)
    {0.03, 0.50, 0.40},    // 17 wage subsidy (job)
    {0.03, -0.10, -0.20},  // 18 pre-rehabilitation (upskilling)
    {0.03, 0.50, 0.40},    // 19 temporary hours (job)
    {0.01, 0.00, 0.20},    // 20 job rotation (job)
    {0.03, -0.30, -0.20},  // 21 rehabilitation (upskilling)
    {0.12, 0.30, 0.00},    // 22 no activities (exclusive)
    {0.01, 0.00, 0.00},    // 23 don't know (exclusive)
}};
// Combination job-oriented + upskilling: probability at the average caseworker
// and logit slope per standard deviation of the caseworker effect.
constexpr double kComboBase = 0.04;
constexpr double kComboSlope = 0.6;

// S2-S12 ratings: logit-free ordinal latent = readiness_slope * readiness +
// effect_slope * rating_effect * z_psi + shift + N(0, 1).
struct RatingSpec {
  double readiness_slope;
  double effect_slope;
  double shift;
};
constexpr std::array<RatingSpec, kNumRatings> kRatings = {{
    {0.6, 0.35, 0.0},    // S2 realism
    {0.6, 0.00, 0.0},    // S3 goal direction
    {0.6, 0.35, 0.0},    // S4 initiative
    {0.6, 0.00, 0.2},    // S5 telling about oneself
    {0.6, 0.00, 0.4},    // S6 cooperation
    {0.6, -0.35, 0.4},   // S7 understanding instructions
    {0.6, 0.35, 0.0},    // S8 concentration
    {0.6, 0.00, -0.3},   // S9 network
    {0.6, 0.00, 0.0},    // S10 everyday coping
    {0.6, 0.00, -0.2},   // S11 coping with health
    {0.7, 0.60, -0.5},   // S12 job chance
}};

constexpr std::array<double, 4> kOrdinalCuts = {-1.5, -0.5, 0.5, 1.5};

double Logit(double p) { return std::log(p / (1.0 - p)); }
double Logistic(double x) { return 1.0 / (1.0 + std::exp(-x)); }
double Phi(double x) { return 0.5 * std::erfc(-x / std::numbers::sqrt2); }

// Logits of the base probabilities above, computed once.
struct BaseLogits {
  std::array<double, kNumSomatic> somatic;
  std::array<double, kNumPsych> psych;
  std::array<double, kNumActivities> activity;
  double combo;
};
const BaseLogits& Logits() {
  static const BaseLogits logits = [] {
    BaseLogits l{};
    for (size_t k = 0; k < kNumSomatic; ++k) l.somatic[k] = Logit(kSomaticBase[k]);
    for (size_t k = 0; k < kNumPsych; ++k) l.psych[k] = Logit(kPsychBase[k]);
    for (size_t k = 0; k < kNumActivities; ++k) l.activity[k] = Logit(kActivities[k].base);
    l.combo = Logit(kComboBase);
    return l;
  }();
  return logits;
}

// Activity probabilities of one (citizen, caseworker) pair; they depend on
// the caseworker's effect and the citizen's readiness only, so they are
// computed once per pair and reused across the pair's responses.
struct ActivityProbs {
  int32_t caseworker = -1;
  std::array<double, kNumActivities> p{};
  double combo = 0.0;

  void Update(int32_t w, double ae, double h) {
    if (w == caseworker) return;
    caseworker = w;
    const BaseLogits& l = Logits();
    for (size_t a = 0; a < kNumActivities; ++a) {
      p[a] = Logistic(l.activity[a] + kActivities[a].effect_slope * ae + kActivities[a].readiness_slope * h);
    }
    p[21] = Logistic(l.activity[21] + kActivities[21].effect_slope * ae);  // "no activities": no readiness term
    p[22] = kActivities[22].base;
    combo = Logistic(l.combo + kComboSlope * ae);
  }
};

double Ordinal(double latent) {
  double v = 1.0;
  for (double c : kOrdinalCuts) v += latent > c ? 1.0 : 0.0;
  return v;
}

// Quarter code year*10 + quarter of a day counted from 2014-01-01.
double QuarterCode(int64_t day) {
  using namespace std::chrono;
  const sys_days epoch = sys_days(year{2014} / January / 1);
  const year_month_day ymd(epoch + days(day));
  const int q = (static_cast<int>(static_cast<unsigned>(ymd.month())) - 1) / 3 + 1;
  return static_cast<double>(static_cast<int>(ymd.year()) * 10 + q);
}

// Caseworkers of all job centres. Centre c's slice of order_w holds its
// regular caseworkers sorted by effect, then its occasional ones sorted by
// effect; cum_w holds cumulative caseload shares within each group.
struct Caseworkers {
  int per_centre = 0;
  int regular = 0;
  std::vector<double> psi_w, z_w, weight_w;
  std::vector<int32_t> order_w;
  std::vector<double> cum_w;

  // Caseworker at cumulative share u of group [first, first + count) of centre c.
  int32_t At(int c, int first, int count, double u) const {
    const size_t lo = static_cast<size_t>(c) * static_cast<size_t>(per_centre) + static_cast<size_t>(first);
    const auto begin = cum_w.begin() + static_cast<std::ptrdiff_t>(lo);
    const auto end = begin + count;
    auto it = std::upper_bound(begin, end, u);
    if (it == end) --it;
    return order_w[lo + static_cast<size_t>(it - begin)];
  }

  // Main caseworker for a citizen of readiness h in centre c: a regular
  // caseworker (Gaussian copula between h and the effect rank).
  int32_t PickMain(int c, double h, double sorting, Stream& s) const {
    const double e = s.Normal();
    const double u = Phi(sorting * h + std::sqrt(1.0 - sorting * sorting) * e);
    return regular > 0 ? At(c, 0, regular, u) : At(c, 0, per_centre, u);
  }

  // Substitute for one meeting: an occasional caseworker by caseload share.
  int32_t PickSubstitute(int c, Stream& s) const {
    const double u = s.Uniform();
    return regular < per_centre ? At(c, regular, per_centre - regular, u) : At(c, 0, per_centre, u);
  }
};

Caseworkers MakeCaseworkers(const GeneratorOptions& o, uint64_t seed, const parallel::Context& ctx) {
  Caseworkers cw;
  cw.regular = o.regular_caseworkers_per_centre;
  cw.per_centre = o.regular_caseworkers_per_centre + o.occasional_caseworkers_per_centre;
  const size_t n_w = static_cast<size_t>(o.num_job_centres) * static_cast<size_t>(cw.per_centre);
  cw.psi_w.resize(n_w);
  cw.z_w.resize(n_w);
  cw.weight_w.resize(n_w);
  cw.order_w.resize(n_w);
  cw.cum_w.resize(n_w);
  const double sdw = o.caseload_weight_sd;
  auto sort_group = [&](size_t lo, int count) {
    if (count == 0) return;
    auto first = cw.order_w.begin() + static_cast<std::ptrdiff_t>(lo);
    std::sort(first, first + count, [&](int32_t a, int32_t b) {
      const double pa = cw.psi_w[static_cast<size_t>(a)];
      const double pb = cw.psi_w[static_cast<size_t>(b)];
      return pa < pb || (pa == pb && a < b);
    });
    double total = 0.0;
    for (int k = 0; k < count; ++k) total += cw.weight_w[static_cast<size_t>(cw.order_w[lo + static_cast<size_t>(k)])];
    double acc = 0.0;
    for (int k = 0; k < count; ++k) {
      acc += cw.weight_w[static_cast<size_t>(cw.order_w[lo + static_cast<size_t>(k)])];
      cw.cum_w[lo + static_cast<size_t>(k)] = acc / total;
    }
    cw.cum_w[lo + static_cast<size_t>(count) - 1] = 1.0;
  };
  parallel::ParallelFor(ctx, 0, o.num_job_centres, 64, [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      Stream s(seed, StreamKind::kJobCentre, static_cast<uint64_t>(c));
      const size_t lo = static_cast<size_t>(c) * static_cast<size_t>(cw.per_centre);
      for (int k = 0; k < cw.per_centre; ++k) {
        const size_t w = lo + static_cast<size_t>(k);
        cw.z_w[w] = s.Normal();
        cw.psi_w[w] = o.caseworker_effect_sd * cw.z_w[w];
        cw.weight_w[w] = std::exp(sdw * s.Normal() - 0.5 * sdw * sdw);
        cw.order_w[w] = static_cast<int32_t>(w);
      }
      sort_group(lo, cw.regular);
      sort_group(lo + static_cast<size_t>(cw.regular), cw.per_centre - cw.regular);
    }
  });
  return cw;
}

int ResponsesOfCitizen(const GeneratorOptions& o, uint64_t seed, int64_t i) {
  Stream s(seed, StreamKind::kCitizenCount, static_cast<uint64_t>(i));
  const double lambda = o.mean_extra_responses * s.Gamma(o.responses_shape) / o.responses_shape;
  const int64_t extra = std::min<int64_t>(s.Poisson(lambda), o.max_responses - 1);
  return 1 + static_cast<int>(extra);
}

// Writes citizen i's rows [row0, row0 + n) of every column.
void FillCitizen(const GeneratorOptions& o, uint64_t seed, const Caseworkers& cw, int64_t i,
                 int64_t row0, int n, double* const* col, double* alpha_i, double* readiness_i) {
  Stream s(seed, StreamKind::kCitizen, static_cast<uint64_t>(i));
  const double scale = o.covariate_effect_scale;
  const double rho = o.citizen_effect_readiness_corr;

  int centre = static_cast<int>(s.Below(o.num_job_centres));
  const double h = s.Normal();
  const double alpha = o.citizen_effect_sd * (rho * h + std::sqrt(1.0 - rho * rho) * s.Normal());
  *alpha_i = alpha;
  *readiness_i = h;

  // Time-invariant register covariates.
  const double gender = s.Bernoulli(0.47) ? 1.0 : 0.0;
  const double age0 = std::clamp(std::round(38.0 + 11.0 * s.Normal() - 2.0 * h), 18.0, 64.0);
  const double ue = s.Uniform();
  const double ethnicity = ue < 0.62 ? 0.0 : (ue < 0.70 ? 1.0 : 2.0);
  const double civil = s.Bernoulli(Logistic(-1.0 + 0.3 * h)) ? 1.0 : 0.0;
  const double employment =
      std::round(100.0 * std::clamp(0.25 + 0.15 * h + 0.15 * s.Normal(), 0.0, 1.0)) / 100.0;
  const double benefit =
      std::round(100.0 * std::clamp(0.80 - 0.08 * h + 0.12 * s.Normal(), 0.0, 1.0)) / 100.0;
  const double edu_latent = 0.5 * h + 0.87 * s.Normal();
  const double education = edu_latent < 0.6 ? 0.0 : (edu_latent < 1.5 ? 1.0 : 2.0);
  std::array<double, kNumSomatic> somatic{};
  std::array<double, kNumPsych> psych{};
  double n_somatic = 0.0;
  double any_psych = 0.0;
  for (int k = 0; k < kNumSomatic; ++k) {
    somatic[k] = s.Bernoulli(Logistic(Logits().somatic[static_cast<size_t>(k)] - 0.4 * h)) ? 1.0 : 0.0;
    n_somatic += somatic[k];
  }
  for (int k = 0; k < kNumPsych; ++k) {
    psych[k] = s.Bernoulli(Logistic(Logits().psych[static_cast<size_t>(k)] - 0.5 * h)) ? 1.0 : 0.0;
    any_psych = std::max(any_psych, psych[k]);
  }

  // The part of the outcome index fixed for the citizen.
  double fixed_index = o.outcome_intercept + alpha;
  {
    double x = kDeltaGender * gender + kDeltaCivil * civil + kDeltaEmployment * employment +
               kDeltaBenefit * benefit;
    x += ethnicity == 1.0 ? kDeltaEthnicity1 : (ethnicity == 2.0 ? kDeltaEthnicity2 : 0.0);
    x += education == 1.0 ? kDeltaEducation1 : (education == 2.0 ? kDeltaEducation2 : 0.0);
    for (int k = 0; k < kNumSomatic; ++k) x += kDeltaSomatic[k] * somatic[k];
    for (int k = 0; k < kNumPsych; ++k) x += kDeltaPsych[k] * psych[k];
    fixed_index += scale * x;
  }

  // Latent B answers: citizen mean plus an AR(1) deviation plus drift.
  std::array<double, kNumB> b_mean{}, b_dev{}, b_prev{};
  const double stationary_sd = o.b_step_sd / std::sqrt(1.0 - o.b_persistence * o.b_persistence);
  for (int k = 0; k < kNumB; ++k) {
    b_mean[k] = 0.6 * h + 0.8 * s.Normal();
    b_dev[k] = stationary_sd * s.Normal();
  }

  // Dates: the first response falls where all n fit before last_day.
  const int gap = o.days_between_responses;
  const int64_t span =
      std::max<int64_t>(0, static_cast<int64_t>(o.last_day) - o.first_day - static_cast<int64_t>(n - 1) * gap);
  int64_t date = o.first_day + s.Below(span + 1);
  const int64_t date0 = date;

  int32_t main = cw.PickMain(centre, h, o.sorting, s);
  double drift = 0.0;
  ActivityProbs main_probs, other_probs;
  for (int t = 0; t < n; ++t) {
    if (t > 0) {
      date += gap + (s.Below(2 * static_cast<int64_t>(o.days_jitter) + 1) - o.days_jitter);
      if (s.Bernoulli(o.caseworker_change_rate)) {
        if (o.num_job_centres > 1 && !s.Bernoulli(o.change_within_centre)) {
          int other = static_cast<int>(s.Below(o.num_job_centres - 1));
          centre = other >= centre ? other + 1 : other;
        }
        main = cw.PickMain(centre, h, o.sorting, s);
      }
      drift += o.b_drift;
      for (int k = 0; k < kNumB; ++k) {
        b_dev[k] = o.b_persistence * b_dev[k] + o.b_step_sd * s.Normal();
      }
    }
    const int32_t w = s.Bernoulli(o.substitute_meeting_rate) ? cw.PickSubstitute(centre, s) : main;
    const size_t r = static_cast<size_t>(row0 + t);
    const size_t wi = static_cast<size_t>(w);
    const double z = cw.z_w[wi];

    col[kResponseId][r] = static_cast<double>(row0 + t + 1);
    col[kCitizenId][r] = static_cast<double>(i + 1);
    col[kCaseworkerId][r] = static_cast<double>(w + 1);
    col[kJobCentreId][r] = static_cast<double>(w / cw.per_centre + 1);
    col[kDate][r] = static_cast<double>(date);
    col[kQuarter][r] = QuarterCode(date);
    col[kGender][r] = gender;
    col[kAge][r] = age0 + std::floor(static_cast<double>(date - date0) / 365.25);
    col[kEthnicity][r] = ethnicity;
    col[kCivilStatus][r] = civil;
    col[kEmploymentHistory][r] = employment;
    col[kBenefitHistory][r] = benefit;
    col[kEducation][r] = education;
    for (int k = 0; k < kNumSomatic; ++k) col[kSomatic0 + k][r] = somatic[k];
    for (int k = 0; k < kNumPsych; ++k) col[kPsych0 + k][r] = psych[k];
    const double medicine = s.Bernoulli(Logistic(0.2 - 0.5 * h + 0.6 * any_psych)) ? 1.0 : 0.0;
    const double doctor = static_cast<double>(s.Poisson(std::exp(1.4 - 0.25 * h + 0.1 * n_somatic)));
    col[kMedicine][r] = medicine;
    col[kDoctorVisits][r] = doctor;

    double x = kDeltaAge * col[kAge][r] + kDeltaMedicine * medicine + kDeltaDoctor * doctor;
    for (int k = 0; k < kNumB; ++k) {
      const double b = Ordinal(b_mean[k] + b_dev[k] + drift);
      const double db = t > 0 ? b - b_prev[k] : 0.0;
      x += kDeltaB[k] * (b + kDeltaChangeRatio * db);
      b_prev[k] = b;
      col[kB0 + k][r] = b;
    }

    // Caseworker's answers: S1 activity ticks and S2-S12 ratings.
    if (s.Bernoulli(o.missing_caseworker_answer_rate)) {
      const double nan = std::numeric_limits<double>::quiet_NaN();
      for (int a = 0; a < kNumActivities; ++a) col[kS1First + a][r] = nan;
      for (int k = 0; k < kNumRatings; ++k) col[kRating0 + k][r] = nan;
    } else {
      ActivityProbs& probs = w == main ? main_probs : other_probs;
      probs.Update(w, o.activity_effect * z, h);
      std::array<double, kNumActivities> tick{};
      if (s.Bernoulli(probs.p[21])) {
        tick[21] = 1.0;
      } else if (s.Bernoulli(probs.p[22])) {
        tick[22] = 1.0;
      } else {
        for (size_t a = 0; a < 21; ++a) tick[a] = s.Bernoulli(probs.p[a]) ? 1.0 : 0.0;
        if (s.Bernoulli(probs.combo)) {
          static constexpr std::array<size_t, 3> kJob = {12, 16, 18};  // 13, 17, 19
          tick[0] = 1.0;
          tick[kJob[static_cast<size_t>(s.Below(3))]] = 1.0;
        }
      }
      for (int a = 0; a < kNumActivities; ++a) col[kS1First + a][r] = tick[static_cast<size_t>(a)];
      for (int k = 0; k < kNumRatings; ++k) {
        const RatingSpec& sp = kRatings[static_cast<size_t>(k)];
        const double latent =
            sp.readiness_slope * h + sp.effect_slope * o.rating_effect * z + sp.shift + s.Normal();
        col[kRating0 + k][r] = Ordinal(latent);
      }
    }

    const double index = fixed_index + scale * x + cw.psi_w[wi];
    if (o.outcome_noise_sd < 0) {
      const double p = std::clamp(index, 0.0, 1.0);
      col[kOutcome][r] = s.Uniform() < p ? 1.0 : 0.0;
    } else {
      col[kOutcome][r] = index + (o.outcome_noise_sd > 0 ? o.outcome_noise_sd * s.Normal() : 0.0);
    }
  }
}

void Require(bool ok, const std::string& field, const std::string& expected) {
  if (!ok) throw Error(Location{"GeneratorOptions", -1, field}, "expected " + expected);
}

}  // namespace

GeneratorOptions GeneratorOptions::Preset(std::string_view name) {
  GeneratorOptions o;
  if (name == "study") return o;
  if (name == "large") {
    o.preset = "large";
    o.responses_target = 1'000'000;
    return o;
  }
  throw Error("unknown generator preset '" + std::string(name) + "' (expected study or large)");
}

void GeneratorOptions::Validate() const {
  auto prob = [](double p) { return p >= 0.0 && p <= 1.0; };
  // Sizes stop at what one register can hold (responses are int32-indexed
  // downstream), so an absurd size is refused before anything is allocated.
  Require(num_job_centres >= 1 && num_job_centres <= 10'000'000, "num_job_centres", "in [1, 1e7]");
  Require(num_citizens >= 1 && num_citizens <= 100'000'000, "num_citizens", "in [1, 1e8]");
  Require(responses_target >= 0 && responses_target <= 1'000'000'000, "responses_target", "in [0, 1e9]");
  Require(regular_caseworkers_per_centre <= 1'000'000 && occasional_caseworkers_per_centre <= 1'000'000,
          "regular_caseworkers_per_centre", "at most 1e6 caseworkers of each kind per job centre");
  Require(citizens_per_job_centre >= 1.0, "citizens_per_job_centre", ">= 1");
  Require(regular_caseworkers_per_centre >= 0, "regular_caseworkers_per_centre", ">= 0");
  Require(occasional_caseworkers_per_centre >= 0, "occasional_caseworkers_per_centre", ">= 0");
  Require(regular_caseworkers_per_centre + occasional_caseworkers_per_centre >= 1,
          "regular_caseworkers_per_centre", "at least one caseworker per job centre");
  Require(static_cast<double>(num_job_centres) *
                  (regular_caseworkers_per_centre + occasional_caseworkers_per_centre) <
              2e9,
          "num_job_centres", "fewer than 2e9 caseworkers in total");
  Require(prob(substitute_meeting_rate), "substitute_meeting_rate", "a probability");
  Require(caseload_weight_sd >= 0.0 && caseload_weight_sd <= 5.0, "caseload_weight_sd", "in [0, 5]");
  Require(caseworker_effect_sd >= 0.0 && caseworker_effect_sd <= 1.0, "caseworker_effect_sd", "in [0, 1]");
  Require(citizen_effect_sd >= 0.0 && citizen_effect_sd <= 1.0, "citizen_effect_sd", "in [0, 1]");
  Require(citizen_effect_readiness_corr >= -1.0 && citizen_effect_readiness_corr <= 1.0,
          "citizen_effect_readiness_corr", "in [-1, 1]");
  Require(sorting >= -1.0 && sorting <= 1.0, "sorting", "in [-1, 1]");
  Require(mean_extra_responses >= 0.0 && mean_extra_responses <= 1000.0, "mean_extra_responses",
          "in [0, 1000]");
  Require(responses_shape > 0.0, "responses_shape", "> 0");
  Require(max_responses >= 1 && max_responses <= 10000, "max_responses", "in [1, 10000]");
  Require(days_between_responses >= 1, "days_between_responses", ">= 1");
  Require(days_jitter >= 0 && days_jitter < days_between_responses, "days_jitter",
          "in [0, days_between_responses) so that dates increase");
  Require(first_day >= 0 && last_day >= first_day && last_day <= 36500, "last_day",
          "0 <= first_day <= last_day <= 36500");
  Require(prob(caseworker_change_rate), "caseworker_change_rate", "a probability");
  Require(prob(change_within_centre), "change_within_centre", "a probability");
  Require(b_persistence >= 0.0 && b_persistence < 1.0, "b_persistence", "in [0, 1)");
  Require(b_step_sd >= 0.0, "b_step_sd", ">= 0");
  Require(std::isfinite(b_drift), "b_drift", "a finite number");
  Require(prob(missing_caseworker_answer_rate), "missing_caseworker_answer_rate", "a probability");
  Require(std::isfinite(outcome_intercept), "outcome_intercept", "a finite number");
  Require(std::isfinite(covariate_effect_scale), "covariate_effect_scale", "a finite number");
  Require(std::isfinite(activity_effect), "activity_effect", "a finite number");
  Require(std::isfinite(rating_effect), "rating_effect", "a finite number");
  Require(std::isfinite(outcome_noise_sd), "outcome_noise_sd", "a finite number (< 0: binary outcome)");
}

double GeneratorOptions::ExpectedResponsesPerCitizen() const {
  // N = 1 + min(X, max_responses - 1), X negative binomial(shape k, mean m).
  const double k = responses_shape;
  const double m = mean_extra_responses;
  double p = std::pow(k / (k + m), k);  // P(X = 0)
  double mass = 0.0;
  double expected = 0.0;
  for (int x = 0; x < max_responses - 1; ++x) {
    expected += p * (1.0 + x);
    mass += p;
    p *= (x + k) / (x + 1.0) * m / (k + m);
  }
  expected += (1.0 - mass) * max_responses;
  return expected;
}

GeneratorOptions GeneratorOptions::Resolved() const {
  GeneratorOptions o = *this;
  if (responses_target > 0) {
    const double citizens = static_cast<double>(responses_target) / ExpectedResponsesPerCitizen();
    o.num_citizens = std::max<int64_t>(1, std::llround(citizens));
    o.num_job_centres = static_cast<int>(
        std::max<int64_t>(1, std::llround(citizens / std::max(1.0, citizens_per_job_centre))));
  }
  return o;
}

std::string GeneratorOptions::ToJson() const {
  nlohmann::ordered_json j;
  j["preset"] = preset;
  j["num_job_centres"] = num_job_centres;
  j["num_citizens"] = num_citizens;
  j["responses_target"] = responses_target;
  j["citizens_per_job_centre"] = citizens_per_job_centre;
  j["regular_caseworkers_per_centre"] = regular_caseworkers_per_centre;
  j["occasional_caseworkers_per_centre"] = occasional_caseworkers_per_centre;
  j["substitute_meeting_rate"] = substitute_meeting_rate;
  j["caseload_weight_sd"] = caseload_weight_sd;
  j["caseworker_effect_sd"] = caseworker_effect_sd;
  j["citizen_effect_sd"] = citizen_effect_sd;
  j["citizen_effect_readiness_corr"] = citizen_effect_readiness_corr;
  j["sorting"] = sorting;
  j["mean_extra_responses"] = mean_extra_responses;
  j["responses_shape"] = responses_shape;
  j["max_responses"] = max_responses;
  j["days_between_responses"] = days_between_responses;
  j["days_jitter"] = days_jitter;
  j["first_day"] = first_day;
  j["last_day"] = last_day;
  j["caseworker_change_rate"] = caseworker_change_rate;
  j["change_within_centre"] = change_within_centre;
  j["b_persistence"] = b_persistence;
  j["b_step_sd"] = b_step_sd;
  j["b_drift"] = b_drift;
  j["missing_caseworker_answer_rate"] = missing_caseworker_answer_rate;
  j["outcome_intercept"] = outcome_intercept;
  j["covariate_effect_scale"] = covariate_effect_scale;
  j["activity_effect"] = activity_effect;
  j["rating_effect"] = rating_effect;
  j["outcome_noise_sd"] = outcome_noise_sd;
  return j.dump();
}

Register Generate(const GeneratorOptions& options, uint64_t seed, const parallel::Context& ctx) {
  const GeneratorOptions o = options.Resolved();
  o.Validate();

  const Caseworkers cw = MakeCaseworkers(o, seed, ctx);
  const int64_t n_i = o.num_citizens;
  constexpr int64_t kBlock = 2048;  // citizens per task

  // Pass 1: responses per citizen, then each citizen's first row.
  std::vector<int64_t> first_row_i(static_cast<size_t>(n_i) + 1, 0);
  parallel::ParallelFor(ctx, 0, n_i, kBlock, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) first_row_i[static_cast<size_t>(i) + 1] = ResponsesOfCitizen(o, seed, i);
  });
  std::partial_sum(first_row_i.begin(), first_row_i.end(), first_row_i.begin());
  const int64_t n_n = first_row_i.back();

  // Pass 2: fill preallocated columns in place.
  std::vector<std::vector<double>> cols(kNumCols);
  std::vector<double*> col_ptr(kNumCols);
  // Columns are allocated (and their pages first touched) in parallel.
  parallel::ParallelFor(ctx, 0, kNumCols, 1, [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      cols[static_cast<size_t>(c)].resize(static_cast<size_t>(n_n));
      col_ptr[static_cast<size_t>(c)] = cols[static_cast<size_t>(c)].data();
    }
  });
  std::vector<double> alpha_i(static_cast<size_t>(n_i)), readiness_i(static_cast<size_t>(n_i));
  parallel::ParallelFor(ctx, 0, n_i, kBlock, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) {
      const size_t ui = static_cast<size_t>(i);
      FillCitizen(o, seed, cw, i, first_row_i[ui], static_cast<int>(first_row_i[ui + 1] - first_row_i[ui]),
                  col_ptr.data(), &alpha_i[ui], &readiness_i[ui]);
    }
  });

  Register reg;
  reg.options = o;
  reg.seed = seed;
  const std::string source = "generator(" + o.preset + ", seed " + std::to_string(seed) + ")";
  reg.responses.set_source(source);
  const std::vector<std::string> names = ColumnNames();
  for (int c = 0; c < kNumCols; ++c) {
    reg.responses.AddNumeric(names[static_cast<size_t>(c)], std::move(cols[static_cast<size_t>(c)]));
  }

  const size_t n_w = cw.psi_w.size();
  std::vector<double> cw_id(n_w), cw_centre(n_w);
  for (size_t w = 0; w < n_w; ++w) {
    cw_id[w] = static_cast<double>(w + 1);
    cw_centre[w] = static_cast<double>(w / static_cast<size_t>(cw.per_centre) + 1);
  }
  reg.caseworkers.set_source(source + " truth/caseworkers");
  reg.caseworkers.AddNumeric("caseworker_id", std::move(cw_id));
  reg.caseworkers.AddNumeric("job_centre_id", std::move(cw_centre));
  reg.caseworkers.AddNumeric("true_effect", cw.psi_w);

  std::vector<double> ci_id(static_cast<size_t>(n_i));
  std::iota(ci_id.begin(), ci_id.end(), 1.0);
  reg.citizens.set_source(source + " truth/citizens");
  reg.citizens.AddNumeric("citizen_id", std::move(ci_id));
  reg.citizens.AddNumeric("true_effect", std::move(alpha_i));
  reg.citizens.AddNumeric("readiness", std::move(readiness_i));

  std::vector<std::string> cn;
  std::vector<double> cv;
  const double sc = o.covariate_effect_scale;
  auto add = [&](std::string name, double v) {
    cn.push_back(std::move(name));
    cv.push_back(v);
  };
  add("intercept", o.outcome_intercept);
  add("gender", sc * kDeltaGender);
  add("age", sc * kDeltaAge);
  add("ethnicity=1", sc * kDeltaEthnicity1);
  add("ethnicity=2", sc * kDeltaEthnicity2);
  add("civil_status", sc * kDeltaCivil);
  add("employment_history", sc * kDeltaEmployment);
  add("benefit_history", sc * kDeltaBenefit);
  add("education=1", sc * kDeltaEducation1);
  add("education=2", sc * kDeltaEducation2);
  for (int k = 0; k < kNumSomatic; ++k) add("somatic_" + std::to_string(k + 1), sc * kDeltaSomatic[k]);
  for (int k = 0; k < kNumPsych; ++k) add("psych_" + std::to_string(k + 1), sc * kDeltaPsych[k]);
  add("medicine", sc * kDeltaMedicine);
  add("doctor_visits", sc * kDeltaDoctor);
  for (int k = 0; k < kNumB; ++k) add("B" + std::to_string(k + 1), sc * kDeltaB[k]);
  for (int k = 0; k < kNumB; ++k) add("dB" + std::to_string(k + 1), sc * kDeltaChangeRatio * kDeltaB[k]);
  reg.coefficients.set_source(source + " truth/coefficients");
  reg.coefficients.AddText("name", std::move(cn));
  reg.coefficients.AddNumeric("value", std::move(cv));
  return reg;
}

}  // namespace cwfx::datagen
