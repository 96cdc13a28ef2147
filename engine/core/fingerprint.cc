#include "core/fingerprint.h"

#include <cstdio>

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace cwfx {

struct ContentFingerprint::State {
  XXH3_state_t xxh3;
};

ContentFingerprint::ContentFingerprint() : state_(std::make_unique<State>()) { XXH3_64bits_reset(&state_->xxh3); }
ContentFingerprint::~ContentFingerprint() = default;
ContentFingerprint::ContentFingerprint(ContentFingerprint&&) noexcept = default;
ContentFingerprint& ContentFingerprint::operator=(ContentFingerprint&&) noexcept = default;

void ContentFingerprint::Update(std::string_view bytes) {
  XXH3_64bits_update(&state_->xxh3, bytes.data(), bytes.size());
  size_ += bytes.size();
}

std::string ContentFingerprint::Text() const {
  char text[64];
  std::snprintf(text, sizeof text, "xxh3:%016llx:%llu",
                static_cast<unsigned long long>(XXH3_64bits_digest(&state_->xxh3)),
                static_cast<unsigned long long>(size_));
  return text;
}

}  // namespace cwfx
