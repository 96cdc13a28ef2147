// Flags shared by the commands that run the study's model (study, replicate):
// where the register comes from and the study's sample and model options.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "parallel/parallel.h"
#include "study/study.h"
#include "table/table.h"

namespace cwfx::cli {

struct StudyInputFlags {
  std::string data;
  std::string hdf5_group = "/register";
  std::string missing = "error";
  uint64_t register_seed = 20170507;
  int min_citizens = 10;
  int min_responses = 2;
  double tolerance = study::StudyOptions{}.absorb_tolerance;
  int max_iterations = study::StudyOptions{}.absorb_max_iterations;
  std::vector<std::string> absorb_extra;
  bool keep_first_response = false;
  bool citizen_effects = false;
  bool rank_on_shrunk = false;
  bool drop_singletons = false;
  std::vector<std::string> covariates;
  std::vector<std::string> categorical;
  bool categorical_set = false;
};

// Registers --data, --group, --missing, the register seed (named
// `seed_flag`: --seed for `study`, --register-seed where --seed is taken) and
// the model's options on `sub`.
void AddStudyInputOptions(CLI::App* sub, const std::shared_ptr<StudyInputFlags>& flags, const std::string& seed_flag);

study::StudyOptions MakeStudyOptions(const StudyInputFlags& flags);

struct LoadedRegister {
  table::Table data;
  std::string path;          // the file read or written ("" = generated, not saved)
  std::string description;   // for reports
  std::string fingerprint;   // of the file, or of the generator's settings
};

// Reads --data (every format alike; the missing-value policy covers the
// model's columns), or generates the default synthetic register and, when
// `save_generated_to` is not empty, saves it there.
LoadedRegister LoadRegister(const StudyInputFlags& flags, const study::StudyOptions& options,
                            const std::string& save_generated_to, const parallel::Context& ctx);

}  // namespace cwfx::cli
