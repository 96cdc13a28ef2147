// datagen_calibrate: prints the calibration figures (data_gen/CALIBRATION.md)
// of the "study" preset, optionally with overrides, over one or more seeds.
// Usage: datagen_calibrate [seed=20170507] [seeds=1] [field=value ...]
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <string_view>

#include "core/error.h"
#include "data_gen/calibration.h"
#include "data_gen/generator.h"
#include "parallel/parallel.h"

int main(int argc, char** argv) {
  using cwfx::datagen::GeneratorOptions;
  GeneratorOptions o = GeneratorOptions::Preset("study");
  uint64_t seed = 20170507;
  int seeds = 1;
  const std::map<std::string, double GeneratorOptions::*> doubles = {
      {"substitute_meeting_rate", &GeneratorOptions::substitute_meeting_rate},
      {"caseload_weight_sd", &GeneratorOptions::caseload_weight_sd},
      {"caseworker_effect_sd", &GeneratorOptions::caseworker_effect_sd},
      {"citizen_effect_sd", &GeneratorOptions::citizen_effect_sd},
      {"citizen_effect_readiness_corr", &GeneratorOptions::citizen_effect_readiness_corr},
      {"sorting", &GeneratorOptions::sorting},
      {"mean_extra_responses", &GeneratorOptions::mean_extra_responses},
      {"responses_shape", &GeneratorOptions::responses_shape},
      {"caseworker_change_rate", &GeneratorOptions::caseworker_change_rate},
      {"outcome_intercept", &GeneratorOptions::outcome_intercept},
      {"covariate_effect_scale", &GeneratorOptions::covariate_effect_scale},
  };
  const std::map<std::string, int GeneratorOptions::*> ints = {
      {"regular_caseworkers_per_centre", &GeneratorOptions::regular_caseworkers_per_centre},
      {"occasional_caseworkers_per_centre", &GeneratorOptions::occasional_caseworkers_per_centre},
      {"max_responses", &GeneratorOptions::max_responses},
  };
  for (int a = 1; a < argc; ++a) {
    const std::string_view arg = argv[a];
    const size_t eq = arg.find('=');
    if (eq == std::string::npos) {
      std::fprintf(stderr, "expected field=value, got %s\n", argv[a]);
      return 1;
    }
    const std::string key(arg.substr(0, eq));
    const std::string value(arg.substr(eq + 1));
    if (key == "seed") {
      seed = std::strtoull(value.c_str(), nullptr, 10);
    } else if (key == "seeds") {
      seeds = std::atoi(value.c_str());
    } else if (key == "num_citizens") {
      o.num_citizens = std::atoll(value.c_str());
    } else if (doubles.count(key) != 0) {
      o.*doubles.at(key) = std::atof(value.c_str());
    } else if (ints.count(key) != 0) {
      o.*ints.at(key) = std::atoi(value.c_str());
    } else {
      std::fprintf(stderr, "unknown field %s\n", key.c_str());
      return 1;
    }
  }
  try {
    const cwfx::parallel::Context ctx(0);
    for (int k = 0; k < seeds; ++k) {
      const auto reg = cwfx::datagen::Generate(o, seed + static_cast<uint64_t>(k), ctx);
      std::printf("seed %llu\n%s\n", static_cast<unsigned long long>(seed + static_cast<uint64_t>(k)),
                  cwfx::datagen::ComputeCalibration(reg).Table().c_str());
    }
  } catch (const cwfx::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 2;
  }
  return 0;
}
