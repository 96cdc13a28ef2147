// Counter-based random streams (Philox4x32-10; Salmon et al., "Parallel random
// numbers: as easy as 1, 2, 3", SC 2011; the Random123 library).
//
// The key is the 64-bit seed; the counter holds (domain, id low, id high,
// block index). A stream is therefore a pure function of (seed, domain, id):
// whatever reads it gets the same numbers for any number of threads or
// processes and in any order of work. The generator keys a stream per entity
// (data_gen/random_stream.h), the replication engine one per replication.
#pragma once

#include <Random123/philox.h>

#include <cmath>
#include <cstdint>
#include <numbers>

namespace cwfx::random {

class Stream {
 public:
  // domain separates independent uses of one seed (an entity kind of the
  // generator, a replication scheme); id is the entity or replication index.
  Stream(uint64_t seed, uint32_t domain, uint64_t id) {
    key_ = {{static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32)}};
    ctr_ = {{domain, static_cast<uint32_t>(id), static_cast<uint32_t>(id >> 32), 0u}};
  }

  uint32_t Next32() {
    if (pos_ == 4) {
      block_ = philox_(ctr_, key_);
      ++ctr_.v[3];
      pos_ = 0;
    }
    return block_.v[pos_++];
  }

  // Uniform on the open interval (0, 1) with 53 random bits.
  double Uniform() {
    const uint64_t hi = Next32();
    const uint64_t lo = Next32();
    const uint64_t bits = ((hi << 32) | lo) >> 11;
    return (static_cast<double>(bits) + 0.5) * 0x1p-53;
  }

  // Integer uniform on [0, n).
  int64_t Below(int64_t n) {
    const int64_t k = static_cast<int64_t>(Uniform() * static_cast<double>(n));
    return k < n ? k : n - 1;
  }

  bool Bernoulli(double p) { return Uniform() < p; }

  // Standard normal by Box-Muller; the second value of a pair is kept.
  double Normal() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    const double r = std::sqrt(-2.0 * std::log(Uniform()));
    const double t = 2.0 * std::numbers::pi * Uniform();
    spare_ = r * std::sin(t);
    has_spare_ = true;
    return r * std::cos(t);
  }

  // Poisson by multiplication of uniforms for small means (all the generator
  // needs), a rounded normal approximation above 60.
  int64_t Poisson(double mean) {
    if (mean <= 0.0) return 0;
    if (mean > 60.0) {
      const double x = std::round(mean + std::sqrt(mean) * Normal());
      return x < 0.0 ? 0 : static_cast<int64_t>(x);
    }
    const double limit = std::exp(-mean);
    double prod = Uniform();
    int64_t k = 0;
    while (prod > limit) {
      prod *= Uniform();
      ++k;
    }
    return k;
  }

  // Gamma(shape, scale 1) by Marsaglia and Tsang (2000); shape < 1 boosted.
  double Gamma(double shape) {
    if (shape < 1.0) return Gamma(shape + 1.0) * std::pow(Uniform(), 1.0 / shape);
    const double d = shape - 1.0 / 3.0;
    const double c = 1.0 / std::sqrt(9.0 * d);
    for (;;) {
      double x;
      double v;
      do {
        x = Normal();
        v = 1.0 + c * x;
      } while (v <= 0.0);
      v = v * v * v;
      const double u = Uniform();
      if (u < 1.0 - 0.0331 * x * x * x * x) return d * v;
      if (std::log(u) < 0.5 * x * x + d * (1.0 - v + std::log(v))) return d * v;
    }
  }

 private:
  r123::Philox4x32 philox_;
  r123::Philox4x32::ctr_type ctr_;
  r123::Philox4x32::key_type key_;
  r123::Philox4x32::ctr_type block_;
  int pos_ = 4;
  bool has_spare_ = false;
  double spare_ = 0.0;
};

}  // namespace cwfx::random
