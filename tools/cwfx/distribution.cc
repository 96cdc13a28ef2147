#include "distribution.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "core/error.h"
#include "store/draw_merge.h"

#ifdef CWFX_HAVE_MPI
#include <mpi.h>
#endif

namespace cwfx::cli {
namespace {

int g_rank = 0, g_size = 1;
int g_launched_ranks = 0;  // ranks of an MPI launch this build cannot join (cwfx without MPI)
#ifdef CWFX_HAVE_MPI
bool g_mpi = false;
#endif

std::string RankFile(const std::string& out, int rank, int size) {
  return out + ".rank" + std::to_string(rank) + "of" + std::to_string(size) + ".h5";
}

}  // namespace

void StartDistribution(int* argc, char*** argv) {
#ifdef CWFX_HAVE_MPI
  // Only under a launcher: a plain `cwfx ...` must not need an MPI runtime.
  const char* launched = std::getenv("OMPI_COMM_WORLD_SIZE");
  if (launched == nullptr) launched = std::getenv("PMI_SIZE");
  if (launched == nullptr || std::atoi(launched) <= 1) return;
  int provided = 0;
  MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided);
  MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
  MPI_Comm_size(MPI_COMM_WORLD, &g_size);
  g_mpi = true;
#else
  (void)argc;
  (void)argv;
  const char* launched = std::getenv("OMPI_COMM_WORLD_SIZE");
  if (launched == nullptr) launched = std::getenv("PMI_SIZE");
  if (launched != nullptr) g_launched_ranks = std::atoi(launched);
#endif
}

void AbortDistribution(int code) {
#ifdef CWFX_HAVE_MPI
  if (g_mpi) MPI_Abort(MPI_COMM_WORLD, code);
#else
  (void)code;
#endif
}

void StopDistribution() {
#ifdef CWFX_HAVE_MPI
  if (g_mpi) MPI_Finalize();
  g_mpi = false;
#endif
}

int DistributedRank() { return g_rank; }
int DistributedSize() { return g_size; }

ShardPlan PlanShards(const std::string& shard_flag, const std::string& out) {
  if (g_launched_ranks > 1) {
    // Every rank would run the whole job into the same file.
    throw Error("started by mpirun with " + std::to_string(g_launched_ranks) +
                " ranks, but this cwfx is built without MPI: run cwfx-mpi under mpirun (configure with "
                "-DCWFX_WITH_MPI=ON), or split the run with --shard i/n and cwfx merge");
  }
  ShardPlan p;
  p.file = out;
  if (!shard_flag.empty()) {
    if (g_size > 1)
      throw Error(Location{"--shard", -1, shard_flag}, "is for job arrays; under mpirun the ranks split the run");
    const auto slash = shard_flag.find('/');
    size_t a = 0, b = 0;
    try {
      p.index = std::stoll(shard_flag.substr(0, slash), &a);
      p.count = slash == std::string::npos ? 0 : std::stoll(shard_flag.substr(slash + 1), &b);
    } catch (const std::exception&) {
      a = 0;
    }
    if (slash == std::string::npos || a != slash || b != shard_flag.size() - slash - 1 || p.count < 1 ||
        p.index < 0 || p.index >= p.count)
      throw Error(Location{"--shard", -1, shard_flag}, "expected i/n with 0 <= i < n, e.g. 0/4");
    return p;
  }
  if (g_size > 1) {
    p.index = g_rank;
    p.count = g_size;
    p.file = RankFile(out, g_rank, g_size);
    p.distributed = true;
  }
  return p;
}

bool GatherShards(const ShardPlan& plan, const std::string& out, bool ok) {
  if (!plan.distributed) return ok;
#ifdef CWFX_HAVE_MPI
  int mine = ok ? 1 : 0, all = 0;
  MPI_Allreduce(&mine, &all, 1, MPI_INT, MPI_LAND, MPI_COMM_WORLD);
  int merged = 0;
  if (all != 0 && g_rank == 0) {
    std::vector<std::string> files;
    for (int r = 0; r < g_size; ++r) files.push_back(RankFile(out, r, g_size));
    try {  // nothing may escape before the broadcast, or the other ranks wait forever
      store::MergeDrawFiles(out, files, /*overwrite=*/true);
      merged = 1;
      std::error_code ec;
      for (const auto& f : files) std::filesystem::remove(f, ec);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "cwfx: error: merging the ranks' files (they are kept): %s\n", e.what());
    }
  } else if (all == 0 && g_rank == 0) {
    std::fprintf(stderr,
                 "cwfx: not every rank finished; their files %s.rank*of%d.h5 are kept: run the same command with "
                 "--resume to compute only what is missing\n",
                 out.c_str(), g_size);
  }
  MPI_Bcast(&merged, 1, MPI_INT, 0, MPI_COMM_WORLD);
  return merged != 0;
#else
  (void)out;
  return ok;
#endif
}

}  // namespace cwfx::cli
