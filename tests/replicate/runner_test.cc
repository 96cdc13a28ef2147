// The runner: stored draws are the same at 1 and 2 threads, after an
// interruption and resume, and the summaries read them back.
#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <filesystem>

#include "core/error.h"
#include "replicate/estimator.h"
#include "replicate/replication_summary.h"
#include "replicate/runner.h"
#include "replicate_fixture.h"
#include "store/draw_file.h"

namespace cwfx::replicate {
namespace {

std::string TempPath(const std::string& name) {
  const auto dir = std::filesystem::path(::testing::TempDir()) / "cwfx_replicate_test";
  std::filesystem::create_directories(dir);
  const auto p = dir / name;
  std::filesystem::remove(p);
  std::filesystem::remove(p.string() + ".journal");
  return p.string();
}

// Runs `problem` into `path` with `threads`; stops after `stop_after` stored
// replications when > 0 (as Ctrl-C would) and returns whether it finished.
bool RunToFile(const ReplicationProblem& problem, const std::string& path, int64_t replications, int threads,
         bool resume, int64_t stop_after = 0) {
  const ReplicaEstimator est(problem);
  const store::DrawIdentity id = MakeDrawIdentity(problem, "test-data", "{}");
  store::DrawWriter writer = store::DrawWriter::Open(path, id, replications, resume);
  std::atomic<bool> stop{false};
  RunnerOptions ro;
  ro.progress_seconds = 0;
  const RunReport rep = RunReplications(
      est, writer, stop,
      [&](const Progress& p) {
        if (stop_after > 0 && p.stored_this_run >= stop_after) stop.store(true);
      },
      parallel::Context(threads), ro);
  if (rep.interrupted) {
    writer.Interrupt();
    return false;
  }
  writer.Finish();
  return true;
}

void ExpectSameDraws(const std::string& a, const std::string& b) {
  const store::DrawSet x = store::ReadDraws(a), y = store::ReadDraws(b);
  ASSERT_EQ(x.datasets.size(), y.datasets.size());
  EXPECT_EQ(x.completed, y.completed);
  for (size_t d = 0; d < x.datasets.size(); ++d) {
    const auto& u = x.datasets[d].values_rc;
    const auto& v = y.datasets[d].values_rc;
    ASSERT_EQ(u.size(), v.size()) << x.datasets[d].name;
    // Bit for bit (NaN included).
    EXPECT_EQ(std::memcmp(u.data(), v.data(), u.size() * sizeof(double)), 0) << x.datasets[d].name;
  }
}

class RunnerTest : public ::testing::TestWithParam<Scheme> {};

TEST_P(RunnerTest, DrawsAreBitIdenticalAtOneAndTwoThreads) {
  const ReplicationProblem p = testing::MakeProblem(false, GetParam());
  const std::string one = TempPath(std::string(SchemeName(GetParam())) + "_1.h5");
  const std::string two = TempPath(std::string(SchemeName(GetParam())) + "_2.h5");
  ASSERT_TRUE(RunToFile(p, one, 24, 1, false));
  ASSERT_TRUE(RunToFile(p, two, 24, 2, false));
  ExpectSameDraws(one, two);
  const store::DrawSet d = store::ReadDraws(one);
  EXPECT_EQ(d.status, "complete");
  EXPECT_FALSE(std::filesystem::exists(one + ".journal"));
}

TEST_P(RunnerTest, AnInterruptedRunResumesToTheSameDraws) {
  const ReplicationProblem p = testing::MakeProblem(false, GetParam());
  const std::string full = TempPath(std::string(SchemeName(GetParam())) + "_full.h5");
  const std::string cut = TempPath(std::string(SchemeName(GetParam())) + "_cut.h5");
  ASSERT_TRUE(RunToFile(p, full, 30, 2, false));
  ASSERT_FALSE(RunToFile(p, cut, 30, 2, false, /*stop_after=*/8));
  const store::DrawSet partial = store::ReadDraws(cut);
  EXPECT_EQ(partial.status, "interrupted");
  int64_t stored = 0;
  for (uint8_t c : partial.completed) stored += c;
  EXPECT_GE(stored, 8);
  EXPECT_LT(stored, 30);
  ASSERT_TRUE(RunToFile(p, cut, 30, 1, /*resume=*/true));
  ExpectSameDraws(full, cut);
}

INSTANTIATE_TEST_SUITE_P(Schemes, RunnerTest,
                         ::testing::Values(Scheme::kPairs, Scheme::kBayes, Scheme::kWild, Scheme::kPermute),
                         [](const auto& param_info) { return std::string(SchemeName(param_info.param)); });

TEST(Runner, ResumeWithAnotherSeedIsRefused) {
  const std::string path = TempPath("seed.h5");
  ASSERT_FALSE(RunToFile(testing::MakeProblem(false, Scheme::kPairs, 1), path, 20, 1, false, 4));
  try {
    RunToFile(testing::MakeProblem(false, Scheme::kPairs, 2), path, 20, 1, true);
    FAIL() << "expected a refusal";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("seed"), std::string::npos) << e.what();
  }
}

TEST(Summary, BootstrapAndPermutationSummariesReadTheStoredDraws) {
  const ReplicationProblem p = testing::MakeProblem(false, Scheme::kPairs);
  const std::string path = TempPath("summary_pairs.h5");
  {
    const ReplicaEstimator est(p);
    const store::DrawIdentity id = MakeDrawIdentity(p, "test-data", "{}");
    store::DrawWriter writer = store::DrawWriter::Open(path, id, 40, false);
    EstimatorWorkspace ws;
    const std::vector<double> ones(static_cast<size_t>(p.num_obs()), 1.0);
    writer.WriteEstimate(ToDrawRecord(-1, est.EstimateWeighted(ones, ws, parallel::Context(1))));
    std::atomic<bool> stop{false};
    RunReplications(est, writer, stop, {}, parallel::Context(2));
    writer.Finish();
  }
  SummaryOptions so;
  so.rank_draws = 200;
  const ReplicationSummary s =
      SummariseDraws(store::ReadDraws(path), p.analytic_effect_cov_gg, so, parallel::Context(2));
  EXPECT_TRUE(s.bootstrap);
  EXPECT_EQ(s.stored, 40);
  EXPECT_EQ(s.quartile_share_gq.rows(), p.num_caseworkers());
  for (Eigen::Index g = 0; g < s.quartile_share_gq.rows(); ++g) EXPECT_NEAR(s.quartile_share_gq.row(g).sum(), 1.0, 1e-12);
  EXPECT_TRUE(s.have_bootstrap_rank_sets);
  EXPECT_TRUE(s.have_analytic_rank_sets);
  ASSERT_EQ(s.smooth.size(), 4u);
  EXPECT_EQ(s.smooth[0].name, "actual");
  EXPECT_GT(s.smooth[0].std_error, 0);
  EXPECT_EQ(s.coefficients.size(), p.covariate_names.size());
  for (size_t g = 0; g < s.bootstrap_std_error_g.size(); ++g) EXPECT_GT(s.bootstrap_std_error_g[g], 0);
}

}  // namespace
}  // namespace cwfx::replicate
