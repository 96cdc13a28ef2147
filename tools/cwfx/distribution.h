// Splitting a run's rows (replications, registers) across processes:
// `--shard i/n` for job arrays, or the ranks of an MPI job (mpirun -np N
// cwfx-mpi ...; cwfx-mpi is built with -DCWFX_WITH_MPI=ON, this file compiled
// with CWFX_HAVE_MPI; in cwfx the MPI parts compile away). Every row is a pure
// function of (seed, r), so however a run is split its merged rows are those
// of one process (DESIGN.md decisions 4 and 7).
//
// Under MPI each rank computes shard rank/N into "<out>.rank<r>of<N>.h5"
// (resumable like any draw file); when every rank has finished, rank 0
// merges the rank files into <out> and deletes them. If a rank fails or is
// interrupted, the rank files are kept and the same command with --resume
// finishes only what is missing.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace cwfx::cli {

// Called first and last in main(): MPI_Init / MPI_Finalize in cwfx-mpi when
// the process was started by mpirun with more than one rank.
void StartDistribution(int* argc, char*** argv);
void StopDistribution();
// An error on one rank: ends every rank of the job (the others may be waiting
// in a collective), with `code`. No-op without MPI.
void AbortDistribution(int code);
int DistributedRank();   // 0 without MPI
int DistributedSize();   // 1 without MPI

struct ShardPlan {
  int64_t index = 0, count = 1;
  std::string file;          // where this process writes its rows
  bool distributed = false;  // an MPI rank (rank 0 merges at the end)
  bool root() const { return !distributed || DistributedRank() == 0; }
};

// shard_flag: "" or "i/n" (0 <= i < n). Throws cwfx::Error on a bad value or
// on --shard under an MPI job of several ranks.
ShardPlan PlanShards(const std::string& shard_flag, const std::string& out);

// The end of a distributed run (a no-op returning `ok` otherwise): every rank
// says whether it finished; when all did, rank 0 merges the rank files into
// `out` (deleting them) and the result is true on every rank.
bool GatherShards(const ShardPlan& plan, const std::string& out, bool ok);

}  // namespace cwfx::cli
