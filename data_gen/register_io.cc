#include "data_gen/register_io.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>
#include <span>
#include <vector>

#include "core/error.h"
#include "core/version.h"
#include "table/csv.h"

#ifdef CWFX_DATAGEN_HAVE_STORE
#include "store/h5_file.h"
#include "store/table_store.h"
#endif

namespace cwfx::datagen {
namespace {

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

void WriteCsvRegister(const Register& reg, const std::string& path) {
  const CsvRegisterPaths p = CsvPathsFor(path);
  table::WriteCsv(reg.responses, p.responses);
  table::WriteCsv(reg.caseworkers, p.caseworkers);
  table::WriteCsv(reg.citizens, p.citizens);
  table::WriteCsv(reg.coefficients, p.coefficients);
  std::ofstream meta(p.meta, std::ios::binary | std::ios::trunc);
  meta << RegisterMetadataJson(reg) << "\n";
  meta.close();
  if (!meta) throw Error(Location{p.meta, -1, ""}, "could not write the register's metadata");
}

#ifdef CWFX_DATAGEN_HAVE_STORE
void WriteH5Register(const Register& reg, const std::string& path) {
  store::H5File file = store::H5File::Create(path);
  store::WriteTable(file, "/register", reg.responses);
  store::WriteTable(file, "/truth/caseworkers", reg.caseworkers);
  store::WriteTable(file, "/truth/citizens", reg.citizens);
  store::WriteTable(file, "/truth/coefficients", reg.coefficients);
  file.SetAttribute("/", "generator_preset", reg.options.preset);
  file.SetAttribute("/", "seed", static_cast<int64_t>(reg.seed));
  file.SetAttribute("/", "seed_text", std::to_string(reg.seed));
  file.SetAttribute("/", "generator_options", reg.options.ToJson());
  file.SetAttribute("/", "engine_version", kEngineVersion);
  file.Close();
}
#endif

}  // namespace

CsvRegisterPaths CsvPathsFor(const std::string& csv_path) {
  const std::string stem = EndsWith(csv_path, ".csv") ? csv_path.substr(0, csv_path.size() - 4) : csv_path;
  return CsvRegisterPaths{stem + ".csv", stem + ".truth_caseworkers.csv", stem + ".truth_citizens.csv",
                          stem + ".truth_coefficients.csv", stem + ".meta.json"};
}

std::string RegisterMetadataJson(const Register& reg) {
  nlohmann::ordered_json j;
  j["generator_preset"] = reg.options.preset;
  j["seed"] = reg.seed;
  j["generator_options"] = nlohmann::ordered_json::parse(reg.options.ToJson());
  j["engine_version"] = kEngineVersion;
  return j.dump(2);
}

void WriteRegister(const Register& reg, const std::string& path) {
  if (EndsWith(path, ".csv")) {
    WriteCsvRegister(reg, path);
    return;
  }
  if (EndsWith(path, ".h5") || EndsWith(path, ".hdf5")) {
#ifdef CWFX_DATAGEN_HAVE_STORE
    WriteH5Register(reg, path);
    return;
#else
    throw Error(Location{path, -1, ""}, "this build has no HDF5 store module; write a .csv file instead");
#endif
  }
  throw Error(Location{path, -1, ""}, "unknown register format (expected .h5, .hdf5 or .csv)");
}

}  // namespace cwfx::datagen
