// The report's replication section, from hand-built summaries (G = 8): the
// section's place in the page, one plotted element per caseworker, the
// winner's-curse caveat, p-value formatting, escaping, and no section at all
// without summaries.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "data_gen/generator.h"
#include "report/report.h"
#include "report/svg_chart.h"

namespace cwfx::report {
namespace {

constexpr int kG = 8;

size_t Count(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t p = s.find(what); p != std::string::npos; p = s.find(what, p + 1)) ++n;
  return n;
}

// The text from `from` to the next `to` after it ("" if either is missing).
std::string Between(const std::string& s, const std::string& from, const std::string& to) {
  const size_t a = s.find(from);
  if (a == std::string::npos) return "";
  const size_t b = s.find(to, a + from.size());
  return b == std::string::npos ? "" : s.substr(a, b - a);
}

inference::ScalarSummary Scalar(const std::string& name, double estimate, double se, double lo, double hi) {
  inference::ScalarSummary x;
  x.name = name;
  x.estimate = estimate;
  x.mean = estimate + 0.001;
  x.std_error = se;
  x.lower = lo;
  x.upper = hi;
  x.draws = 200;
  return x;
}

// Ranks by effect (largest = 1); marginal sets rank +- 1, simultaneous rank +- 2.
inference::RankConfidenceSets RankSets(const std::vector<double>& effect_g) {
  inference::RankConfidenceSets r;
  const int G = static_cast<int>(effect_g.size());
  r.top_size = (G + 3) / 4;
  r.draws = 1000;
  r.simultaneous_critical_value = 2.9;
  for (int g = 0; g < G; ++g) {
    int rank = 1;
    for (int k = 0; k < G; ++k) rank += effect_g[k] > effect_g[g];
    r.rank_g.push_back(rank);
    r.marginal_lower_g.push_back(std::max(1, rank - 1));
    r.marginal_upper_g.push_back(std::min(G, rank + 1));
    r.simultaneous_lower_g.push_back(std::max(1, rank - 2));
    r.simultaneous_upper_g.push_back(std::min(G, rank + 2));
    r.could_be_top_g.push_back(r.simultaneous_lower_g.back() <= r.top_size);
  }
  return r;
}

replicate::ReplicationSummary BootstrapSummary() {
  replicate::ReplicationSummary s;
  s.scheme = "pairs";
  s.bootstrap = true;
  s.replications = 1000;
  s.stored = 998;
  s.failed = 2;
  s.status = "complete";
  s.coefficients = {Scalar("age<30", 0.0123, 0.0045, 0.004, 0.021), Scalar("female", -0.01, 0.003, -0.016, -0.004)};
  s.smooth = {Scalar("actual", 0.1476, 0.0045, 0.139, 0.156), Scalar("variance_of_effects", 0.0031, 0.0004, 0.0024, 0.0039),
              Scalar("sd_of_effects", 0.0557, 0.0036, 0.049, 0.062), Scalar("fixed_contrast", 0.081, 0.012, 0.057, 0.105)};
  s.selection = {Scalar("counterfactual", 0.2345, 0.0111, 0.2112, 0.2571),
                 Scalar("increase", 0.0869, 0.0123, 0.0633, 0.1111)};
  s.effect_g = {0.05, -0.02, 0.10, 0.00, -0.08, 0.03, -0.04, 0.01};
  for (int g = 0; g < kG; ++g) s.caseworker_ids.push_back("cw" + std::to_string(g + 1));
  s.caseworker_ids[6] = "cw<7>";
  s.bootstrap_std_error_g.assign(kG, 0.02);
  s.quartile_share_gq.resize(kG, 4);
  for (int g = 0; g < kG; ++g) s.quartile_share_gq.row(g) << 0.1, 0.2, 0.3, 0.4;
  s.quartile_share_gq.row(2) << 0, 0, 0.05, 0.95;
  s.have_analytic_rank_sets = s.have_bootstrap_rank_sets = true;
  s.analytic_rank_sets = s.bootstrap_rank_sets = RankSets(s.effect_g);
  s.notes = {"2 replication(s) could not be estimated and are left out", "a note with <markup>"};
  return s;
}

replicate::ReplicationSummary PermutationSummary() {
  replicate::ReplicationSummary s;
  s.scheme = "permute_within_strata";
  s.bootstrap = false;
  s.replications = 999;
  s.stored = 999;
  s.status = "complete";
  s.effect_g.assign(kG, 0.0);
  s.observed_variance = 0.004;
  s.observed_increase = 0.09;
  for (int b = 0; b < 999; ++b) {
    s.null_variance.push_back(0.001 + 1e-6 * (b % 97));
    s.null_increase.push_back(0.02 + 1e-4 * (b % 89));
  }
  s.permutation_p_variance = 0.001;
  s.permutation_p_increase = 0.25;
  return s;
}

class ReplicationSectionTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    datagen::GeneratorOptions o = datagen::GeneratorOptions::Preset("study");
    o.num_citizens = 1200;
    const datagen::Register reg = datagen::Generate(o, 29, parallel::Context(1));
    result_ = new study::StudyResult(study::RunStudy(reg.responses, study::StudyOptions{}, parallel::Context(1)));
  }
  static void TearDownTestSuite() { delete result_; }
  static std::string Render(const std::vector<replicate::ReplicationSummary>& reps) {
    return RenderStudyReport(*result_, ReportContext{}, reps);
  }
  static study::StudyResult* result_;
};
study::StudyResult* ReplicationSectionTest::result_ = nullptr;

