// Under mpirun (a build with -DCWFX_WITH_MPI=ON): 1, 2 and 3 ranks
// (oversubscribed on a 2-core machine) split the replications and the
// registers and end with the same draws as one process without MPI.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>

#include "cli/command_run.h"
#include "store/draw_file.h"

namespace cwfx {
namespace {

namespace fs = std::filesystem;

using testing::CommandRun;
using testing::ExpectSameDraws;

CommandRun Shell(const std::string& cmd) { return testing::RunCommand(cmd); }

// Open MPI refuses root without these; the test machine (CI) runs as root.
std::string MpiRun(int ranks, const std::string& args) {
  return std::string(CWFX_MPIRUN) + " --allow-run-as-root --oversubscribe --mca btl self,vader -np " +
         std::to_string(ranks) + " " + CWFX_BINARY + " " + args;
}

class MpiTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new fs::path(fs::temp_directory_path() / ("cwfx_mpi_test_" + std::to_string(::getpid())));
    fs::create_directories(*dir_);
    const CommandRun gen = Shell(std::string(CWFX_BINARY) + " generate --seed 3 --threads 2 --out " + Path("reg.h5"));
    ASSERT_EQ(gen.exit_code, 0) << gen.output;
  }
  static void TearDownTestSuite() {
    fs::remove_all(*dir_);
    delete dir_;
  }
  static std::string Path(const std::string& name) { return (*dir_ / name).string(); }
  static fs::path* dir_;
};
fs::path* MpiTest::dir_ = nullptr;

TEST_F(MpiTest, RanksGiveTheDrawsOfOneProcess) {
  const std::string common = "replicate --scheme pairs --replications 23 --seed 4 --threads 1 --rank-draws 100 "
                             "--quiet --no-report --data " + Path("reg.h5") + " --out ";
  const CommandRun one = Shell(std::string(CWFX_BINARY) + " " + common + Path("single.h5"));
  ASSERT_EQ(one.exit_code, 0) << one.output;
  for (int ranks : {1, 2, 3}) {
    const std::string out = Path("ranks" + std::to_string(ranks) + ".h5");
    const CommandRun r = Shell(MpiRun(ranks, common + out));
    ASSERT_EQ(r.exit_code, 0) << ranks << " ranks:\n" << r.output;
    ExpectSameDraws(Path("single.h5"), out);
    for (int k = 0; k < ranks; ++k) {  // the rank files are merged away
      EXPECT_FALSE(fs::exists(out + ".rank" + std::to_string(k) + "of" + std::to_string(ranks) + ".h5"));
    }
  }
}

TEST_F(MpiTest, RanksSplitTheRegistersOfASimulation) {
  const std::string common = "simulate --registers 5 --seed 2 --threads 1 --cross-fit-splits 2 --quiet --no-report "
                             "--set num_citizens=1500 --set regular_caseworkers_per_centre=5 --out ";
  const CommandRun one = Shell(std::string(CWFX_BINARY) + " " + common + Path("sim_single.h5"));
  ASSERT_EQ(one.exit_code, 0) << one.output;
  const CommandRun r = Shell(MpiRun(3, common + Path("sim_ranks.h5")));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  ExpectSameDraws(Path("sim_single.h5"), Path("sim_ranks.h5"));
}

TEST_F(MpiTest, CwfxWithoutMpiRefusesToRunUnderSeveralRanks) {
  std::string plain = CWFX_BINARY;
  plain.erase(plain.size() - 4);  // .../cwfx-mpi -> .../cwfx
  const std::string cmd = std::string(CWFX_MPIRUN) +
                          " --allow-run-as-root --oversubscribe --mca btl self,vader -np 2 " + plain +
                          " replicate --replications 4 --quiet --data " + Path("reg.h5") + " --out " +
                          Path("plain.h5");
  const CommandRun r = Shell(cmd);
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("built without MPI"), std::string::npos) << r.output;
}

TEST_F(MpiTest, ShardFlagIsRefusedUnderSeveralRanks) {
  const CommandRun r = Shell(MpiRun(2, "replicate --replications 4 --shard 0/2 --quiet --data " + Path("reg.h5") +
                                         " --out " + Path("refused.h5")));
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("--shard"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace cwfx
