#include "results/fingerprint.h"

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <vector>

#include "core/error.h"

namespace cwfx::results {

std::string FileFingerprint(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(Location{path, -1, ""}, "cannot open the file to fingerprint it");
  // FNV-1a: not cryptographic, but stable across platforms and fast enough
  // to run over a register on every write.
  uint64_t hash = 1469598103934665603ULL;
  uint64_t size = 0;
  std::vector<char> buffer(1 << 20);
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    const std::streamsize got = in.gcount();
    for (std::streamsize i = 0; i < got; ++i) {
      hash ^= static_cast<unsigned char>(buffer[static_cast<size_t>(i)]);
      hash *= 1099511628211ULL;
    }
    size += static_cast<uint64_t>(got);
  }
  if (in.bad()) throw Error(Location{path, -1, ""}, "read error while fingerprinting");
  char text[64];
  std::snprintf(text, sizeof text, "fnv1a64:%016llx:%llu", static_cast<unsigned long long>(hash),
                static_cast<unsigned long long>(size));
  return text;
}

}  // namespace cwfx::results
