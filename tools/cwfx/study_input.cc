#include "study_input.h"

#include "commands.h"

#include "core/version.h"
#include "data_gen/generator.h"
#include "data_gen/register_io.h"
#include "results/fingerprint.h"
#include "store/table_store.h"

namespace cwfx::cli {

void AddStudyInputOptions(CLI::App* sub, const std::shared_ptr<StudyInputFlags>& flags, const std::string& seed_flag) {
  sub->add_option("--data", flags->data,
                  "Register file (.h5 .csv .tsv .dta .sav .sas7bdat .xpt; - reads CSV from standard input); default: generate "
                  "the synthetic register")
      ->check(ExistingFileOrStdin());
  sub->add_option(seed_flag, flags->register_seed, "Seed of the synthetic register (without --data)")
      ->capture_default_str();
  sub->add_option("--group", flags->hdf5_group, "Table group in an HDF5 register")->capture_default_str();
  sub->add_option("--missing", flags->missing,
                  "A missing value in a column the model uses (ids, date, outcome, covariates, B answers) is an "
                  "error or drops its row; missing S answers are always kept and handled per figure")
      ->check(CLI::IsMember({"error", "drop"}))
      ->capture_default_str();
  sub->add_option("--min-citizens", flags->min_citizens, "Keep caseworkers with at least this many citizens")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  sub->add_option("--min-responses", flags->min_responses, "Keep citizens with at least this many responses")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  sub->add_option("--tolerance", flags->tolerance, "Convergence tolerance of the absorption (2+ factors)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  sub->add_option("--max-iterations", flags->max_iterations, "Iteration cap of the absorption (2+ factors)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  sub->add_option("--absorb-extra", flags->absorb_extra,
                  "Further id columns absorbed as fixed effects (comma separated; no delta-method SEs then)")
      ->delimiter(',');
  sub->add_flag("--keep-first-response", flags->keep_first_response, "Do not drop each citizen's first response");
  sub->add_flag("--citizen-effects", flags->citizen_effects,
                "Two-way model: also absorb citizen fixed effects (no delta-method SEs then)");
  sub->add_flag("--rank-on-shrunk", flags->rank_on_shrunk,
                "Rank caseworkers and form quartiles on their empirical Bayes posterior means (normal prior)");
  sub->add_flag("--drop-singletons", flags->drop_singletons, "Drop caseworkers/citizens with one observation");
  sub->add_option("--covariates", flags->covariates, "Numeric covariates (comma separated); default: the study's")
      ->delimiter(',');
  sub->add_option("--categorical", flags->categorical,
                  "Categorical covariates entered as dummies (default: ethnicity,education)")
      ->delimiter(',')
      ->each([flags](const std::string&) { flags->categorical_set = true; });
}

study::StudyOptions MakeStudyOptions(const StudyInputFlags& f) {
  study::StudyOptions options;
  options.sample.min_citizens_per_caseworker = f.min_citizens;
  options.sample.min_responses_per_citizen = f.min_responses;
  options.sample.drop_first_response = !f.keep_first_response;
  options.add_citizen_effects = f.citizen_effects;
  options.drop_singletons = f.drop_singletons;
  options.rank_on_shrunk = f.rank_on_shrunk;
  if (!f.covariates.empty()) options.covariates = f.covariates;
  if (f.categorical_set) options.categorical_covariates = f.categorical;
  options.absorb_tolerance = f.tolerance;
  options.absorb_max_iterations = f.max_iterations;
  options.extra_factors = f.absorb_extra;
  options.Validate();
  return options;
}

LoadedRegister LoadRegister(const StudyInputFlags& f, const study::StudyOptions& options,
                            const std::string& save_generated_to, const parallel::Context& ctx) {
  LoadedRegister out;
  if (f.data.empty()) {
    const datagen::Register reg = datagen::Generate(datagen::GeneratorOptions::Preset("study"), f.register_seed, ctx);
    out.data = reg.responses;
    out.description = "synthetic register (data_gen preset study, seed " + std::to_string(f.register_seed) + ")";
    // The generator is deterministic: its settings identify the data.
    out.fingerprint = "synthetic:preset=study:seed=" + std::to_string(f.register_seed) + ":engine=" + kEngineVersion;
    if (!save_generated_to.empty()) {
      datagen::WriteRegister(reg, save_generated_to);
      out.path = save_generated_to;
      out.description += ", saved as " + save_generated_to;
    }
    return out;
  }
  out.path = f.data;
  out.description = f.data;
  store::ReadAnyOptions read;
  read.missing = f.missing == "drop" ? table::MissingPolicy::kDropRow : table::MissingPolicy::kError;
  read.missing_policy_columns = options.ModelColumns();
  read.hdf5_group = f.hdf5_group;
  read.threads = ctx.threads();
  table::ReadReport report;
  out.data = store::ReadAnyTable(f.data, read, &report);
  out.fingerprint = report.content_fingerprint.empty() ? results::FileFingerprint(f.data) : report.content_fingerprint;
  return out;
}

}  // namespace cwfx::cli
