// Joining the shards of a draw file (a run split across job-array tasks or
// MPI ranks, store::DrawFileOptions::shard_index) into one file whose rows are
// the same as a single process's: every draw is a pure function of (seed, r).
//
// Refused, with a message naming the file: a shard that does not exist, does
// not read (corrupt, or not a draw file), is not complete (rerun it with
// --resume: only its own rows are computed), comes from another
// configuration, seed, data set or engine version, or disagrees with the
// others on the shard count or the full-sample estimate; two files for one
// shard; a shard missing from the list. The output is written like any draw
// file (journal, then HDF5), so a failed merge leaves the shards untouched.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "store/draw_file.h"

namespace cwfx::store {

struct MergeReport {
  std::string scheme;
  int64_t rows = 0;     // rows of the merged file
  int64_t shards = 0;   // files merged
};

// overwrite: delete an existing output (and its journal) first; otherwise an
// existing output is an error. The output must not be one of the shards.
MergeReport MergeDrawFiles(const std::string& out, const std::vector<std::string>& shards, bool overwrite = false);

}  // namespace cwfx::store