TEST_F(ReplicationSectionTest, NoSummariesNoSection) {
  const std::string h = Render({});
  EXPECT_EQ(h.find("id=\"replications\""), std::string::npos);
  EXPECT_EQ(h.find("Replications</h2>"), std::string::npos);
  EXPECT_EQ(Count(h, "class=\"stab-col\""), 0u);
  EXPECT_NE(h.find("Quartile stability is not yet quantified"), std::string::npos);
}

TEST_F(ReplicationSectionTest, SectionSitsAfterTable1AndBeforeTheCharacterisation) {
  const std::string h = Render({BootstrapSummary()});
  const size_t table1 = h.find("Table 1. Policy experiment");
  const size_t section = h.find("<h2 id=\"replications\">Replications</h2>");
  const size_t caveats = h.find("<h2>Caveats</h2>");
  ASSERT_NE(section, std::string::npos);
  EXPECT_LT(table1, section);
  EXPECT_LT(section, caveats);
  if (!result_->activity_groups.empty()) {
    EXPECT_LT(section, h.find("Activities by quartile"));
  }
  EXPECT_EQ(Count(h, "<h2 id=\"replications\">"), 1u);
  // The caveat no longer says stability is unquantified.
  EXPECT_EQ(h.find("Quartile stability is not yet quantified"), std::string::npos);
}

TEST_F(ReplicationSectionTest, BootstrapHeaderTablesAndCaveat) {
  const std::string h = Render({BootstrapSummary()});
  EXPECT_NE(h.find("Scheme <b>pairs</b> (bootstrap)"), std::string::npos);
  EXPECT_NE(h.find("998 of 1,000 replications stored"), std::string::npos);
  EXPECT_NE(h.find("2 failed"), std::string::npos);
  EXPECT_NE(h.find("status: complete"), std::string::npos);
  // Smooth quantities in percent / percentage points, like Table 1.
  const std::string smooth = Between(h, "<h3>Smooth quantities</h3>", "</table>");
  EXPECT_NE(smooth.find("<td>14.76%</td><td>0.45</td><td>[13.90, 15.60]</td>"), std::string::npos) << smooth;
  EXPECT_NE(smooth.find("<td>+8.10 pp</td><td>1.20</td>"), std::string::npos);
  EXPECT_NE(smooth.find("95% percentile interval"), std::string::npos);
  // Re-selected quantities: their own table, the study's delta-method s.e. beside, the caveat.
  const std::string sel = Between(h, "re-selected in every replication", "</div>");
  ASSERT_FALSE(sel.empty());
  EXPECT_EQ(smooth.find("Increase"), std::string::npos);
  EXPECT_NE(sel.find("<td>8.69 pp</td><td>1.23</td><td>[6.33, 11.11]</td>"), std::string::npos) << sel;
  char delta[32];
  std::snprintf(delta, sizeof delta, "<td>%.2f</td>", 100 * result_->table1.increase_std_error);
  EXPECT_NE(sel.find(std::string("[6.33, 11.11]</td>") + delta), std::string::npos) << sel;
  EXPECT_NE(sel.find("not valid confidence intervals"), std::string::npos);
  EXPECT_NE(sel.find("winner's curse"), std::string::npos);
  EXPECT_NE(sel.find("average 0.10 pp above the full-sample estimate"), std::string::npos);  // mean - estimate
  EXPECT_EQ(smooth.find("&dagger;"), std::string::npos);  // every estimate inside its interval
  // Coefficients collapsed, names escaped.
  EXPECT_NE(h.find("<details><summary>Coefficients (2)"), std::string::npos);
  EXPECT_NE(h.find("age&lt;30"), std::string::npos);
  // Notes listed and escaped.
  EXPECT_NE(h.find("<li>2 replication(s) could not be estimated and are left out</li>"), std::string::npos);
  EXPECT_NE(h.find("a note with &lt;markup&gt;"), std::string::npos);
}

