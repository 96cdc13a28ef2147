// Running one replication scheme from the command line: the draw file
// (create or resume), Ctrl-C / SIGTERM handling, the progress display, and
// the summary of the stored draws. Shared by `cwfx replicate` and
// `cwfx study --bootstrap/--permutations`.
#pragma once

#include <string>

#include "exit_codes.h"
#include "parallel/parallel.h"
#include "replicate/replication_options.h"
#include "replicate/replication_summary.h"
#include "replicate/runner.h"
#include "study/study.h"
#include "table/table.h"

namespace cwfx::cli {

struct ReplicationJob {
  replicate::ReplicationOptions options;
  std::string out;                  // the draw file
  bool resume = false;
  bool overwrite = false;           // delete an existing file and journal first
  bool show_progress = true;
  std::string data_fingerprint;
  std::string study_configuration_json;
  std::string shard;                // "" or "i/n" (job arrays); under mpirun the ranks split the run
};

struct ReplicationJobResult {
  replicate::RunReport run;
  replicate::ReplicationSummary summary;  // of everything stored (also after an interruption)
  bool interrupted = false;
  bool root = true;                 // false on MPI ranks other than 0 (they print nothing)
  std::string file;                 // the file the summary covers
  bool shard_only = false;          // the summary covers one shard's rows only
};

ReplicationJobResult RunReplicationJob(const table::Table& register_table, const study::StudyResult& study,
                                       const ReplicationJob& job, const parallel::Context& ctx);

}  // namespace cwfx::cli
