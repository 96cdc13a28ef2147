#include "core/fingerprint.h"

#include <cstdio>

namespace cwfx {

void ContentFingerprint::Update(std::string_view bytes) {
  uint64_t h = hash_;
  for (const char c : bytes) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ULL;
  }
  hash_ = h;
  size_ += bytes.size();
}

std::string ContentFingerprint::Text() const {
  char text[64];
  std::snprintf(text, sizeof text, "fnv1a64:%016llx:%llu", static_cast<unsigned long long>(hash_),
                static_cast<unsigned long long>(size_));
  return text;
}

}  // namespace cwfx
