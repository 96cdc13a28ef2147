// Writing a generated register and its truth to disk.
#pragma once

#include <string>

#include "data_gen/generator.h"

namespace cwfx::datagen {

// Writes `reg` to `path`, choosing the format by extension:
//
//  .h5 / .hdf5  one HDF5 file: /register (the responses), /truth/caseworkers,
//               /truth/citizens, /truth/coefficients; file attributes
//               generator_preset, seed (int64: the seed's bits), seed_text (exact
//               decimal), generator_options (JSON text) and
//               engine_version. Needs the store module (engine_store); throws
//               cwfx::Error when the engine was built without it.
//  .csv         FILE.csv holds the responses; the truth goes next to it as
//               FILE.truth_caseworkers.csv, FILE.truth_citizens.csv and
//               FILE.truth_coefficients.csv, and FILE.meta.json records the
//               preset, seed, options and engine version (FILE = path
//               without ".csv"). Missing caseworker answers (NaN) are empty
//               fields; read them back with a missing-value policy that
//               drops rows, or select columns without them.
//
// Throws cwfx::Error for another extension or a failed write.
void WriteRegister(const Register& reg, const std::string& path);

// The four paths the .csv format writes, in the order above plus meta.json.
struct CsvRegisterPaths {
  std::string responses, caseworkers, citizens, coefficients, meta;
};
CsvRegisterPaths CsvPathsFor(const std::string& csv_path);

// The metadata recorded with every register (JSON object text).
std::string RegisterMetadataJson(const Register& reg);

}  // namespace cwfx::datagen