TEST_F(ReplicationSectionTest, OneStabilityColumnAndOneRankSetPerCaseworker) {
  const std::string h = Render({BootstrapSummary()});
  EXPECT_EQ(Count(h, "class=\"stab-col\""), static_cast<size_t>(kG));
  EXPECT_EQ(Count(h, "class=\"rank-ci\""), 2u * kG);  // analytic and bootstrap sets
  EXPECT_NE(h.find("Stability of the ranking: share of replications in each quartile &mdash; not the probability "
                   "of true membership"),
            std::string::npos);
  EXPECT_NE(h.find("Bootstrap percentiles of the ranks are not valid rank intervals"), std::string::npos);
  // Ranks 1-4 have a simultaneous lower bound <= top_size = 2.
  EXPECT_NE(h.find("<b>4 of 8</b>"), std::string::npos);
  EXPECT_EQ(Count(h, "<svg"), Count(h, "</svg>"));
  for (const char* bad : {">nan", "\"nan", "-nan", " nan", "inf<"}) EXPECT_EQ(h.find(bad), std::string::npos) << bad;
}

TEST_F(ReplicationSectionTest, ColumnsOrderedByEffectLargestFirst) {
  const std::string h = Render({BootstrapSummary()});
  const std::string fig = Between(h, "_stability\"", "</svg>");
  ASSERT_FALSE(fig.empty());
  // Effects: cw3 0.10 > cw1 0.05 > cw6 0.03 > ... > cw5 -0.08.
  const size_t a = fig.find("<title>cw3</title>"), b = fig.find("<title>cw1</title>"),
               c = fig.find("<title>cw6</title>"), z = fig.find("<title>cw5</title>");
  ASSERT_NE(z, std::string::npos);
  EXPECT_LT(a, b);
  EXPECT_LT(b, c);
  EXPECT_LT(c, z);
  // cw3 lands in the top quartile in 95% of replications: its Q4 segment is the tall one.
  const std::string cw3 = Between(fig, "<title>cw3</title>", "</g>");
  EXPECT_EQ(Count(cw3, "<rect"), 2u);  // Q1 and Q2 shares are 0: no segment
}

TEST_F(ReplicationSectionTest, CaseworkerIdsAreEscaped) {
  const std::string h = Render({BootstrapSummary()});
  EXPECT_EQ(h.find("cw<7>"), std::string::npos);
  EXPECT_NE(h.find("<title>cw&lt;7&gt;</title>"), std::string::npos);
  EXPECT_NE(h.find("<td class=\"l\">cw&lt;7&gt;</td>"), std::string::npos);
}

TEST_F(ReplicationSectionTest, EstimateOutsideItsIntervalIsFlagged) {
  replicate::ReplicationSummary s = BootstrapSummary();
  s.smooth[1].lower = 0.0035;  // variance of the effects: draws above the estimate 0.0031
  const std::string smooth = Between(Render({s}), "<h3>Smooth quantities</h3>", "</div>");
  EXPECT_EQ(Count(smooth, "&dagger;"), 2u);  // the row and the note
  EXPECT_NE(smooth.find("(response-weighted) &dagger;</td><td>31.00 pp&sup2;</td>"), std::string::npos) << smooth;
}

