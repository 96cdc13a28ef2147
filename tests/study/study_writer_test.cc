// The results file: written, read back, schema as documented.
#include "study/study_writer.h"

#include <gtest/gtest.h>

#include "data_gen/generator.h"
#include "store/h5_file.h"
#include "table/temp_dir.h"

namespace cwfx::study {
namespace {

TEST(StudyWriter, WritesTheDocumentedSchema) {
  datagen::GeneratorOptions o = datagen::GeneratorOptions::Preset("study");
  o.num_citizens = 1500;
  const datagen::Register reg = datagen::Generate(o, 3, parallel::Context(1));
  const StudyResult r = RunStudy(reg.responses, StudyOptions{}, parallel::Context(1));
  testing::TempDir dir;
  const std::string path = dir.File("results.h5");
  WriteStudyResults(path, r, results::Provenance{"cwfx study", "mem", "none", ""});

  const store::H5File f = store::H5File::OpenReadOnly(path);
  EXPECT_EQ(f.ReadStrings("/table1/quantity"), (std::vector<std::string>{"actual", "counterfactual", "increase"}));
  const auto share = f.ReadDoubles("/table1/share");
  ASSERT_EQ(share.size(), 3u);
  EXPECT_EQ(share, (std::vector<double>{r.table1.actual, r.table1.counterfactual, r.table1.increase}));
  EXPECT_DOUBLE_EQ(f.GetDoubleAttribute("/table1", "p_value"), r.table1.p_value);
  EXPECT_EQ(f.ReadInt32("/ranking/quartile"), r.ranking.quartile_g);
  EXPECT_EQ(f.ReadInt32("/ranking/quartile_sizes"), r.ranking.sizes_q);
  const std::vector<int64_t> ids = f.ReadInt64("/ranking/caseworker_id");  // integer ids stay integers
  ASSERT_EQ(ids.size(), static_cast<size_t>(r.caseworkers));
  for (size_t g = 0; g < ids.size(); ++g) EXPECT_EQ(std::to_string(ids[g]), r.ranking.id_g[g]);
  EXPECT_EQ(f.ReadDoubles("/model/coefficients/estimate"),
            std::vector<double>(r.fit.coef_k.data(), r.fit.coef_k.data() + r.fit.coef_k.size()));
  EXPECT_EQ(f.GetStringAttribute("/model/coefficients", "vcov_type"), fit::VcovName(r.fit.vcov_type));
  EXPECT_EQ(f.ReadDoubles("/figures/fig1/mean"), r.fig1_outcome.stats.mean_g);
  EXPECT_EQ(f.ReadDoubles("/ratings/fig19/mean"), r.ratings.back().stats.mean_g);
  EXPECT_EQ(f.GetStringAttribute("/ratings/fig19", "variable"), "S12");
  EXPECT_EQ(f.List("/activities/single").size(), 23u);
  EXPECT_EQ(f.List("/activities/groups").size(), 6u);
  EXPECT_EQ(f.ReadInt64("/sample/rows_after").back(), r.responses);
  EXPECT_DOUBLE_EQ(f.GetDoubleAttribute("/model", "r2_without_caseworkers"), r.r2_without_caseworkers);
  EXPECT_EQ(f.ReadStrings("/model/coefficients/name"), r.fit.covariate_names);
  EXPECT_FALSE(f.GetStringAttribute("/", "options").empty());
}

}  // namespace
}  // namespace cwfx::study
