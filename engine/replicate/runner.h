// Runs the replications of a problem in parallel and streams them to one
// writer (DESIGN.md decisions 4-6).
//
// Workers (oneTBB, over the replication indices not yet stored) draw and
// re-estimate, then push the record into a bounded queue; one writer thread
// appends to the DrawWriter (journal, then HDF5) and reports progress. A set
// stop flag (Ctrl-C) stops new replications from starting; those under way
// finish and are stored. Every record is a pure function of (seed, r), so
// the stored draws are the same for any thread count, order of completion
// or number of resumes.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

#include "parallel/parallel.h"
#include "replicate/estimator.h"
#include "store/draw_file.h"

namespace cwfx::replicate {

struct Progress {
  int64_t stored = 0;          // replications stored in the file (all runs)
  int64_t total = 0;
  int64_t stored_this_run = 0;
  double elapsed_seconds = 0;  // this run
  bool final = false;          // the last call of the run
};
using ProgressCallback = std::function<void(const Progress&)>;

struct RunReport {
  int64_t computed = 0;        // replications computed and stored by this run
  int64_t failed = 0;          // of them: stored as failed (all NaN)
  int64_t not_converged = 0;
  bool interrupted = false;    // stopped by the flag before all were done
  double seconds = 0;
};

struct RunnerOptions {
  double progress_seconds = 0.5;  // minimum interval between progress calls
  int queue_capacity = 0;         // records in flight; 0 = 4 x threads + 8
};

// The datasets of a scheme's draw file, their labels, and the identity that
// a resume must match.
store::DrawIdentity MakeDrawIdentity(const ReplicationProblem& problem, const std::string& data_fingerprint,
                                     const std::string& study_configuration_json);
store::DrawRecord ToDrawRecord(int64_t replication, const ReplicationDraw& draw);

// One computed row of a draw file and how it went.
struct ComputedRecord {
  store::DrawRecord record;
  DrawStatus status = DrawStatus::kOk;
};
// Computes row r (a pure function of r). `inner` is the context for nested
// parallelism inside the row: serial while the rows themselves fill the
// threads, the whole context when a single row is left.
using RecordFunction = std::function<ComputedRecord(int64_t r, const parallel::Context& inner)>;

// The generic runner behind RunReplications (also used by simulations):
// computes every row the writer has not stored, in parallel over rows, and
// streams them through a bounded queue to the one writer. Throws what the
// writer or a row threw (e.g. a full disk) after stopping the workers;
// everything stored before stays in the journal for --resume.
RunReport RunRecords(const RecordFunction& compute, store::DrawWriter& writer, const std::atomic<bool>& stop,
                     const ProgressCallback& progress, const parallel::Context& ctx, const RunnerOptions& options = {});

// Throws what the writer threw (e.g. a full disk) after stopping the workers;
// everything stored before stays in the journal for --resume.
RunReport RunReplications(const ReplicaEstimator& estimator, store::DrawWriter& writer,
                          const std::atomic<bool>& stop, const ProgressCallback& progress,
                          const parallel::Context& ctx, const RunnerOptions& options = {});

}  // namespace cwfx::replicate
