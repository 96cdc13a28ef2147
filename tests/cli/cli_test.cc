// End to end through the command line, as a user runs it: generate a register,
// estimate on it, read the results file back, and check that bad input gives
// a clear message and a non-zero exit code.
#include <gtest/gtest.h>

#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "cli/command_run.h"
#include "store/draw_file.h"
#include "store/h5_file.h"
#include "store/table_store.h"

namespace cwfx {
namespace {

namespace fs = std::filesystem;

using testing::CommandRun;
using testing::ExpectSameDraws;

CommandRun Cwfx(const std::string& args) { return testing::RunCommand(std::string(CWFX_BINARY) + " " + args); }

class CliTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new fs::path(fs::temp_directory_path() / ("cwfx_cli_test_" + std::to_string(::getpid())));
    fs::create_directories(*dir_);
    const CommandRun gen = Cwfx("generate --seed 7 --threads 2 --out " + (*dir_ / "reg.h5").string());
    ASSERT_EQ(gen.exit_code, 0) << gen.output;
  }
  static void TearDownTestSuite() {
    fs::remove_all(*dir_);
    delete dir_;
  }
  static std::string Path(const std::string& name) { return (*dir_ / name).string(); }
  static fs::path* dir_;
};
fs::path* CliTest::dir_ = nullptr;

const char* kCovariates = "gender,age,education,B1,B2,B3,B4,B5,B6,B7,B8,B9,B10,B11";

