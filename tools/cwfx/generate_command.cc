// `cwfx generate`: flags -> GeneratorOptions -> Generate -> WriteRegister.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "commands.h"
#include "config_file.h"
#include "core/output_paths.h"
#include "data_gen/generator.h"
#include "data_gen/register_io.h"
#include "parallel/parallel.h"

namespace cwfx::cli {

namespace {
struct GenerateFlags {
  uint64_t seed = 20170507;
  int threads = 0;
  std::string out;
  std::string preset = "study";
  int64_t responses = 0;
  bool overwrite = false;
};
}  // namespace

Action AddGenerateCommand(CLI::App& app) {
  auto flags = std::make_shared<GenerateFlags>();
  CLI::App* sub = app.add_subcommand("generate", "write a synthetic register with known true effects");
  sub->add_option("--seed", flags->seed, "random seed (the data set is a pure function of seed and options)")
      ->capture_default_str();
  sub->add_option("--threads", flags->threads, "worker threads (0 = all); the output does not depend on it")
      ->capture_default_str();
  sub->add_option("--out", flags->out, "output file: .h5 (HDF5) or .csv (responses + FILE.truth_*.csv)")
      ->required();
  sub->add_option("--preset", flags->preset, "study (calibrated to the report) or large (scaling)")
      ->check(CLI::IsMember({"study", "large"}))
      ->capture_default_str();
  sub->add_option("--responses", flags->responses, "target number of responses (preset large)")
      ->check(CLI::PositiveNumber);
  sub->add_flag("--overwrite", flags->overwrite, "replace existing files");

  return [flags]() -> int {
    const auto start = std::chrono::steady_clock::now();
    OutputPathCheck check;
    check.outputs = {{flags->out, "--out"}};
    check.overwrite = flags->overwrite;
    if (flags->out.ends_with(".csv")) {
      const datagen::CsvRegisterPaths p = datagen::CsvPathsFor(flags->out);
      for (const auto& [path, role] : {std::pair{p.caseworkers, "the caseworkers' truth"},
                                       std::pair{p.citizens, "the citizens' truth"},
                                       std::pair{p.coefficients, "the coefficients' truth"},
                                       std::pair{p.meta, "the register's metadata"}})
        check.outputs.push_back({path, role});
    }
    if (!ConfigFilePath().empty()) check.inputs.push_back({ConfigFilePath(), "--config"});
    CheckOutputPaths(check);
    datagen::GeneratorOptions options = datagen::GeneratorOptions::Preset(flags->preset);
    if (flags->responses > 0) options.responses_target = flags->responses;
    const parallel::Context ctx(flags->threads);
    const datagen::Register reg = datagen::Generate(options, flags->seed, ctx);
    datagen::WriteRegister(reg, flags->out);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

    std::vector<char> active(static_cast<size_t>(reg.caseworkers.num_rows()) + 1, 0);
    int64_t caseworkers = 0;
    for (double id : reg.responses.Numeric("caseworker_id")) {
      char& seen = active[static_cast<size_t>(id)];
      caseworkers += seen == 0 ? 1 : 0;
      seen = 1;
    }
    double outcomes = 0.0;
    for (double y : reg.responses.Numeric("outcome")) outcomes += y;
    const double rate = reg.responses.num_rows() > 0 ? outcomes / static_cast<double>(reg.responses.num_rows()) : 0.0;
    std::printf(
        "Generated %lld responses of %lld citizens with %lld caseworkers in %d job centres "
        "(preset %s, seed %llu, %d threads); outcome rate %.2f%%. Wrote %s in %.2f s.\n",
        static_cast<long long>(reg.responses.num_rows()), static_cast<long long>(reg.citizens.num_rows()),
        static_cast<long long>(caseworkers), reg.options.num_job_centres,
        reg.options.preset.c_str(), static_cast<unsigned long long>(reg.seed), ctx.threads(), 100.0 * rate,
        flags->out.c_str(), seconds);
    return 0;
  };
}

}  // namespace cwfx::cli