TEST_F(ReplicationSectionTest, WithoutRankSetsSaysSo) {
  replicate::ReplicationSummary s = BootstrapSummary();
  s.have_analytic_rank_sets = s.have_bootstrap_rank_sets = false;
  const std::string h = Render({s});
  EXPECT_EQ(Count(h, "class=\"rank-ci\""), 0u);
  EXPECT_EQ(Count(h, "class=\"stab-col\""), static_cast<size_t>(kG));
  EXPECT_NE(h.find("No rank confidence sets for this run"), std::string::npos);
  EXPECT_NE(h.find("<th>Percentile interval</th>"), std::string::npos);  // level unknown: not claimed
}

TEST_F(ReplicationSectionTest, PermutationHistogramsAndPValues) {
  const std::string h = Render({PermutationSummary()});
  EXPECT_NE(h.find("Permutation test: permute_within_strata"), std::string::npos);
  EXPECT_NE(h.find("999 of 999 replications stored"), std::string::npos);
  EXPECT_EQ(Count(h, "class=\"obs-mark\""), 2u);
  const size_t bars = Count(h, "class=\"hist-bar\"");
  EXPECT_GT(bars, 2u);
  EXPECT_LE(bars, 60u);  // two histograms of 30 bins at most
  EXPECT_NE(h.find("<td><b>0.0010</b></td>"), std::string::npos);
  EXPECT_NE(h.find("<td><b>0.250</b></td>"), std::string::npos);
  EXPECT_NE(h.find("variance p = 0.0010, increase p = 0.250 (the smallest p-value 999 draws allow is 0.0010)"),
            std::string::npos);
  EXPECT_NE(h.find("observed 40.00"), std::string::npos);  // 0.004 in pp^2
  // No bootstrap parts for a permutation run.
  EXPECT_EQ(Count(h, "class=\"stab-col\""), 0u);
  EXPECT_EQ(h.find("Smooth quantities"), std::string::npos);
}

TEST_F(ReplicationSectionTest, BothKindsInOneSection) {
  const std::string h = Render({BootstrapSummary(), PermutationSummary()});
  EXPECT_EQ(Count(h, "<h2 id=\"replications\">"), 1u);
  EXPECT_EQ(Count(h, "<section class=\"replication\">"), 2u);
  EXPECT_LT(h.find("Bootstrap: pairs"), h.find("Permutation test: permute_within_strata"));
  EXPECT_EQ(Count(h, "class=\"stab-col\""), static_cast<size_t>(kG));
  EXPECT_EQ(Count(h, "class=\"obs-mark\""), 2u);
}

TEST(SvgCharts, StackedIntervalAndHistogram) {
  StackedColumnsSpec st;
  st.labels = {"a", "b<", "c"};
  st.parts = {{0.5, 0.5}, {1.0, 0.0}, {NAN, NAN}};
  st.colors = {"#111", "#222"};
  st.item_class = "col-x";
  const std::string s1 = StackedColumnsSvg(st);
  EXPECT_EQ(Count(s1, "class=\"col-x\""), 3u);
  EXPECT_EQ(Count(s1, "<rect"), 3u);  // zero and NaN shares draw nothing
  EXPECT_NE(s1.find("<title>b&lt;</title>"), std::string::npos);

  IntervalPlotSpec ip;
  ip.labels = {"a", "b"};
  ip.point = {1, 2};
  ip.inner_lo = {1, 1};
  ip.inner_hi = {2, 2};
  ip.outer_lo = {1, NAN};
  ip.outer_hi = {2, NAN};
  ip.y_min = 0.5;
  ip.y_max = 2.5;
  ip.y_reversed = true;
  ip.item_class = "iv";
  const std::string s2 = IntervalPlotSvg(ip);
  EXPECT_EQ(Count(s2, "class=\"iv\""), 2u);
  EXPECT_EQ(Count(s2, "<circle"), 2u);

  HistogramSpec hs;
  hs.values = {1, 2, 3, NAN};
  hs.bins = 3;
  hs.observed = 10;  // beyond the draws: the axis still covers it
  const std::string s3 = HistogramSvg(hs);
  EXPECT_EQ(Count(s3, "class=\"hist-bar\""), 3u);
  EXPECT_EQ(Count(s3, "class=\"obs-mark\""), 1u);
  EXPECT_EQ(s3.find("nan"), std::string::npos);
  hs.values.clear();
  EXPECT_NE(HistogramSvg(hs).find("no finite draws"), std::string::npos);
}

}  // namespace
}  // namespace cwfx::report
