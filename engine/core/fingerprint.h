// Content fingerprints of input bytes, stored with every result so that a
// result can be traced to the exact data it came from (and a resume or merge
// can refuse different data). XXH3 (64-bit): not cryptographic, but its
// output is specified and stable across platforms, and it hashes at memory
// speed (a byte-at-a-time hash cost a second per 10^7-row file, on the
// critical path of every run); the text is "xxh3:<16 hex digits>:<size in
// bytes>".
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace cwfx {

class ContentFingerprint {
 public:
  ContentFingerprint();
  ~ContentFingerprint();
  ContentFingerprint(ContentFingerprint&&) noexcept;
  ContentFingerprint& operator=(ContentFingerprint&&) noexcept;

  void Update(std::string_view bytes);
  std::string Text() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
  uint64_t size_ = 0;
};

}  // namespace cwfx
