// The study's input path: every file format gives the same study, the missing
// policy covers the model's columns only, and missing S answers survive the
// reader (as NaN) to be handled per figure.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "core/error.h"
#include "data_gen/generator.h"
#include "store/h5_file.h"
#include "store/table_store.h"
#include "study/study.h"
#include "table/csv.h"
#include "table/temp_dir.h"

namespace cwfx::study {
namespace {

constexpr double kExact = 1e-12;  // the same numbers read from another format

// A small study register with missing caseworker answers (S1/S2-S12 only).
datagen::Register SmallRegisterWithMissingAnswers() {
  datagen::GeneratorOptions o = datagen::GeneratorOptions::Preset("study");
  o.num_citizens = 1500;
  o.missing_caseworker_answer_rate = 0.2;
  return datagen::Generate(o, 11, parallel::Context(1));
}

store::ReadAnyOptions StudyRead(table::MissingPolicy policy) {
  store::ReadAnyOptions read;
  read.missing = policy;
  read.missing_policy_columns = StudyOptions{}.ModelColumns();
  return read;
}

void ExpectSameFigure(const QuartileFigure& a, const QuartileFigure& b) {
  ASSERT_EQ(a.stats.mean_g.size(), b.stats.mean_g.size()) << a.id;
  EXPECT_EQ(a.stats.n_g, b.stats.n_g) << a.id;
  for (size_t q = 0; q < a.stats.mean_g.size(); ++q) {
    EXPECT_NEAR(a.stats.mean_g[q], b.stats.mean_g[q], kExact) << a.id;
  }
}

TEST(StudyInput, ModelColumnsAreTheRegisterColumnsTheModelReads) {
  const std::vector<std::string> c = StudyOptions{}.ModelColumns();
  const auto has = [&c](const std::string& s) { return std::find(c.begin(), c.end(), s) != c.end(); };
  for (const char* s : {"caseworker_id", "citizen_id", "date", "outcome", "age", "B1", "B11", "ethnicity"}) {
    EXPECT_TRUE(has(s)) << s;
  }
  EXPECT_FALSE(has("dB1"));  // derived by the sample step, not read
  EXPECT_FALSE(has("S12"));
  EXPECT_FALSE(has("S1_3"));
  // All of them are columns of the study's register (none is silently ignored).
  const datagen::Register reg = SmallRegisterWithMissingAnswers();
  for (const std::string& s : c) EXPECT_TRUE(reg.responses.Has(s)) << s;
}

TEST(StudyInput, CsvAndHdf5CopiesOfARegisterWithMissingAnswersGiveTheSameStudy) {
  const datagen::Register reg = SmallRegisterWithMissingAnswers();
  testing::TempDir dir;
  const std::string csv = dir.File("register.csv");
  const std::string h5 = dir.File("register.h5");
  table::WriteCsv(reg.responses, csv);
  {
    store::H5File f = store::H5File::Create(h5);
    store::WriteTable(f, "/register", reg.responses);
    f.Close();
  }
  for (table::MissingPolicy policy : {table::MissingPolicy::kError, table::MissingPolicy::kDropRow}) {
    table::ReadReport csv_report, h5_report;
    const table::Table from_csv = store::ReadAnyTable(csv, StudyRead(policy), &csv_report);
    const table::Table from_h5 = store::ReadAnyTable(h5, StudyRead(policy), &h5_report);
    // Nothing is dropped: the model's columns are complete, the S answers kept.
    EXPECT_EQ(from_csv.num_rows(), reg.responses.num_rows());
    EXPECT_EQ(from_h5.num_rows(), reg.responses.num_rows());
    EXPECT_EQ(csv_report.rows_dropped_missing, 0);
    EXPECT_EQ(h5_report.rows_dropped_missing, 0);

    const StudyResult a = RunStudy(from_csv, StudyOptions{}, parallel::Context(1));
    const StudyResult b = RunStudy(from_h5, StudyOptions{}, parallel::Context(1));
    const StudyResult direct = RunStudy(reg.responses, StudyOptions{}, parallel::Context(1));
    EXPECT_GT(a.activity_responses_missing, a.responses / 10);  // the missing answers reached the study
    for (const StudyResult* r : {&b, &direct}) {
      EXPECT_EQ(a.responses, r->responses);
      EXPECT_EQ(a.caseworkers, r->caseworkers);
      EXPECT_EQ(a.activity_responses_missing, r->activity_responses_missing);
      EXPECT_EQ(a.ranking.id_g, r->ranking.id_g);
      EXPECT_EQ(a.ranking.quartile_g, r->ranking.quartile_g);
      ASSERT_EQ(a.ranking.effect_g.size(), r->ranking.effect_g.size());
      for (size_t g = 0; g < a.ranking.effect_g.size(); ++g) {
        EXPECT_NEAR(a.ranking.effect_g[g], r->ranking.effect_g[g], kExact);
      }
      EXPECT_NEAR(a.table1.actual, r->table1.actual, kExact);
      EXPECT_NEAR(a.table1.counterfactual, r->table1.counterfactual, kExact);
      EXPECT_NEAR(a.table1.increase_std_error, r->table1.increase_std_error, kExact);
      ExpectSameFigure(a.fig1_outcome, r->fig1_outcome);
      ExpectSameFigure(a.fig2_effect, r->fig2_effect);
      ASSERT_EQ(a.ratings.size(), r->ratings.size());
      for (size_t k = 0; k < a.ratings.size(); ++k) ExpectSameFigure(a.ratings[k], r->ratings[k]);
      ASSERT_EQ(a.activity_groups.size(), r->activity_groups.size());
      for (size_t k = 0; k < a.activity_groups.size(); ++k) {
        ExpectSameFigure(a.activity_groups[k], r->activity_groups[k]);
      }
    }
  }
}

TEST(StudyInput, AMissingModelValueFollowsThePolicyInEveryFormat) {
  datagen::Register reg = SmallRegisterWithMissingAnswers();
  const int64_t n = reg.responses.num_rows();
  // Row 5 (1-based 6) lacks its age; the S answers already have gaps.
  reg.responses.mutable_column("age").numeric[5] = std::numeric_limits<double>::quiet_NaN();
  testing::TempDir dir;
  const std::string csv = dir.File("register.csv");
  const std::string h5 = dir.File("register.h5");
  table::WriteCsv(reg.responses, csv);
  {
    store::H5File f = store::H5File::Create(h5);
    store::WriteTable(f, "/register", reg.responses);
    f.Close();
  }
  for (const std::string& path : {csv, h5}) {
    try {
      store::ReadAnyTable(path, StudyRead(table::MissingPolicy::kError));
      ADD_FAILURE() << "expected an error for " << path;
    } catch (const Error& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find("age"), std::string::npos) << what;
      EXPECT_NE(what.find("missing value"), std::string::npos) << what;
    }
    table::ReadReport report;
    const table::Table t = store::ReadAnyTable(path, StudyRead(table::MissingPolicy::kDropRow), &report);
    EXPECT_EQ(report.rows_read, n) << path;
    EXPECT_EQ(report.rows_dropped_missing, 1) << path;
    ASSERT_EQ(t.num_rows(), n - 1) << path;
    // The rows around the dropped one are intact and in order, S gaps included.
    const auto before = reg.responses.Numeric("S12", false);
    const auto after = t.Numeric("S12", false);
    for (int64_t i = 0; i < n - 1; ++i) {
      const auto src = static_cast<size_t>(i < 5 ? i : i + 1);
      const double x = before[src], y = after[static_cast<size_t>(i)];
      EXPECT_TRUE(x == y || (std::isnan(x) && std::isnan(y))) << path << " row " << i;
    }
  }
}

}  // namespace
}  // namespace cwfx::study