// --config for subcommands: CLI11 reads configuration files only for the main
// program, so these keys were once silently ignored.
void WriteFile(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

TEST_F(CliTest, ConfigFileGivesASubcommandItsFlags) {
  WriteFile(Path("est.toml"), std::string("outcome = \"outcome\"\ncovariates = [\"age\", \"gender\"]\n") +
                                  "absorb = [\"caseworker_id\"]\nquiet = true\n");
  const CommandRun run = Cwfx("estimate --config " + Path("est.toml") + " --data " + Path("reg.h5") +
                              " --out " + Path("cfg_est.h5"));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  auto f = store::H5File::OpenReadOnly(Path("cfg_est.h5"));
  EXPECT_EQ(f.ReadStrings("/coefficients/name"), (std::vector<std::string>{"age", "gender"}));
}

TEST_F(CliTest, CommandLineWinsOverTheConfigFile) {
  WriteFile(Path("est2.toml"), "outcome = \"outcome\"\ncovariates = [\"age\", \"gender\"]\nabsorb = [\"caseworker_id\"]\n");
  const CommandRun run = Cwfx("estimate --config " + Path("est2.toml") + " --covariates education --data " +
                              Path("reg.h5") + " --out " + Path("cfg_est2.h5"));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  auto f = store::H5File::OpenReadOnly(Path("cfg_est2.h5"));
  EXPECT_EQ(f.ReadStrings("/coefficients/name"), (std::vector<std::string>{"education"}));
}

TEST_F(CliTest, ReplicateTakesItsReplicationsFromTheConfigFile) {
  WriteFile(Path("rep.toml"), "replications = 7\nscheme = \"wild\"\n");
  const std::string out = Path("cfg_rep.h5");
  const CommandRun run = Cwfx("replicate --config " + Path("rep.toml") + " --seed 2 --data " + Path("reg.h5") +
                              " --no-report --quiet --out " + out);
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const store::DrawSet draws = store::ReadDraws(out);
  EXPECT_EQ(draws.replications, 7);
  EXPECT_EQ(draws.status, "complete");
}

TEST_F(CliTest, BadConfigFilesAreErrorsNamingFileAndKey) {
  WriteFile(Path("unknown.toml"), "outcome = \"outcome\"\nreplications = 7\n");
  CommandRun run = Cwfx("estimate --config " + Path("unknown.toml") + " --data " + Path("reg.h5") +
                        " --absorb caseworker_id --out " + Path("never.h5"));
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_NE(run.output.find("unknown.toml"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("'replications'"), std::string::npos) << run.output;

  run = Cwfx("estimate --config " + Path("no_such.toml") + " --data " + Path("reg.h5") + " --out " +
             Path("never.h5"));
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_NE(run.output.find("no_such.toml"), std::string::npos) << run.output;

  WriteFile(Path("badtype.toml"), "replications = \"many\"\n");
  run = Cwfx("replicate --config " + Path("badtype.toml") + " --data " + Path("reg.h5") +
             " --no-report --quiet --out " + Path("never_rep.h5"));
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_FALSE(fs::exists(Path("never_rep.h5")));
  EXPECT_FALSE(fs::exists(Path("never.h5")));
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Outputs never destroy inputs or earlier results: each case once exited 0
// after replacing the register, the draws or a finished study.
TEST_F(CliTest, EstimateNeverWritesOverItsRegister) {
  WriteFile(Path("small.csv"), "y,x,cw\n1,0.5,a\n2,0.1,a\n3,0.9,b\n4.5,0.3,b\n5,0.2,c\n6,0.7,c\n");
  const std::string before = ReadAll(Path("small.csv"));
  for (const char* extra : {"", " --overwrite"}) {
    const CommandRun run = Cwfx("estimate --data " + Path("small.csv") + " --outcome y --covariates x --absorb cw --out " +
                                Path("small.csv") + extra);
    EXPECT_EQ(run.exit_code, 2) << run.output;
    EXPECT_NE(run.output.find("same file as the input --data"), std::string::npos) << run.output;
  }
  EXPECT_EQ(ReadAll(Path("small.csv")), before);
}

TEST_F(CliTest, EstimateReplacesEarlierResultsOnlyWithOverwrite) {
  const std::string args = "estimate --data " + Path("reg.h5") + " --outcome outcome --covariates age --absorb "
                           "caseworker_id --quiet --out " + Path("twice.h5");
  ASSERT_EQ(Cwfx(args).exit_code, 0);
  const std::string first = ReadAll(Path("twice.h5"));
  const CommandRun again = Cwfx(args);
  EXPECT_EQ(again.exit_code, 2) << again.output;
  EXPECT_NE(again.output.find("already exists; pass --overwrite"), std::string::npos) << again.output;
  EXPECT_EQ(ReadAll(Path("twice.h5")), first);
  EXPECT_EQ(Cwfx(args + " --overwrite").exit_code, 0);
  const CommandRun nowhere = Cwfx("estimate --data " + Path("reg.h5") + " --outcome outcome --absorb caseworker_id "
                                  "--out " + Path("no_such_dir/x.h5"));
  EXPECT_EQ(nowhere.exit_code, 2) << nowhere.output;
  EXPECT_NE(nowhere.output.find("does not exist"), std::string::npos) << nowhere.output;
}

TEST_F(CliTest, ReplicateNeverWritesOverItsRegisterOrItsDraws) {
  const std::string reg = ReadAll(Path("reg.h5"));
  const std::string common = "replicate --replications 3 --seed 1 --threads 1 --quiet --data " + Path("reg.h5");
  CommandRun run = Cwfx(common + " --overwrite --no-report --out " + Path("reg.h5"));
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_NE(run.output.find("same file as the input --data"), std::string::npos) << run.output;
  run = Cwfx(common + " --report " + Path("reg.h5") + " --out " + Path("r_draws.h5"));
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_EQ(ReadAll(Path("reg.h5")), reg);
  run = Cwfx(common + " --report " + Path("r_same.h5") + " --out " + Path("r_same.h5"));
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_NE(run.output.find("are the same file"), std::string::npos) << run.output;
  EXPECT_FALSE(fs::exists(Path("r_draws.h5")));
  EXPECT_FALSE(fs::exists(Path("r_same.h5")));
}

TEST_F(CliTest, StudyReplacesAnEarlierStudyOnlyWithOverwrite) {
  const std::string dir = Path("earlier_study");
  fs::create_directories(dir);
  WriteFile(dir + "/register.h5", "an earlier register");
  const CommandRun run = Cwfx("study --quiet --no-corrections --out " + dir);
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_NE(run.output.find("the generated register already exists"), std::string::npos) << run.output;
  EXPECT_EQ(ReadAll(dir + "/register.h5"), "an earlier register");
  EXPECT_FALSE(fs::exists(dir + "/results.h5"));
}

// A full disk (here a file-size limit, SIGXFSZ ignored as a shell's trap
// does): a clear error with its own exit code (7: an output could not be
// written, not bad input), no partial file - not a crash in HDF5's cleanup at
// exit (it was exit 139).
TEST_F(CliTest, AFullDiskIsAnOutputErrorNotACrash) {
  const std::string limited = "ulimit -f 64; trap '' XFSZ; ";
  const std::string res = Path("full_res.h5");
  CommandRun run = testing::RunCommand(limited + CWFX_BINARY + " estimate --data " + Path("reg.h5") +
                                       " --outcome outcome --covariates age --absorb caseworker_id,citizen_id "
                                       "--residuals --quiet --out " + res);
  EXPECT_EQ(run.exit_code, 7) << run.output;
  EXPECT_NE(run.output.find("disk full"), std::string::npos) << run.output;
  EXPECT_FALSE(fs::exists(res));
  EXPECT_FALSE(fs::exists(res + ".tmp"));
  const std::string dir = Path("full_study");
  run = testing::RunCommand(limited + CWFX_BINARY + " study --quiet --no-corrections --out " + dir);
  EXPECT_EQ(run.exit_code, 7) << run.output;
  EXPECT_FALSE(fs::exists(dir + "/results.h5"));
  const std::string csv = Path("full_register.csv");
  run = testing::RunCommand("ulimit -f 16; trap '' XFSZ; " + std::string(CWFX_BINARY) +
                            " generate --seed 3 --threads 1 --out " + csv);
  EXPECT_EQ(run.exit_code, 7) << run.output;
  EXPECT_NE(run.output.find("full_register.csv"), std::string::npos) << run.output;
  EXPECT_FALSE(fs::exists(csv));
}

// A caseworker absent from some of 30 resamples made the covariance of the
// effects indefinite, and the run ended with "bad input" and no report.
TEST_F(CliTest, ASmallPairsBootstrapFinishesWithItsRankSets) {
  const std::string out = Path("small_pairs.h5");
  const CommandRun run = Cwfx("replicate --scheme pairs --replications 30 --seed 2 --threads 2 --data " +
                              Path("reg.h5") + " --out " + out);
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("nearest semi-definite matrix"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("Rank confidence sets (bootstrap covariance)"), std::string::npos) << run.output;
  EXPECT_TRUE(fs::exists(Path("small_pairs.html")));
}

// A register through a pipe: "-" is standard input, a FIFO is read once
// (it was reopened to fingerprint it, and hung), devices are refused.
TEST_F(CliTest, RegistersCanArriveThroughAPipe) {
  ASSERT_EQ(Cwfx("generate --seed 7 --threads 1 --overwrite --out " + Path("piped.csv")).exit_code, 0);
  const std::string model = " --outcome outcome --covariates age,gender --absorb caseworker_id --quiet --out ";
  CommandRun run = Cwfx("estimate --data " + Path("piped.csv") + model + Path("from_file.h5"));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  run = testing::RunCommand("cat " + Path("piped.csv") + " | " + CWFX_BINARY + " estimate --data -" + model +
                            Path("from_stdin.h5"));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const std::string fifo = Path("register.fifo");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  // The writer is bounded and detached, so a reader that never comes cannot
  // hang the test.
  run = testing::RunCommand("(timeout 60 sh -c 'cat " + Path("piped.csv") + " > " + fifo +
                            "' > /dev/null 2>&1 &); timeout 120 " + CWFX_BINARY +
                            " estimate --data " + fifo + model + Path("from_fifo.h5"));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  auto a = store::H5File::OpenReadOnly(Path("from_file.h5"));
  for (const char* other : {"from_stdin.h5", "from_fifo.h5"}) {
    auto b = store::H5File::OpenReadOnly(Path(other));
    EXPECT_EQ(a.ReadDoubles("/coefficients/estimate"), b.ReadDoubles("/coefficients/estimate")) << other;
    EXPECT_EQ(a.GetStringAttribute("/", "data_fingerprint"), b.GetStringAttribute("/", "data_fingerprint")) << other;
  }
  run = Cwfx("estimate --data /dev/zero --outcome y --out " + Path("zero.h5"));
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_NE(run.output.find("not a regular file or a pipe"), std::string::npos) << run.output;
}

// Absurd values are usage errors before any work: 1e12 replications once
// allocated until std::bad_alloc and left a stub file and journal, a seed of
// -1 wrapped to 2^64 - 1, and --threads -1 meant all cores.
TEST_F(CliTest, AbsurdFlagValuesAreRefusedBeforeAnyWork) {
  const std::string out = Path("absurd.h5");
  const std::string replicate = "replicate --no-report --quiet --data " + Path("reg.h5") + " --out " + out;
  for (const std::string bad : {" --replications 1e12", " --replications -5", " --seed -1",
                                " --seed 18446744073709551616", " --seed 12abc", " --threads -1",
                                " --threads 100000", " --replications 2.5"}) {
    const CommandRun run = Cwfx(replicate + bad);
    EXPECT_EQ(run.exit_code, 2) << bad << ": " << run.output;
    EXPECT_FALSE(fs::exists(out)) << bad;
    EXPECT_FALSE(fs::exists(out + ".journal")) << bad;
  }
  const CommandRun sim = Cwfx("simulate --registers 1e12 --seed 1 --quiet --out " + Path("absurd_sim.h5"));
  EXPECT_EQ(sim.exit_code, 2) << sim.output;
  EXPECT_NE(sim.output.find("--registers: must be from 0 to 10000000"), std::string::npos) << sim.output;
  EXPECT_FALSE(fs::exists(Path("absurd_sim.h5")));
  // The largest seed is a seed.
  const CommandRun top = Cwfx("replicate --replications 2 --seed 18446744073709551615 --threads 1 --no-report "
                              "--quiet --data " + Path("reg.h5") + " --out " + Path("top_seed.h5"));
  EXPECT_EQ(top.exit_code, 0) << top.output;
}

// --overwrite while another run holds the journal once let the two runs
// destroy each other's work.
TEST_F(CliTest, OverwriteRefusesDrawsAnotherRunIsWriting) {
  const std::string out = Path("busy.h5");
  WriteFile(out, "draws of a running job");
  WriteFile(out + ".journal", "its journal");
  const int fd = ::open((out + ".journal").c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::flock(fd, LOCK_EX | LOCK_NB), 0);  // as the running writer holds it
  const CommandRun run = Cwfx("replicate --replications 3 --seed 1 --threads 1 --no-report --quiet --overwrite "
                              "--data " + Path("reg.h5") + " --out " + out);
  ::close(fd);
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_NE(run.output.find("another run is writing these draws"), std::string::npos) << run.output;
  EXPECT_EQ(ReadAll(out), "draws of a running job");
  EXPECT_EQ(ReadAll(out + ".journal"), "its journal");
}

TEST_F(CliTest, EstimateWritesTheDocumentedSchema) {
  const CommandRun run = Cwfx("estimate --data " + Path("reg.h5") + " --outcome outcome --covariates " +
                       kCovariates + " --absorb caseworker_id --cluster caseworker_id --out " +
                       Path("est.h5"));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("Estimate"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("R2 without caseworker_id"), std::string::npos) << run.output;

  auto f = store::H5File::OpenReadOnly(Path("est.h5"));
  const auto names = f.ReadStrings("/coefficients/name");
  EXPECT_EQ(names.size(), 14u);
  EXPECT_EQ(f.ReadDoubles("/coefficients/estimate").size(), names.size());
  const auto se = f.ReadDoubles("/coefficients/std_error");
  ASSERT_EQ(se.size(), names.size());
  for (double s : se) EXPECT_GT(s, 0.0);

  const std::string g = "/fixed_effects/caseworker_id";
  const auto ids = f.ReadInt64(g + "/id");
  const auto effect = f.ReadDoubles(g + "/effect");
  const auto fe_se = f.ReadDoubles(g + "/std_error");
  const auto n_obs = f.ReadInt64(g + "/n_obs");
  const auto comp = f.ReadInt32(g + "/component");
  ASSERT_GT(ids.size(), 100u);
  EXPECT_EQ(effect.size(), ids.size());
  EXPECT_EQ(fe_se.size(), ids.size());
  EXPECT_EQ(n_obs.size(), ids.size());
  EXPECT_EQ(comp.size(), ids.size());

  // Ids are the caseworker ids of the input file, each once.
  const auto reg = store::ReadAnyTable(Path("reg.h5"), {});
  std::set<int64_t> input_ids;
  for (double v : reg.column("caseworker_id").numeric) input_ids.insert(static_cast<int64_t>(v));
  std::set<int64_t> out_ids(ids.begin(), ids.end());
  EXPECT_EQ(out_ids.size(), ids.size());
  for (int64_t id : ids) EXPECT_TRUE(input_ids.count(id)) << id;

  // Provenance travels with the results.
  EXPECT_FALSE(f.GetStringAttribute("/", "data_fingerprint").empty());
  EXPECT_FALSE(f.GetStringAttribute("/", "engine_version").empty());
  EXPECT_GT(f.GetDoubleAttribute("/fit", "r2"), f.GetDoubleAttribute("/fit", "r2_without"));
}

TEST_F(CliTest, CsvAndHdf5RegistersGiveTheSameFit) {
  ASSERT_EQ(Cwfx("generate --seed 7 --threads 1 --out " + Path("reg.csv")).exit_code, 0);
  const std::string common =
      std::string(" --outcome outcome --covariates ") + kCovariates + " --absorb caseworker_id --quiet";
  ASSERT_EQ(Cwfx("estimate --data " + Path("reg.csv") + common + " --out " + Path("a.h5")).exit_code, 0);
  ASSERT_EQ(Cwfx("estimate --data " + Path("reg.h5") + common + " --out " + Path("b.h5")).exit_code, 0);
  auto a = store::H5File::OpenReadOnly(Path("a.h5"));
  auto b = store::H5File::OpenReadOnly(Path("b.h5"));
  const auto ea = a.ReadDoubles("/coefficients/estimate");
  const auto eb = b.ReadDoubles("/coefficients/estimate");
  ASSERT_EQ(ea.size(), eb.size());
  for (size_t i = 0; i < ea.size(); ++i) EXPECT_NEAR(ea[i], eb[i], 1e-12 * (1 + std::abs(ea[i])));
}

TEST_F(CliTest, TwoWayFitWithCitizenEffects) {
  const CommandRun run = Cwfx("estimate --data " + Path("reg.h5") + " --outcome outcome --covariates " +
                       kCovariates + " --absorb caseworker_id,citizen_id --out " + Path("two.h5") +
                       " --compare-recoveries");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  auto f = store::H5File::OpenReadOnly(Path("two.h5"));
  EXPECT_TRUE(f.Exists("/fixed_effects/caseworker_id/effect"));
  EXPECT_TRUE(f.Exists("/fixed_effects/citizen_id/effect"));
}

TEST_F(CliTest, MissingColumnIsAClearError) {
  const CommandRun run = Cwfx("estimate --data " + Path("reg.h5") +
                       " --outcome outcome --covariates age,no_such_column --absorb caseworker_id --out " +
                       Path("bad.h5"));
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_NE(run.output.find("no_such_column"), std::string::npos) << run.output;
  EXPECT_FALSE(fs::exists(Path("bad.h5")));
}

TEST_F(CliTest, NonNumericValueNamesFileRowAndColumn) {
  {
    std::ofstream out(Path("bad.csv"));
    out << "y,x,cw\n1,0.5,1\n0,0.7,1\n1,abc,2\n0,0.1,2\n";
  }
  const CommandRun run = Cwfx("estimate --data " + Path("bad.csv") + " --outcome y --covariates x --absorb cw --out " +
                       Path("bad2.h5"));
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_NE(run.output.find("bad.csv"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("row 3"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("'x'"), std::string::npos) << run.output;
}

TEST_F(CliTest, UnknownFlagFailsWithUsage) {
  const CommandRun run = Cwfx("estimate --bogus");
  EXPECT_EQ(run.exit_code, 2) << run.output;
  const CommandRun missing_file =
      Cwfx("estimate --data " + Path("no_such_file.csv") + " --outcome y --out " + Path("x.h5"));
  EXPECT_EQ(missing_file.exit_code, 2) << missing_file.output;
  EXPECT_EQ(Cwfx("estimate --help").exit_code, 0);
}

TEST_F(CliTest, NonConvergenceIsExitCodeFourWithResultsKept) {
  // Two factors and one iteration: the absorption cannot converge.
  const CommandRun run = Cwfx("estimate --data " + Path("reg.h5") + " --outcome outcome --covariates " +
                              kCovariates + " --absorb caseworker_id,citizen_id --max-iterations 1 --out " +
                              Path("nc.h5"));
  EXPECT_EQ(run.exit_code, 4) << run.output;
  EXPECT_NE(run.output.find("WARNING"), std::string::npos) << run.output;
  EXPECT_TRUE(fs::exists(Path("nc.h5")));
}

TEST_F(CliTest, RowsAreInputRowsAfterMissingRowsAreDropped) {
  {
    std::ofstream out(Path("drop.csv"));
    out << "y,x,cw,w\n1,0.5,1,1\n,0.7,1,1\n0,0.2,1,1\n1,0.9,2,-1\n0,0.1,2,1\n1,0.3,2,1\n";
  }
  // Row 2 is dropped for its missing outcome; the bad weight is still row 4.
  const CommandRun bad = Cwfx("estimate --data " + Path("drop.csv") +
                              " --outcome y --covariates x --absorb cw --weights w --missing drop --out " +
                              Path("drop_bad.h5"));
  EXPECT_EQ(bad.exit_code, 2) << bad.output;
  EXPECT_NE(bad.output.find("row 4"), std::string::npos) << bad.output;

  {
    std::ofstream out(Path("drop2.csv"));
    out << "y,x,cw\n1,0.5,1\n,0.7,1\n0,0.2,1\n1,0.9,2\n0,0.1,2\n1,0.3,2\n";
  }
  const CommandRun ok = Cwfx("estimate --data " + Path("drop2.csv") +
                             " --outcome y --covariates x --absorb cw --missing drop --residuals --quiet --out " +
                             Path("drop_ok.h5"));
  ASSERT_EQ(ok.exit_code, 0) << ok.output;
  auto f = store::H5File::OpenReadOnly(Path("drop_ok.h5"));
  EXPECT_EQ(f.ReadInt64("/residuals/row"), (std::vector<int64_t>{0, 2, 3, 4, 5}));
}

TEST_F(CliTest, StudyWritesResultsAndASelfContainedReport) {
  const std::string out = Path("study");
  const CommandRun run = Cwfx("study --seed 11 --threads 2 --out " + out);
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_TRUE(fs::exists(out + "/register.h5"));
  EXPECT_TRUE(fs::exists(out + "/results.h5"));
  std::ifstream in(out + "/report.html");
  std::stringstream html;
  html << in.rdbuf();
  EXPECT_NE(html.str().find("<svg"), std::string::npos);
  EXPECT_EQ(html.str().find("http://"), std::string::npos);
  EXPECT_EQ(html.str().find("https://"), std::string::npos);

  // The same study from the register it wrote gives the same Table 1.
  const CommandRun again = Cwfx("study --data " + out + "/register.h5 --out " + Path("study2") + " --quiet");
  ASSERT_EQ(again.exit_code, 0) << again.output;
  auto a = store::H5File::OpenReadOnly(out + "/results.h5");
  auto b = store::H5File::OpenReadOnly(Path("study2") + "/results.h5");
  EXPECT_EQ(a.ReadDoubles("/table1/share"), b.ReadDoubles("/table1/share"));
}

TEST_F(CliTest, StudyWritesItsCorrectionsToTheResultsFileAndTheReport) {
  const std::string dir = Path("study_corrections");
  const CommandRun run = Cwfx("study --data " + Path("reg.h5") + " --threads 2 --cross-fit-splits 4 --out " + dir);
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("corrected for the winner's curse"), std::string::npos) << run.output;
  const store::H5File f = store::H5File::OpenReadOnly(dir + "/results.h5");
  const std::vector<std::string> quantity = f.ReadStrings("/corrections/policy/quantity");
  const std::vector<double> estimate = f.ReadDoubles("/corrections/policy/estimate");
  ASSERT_EQ(quantity.size(), estimate.size());
  ASSERT_EQ(quantity.front(), "naive");
  // The naive gain is Table 1's increase.
  const std::vector<double> share = f.ReadDoubles("/table1/share");
  EXPECT_NEAR(estimate.front(), share.back(), 1e-12);
  for (double e : estimate) EXPECT_TRUE(std::isfinite(e));
  const std::vector<double> prob = f.ReadDoubles("/corrections/effects/prob_top_normal");
  EXPECT_EQ(prob.size(), f.ReadDoubles("/ranking/effect").size());
  double total = 0;
  for (double p : prob) total += p;
  EXPECT_NEAR(total, static_cast<double>(f.GetInt64Attribute("/corrections", "top_size")), 1e-9);
  EXPECT_GT(f.GetDoubleAttribute("/corrections/variance", "plugin"),
            f.GetDoubleAttribute("/corrections/variance", "kss"));
  std::ifstream html(dir + "/report.html");
  const std::string page((std::istreambuf_iterator<char>(html)), std::istreambuf_iterator<char>());
  EXPECT_NE(page.find("Corrections: winner"), std::string::npos);
}

TEST_F(CliTest, StudyNonConvergenceIsExitCodeFour) {
  const CommandRun run = Cwfx("study --data " + Path("reg.h5") + " --citizen-effects --max-iterations 1 --out " +
                              Path("study_nc") + " --quiet");
  EXPECT_EQ(run.exit_code, 4) << run.output;
}


// Starts cwfx with `args` (stdout and stderr to /dev/null), waits until the
// file `watch` holds more than `bytes` bytes, then sends `sig`. Returns the
// exit status from waitpid, or -1 when the run ended before the signal.
int SignalMidRun(const std::vector<std::string>& args, const std::string& watch, uintmax_t bytes, int sig) {
  const pid_t pid = fork();
  if (pid == 0) {
    const int null = open("/dev/null", O_WRONLY);
    dup2(null, 1);
    dup2(null, 2);
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(CWFX_BINARY));
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(CWFX_BINARY, argv.data());
    _exit(127);
  }
  int status = 0;
  for (;;) {
    if (waitpid(pid, &status, WNOHANG) == pid) return -1;
    std::error_code ec;
    if (fs::exists(watch, ec) && fs::file_size(watch, ec) > bytes) break;
    usleep(500);
  }
  kill(pid, sig);
  waitpid(pid, &status, 0);
  return status;
}

TEST_F(CliTest, ReplicateResumesAfterKillNineWithTheSameDraws) {
  const std::string killed = Path("killed.h5"), whole = Path("whole.h5");
  const std::vector<std::string> args = {"replicate", "--scheme", "wild", "--replications", "3000", "--seed", "5",
                                         "--threads", "1", "--data", Path("reg.h5"), "--no-report", "--quiet",
                                         "--out", killed};
  const int status = SignalMidRun(args, killed + ".journal", 40000, SIGKILL);
  ASSERT_NE(status, -1) << "the run ended before it could be killed";
  ASSERT_TRUE(WIFSIGNALED(status));
  ASSERT_TRUE(fs::exists(killed + ".journal"));
  const CommandRun resumed = Cwfx("replicate --scheme wild --replications 3000 --seed 5 --threads 2 --data " +
                                  Path("reg.h5") + " --no-report --quiet --resume --out " + killed);
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_FALSE(fs::exists(killed + ".journal"));
  const CommandRun once = Cwfx("replicate --scheme wild --replications 3000 --seed 5 --threads 2 --data " +
                               Path("reg.h5") + " --no-report --quiet --out " + whole);
  ASSERT_EQ(once.exit_code, 0) << once.output;
  ExpectSameDraws(killed, whole);
}

TEST_F(CliTest, ReplicateStopsCleanlyOnSigintAndResumes) {
  const std::string cut = Path("sigint.h5"), whole = Path("sigint_whole.h5");
  const std::string common = " --scheme permute --replications 400 --seed 3 --data " + Path("reg.h5") +
                             " --no-report --quiet --rank-draws 100 --out ";
  const std::vector<std::string> args = {"replicate", "--scheme", "permute", "--replications", "400", "--seed", "3",
                                         "--threads", "1", "--data", Path("reg.h5"), "--no-report", "--quiet",
                                         "--rank-draws", "100", "--out", cut};
  const int status = SignalMidRun(args, cut + ".journal", 20000, SIGINT);
  ASSERT_NE(status, -1) << "the run ended before it could be interrupted";
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 5);
  const store::DrawSet partial = store::ReadDraws(cut);
  EXPECT_EQ(partial.status, "interrupted");
  // Without --resume the finished draws are not overwritten.
  const CommandRun refused = Cwfx("replicate" + common + cut);
  EXPECT_EQ(refused.exit_code, 2) << refused.output;
  EXPECT_NE(refused.output.find("--resume"), std::string::npos) << refused.output;
  const CommandRun resumed = Cwfx("replicate --threads 2 --resume" + common + cut);
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  const CommandRun once = Cwfx("replicate --threads 2" + common + whole);
  ASSERT_EQ(once.exit_code, 0) << once.output;
  ExpectSameDraws(cut, whole);
}

TEST_F(CliTest, ShardsMergeToTheDrawsOfOneProcessAndALostShardCostsOnlyItsRerun) {
  const std::string common = "replicate --scheme pairs --replications 25 --seed 9 --threads 2 --data " +
                             Path("reg.h5") + " --rank-draws 100 --quiet --no-report";
  ASSERT_EQ(Cwfx(common + " --out " + Path("unsharded.h5")).exit_code, 0);
  std::vector<std::string> shards;
  for (int i = 0; i < 3; ++i) {
    shards.push_back(Path("shard" + std::to_string(i) + ".h5"));
    const CommandRun r = Cwfx(common + " --shard " + std::to_string(i) + "/3 --out " + shards.back());
    ASSERT_EQ(r.exit_code, 0) << r.output;
    const store::DrawSet d = store::ReadDraws(shards.back());
    EXPECT_EQ(d.status, "complete");
    EXPECT_EQ(d.shard_index, i);
    EXPECT_EQ(d.shard_count, 3);
  }
  const std::string all = shards[2] + " " + shards[0] + " " + shards[1];  // any order
  const CommandRun merged = Cwfx("merge --out " + Path("merged.h5") + " " + all);
  ASSERT_EQ(merged.exit_code, 0) << merged.output;
  ExpectSameDraws(Path("merged.h5"), Path("unsharded.h5"));

  // A deleted shard is named; rerunning that shard alone mends it.
  fs::remove(shards[1]);
  CommandRun lost = Cwfx("merge --out " + Path("merged_lost.h5") + " " + all);
  EXPECT_EQ(lost.exit_code, 2) << lost.output;
  EXPECT_NE(lost.output.find(shards[1]), std::string::npos) << lost.output;
  lost = Cwfx("merge --out " + Path("merged_lost.h5") + " " + shards[0] + " " + shards[2]);
  EXPECT_EQ(lost.exit_code, 2) << lost.output;
  EXPECT_NE(lost.output.find("shard 1/3 is missing"), std::string::npos) << lost.output;
  ASSERT_EQ(Cwfx(common + " --shard 1/3 --out " + shards[1]).exit_code, 0);
  ASSERT_EQ(Cwfx("merge --overwrite --out " + Path("merged.h5") + " " + all).exit_code, 0);
  ExpectSameDraws(Path("merged.h5"), Path("unsharded.h5"));

  // A shard of another seed, a corrupt one and a repeated one are refused by name.
  const std::string other = Path("shard1_seed10.h5");
  ASSERT_EQ(Cwfx("replicate --scheme pairs --replications 25 --seed 10 --threads 2 --data " + Path("reg.h5") +
                 " --rank-draws 100 --quiet --no-report --shard 1/3 --out " + other)
                .exit_code,
            0);
  CommandRun bad = Cwfx("merge --out " + Path("m_seed.h5") + " " + shards[0] + " " + other + " " + shards[2]);
  EXPECT_EQ(bad.exit_code, 2) << bad.output;
  EXPECT_NE(bad.output.find("seed differs"), std::string::npos) << bad.output;
  EXPECT_NE(bad.output.find(other), std::string::npos) << bad.output;
  const std::string corrupt = Path("shard_corrupt.h5");
  std::ofstream(corrupt) << "not an HDF5 file";
  bad = Cwfx("merge --out " + Path("m_corrupt.h5") + " " + shards[0] + " " + corrupt + " " + shards[2]);
  EXPECT_EQ(bad.exit_code, 2) << bad.output;
  EXPECT_NE(bad.output.find(corrupt), std::string::npos) << bad.output;
  bad = Cwfx("merge --out " + Path("m_twice.h5") + " " + all + " " + shards[0]);
  EXPECT_EQ(bad.exit_code, 2) << bad.output;
  EXPECT_NE(bad.output.find("two files for shard 0/3"), std::string::npos) << bad.output;
  EXPECT_FALSE(fs::exists(Path("m_seed.h5")) || fs::exists(Path("m_corrupt.h5")) || fs::exists(Path("m_twice.h5")));

  // A merge on a full disk: exit 7, no partial merged file or journal left
  // behind, and no advice to --resume (merge has none); run again, it works.
  const std::string full = Path("m_full.h5");
  bad = testing::RunCommand("ulimit -f 8; trap '' XFSZ; " + std::string(CWFX_BINARY) + " merge --out " + full +
                            " " + all);
  EXPECT_EQ(bad.exit_code, 7) << bad.output;
  EXPECT_NE(bad.output.find("run the same merge again"), std::string::npos) << bad.output;
  EXPECT_EQ(bad.output.find("--resume"), std::string::npos) << bad.output;
  EXPECT_FALSE(fs::exists(full) || fs::exists(full + ".journal"));
  ASSERT_EQ(Cwfx("merge --quiet --out " + full + " " + all).exit_code, 0);
  ExpectSameDraws(full, Path("unsharded.h5"));
}

TEST_F(CliTest, SimulationShardsMergeToTheRowsOfOneProcess) {
  const std::string common =
      "simulate --registers 5 --seed 4 --threads 2 --cross-fit-splits 2 --quiet --no-report --set num_citizens=1500 "
      "--set regular_caseworkers_per_centre=5";
  ASSERT_EQ(Cwfx(common + " --out " + Path("sim_whole.h5")).exit_code, 0);
  std::string all;
  for (int i = 0; i < 2; ++i) {
    const std::string s = Path("sim_shard" + std::to_string(i) + ".h5");
    const CommandRun r = Cwfx(common + " --shard " + std::to_string(i) + "/2 --out " + s);
    ASSERT_EQ(r.exit_code, 0) << r.output;
    all += " " + s;
  }
  ASSERT_EQ(Cwfx("merge --out " + Path("sim_merged.h5") + all).exit_code, 0);
  ExpectSameDraws(Path("sim_merged.h5"), Path("sim_whole.h5"));
  const CommandRun bad = Cwfx(common + " --shard 2/2 --out " + Path("sim_bad.h5"));
  EXPECT_EQ(bad.exit_code, 2) << bad.output;
}

TEST_F(CliTest, ReplicateRefusesToResumeOnOtherData) {
  const std::string out = Path("otherdata.h5");
  const CommandRun first = Cwfx("replicate --scheme bayes --replications 20 --seed 1 --data " + Path("reg.h5") +
                                " --no-report --quiet --out " + out);
  ASSERT_EQ(first.exit_code, 0) << first.output;
  const CommandRun gen = Cwfx("generate --seed 8 --threads 2 --out " + Path("reg8.h5"));
  ASSERT_EQ(gen.exit_code, 0) << gen.output;
  const CommandRun other = Cwfx("replicate --scheme bayes --replications 40 --seed 1 --data " + Path("reg8.h5") +
                                " --no-report --quiet --resume --out " + out);
  EXPECT_EQ(other.exit_code, 2) << other.output;
  EXPECT_NE(other.output.find("fingerprint"), std::string::npos) << other.output;
}

TEST_F(CliTest, StudyWithReplicationsShowsStabilityAndBootstrapErrorsInTheReport) {
  const std::string dir = Path("study_reps");
  const CommandRun run = Cwfx("study --data " + Path("reg.h5") +
                              " --threads 2 --bootstrap 60 --permutations 40 --quiet --out " + dir);
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const store::DrawSet boot = store::ReadDraws(dir + "/bootstrap.h5");
  EXPECT_EQ(boot.identity.scheme, "pairs");
  EXPECT_EQ(boot.replications, 60);
  EXPECT_EQ(store::ReadDraws(dir + "/permutation.h5").identity.scheme, "permute");
  std::ifstream in(dir + "/report.html");
  const std::string html((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(html.find("Replications"), std::string::npos);
  EXPECT_NE(html.find("stability"), std::string::npos);
}

}  // namespace
}  // namespace cwfx
