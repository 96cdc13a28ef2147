// Differential fuzzing of the CSV reader: any bytes are read twice, by the
// sequential reference reader and by the parallel pass cut into chunks of a
// few bytes on 2 threads. Both must give the same table, bit for bit, or both
// the same cwfx::Error (file, row, column). Anything else (a crash, a
// sanitizer report, another exception type, a difference) is a finding.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "core/error.h"
#include "table/csv.h"

namespace {

const std::string& InputPath() {
  static const std::string path = "/tmp/cwfx_csv_fuzz_" + std::to_string(::getpid()) + ".csv";
  return path;
}

[[noreturn]] void Finding(const char* what, const std::string& detail) {
  std::fprintf(stderr, "csv_reader_fuzzer: %s: %s\n", what, detail.c_str());
  std::abort();
}

struct Outcome {
  bool failed = false;
  std::string error;
  cwfx::table::Table table;
};

Outcome Read(const cwfx::table::CsvReadOptions& options) {
  Outcome out;
  try {
    out.table = cwfx::table::ReadCsv(InputPath(), options);
  } catch (const cwfx::Error& e) {
    out.failed = true;
    out.error = e.what();
  }
  return out;
}

bool SameBits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

void ExpectSame(const Outcome& seq, const Outcome& par) {
  if (seq.failed != par.failed) Finding("one reader failed, the other did not", seq.error + " | " + par.error);
  if (seq.failed) {
    if (seq.error != par.error) Finding("different errors", seq.error + " | " + par.error);
    return;
  }
  const auto& a = seq.table;
  const auto& b = par.table;
  if (a.num_columns() != b.num_columns() || a.num_rows() != b.num_rows()) Finding("different shapes", "");
  for (int j = 0; j < a.num_columns(); ++j) {
    const auto& x = a.column(j);
    const auto& y = b.column(j);
    if (x.name != y.name || x.kind != y.kind) Finding("different column", x.name + " | " + y.name);
    if (x.text != y.text) Finding("different text in column", x.name);
    if (x.numeric.size() != y.numeric.size()) Finding("different numeric length in column", x.name);
    for (size_t r = 0; r < x.numeric.size(); ++r)
      if (!SameBits(x.numeric[r], y.numeric[r])) Finding("different number in column", x.name);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::FILE* f = std::fopen(InputPath().c_str(), "wb");
  if (f == nullptr) return 0;
  if (size > 0) std::fwrite(data, 1, size, f);
  std::fclose(f);

  cwfx::table::CsvReadOptions sequential;
  sequential.parallel_pass = false;
  // The missing-value policy and the chunk size come from the input's length,
  // so the bytes themselves stay a plain CSV file.
  sequential.missing = size % 2 == 0 ? cwfx::table::MissingPolicy::kError : cwfx::table::MissingPolicy::kDropRow;
  cwfx::table::CsvReadOptions parallel = sequential;
  parallel.parallel_pass = true;
  parallel.threads = 2;
  parallel.parallel_chunk_bytes = 1 + size % 61;
  ExpectSame(Read(sequential), Read(parallel));
  return 0;
}
