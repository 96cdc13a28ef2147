#include "replicate/runner.h"

#include <tbb/concurrent_queue.h>
#include <tbb/enumerable_thread_specific.h>
#include <tbb/parallel_for.h>

#include <chrono>
#include <exception>
#include <nlohmann/json.hpp>
#include <thread>

#include "core/error.h"
#include "core/version.h"
#include "replicate/schemes.h"

namespace cwfx::replicate {
namespace {

struct QueueItem {
  bool end = false;
  ComputedRecord computed;
};

}  // namespace

store::DrawIdentity MakeDrawIdentity(const ReplicationProblem& problem, const std::string& data_fingerprint,
                                     const std::string& study_configuration_json) {
  store::DrawIdentity id;
  id.scheme = SchemeName(problem.options.scheme);
  id.seed = problem.options.seed;
  nlohmann::json config = {{"study", nlohmann::json::parse(study_configuration_json)},
                           {"replication", nlohmann::json::parse(problem.options.ToJson())}};
  id.configuration_json = config.dump();
  id.data_fingerprint = data_fingerprint;
  id.engine_version = kEngineVersion;
  const auto G = static_cast<int64_t>(problem.caseworker_ids.size());
  id.datasets = {
      {"caseworker_effect", G, store::DrawType::kFloat64, problem.caseworker_ids},
      {"caseworker_rank", G, store::DrawType::kInt32, problem.caseworker_ids},
      {"caseworker_quartile", G, store::DrawType::kInt32, problem.caseworker_ids},
      {"coefficients", static_cast<int64_t>(problem.covariate_names.size()), store::DrawType::kFloat64,
       problem.covariate_names},
      {"policy", 3, store::DrawType::kFloat64, PolicyColumns()},
      {"statistics", static_cast<int64_t>(StatisticColumns().size()), store::DrawType::kFloat64, StatisticColumns()},
  };
  if (id.datasets[3].width == 0) id.datasets.erase(id.datasets.begin() + 3);  // no covariates kept
  return id;
}

store::DrawRecord ToDrawRecord(int64_t replication, const ReplicationDraw& d) {
  store::DrawRecord r;
  r.replication = replication;
  r.values.emplace_back(d.effect_g);
  r.values.emplace_back(d.rank_g.begin(), d.rank_g.end());
  r.values.emplace_back(d.quartile_g.begin(), d.quartile_g.end());
  if (d.coef_k.size() > 0) r.values.emplace_back(d.coef_k.data(), d.coef_k.data() + d.coef_k.size());
  r.values.push_back({d.policy[0], d.policy[1], d.policy[2]});
  r.values.push_back({d.variance_of_effects, d.sd_of_effects, d.fixed_contrast,
                      static_cast<double>(d.caseworkers_present), static_cast<double>(static_cast<int>(d.status))});
  return r;
}

RunReport RunReplications(const ReplicaEstimator& estimator, store::DrawWriter& writer,
                          const std::atomic<bool>& stop, const ProgressCallback& progress,
                          const parallel::Context& ctx, const RunnerOptions& options) {
  tbb::enumerable_thread_specific<EstimatorWorkspace> workspaces;
  const RecordFunction compute = [&](int64_t r, const parallel::Context& inner) {
    ReplicationDraw d = RunReplication(estimator, r, workspaces.local(), inner);
    return ComputedRecord{ToDrawRecord(r, d), d.status};
  };
  return RunRecords(compute, writer, stop, progress, ctx, options);
}

RunReport RunRecords(const RecordFunction& compute, store::DrawWriter& writer, const std::atomic<bool>& stop,
                     const ProgressCallback& progress, const parallel::Context& ctx, const RunnerOptions& options) {
  const auto t0 = std::chrono::steady_clock::now();
  const auto elapsed = [&t0] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };
  std::vector<int64_t> pending;
  const std::vector<uint8_t>& done = writer.completed();
  // A shard computes only its own rows (store::DrawFileOptions::shard_index).
  int64_t stored_owned = 0;
  for (int64_t r = 0; r < writer.replications(); ++r) {
    if (!writer.owns(r)) continue;
    if (done[static_cast<size_t>(r)]) {
      ++stored_owned;
    } else {
      pending.push_back(r);
    }
  }
  RunReport report;
  const int64_t total = writer.owned_rows();
  const int64_t stored_before = stored_owned;

  tbb::concurrent_bounded_queue<QueueItem> queue;
  queue.set_capacity(options.queue_capacity > 0 ? options.queue_capacity : 4 * ctx.threads() + 8);
  std::atomic<bool> writer_failed{false};
  std::exception_ptr writer_error;

  // The one writer: journal + HDF5, progress.
  std::thread writer_thread([&] {
    double last_progress = -1e9;
    for (;;) {
      QueueItem item;
      queue.pop(item);
      if (item.end) break;
      if (writer_failed.load()) continue;  // keep draining so no worker blocks
      try {
        writer.Append(item.computed.record);
        ++report.computed;
        report.failed += item.computed.status == DrawStatus::kFailed;
        report.not_converged += item.computed.status == DrawStatus::kNotConverged;
        if (progress && elapsed() - last_progress >= options.progress_seconds) {
          last_progress = elapsed();
          progress({stored_before + report.computed, total, report.computed, last_progress, false});
        }
      } catch (...) {
        writer_error = std::current_exception();
        writer_failed.store(true);
      }
    }
  });

  std::exception_ptr worker_error;
  std::atomic<bool> worker_failed{false};
  const auto body = [&](int64_t lo, int64_t hi) {
    for (int64_t k = lo; k < hi; ++k) {
      if (stop.load(std::memory_order_relaxed) || writer_failed.load() || worker_failed.load()) return;
      const int64_t r = pending[static_cast<size_t>(k)];
      try {
        // Inner loops run serially: the replications already fill the threads.
        static const parallel::Context serial(1);
        QueueItem item;
        item.computed = compute(r, ctx.threads() == 1 || pending.size() > 1 ? serial : ctx);
        queue.push(std::move(item));
      } catch (...) {
        if (!worker_failed.exchange(true)) worker_error = std::current_exception();
      }
    }
  };
  parallel::ParallelFor(ctx, 0, static_cast<int64_t>(pending.size()), 1, body);
  QueueItem end;
  end.end = true;
  queue.push(std::move(end));
  writer_thread.join();
  if (writer_error) std::rethrow_exception(writer_error);
  if (worker_error) std::rethrow_exception(worker_error);
  writer.Flush();
  report.seconds = elapsed();
  report.interrupted = stored_before + report.computed < total;
  if (progress) progress({stored_before + report.computed, total, report.computed, report.seconds, true});
  return report;
}

}  // namespace cwfx::replicate
