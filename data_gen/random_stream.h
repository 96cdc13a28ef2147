// Counter-based random streams for the synthetic register generator.
//
// Every entity (job centre, citizen, ...) reads its own Philox4x32-10 stream
// (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC 2011; the
// Random123 library). The key is the 64-bit seed; the counter holds
// (entity kind, entity id low, entity id high, block index). A stream is
// therefore a pure function of (seed, kind, id): the data set does not depend
// on the number of threads or on the order in which entities are generated.
#pragma once

#include <cstdint>

#include "core/random_stream.h"

namespace cwfx::datagen {

// Which kind of entity a stream belongs to (the stream's domain).
enum class StreamKind : uint32_t {
  kJobCentre = 1,     // caseworkers of one job centre: effects and caseload weights
  kCitizenCount = 2,  // number of responses of one citizen (read in the sizing pass)
  kCitizen = 3,       // everything else about one citizen and its responses
};

class Stream : public random::Stream {
 public:
  Stream(uint64_t seed, StreamKind kind, uint64_t id) : random::Stream(seed, static_cast<uint32_t>(kind), id) {}
};

}  // namespace cwfx::datagen
