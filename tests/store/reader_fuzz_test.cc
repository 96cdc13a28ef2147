// Robustness: bounded fuzzing of every reader (random bytes, mutated and
// truncated valid files) and writes to a full disk. The only acceptable
// failure is cwfx::Error (a crash, a sanitizer report or another exception
// type fails the test). Seeded, so repeatable.
//
// Damaged HDF5 files are only those we write (1.10 format, checksummed
// metadata, fixed-length strings): HDF5 1.10 has known memory-safety bugs on
// damaged files in other layouts (e.g. H5HG_read on a corrupt global heap),
// which no caller can guard against.
//
// This binary is separate from store_test because HDF5 1.10 itself leaks a
// few hundred bytes on some corrupt files and on a failed H5Fcreate (inside
// its own error paths, after our handles are released); LeakSanitizer is told
// to ignore leaks allocated inside libhdf5 here only, so store_test still
// catches any handle we forget to close.
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <algorithm>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <random>

#include "core/error.h"
#include "store/h5_file.h"
#include "store/table_store.h"
#include "table/csv.h"
#include "table/readstat_io.h"
#include "table/temp_dir.h"

extern "C" const char* __lsan_default_suppressions() { return "leak:libhdf5_serial.so\n"; }

namespace cwfx::store {
namespace {

using cwfx::testing::TempDir;
using table::MissingPolicy;
using table::Table;

// CWFX_FUZZ_SCALE multiplies the iteration counts and CWFX_FUZZ_SEED shifts
// the seeds, for deeper runs by hand; the defaults keep ctest fast.
int Scale() {
  const char* v = std::getenv("CWFX_FUZZ_SCALE");
  return v != nullptr ? std::max(1, std::atoi(v)) : 1;
}

uint64_t Seed(uint64_t base) {
  const char* v = std::getenv("CWFX_FUZZ_SEED");
  return base + (v != nullptr ? std::strtoull(v, nullptr, 10) : 0);
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// Reads `bytes` as a file named `name`, under both missing policies.
void ReadMustNotCrash(const TempDir& dir, const std::string& name, const std::string& bytes) {
  const std::string p = dir.Write(name, bytes);
  for (MissingPolicy policy : {MissingPolicy::kError, MissingPolicy::kDropRow}) {
    ReadAnyOptions o;
    o.missing = policy;
    try {
      ReadAnyTable(p, o);
    } catch (const cwfx::Error&) {
      // expected for most inputs
    } catch (const std::exception& e) {
      ADD_FAILURE() << name << ": non-cwfx exception: " << e.what();
    }
  }
}

Table SeedTable() {
  Table t("seed");
  t.AddNumeric("worker", {1, 2, 3, 4, 5, 6});
  t.AddText("office", {"a", "b,c", "d\"e", "f\ng", "", "h"});
  t.AddNumeric("y", {0.5, -1, 1e10, 2, 3, 4});
  return t;
}

TEST(ReaderFuzzTest, RandomCsvBytes) {
  TempDir dir;
  std::mt19937_64 rng(Seed(12345));
  // An alphabet rich in CSV syntax so the tokenizer's branches are exercised.
  const std::string alphabet = "ab,,,\"\"\n\n\r.NA1e-+ 0x\t\xff\xc3";
  for (int iter = 0; iter < 200 * Scale(); ++iter) {
    const size_t len = rng() % 200;
    std::string bytes;
    for (size_t k = 0; k < len; ++k) {
      bytes += (rng() % 8 == 0) ? static_cast<char>(rng() % 256) : alphabet[rng() % alphabet.size()];
    }
    ReadMustNotCrash(dir, "f.csv", bytes);
    ReadMustNotCrash(dir, "f.tsv", bytes);
  }
}

TEST(ReaderFuzzTest, MutatedAndTruncatedFiles) {
  TempDir dir;
  const Table seed = SeedTable();
  table::WriteCsv(seed, dir.File("seed.csv"));
  table::WriteDta(seed, dir.File("seed.dta"));
  {
    H5File f = H5File::Create(dir.File("seed.h5"));
    WriteTable(f, "/register", seed);
    f.Close();
  }
  std::mt19937_64 rng(Seed(777));
  for (const char* name : {"seed.csv", "seed.dta", "seed.h5"}) {
    const std::string good = Slurp(dir.File(name));
    ASSERT_FALSE(good.empty());
    const std::string ext = std::string(name).substr(4);
    // Truncations at a spread of lengths, including 0 and 1 byte.
    for (size_t cut = 0; cut < good.size(); cut += 1 + good.size() / 40) {
      ReadMustNotCrash(dir, "t" + ext, good.substr(0, cut));
    }
    // Random byte flips.
    for (int iter = 0; iter < 40 * Scale(); ++iter) {
      std::string bad = good;
      const int flips = 1 + static_cast<int>(rng() % 8);
      for (int k = 0; k < flips; ++k) bad[rng() % bad.size()] = static_cast<char>(rng() % 256);
      ReadMustNotCrash(dir, "m" + ext, bad);
    }
  }
  // Random bytes under every extension, including the ReadStat formats.
  for (const char* ext : {".dta", ".sav", ".zsav", ".sas7bdat", ".xpt", ".h5"}) {
    for (int iter = 0; iter < 20 * Scale(); ++iter) {
      std::string bytes(rng() % 2000, '\0');
      for (char& ch : bytes) ch = static_cast<char>(rng() % 256);
      ReadMustNotCrash(dir, std::string("r") + ext, bytes);
    }
  }
}

TEST(FullDiskTest, H5FileThrowsNamingFile) {
  TempDir dir;
  const std::string p = dir.File("full.h5");
  std::error_code ec;
  std::filesystem::create_symlink("/dev/full", p + ".tmp", ec);
  if (ec) GTEST_SKIP() << "cannot create a symlink to /dev/full";
  // HDF5 may fail at create, write or close depending on its buffering; any
  // of them must be a cwfx::Error naming the file.
  try {
    H5File f = H5File::Create(p);
    f.WriteDoubles("/x", std::vector<double>(1 << 20, 1.0));
    f.Close();
    FAIL() << "no error writing to a full disk";
  } catch (const cwfx::Error& e) {
    EXPECT_EQ(e.where().file, p) << e.what();
    EXPECT_NE(std::string(e.what()).find("No space left on device"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(std::filesystem::exists(p + ".tmp"));
  EXPECT_FALSE(std::filesystem::exists(p));
}

// A disk that fills up after the file was created: RLIMIT_FSIZE makes every
// write past 64 KiB fail with EFBIG (SIGXFSZ ignored), in a forked child so
// the limit does not leak into other tests. Every writer must throw
// cwfx::Error naming the file and leave nothing at the final path, and the
// process must then exit normally (std::exit runs library atexit cleanup,
// where HDF5 used to crash after a failed close).
void WriteUnderFileSizeLimit(const std::function<void()>& write, const std::string& path) {
  struct rlimit limit = {64 * 1024, 64 * 1024};
  std::signal(SIGXFSZ, SIG_IGN);
  if (setrlimit(RLIMIT_FSIZE, &limit) != 0) std::_Exit(3);
  try {
    write();
  } catch (const cwfx::Error& e) {
    const bool names_file = e.where().file == path;
    std::exit(names_file && !std::filesystem::exists(path) ? 0 : 1);
  } catch (...) {
    std::exit(2);
  }
  std::exit(4);  // no error at all
}

TEST(FullDiskTest, WritersFailCleanlyWhenTheFileCannotGrow) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  TempDir dir;
  Table big("g");
  big.AddNumeric("x", std::vector<double>(200000, 1.0 / 3.0));
  const std::string h5 = dir.File("big.h5");
  EXPECT_EXIT(WriteUnderFileSizeLimit(
                  [&] {
                    H5File f = H5File::Create(h5);
                    H5WriteOptions raw;
                    raw.deflate_level = 0;
                    WriteTable(f, "/register", big, raw);
                    f.Close();
                  },
                  h5),
              ::testing::ExitedWithCode(0), "");
  const std::string csv = dir.File("big.csv");
  EXPECT_EXIT(WriteUnderFileSizeLimit([&] { table::WriteCsv(big, csv); }, csv), ::testing::ExitedWithCode(0),
              "");
  const std::string dta = dir.File("big.dta");
  EXPECT_EXIT(WriteUnderFileSizeLimit([&] { table::WriteDta(big, dta); }, dta), ::testing::ExitedWithCode(0),
              "");
}
}  // namespace
}  // namespace cwfx::store
