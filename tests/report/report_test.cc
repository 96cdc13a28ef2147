// The HTML report: one inline SVG per figure, no external reference, escaping.
#include "report/report.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <sstream>
#include <string>

#include "data_gen/generator.h"
#include "report/svg_chart.h"
#include "table/temp_dir.h"

namespace cwfx::report {
namespace {

size_t Count(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t p = s.find(what); p != std::string::npos; p = s.find(what, p + 1)) ++n;
  return n;
}

// The <svg ...> inside the element with this id, before the element closes.
bool FigureHasSvg(const std::string& html, const std::string& id) {
  const size_t at = html.find("id=\"" + id + "\"");
  if (at == std::string::npos) return false;
  const size_t svg = html.find("<svg", at);
  const size_t next_fig = html.find("class=\"fig", at + 1);
  return svg != std::string::npos && (next_fig == std::string::npos || svg < next_fig);
}

class ReportTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    datagen::GeneratorOptions o = datagen::GeneratorOptions::Preset("study");
    o.num_citizens = 1500;
    const datagen::Register reg = datagen::Generate(o, 17, parallel::Context(1));
    result_ = new study::StudyResult(study::RunStudy(reg.responses, study::StudyOptions{}, parallel::Context(1)));
    ReportContext ctx;
    ctx.data_description = "synthetic <test> register";
    html_ = new std::string(RenderStudyReport(*result_, ctx));
  }
  static void TearDownTestSuite() {
    delete result_;
    delete html_;
  }
  static study::StudyResult* result_;
  static std::string* html_;
};
study::StudyResult* ReportTest::result_ = nullptr;
std::string* ReportTest::html_ = nullptr;

TEST_F(ReportTest, EveryFigureHasAnInlineSvg) {
  const std::string& h = *html_;
  for (const char* id : {"fig1", "fig2", "fig3", "appendix_b"}) EXPECT_TRUE(FigureHasSvg(h, id)) << id;
  for (const auto& f : result_->activity_groups) EXPECT_TRUE(FigureHasSvg(h, f.id)) << f.id;
  for (const auto& f : result_->ratings) EXPECT_TRUE(FigureHasSvg(h, f.id)) << f.id;
  // 3 + Table 1 + 6 activity groups + 11 ratings + appendix B.
  EXPECT_EQ(Count(h, "<svg"), 3u + 1u + result_->activity_groups.size() + result_->ratings.size() + 1u);
  EXPECT_EQ(Count(h, "<svg"), Count(h, "</svg>"));
  EXPECT_NE(h.find("Table 1"), std::string::npos);
  EXPECT_NE(h.find("Winner's curse"), std::string::npos);
}

TEST_F(ReportTest, SelfContained) {
  const std::string& h = *html_;
  EXPECT_EQ(h.find("http"), std::string::npos);
  EXPECT_EQ(h.find("<script"), std::string::npos);
  EXPECT_EQ(h.find("<link"), std::string::npos);
  EXPECT_EQ(h.find("src="), std::string::npos);
  EXPECT_EQ(h.find("url("), std::string::npos);
  EXPECT_NE(h.find("synthetic &lt;test&gt; register"), std::string::npos);
  EXPECT_EQ(h.rfind("</html>"), h.size() - 8);
  for (const char* bad : {">nan", "\"nan", "-nan", " nan", "inf<"}) EXPECT_EQ(h.find(bad), std::string::npos) << bad;
}

TEST(Report, TwoWayModelWithoutDeltaMethodRendersWithoutNaN) {
  datagen::GeneratorOptions o = datagen::GeneratorOptions::Preset("study");
  o.num_citizens = 1200;
  const datagen::Register reg = datagen::Generate(o, 23, parallel::Context(1));
  study::StudyOptions so;
  so.add_citizen_effects = true;
  const study::StudyResult r = study::RunStudy(reg.responses, so, parallel::Context(1));
  EXPECT_TRUE(std::isnan(r.table1.increase_std_error));
  EXPECT_EQ(r.table1.increase, r.table1.counterfactual - r.table1.actual);
  const std::string h = RenderStudyReport(r, ReportContext{});
  for (const char* bad : {">nan", "\"nan", "-nan", " nan"}) EXPECT_EQ(h.find(bad), std::string::npos) << bad;
  EXPECT_NE(h.find("one-factor model"), std::string::npos);  // the warning is shown
}

TEST_F(ReportTest, WriteReportRoundTrips) {
  testing::TempDir dir;
  const std::string path = dir.File("report.html");
  WriteReport(path, *html_);
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  EXPECT_EQ(ss.str(), *html_);
}

TEST(SvgChart, TicksAndEscaping) {
  const auto t = NiceTicks(0, 23.4, 5);
  ASSERT_GE(t.size(), 2u);
  EXPECT_EQ(t.front(), 0.0);
  EXPECT_GE(t.back(), 23.4 - 5.0);
  EXPECT_EQ(HtmlEscape("a<b & 'c'"), "a&lt;b &amp; &#39;c&#39;");
  BarChartSpec s;
  s.labels = {"a", "b"};
  s.values = {0.1, std::nan("")};
  const std::string svg = BarChartSvg(s);
  EXPECT_EQ(Count(svg, "<rect"), 1u);  // the NaN bar is left out
  EXPECT_EQ(svg.find("nan"), std::string::npos);
}

}  // namespace
}  // namespace cwfx::report
