// Reader throughput: a 10^6-row x 20-column numeric register (ids and counts
// as integers, covariates as full-precision doubles) is generated in-process,
// written once to /tmp as CSV and HDF5, then read repeatedly. Reports rows/s
// (items) and file bytes/s.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <filesystem>
#include <random>
#include <string>

#include "store/h5_file.h"
#include "store/table_store.h"
#include "table/csv.h"

namespace {

using cwfx::table::Table;

constexpr int64_t kRows = 1000000;
constexpr int kIntColumns = 8;
constexpr int kDoubleColumns = 12;

// prefix + j, spelled so as to dodge a GCC 12 -Wrestrict false positive on
// "literal" + std::string.
std::string Name(char prefix, int j) {
  std::string s = std::to_string(j);
  s.insert(s.begin(), prefix);
  return s;
}

std::string TempPath(const char* suffix) {
  std::string s = std::filesystem::temp_directory_path().string();
  s += "/cwfx_reader_bench_";
  s += std::to_string(::getpid());
  s += suffix;
  return s;
}

Table MakeRegister() {
  std::mt19937_64 rng(2024);
  std::uniform_int_distribution<int64_t> ids(1, 5000000);
  std::normal_distribution<double> normal(0.0, 1.0);
  Table t("generated");
  for (int j = 0; j < kIntColumns; ++j) {
    std::vector<double> v(kRows);
    for (auto& x : v) x = static_cast<double>(ids(rng) >> (2 * j));
    t.AddNumeric(Name('i', j), std::move(v));
  }
  for (int j = 0; j < kDoubleColumns; ++j) {
    std::vector<double> v(kRows);
    for (auto& x : v) x = normal(rng) * 1000.0;
    t.AddNumeric(Name('x', j), std::move(v));
  }
  return t;
}

// Files are written on first use and removed at exit.
struct Files {
  std::string csv = TempPath(".csv");
  std::string h5 = TempPath(".h5");
  std::string h5_raw = TempPath("_raw.h5");
  Files() {
    const Table t = MakeRegister();
    cwfx::table::WriteCsv(t, csv);
    {
      auto f = cwfx::store::H5File::Create(h5);
      cwfx::store::WriteTable(f, "/register", t);
      f.Close();
    }
    {
      cwfx::store::H5WriteOptions raw;
      raw.deflate_level = 0;
      auto f = cwfx::store::H5File::Create(h5_raw);
      cwfx::store::WriteTable(f, "/register", t, raw);
      f.Close();
    }
  }
  ~Files() {
    std::filesystem::remove(csv);
    std::filesystem::remove(h5);
    std::filesystem::remove(h5_raw);
  }
};

const Files& GetFiles() {
  static const Files files;
  return files;
}

void Report(benchmark::State& state, const std::string& path) {
  state.SetItemsProcessed(state.iterations() * kRows);
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(std::filesystem::file_size(path)));
  state.counters["file_MB"] = static_cast<double>(std::filesystem::file_size(path)) / 1e6;
}

void BM_ReadCsv(benchmark::State& state) {
  const std::string& path = GetFiles().csv;
  for (auto _ : state) {
    Table t = cwfx::table::ReadCsv(path, {});
    benchmark::DoNotOptimize(t.num_rows());
  }
  Report(state, path);
}

void ReadHdf5(benchmark::State& state, const std::string& path) {
  for (auto _ : state) {
    Table t = cwfx::store::ReadAnyTable(path, {});
    benchmark::DoNotOptimize(t.num_rows());
  }
  Report(state, path);
}

void BM_ReadHdf5Deflate(benchmark::State& state) { ReadHdf5(state, GetFiles().h5); }
void BM_ReadHdf5Uncompressed(benchmark::State& state) { ReadHdf5(state, GetFiles().h5_raw); }

BENCHMARK(BM_ReadCsv)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_ReadHdf5Deflate)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_ReadHdf5Uncompressed)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
