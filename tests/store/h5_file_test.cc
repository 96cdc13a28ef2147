// H5File: datasets and attributes read back exactly, groups and listing,
// atomic create, and errors naming the file and object.
#include "store/h5_file.h"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

#include <cmath>
#include <filesystem>
#include <limits>

#include "table/error_matchers.h"
#include "table/temp_dir.h"

namespace cwfx::store {
namespace {

using cwfx::testing::TempDir;
using cwfx::testing::ThrowsAt;

TEST(H5FileTest, DatasetsRoundTrip) {
  TempDir dir;
  const std::string p = dir.File("a.h5");
  H5WriteOptions small_chunks;
  small_chunks.chunk_elements = 100;  // forces chunked + compressed datasets
  std::vector<double> d(1000);
  std::vector<int64_t> i64(1000);
  std::vector<int32_t> i32(1000);
  std::vector<std::string> s(1000);
  for (int i = 0; i < 1000; ++i) {
    d[i] = i * 0.1 - 3;
    i64[i] = int64_t{1} << 40 | i;
    i32[i] = -i;
    s[i] = std::to_string(i % 17);
    s[i].insert(s[i].begin(), 's');  // not "s" + ...: GCC 12 -Wrestrict false positive
  }
  d[5] = std::numeric_limits<double>::quiet_NaN();
  s[3] = "";
  s[4] = "caf\xC3\xA9";
  std::vector<double> m_rc(6 * 250);
  for (size_t k = 0; k < m_rc.size(); ++k) m_rc[k] = static_cast<double>(k) / 7.0;
  {
    H5File f = H5File::Create(p);
    f.WriteDoubles("/g/d", d, small_chunks);
    f.WriteInt64("/g/i64", i64, small_chunks);
    f.WriteInt32("/g/sub/i32", i32);
    H5WriteOptions variable = small_chunks;
    variable.fixed_length_strings = false;
    f.WriteStrings("/g/s_var", s, variable);
    f.WriteStrings("/g/s_fix", s, small_chunks);  // fixed-length is the default
    f.WriteMatrix("/m", m_rc, 250, 6, small_chunks);
    f.WriteDoubles("/empty", std::vector<double>{});
    f.Close();
  }
  const H5File f = H5File::OpenReadOnly(p);
  const std::vector<double> d2 = f.ReadDoubles("/g/d");
  ASSERT_EQ(d2.size(), d.size());
  EXPECT_TRUE(std::isnan(d2[5]));
  for (size_t k = 0; k < d.size(); ++k) {
    if (k != 5) {
      EXPECT_EQ(d2[k], d[k]);
    }
  }
  EXPECT_EQ(f.ReadInt64("/g/i64"), i64);
  EXPECT_EQ(f.ReadInt32("/g/sub/i32"), i32);
  EXPECT_EQ(f.ReadStrings("/g/s_var"), s);
  EXPECT_EQ(f.ReadStrings("/g/s_fix"), s);
  const H5Matrix m = f.ReadMatrix("/m");
  EXPECT_EQ(m.rows, 250);
  EXPECT_EQ(m.cols, 6);
  EXPECT_EQ(m.values_rc, m_rc);
  EXPECT_TRUE(f.ReadDoubles("/empty").empty());
  EXPECT_EQ(f.ReadDoubles("/g/sub/i32")[3], -3.0);  // integers convert to double
  EXPECT_EQ(f.Shape("/m"), (std::vector<int64_t>{250, 6}));
  EXPECT_EQ(f.Kind("/g/s_fix"), H5File::ElementKind::kString);
}

TEST(H5FileTest, GroupsListingAndExists) {
  TempDir dir;
  H5File f = H5File::Create(dir.File("g.h5"));
  f.CreateGroup("/a/b/c");
  f.CreateGroup("a/b");  // existing: fine
  f.WriteDoubles("/a/x", std::vector<double>{1});
  EXPECT_TRUE(f.Exists("/a/b/c"));
  EXPECT_TRUE(f.Exists("/a/x"));
  EXPECT_FALSE(f.Exists("/a/x/y"));
  EXPECT_FALSE(f.Exists("/nope/deeper"));
  EXPECT_TRUE(f.IsGroup("/a/b"));
  EXPECT_FALSE(f.IsGroup("/a/x"));
  EXPECT_EQ(f.List("/a"), (std::vector<std::string>{"b", "x"}));
  EXPECT_EQ(f.List("/"), (std::vector<std::string>{"a"}));
  f.Close();
}

TEST(H5FileTest, Attributes) {
  TempDir dir;
  const std::string p = dir.File("at.h5");
  {
    H5File f = H5File::Create(p);
    f.WriteDoubles("/d", std::vector<double>{1, 2});
    f.CreateGroup("/g");
    f.SetAttribute("/", "version", "0.1.0");
    f.SetAttribute("/g", "tol", 1e-8);
    f.SetAttribute("/d", "n", int64_t{42});
    f.SetAttribute("/d", "n", int64_t{43});  // replaces
    const std::vector<std::string> names = {"a", "b", ""};
    f.SetAttribute("/g", "names", std::span<const std::string>(names));
    f.Close();
  }
  H5File f = H5File::OpenReadWrite(p);
  EXPECT_EQ(f.GetStringAttribute("/", "version"), "0.1.0");
  EXPECT_EQ(f.GetDoubleAttribute("/g", "tol"), 1e-8);
  EXPECT_EQ(f.GetInt64Attribute("/d", "n"), 43);
  EXPECT_EQ(f.GetStringListAttribute("/g", "names"), (std::vector<std::string>{"a", "b", ""}));
  EXPECT_TRUE(f.HasAttribute("/d", "n"));
  EXPECT_FALSE(f.HasAttribute("/d", "m"));
  EXPECT_FALSE(f.HasAttribute("/missing", "m"));
  EXPECT_TRUE(ThrowsAt([&] { f.GetDoubleAttribute("/", "version"); }, p, -1, "", "is not a single number"));
  EXPECT_TRUE(
      ThrowsAt([&] { f.GetDoubleAttribute("/g", "absent"); }, p, -1, "", "no attribute 'absent' on '/g'"));
  f.Close();
}

TEST(H5FileTest, AtomicCreateOnlyAppearsOnClose) {
  TempDir dir;
  const std::string p = dir.File("atomic.h5");
  {
    H5File f = H5File::Create(p);
    f.WriteDoubles("/x", std::vector<double>{1});
    EXPECT_FALSE(std::filesystem::exists(p));
    EXPECT_TRUE(std::filesystem::exists(p + ".tmp"));
    f.Close();
  }
  EXPECT_TRUE(std::filesystem::exists(p));
  EXPECT_FALSE(std::filesystem::exists(p + ".tmp"));
  // An abandoned rewrite leaves the previous file untouched.
  {
    H5File f = H5File::Create(p);
    f.WriteDoubles("/y", std::vector<double>{2});
  }
  EXPECT_FALSE(std::filesystem::exists(p + ".tmp"));
  EXPECT_TRUE(H5File::OpenReadOnly(p).Exists("/x"));
}

TEST(H5FileTest, Errors) {
  TempDir dir;
  const std::string absent = dir.File("absent.h5");
  EXPECT_TRUE(ThrowsAt([&] { H5File::OpenReadOnly(absent); }, absent, -1, "", "cannot open file"));
  const std::string junk = dir.Write("junk.h5", "definitely not HDF5");
  EXPECT_TRUE(ThrowsAt([&] { H5File::OpenReadOnly(junk); }, junk, -1, "", "not an HDF5 file"));
  const std::string nodir = "/nonexistent_dir_cwfx/x.h5";
  EXPECT_TRUE(ThrowsAt([&] { H5File::Create(nodir); }, nodir, -1, "", "cannot create HDF5 file"));

  const std::string p = dir.File("e.h5");
  H5File f = H5File::Create(p);
  f.WriteDoubles("/d", std::vector<double>{1.5});
  f.WriteStrings("/s", std::vector<std::string>{"a"});
  EXPECT_TRUE(ThrowsAt([&] { f.WriteDoubles("/d", std::vector<double>{1}); }, p, -1, "", "already exists"));
  EXPECT_TRUE(ThrowsAt([&] { f.ReadDoubles("/nope"); }, p, -1, "", "no dataset '/nope'"));
  EXPECT_TRUE(ThrowsAt([&] { f.ReadInt64("/d"); }, p, -1, "", "is not an integer dataset"));
  EXPECT_TRUE(ThrowsAt([&] { f.ReadDoubles("/s"); }, p, -1, "", "is not a numeric dataset"));
  EXPECT_TRUE(ThrowsAt([&] { f.ReadStrings("/d"); }, p, -1, "", "does not hold strings"));
  EXPECT_TRUE(ThrowsAt([&] { f.ReadMatrix("/d"); }, p, -1, "", "expected 2"));
  EXPECT_TRUE(ThrowsAt([&] { f.List("/d"); }, p, -1, "", "no group '/d'"));
  f.Close();
  H5File ro = H5File::OpenReadOnly(p);
  EXPECT_TRUE(ThrowsAt([&] { ro.WriteDoubles("/z", std::vector<double>{1}); }, p, -1, "", "read-only"));
}

TEST(H5FileTest, ChunkedDatasetsWrittenByRowBlocks) {
  TempDir dir;
  const std::string p = dir.File("c.h5");
  H5File f = H5File::Create(p, H5CreateOptions{.atomic = false});
  f.CreateChunked("/g/m", {10, 3, H5NumericType::kFloat64, 4, 6});
  f.CreateChunked("/g/i", {10, 2, H5NumericType::kInt32, 4, 0});
  f.CreateChunked("/v", {5, 0, H5NumericType::kInt32, 64, 1});
  f.WriteRows("/g/m", 7, 2, std::vector<double>{1, 2, 3, 4, 5, 6});
  f.WriteRows("/g/m", 0, 1, std::vector<double>{-1, -2, -3});
  f.WriteRows("/g/i", 3, 1, std::vector<int32_t>{-7, 8});
  f.WriteRows("/g/i", 4, 1, std::vector<double>{9, 10});  // converted to int32
  f.WriteRows("/v", 1, 3, std::vector<int32_t>{1, 1, 1});
  f.CreateChunked("/g/scattered", {9, 2, H5NumericType::kFloat64, 2, 4});
  f.WriteRowSet("/g/scattered", std::vector<int64_t>{0, 3, 4, 5, 8},
                std::vector<double>{0, 0, 3, 3, 4, 4, 5, 5, 8, 8});
  f.WriteRowSet("/v", std::vector<int64_t>{4}, std::vector<int32_t>{7});
  EXPECT_TRUE(ThrowsAt(
      [&] {
        f.WriteRowSet("/v", std::vector<int64_t>{2, 5}, std::vector<int32_t>{1, 1});
      },
      p, -1, "", "rows 5 to 5 are outside dataset '/v' of 5 rows"));
  EXPECT_TRUE(ThrowsAt([&] { f.WriteRows("/g/m", 9, 2, std::vector<double>(6)); }, p, -1, "",
                       "rows 9 to 10 are outside dataset '/g/m' of 10 rows"));
  EXPECT_TRUE(ThrowsAt(
      [&] {
        f.CreateChunked("/v", {5, 0, H5NumericType::kInt32, 64, 1});
      },
      p, -1, "", "already exists"));
  f.Flush();
  // Readable while still open for writing (same process), then after Close.
  EXPECT_EQ(H5File::OpenReadOnly(p).ReadInt32("/v"), (std::vector<int32_t>{0, 1, 1, 1, 7}));
  f.Close();
  const H5File r = H5File::OpenReadOnly(p);
  const H5Matrix m = r.ReadMatrix("/g/m");
  ASSERT_EQ(m.values_rc.size(), 30u);
  for (int64_t k = 0; k < 30; ++k) {
    if (k < 3) {
      EXPECT_EQ(m.values_rc[k], -(k + 1));
    } else if (k >= 21 && k < 27) {
      EXPECT_EQ(m.values_rc[k], k - 20);
    } else {
      EXPECT_TRUE(std::isnan(m.values_rc[k])) << k;  // the fill value
    }
  }
  const H5Matrix block = r.ReadRows("/g/i", 2, 3);
  EXPECT_EQ(block.rows, 3);
  EXPECT_EQ(block.cols, 2);
  EXPECT_EQ(block.values_rc, (std::vector<double>{0, 0, -7, 8, 9, 10}));
  EXPECT_EQ(r.ReadRows("/v", 3, 2).values_rc, (std::vector<double>{1, 7}));
  const H5Matrix scattered = r.ReadMatrix("/g/scattered");
  for (int64_t row = 0; row < 9; ++row) {
    const bool written = row == 0 || row == 3 || row == 4 || row == 5 || row == 8;
    for (int64_t c = 0; c < 2; ++c) {
      const double x = scattered.values_rc[row * 2 + c];
      if (written) {
        EXPECT_EQ(x, row);
      } else {
        EXPECT_TRUE(std::isnan(x)) << row;
      }
    }
  }
  EXPECT_EQ(r.Kind("/g/i"), H5File::ElementKind::kInteger);
  const H5DatasetLayout lm = r.Layout("/g/m");
  EXPECT_TRUE(lm.chunked);
  EXPECT_EQ(lm.chunk_dims, (std::vector<int64_t>{4, 3}));
  EXPECT_TRUE(lm.shuffle);
  EXPECT_EQ(lm.deflate_level, 6);
  const H5DatasetLayout li = r.Layout("/g/i");
  EXPECT_TRUE(li.chunked);
  EXPECT_FALSE(li.shuffle);
  EXPECT_EQ(li.deflate_level, -1);
  EXPECT_EQ(r.Layout("/v").chunk_dims, std::vector<int64_t>{5});
  EXPECT_TRUE(ThrowsAt([&] { r.ReadRows("/v", 4, 2); }, p, -1, "", "outside dataset '/v'"));
}

// A flipped byte in a dataset's data is an error on read, not a wrong number
// (every dataset carries a Fletcher-32 checksum; metadata has its own).
TEST(H5FileTest, AFlippedDataByteIsAnErrorOnRead) {
  TempDir dir;
  const std::string p = dir.File("flip.h5");
  const std::vector<double> values(200, 1234.5678);  // one chunk: stored as written, uncompressed
  {
    H5File f = H5File::Create(p);
    f.WriteDoubles("/d", values);
    f.Close();
  }
  {
    const H5File r = H5File::OpenReadOnly(p);
    EXPECT_TRUE(r.Layout("/d").checksum);
    EXPECT_EQ(r.ReadDoubles("/d"), values);
  }
  std::string bytes;
  {
    std::ifstream in(p, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  double v = 1234.5678;
  const std::string pattern(reinterpret_cast<const char*>(&v), sizeof v);
  const size_t at = bytes.find(pattern + pattern);
  ASSERT_NE(at, std::string::npos) << "the data were not found in the file";
  bytes[at + 8 * 50 + 3] ^= 0x10;  // one bit of the 51st value
  {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out << bytes;
  }
  const H5File r = H5File::OpenReadOnly(p);
  EXPECT_THROW(r.ReadDoubles("/d"), Error);
}

}  // namespace
}  // namespace cwfx::store
