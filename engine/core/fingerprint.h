// Content fingerprints of input bytes, stored with every result so that a
// result can be traced to the exact data it came from (and a resume or merge
// can refuse different data). FNV-1a: not cryptographic, but stable across
// platforms; the text is "fnv1a64:<16 hex digits>:<size in bytes>".
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace cwfx {

class ContentFingerprint {
 public:
  void Update(std::string_view bytes);
  std::string Text() const;

 private:
  uint64_t hash_ = 1469598103934665603ULL;
  uint64_t size_ = 0;
};

}  // namespace cwfx
