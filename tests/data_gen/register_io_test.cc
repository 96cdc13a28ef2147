#include "data_gen/register_io.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "table/csv.h"
#ifdef CWFX_TEST_HAVE_STORE
#include "store/h5_file.h"
#include "store/table_store.h"
#endif

namespace cwfx::datagen {
namespace {

namespace fs = std::filesystem;

fs::path TempDir() {
  const fs::path dir = fs::temp_directory_path() /
                       ("cwfx_datagen_test_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
                        "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
  fs::create_directories(dir);
  return dir;
}

void ExpectSameValues(const table::Table& want, const table::Table& got) {
  ASSERT_EQ(want.ColumnNames(), got.ColumnNames());
  ASSERT_EQ(want.num_rows(), got.num_rows());
  for (int c = 0; c < want.num_columns(); ++c) {
    const table::Column& a = want.column(c);
    const table::Column& b = got.column(c);
    ASSERT_EQ(a.kind, b.kind) << a.name;
    if (a.kind == table::ColumnKind::kNumeric) {
      ASSERT_EQ(0, std::memcmp(a.numeric.data(), b.numeric.data(), a.numeric.size() * sizeof(double))) << a.name;
    } else {
      ASSERT_EQ(a.text, b.text) << a.name;
    }
  }
}

Register Small() {
  GeneratorOptions o = GeneratorOptions::Preset("study");
  o.num_citizens = 300;
  return Generate(o, 99, parallel::Context(1));
}

TEST(RegisterIo, CsvRoundTrip) {
  const Register reg = Small();
  const fs::path dir = TempDir();
  const std::string path = (dir / "reg.csv").string();
  WriteRegister(reg, path);
  const CsvRegisterPaths p = CsvPathsFor(path);
  EXPECT_EQ(p.caseworkers, (dir / "reg.truth_caseworkers.csv").string());
  ExpectSameValues(reg.responses, table::ReadCsv(p.responses, {}));
  ExpectSameValues(reg.caseworkers, table::ReadCsv(p.caseworkers, {}));
  ExpectSameValues(reg.citizens, table::ReadCsv(p.citizens, {}));
  ExpectSameValues(reg.coefficients, table::ReadCsv(p.coefficients, {}));
  std::ifstream meta(p.meta);
  std::stringstream text;
  text << meta.rdbuf();
  const auto j = nlohmann::json::parse(text.str());
  EXPECT_EQ(j.at("seed").get<uint64_t>(), 99u);
  EXPECT_EQ(j.at("generator_preset").get<std::string>(), "study");
  EXPECT_EQ(j.at("generator_options").at("num_citizens").get<int64_t>(), 300);
  fs::remove_all(dir);
}

TEST(RegisterIo, UnknownExtensionIsAnError) {
  const Register reg = Small();
  EXPECT_THROW(WriteRegister(reg, (TempDir() / "reg.parquet").string()), Error);
}

#ifdef CWFX_TEST_HAVE_STORE
TEST(RegisterIo, Hdf5RoundTrip) {
  const Register reg = Small();
  const fs::path dir = TempDir();
  const std::string path = (dir / "reg.h5").string();
  WriteRegister(reg, path);
  const store::H5File f = store::H5File::OpenReadOnly(path);
  ExpectSameValues(reg.responses, store::ReadTable(f, "/register"));
  ExpectSameValues(reg.caseworkers, store::ReadTable(f, "/truth/caseworkers"));
  ExpectSameValues(reg.citizens, store::ReadTable(f, "/truth/citizens"));
  ExpectSameValues(reg.coefficients, store::ReadTable(f, "/truth/coefficients"));
  EXPECT_EQ(f.GetStringAttribute("/", "generator_preset"), "study");
  EXPECT_EQ(f.GetStringAttribute("/", "seed_text"), "99");
  EXPECT_EQ(f.GetInt64Attribute("/", "seed"), 99);
  EXPECT_EQ(f.GetStringAttribute("/", "generator_options"), reg.options.ToJson());
  EXPECT_FALSE(f.GetStringAttribute("/", "engine_version").empty());
  fs::remove_all(dir);
}
#endif

}  // namespace
}  // namespace cwfx::datagen
