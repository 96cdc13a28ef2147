// The output-path rule: inputs are never outputs (by inode, so links and
// other spellings count), outputs are distinct, existing files are replaced
// only when allowed, and an output's directory must take a new file.
#include "core/output_paths.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "core/error.h"

namespace cwfx {
namespace {

namespace fs = std::filesystem;

class OutputPathsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("cwfx_output_paths_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    std::ofstream(Path("register.csv")) << "y,x\n1,2\n";
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Path(const std::string& name) const { return (dir_ / name).string(); }

  // The message of the Error CheckOutputPaths throws, or "" when it passes.
  static std::string Refusal(const OutputPathCheck& check) {
    try {
      CheckOutputPaths(check);
    } catch (const Error& e) {
      return e.what();
    }
    return "";
  }
  OutputPathCheck ReadRegisterWrite(const std::string& out) const {
    OutputPathCheck c;
    c.inputs = {{Path("register.csv"), "--data"}};
    c.outputs = {{out, "--out"}};
    return c;
  }

  fs::path dir_;
};

TEST_F(OutputPathsTest, ANewFileInAWritableDirectoryPasses) {
  EXPECT_EQ(Refusal(ReadRegisterWrite(Path("results.h5"))), "");
  EXPECT_FALSE(fs::exists(Path("results.h5")));  // checking creates nothing
}

TEST_F(OutputPathsTest, AnOutputThatIsAnInputIsRefusedEvenWithOverwrite) {
  OutputPathCheck c = ReadRegisterWrite(Path("register.csv"));
  c.overwrite = true;
  EXPECT_NE(Refusal(c).find("same file as the input --data"), std::string::npos) << Refusal(c);
  // Another spelling, a symbolic link and a hard link are the same file.
  fs::create_directories(Path("sub"));
  EXPECT_NE(Refusal(ReadRegisterWrite(Path("sub/../register.csv"))).find("same file"), std::string::npos);
  fs::create_symlink(Path("register.csv"), Path("link.csv"));
  EXPECT_NE(Refusal(ReadRegisterWrite(Path("link.csv"))).find("same file"), std::string::npos);
  fs::create_hard_link(Path("register.csv"), Path("hard.csv"));
  c = ReadRegisterWrite(Path("hard.csv"));
  c.overwrite = true;
  EXPECT_NE(Refusal(c).find("same file"), std::string::npos);
}

TEST_F(OutputPathsTest, TwoOutputsOnOnePathAreRefused) {
  OutputPathCheck c = ReadRegisterWrite(Path("draws.h5"));
  c.outputs.push_back({Path("./draws.h5"), "--report"});
  EXPECT_NE(Refusal(c).find("--report and --out are the same file"), std::string::npos) << Refusal(c);
}

TEST_F(OutputPathsTest, AnExistingOutputNeedsOverwriteUnlessItIsContinued) {
  std::ofstream(Path("old.h5")) << "earlier results";
  OutputPathCheck c = ReadRegisterWrite(Path("old.h5"));
  EXPECT_NE(Refusal(c).find("already exists; pass --overwrite"), std::string::npos) << Refusal(c);
  c.resumable = Path("old.h5");
  EXPECT_NE(Refusal(c).find("pass --resume to continue it"), std::string::npos) << Refusal(c);
  c.continued = {Path("old.h5")};
  EXPECT_EQ(Refusal(c), "");
  c.continued.clear();
  c.overwrite = true;
  EXPECT_EQ(Refusal(c), "");
  std::ifstream in(Path("old.h5"));
  std::string kept;
  std::getline(in, kept);
  EXPECT_EQ(kept, "earlier results");  // the check never touches an output
}

TEST_F(OutputPathsTest, AMissingOrUnwritableDirectoryIsRefusedBeforeAnyWork) {
  EXPECT_NE(Refusal(ReadRegisterWrite(Path("no_such_dir/out.h5"))).find("does not exist"), std::string::npos);
  EXPECT_NE(Refusal(ReadRegisterWrite("/proc/cwfx_out.h5")).find("cannot write --out"), std::string::npos)
      << Refusal(ReadRegisterWrite("/proc/cwfx_out.h5"));
  fs::create_directories(Path("a_directory"));
  EXPECT_NE(Refusal(ReadRegisterWrite(Path("a_directory"))).find("is a directory"), std::string::npos);
}

}  // namespace
}  // namespace cwfx
