#include "results/fingerprint.h"

#include <fstream>
#include <vector>

#include "core/error.h"
#include "core/fingerprint.h"

namespace cwfx::results {

std::string FileFingerprint(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(Location{path, -1, ""}, "cannot open the file to fingerprint it");
  ContentFingerprint fingerprint;
  std::vector<char> buffer(1 << 20);
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    fingerprint.Update({buffer.data(), static_cast<size_t>(in.gcount())});
  }
  if (in.bad()) throw Error(Location{path, -1, ""}, "read error while fingerprinting");
  return fingerprint.Text();
}

}  // namespace cwfx::results
