// Fuzzing `--config FILE`: any bytes as the configuration file of a
// subcommand with flags of every kind. The only acceptable outcomes are a
// cwfx::Error or CLI11 parse error naming the problem, or a parse in which
// the command line's own flag wins over the file.
#include <unistd.h>

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "config_file.h"
#include "core/error.h"

namespace {

const std::string& ConfigPath() {
  static const std::string path = "/tmp/cwfx_config_fuzz_" + std::to_string(::getpid()) + ".toml";
  return path;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::FILE* f = std::fopen(ConfigPath().c_str(), "wb");
  if (f == nullptr) return 0;
  if (size > 0) std::fwrite(data, 1, size, f);
  std::fclose(f);

  CLI::App app{"fuzz"};
  CLI::App* run = app.add_subcommand("run", "a subcommand with one flag of each kind");
  int count = 0;
  int64_t seed = 0;
  double alpha = 0.05;
  std::string name;
  bool quiet = false;
  std::vector<std::string> columns;
  std::string config;
  run->add_option("--count", count)->check(CLI::Range(0, 1000));
  run->add_option("--seed", seed);
  run->add_option("--alpha", alpha)->check(CLI::Range(0.0, 1.0));
  run->add_option("--name", name);
  run->add_option("--scheme", name)->check(CLI::IsMember({"pairs", "wild"}));
  run->add_flag("--quiet", quiet);
  run->add_option("--columns", columns)->delimiter(',');
  run->add_option("--config", config);

  std::vector<std::string> args = {"run", "--config", ConfigPath(), "--count", "3"};
  try {
    args = cwfx::cli::ExpandConfigFile(app, args);
  } catch (const cwfx::Error&) {
    return 0;
  }
  std::reverse(args.begin(), args.end());
  try {
    app.parse(args);
  } catch (const CLI::ParseError&) {
    return 0;
  }
  if (count != 3) {
    std::fprintf(stderr, "config_file_fuzzer: the file's count %d won over the command line's 3\n", count);
    std::abort();
  }
  return 0;
}
