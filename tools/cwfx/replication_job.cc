#include "replication_job.h"

#include <algorithm>
#include <exception>
#include <filesystem>

#include "core/error.h"
#include "replicate/estimator.h"
#include "replicate/problem.h"
#include "distribution.h"
#include "run_control.h"
#include "store/draw_file.h"

namespace cwfx::cli {

ReplicationJobResult RunReplicationJob(const table::Table& register_table, const study::StudyResult& study,
                                       const ReplicationJob& job, const parallel::Context& ctx) {
  const replicate::ReplicationProblem problem = replicate::BuildProblem(register_table, study, job.options, ctx);
  const replicate::ReplicaEstimator estimator(problem);
  const store::DrawIdentity identity =
      replicate::MakeDrawIdentity(problem, job.data_fingerprint, job.study_configuration_json);
  const ShardPlan plan = PlanShards(job.shard, job.out);
  if (job.overwrite && !job.resume) store::RemoveDrawFiles(plan.file);
  // Chunks of about 1 MiB of the widest dataset (the effects), so each flush
  // recompresses little even with many caseworkers.
  store::DrawFileOptions file_options;
  file_options.chunk_rows =
      std::clamp<int64_t>((int64_t{1} << 20) / (8 * std::max<int64_t>(1, problem.num_caseworkers())), 1, 64);
  file_options.shard_index = plan.index;
  file_options.shard_count = plan.count;
  ReplicationJobResult result;
  result.root = plan.root();
  bool ok = false;
  std::exception_ptr error;
  try {
    store::DrawWriter writer =
        store::DrawWriter::Open(plan.file, identity, job.options.replications, job.resume, file_options);
    {
      replicate::EstimatorWorkspace ws;
      const std::vector<double> ones(static_cast<size_t>(problem.num_obs()), 1.0);
      writer.WriteEstimate(replicate::ToDrawRecord(-1, estimator.EstimateWeighted(ones, ws, ctx)));
    }
    {
      const StopSignals signals;
      const std::string label = plan.count > 1 ? identity.scheme + " " + std::to_string(plan.index) + "/" +
                                                     std::to_string(plan.count)
                                               : identity.scheme;
      result.run = replicate::RunReplications(estimator, writer, StopRequested(),
                                              MakeProgressPrinter(label, "replications", job.show_progress && plan.root()),
                                              ctx);
    }
    result.interrupted = result.run.interrupted;
    if (result.interrupted) {
      writer.Interrupt();
    } else {
      writer.Finish();
    }
    ok = !result.interrupted;
  } catch (...) {
    error = std::current_exception();  // after the ranks have agreed, so none waits forever
  }
  const bool merged = GatherShards(plan, job.out, ok);
  if (error) std::rethrow_exception(error);
  result.file = plan.distributed && merged ? job.out : plan.file;
  result.shard_only = plan.count > 1 && !(plan.distributed && merged);
  result.interrupted = plan.distributed ? !merged : result.interrupted;
  if (!result.root) return result;  // rank 0 summarises for the whole job
  replicate::SummaryOptions so;
  so.alpha = job.options.alpha;
  so.rank_draws = job.options.rank_draws;
  so.rank_seed = job.options.seed;
  so.max_rank_units = job.options.max_rank_units;
  result.summary = replicate::SummariseDraws(store::ReadDraws(result.file), problem.analytic_effect_cov_gg, so, ctx);
  return result;
}

}  // namespace cwfx::cli
