// DrawWriter / ReadDraws: values read back bit for bit (float64 with NaN,
// int32, labels, estimate), chunked + compressed layout, and crash safety:
// every interrupted, killed (kill -9 in a forked child), torn or damaged run
// resumes to exactly the file an uninterrupted run writes. The oracle is the
// pure function Draw(r) the records are made from.
#include "store/draw_file.h"
#include "store/draw_merge.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <numeric>
#include <random>

#include "core/error.h"
#include "store/h5_file.h"
#include "table/error_matchers.h"
#include "table/temp_dir.h"

namespace cwfx::store {
namespace {

namespace fs = std::filesystem;
using cwfx::testing::TempDir;
using cwfx::testing::ThrowsAt;

constexpr int64_t kWidthEffect = 7;
constexpr int64_t kWidthCoef = 3;

DrawIdentity Identity() {
  DrawIdentity id;
  id.scheme = "pairs";
  id.seed = 18446744073709551557ULL;  // > 2^63: the seed survives as text
  id.configuration_json = R"({"replications": 100, "cluster": "caseworker_id", "min_citizens": 10})";
  id.data_fingerprint = "xxh3:0123456789abcdef:1000";
  id.engine_version = "0.1.0";
  DrawDataset effect{"caseworker_effect", kWidthEffect, DrawType::kFloat64, {}};
  for (int c = 0; c < kWidthEffect; ++c) effect.columns.push_back("cw" + std::to_string(100 + c));
  id.datasets = {effect,
                 {"quartile", kWidthEffect, DrawType::kInt32, {}},
                 {"coefficients", kWidthCoef, DrawType::kFloat64, {"B1", "B2", "caf\xC3\xA9"}}};
  return id;
}

// The draw of replication r: a pure function, like the engine's.
DrawRecord Draw(int64_t r) {
  DrawRecord rec;
  rec.replication = r;
  rec.values.resize(3);
  for (int c = 0; c < kWidthEffect; ++c) {
    rec.values[0].push_back(std::sin(static_cast<double>(r * 7 + c)) * 1e3 + static_cast<double>(r) / 3.0);
    rec.values[1].push_back(static_cast<double>((r + c) % 4 + 1 - (c == 6 ? 100000 : 0)));
  }
  if (r % 5 == 2) rec.values[0][2] = std::numeric_limits<double>::quiet_NaN();  // a failed draw
  for (int c = 0; c < kWidthCoef; ++c) rec.values[2].push_back(static_cast<double>(r) * 0.5 - c * 1e-300);
  return rec;
}

DrawRecord Estimate() {
  DrawRecord e = Draw(0);
  e.replication = -1;
  for (auto& v : e.values)
    for (double& x : v) x = std::isnan(x) ? 0.25 : x + 0.125;
  return e;
}

DrawFileOptions SmallChunks() {
  DrawFileOptions o;
  o.chunk_rows = 8;
  o.flush_seconds = 1e9;  // flushes by count only: deterministic
  return o;
}

std::vector<int64_t> Shuffled(int64_t from, int64_t to, uint32_t seed) {
  std::vector<int64_t> v(static_cast<size_t>(to - from));
  std::iota(v.begin(), v.end(), from);
  std::shuffle(v.begin(), v.end(), std::mt19937(seed));
  return v;
}

bool SameBits(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
}

void ExpectIdentity(const DrawIdentity& got, const DrawIdentity& want) {
  EXPECT_EQ(got.scheme, want.scheme);
  EXPECT_EQ(got.seed, want.seed);
  EXPECT_EQ(got.configuration_json, want.configuration_json);
  EXPECT_EQ(got.data_fingerprint, want.data_fingerprint);
  EXPECT_EQ(got.engine_version, want.engine_version);
  ASSERT_EQ(got.datasets.size(), want.datasets.size());
  for (size_t d = 0; d < want.datasets.size(); ++d) {
    EXPECT_EQ(got.datasets[d].name, want.datasets[d].name);
    EXPECT_EQ(got.datasets[d].width, want.datasets[d].width);
    EXPECT_EQ(got.datasets[d].type, want.datasets[d].type);
    EXPECT_EQ(got.datasets[d].columns, want.datasets[d].columns);
  }
}

// Every row r with stored[r] holds Draw(r), every other row the fill value.
void ExpectDraws(const DrawSet& set, const std::vector<uint8_t>& stored) {
  ASSERT_EQ(set.completed, stored);
  ASSERT_EQ(set.datasets.size(), 3u);
  for (int64_t r = 0; r < set.replications; ++r) {
    const DrawRecord want = Draw(r);
    for (size_t d = 0; d < 3; ++d) {
      const DrawMatrix& m = set.datasets[d];
      const std::vector<double> row(m.values_rc.begin() + r * m.cols, m.values_rc.begin() + (r + 1) * m.cols);
      if (stored[static_cast<size_t>(r)] != 0) {
        EXPECT_TRUE(SameBits(row, want.values[d])) << "row " << r << " of " << m.name;
      } else {
        for (double x : row) {
          if (d == 1) {
            EXPECT_EQ(x, 0.0) << "unwritten int32 row " << r;
          } else {
            EXPECT_TRUE(std::isnan(x)) << "unwritten float64 row " << r;
          }
        }
      }
    }
  }
}

void ExpectComplete(const std::string& path, int64_t replications, bool with_estimate) {
  const DrawSet set = ReadDraws(path);
  EXPECT_EQ(set.status, "complete");
  EXPECT_EQ(set.replications, replications);
  ExpectIdentity(set.identity, Identity());
  ExpectDraws(set, std::vector<uint8_t>(static_cast<size_t>(replications), 1));
  ASSERT_EQ(set.estimate.size(), with_estimate ? 3u : 0u);
  if (with_estimate) {
    for (size_t d = 0; d < 3; ++d) {
      EXPECT_EQ(set.estimate[d].rows, 1);
      EXPECT_TRUE(SameBits(set.estimate[d].values_rc, Estimate().values[d]));
    }
  }
  EXPECT_FALSE(fs::exists(path + ".journal"));
}

// Two draw files hold the same draws, attributes and estimate.
void ExpectSameFile(const std::string& a, const std::string& b) {
  const DrawSet x = ReadDraws(a), y = ReadDraws(b);
  EXPECT_EQ(x.status, y.status);
  EXPECT_EQ(x.replications, y.replications);
  EXPECT_EQ(x.completed, y.completed);
  ExpectIdentity(x.identity, y.identity);
  ASSERT_EQ(x.datasets.size(), y.datasets.size());
  for (size_t d = 0; d < x.datasets.size(); ++d) {
    EXPECT_TRUE(SameBits(x.datasets[d].values_rc, y.datasets[d].values_rc)) << x.datasets[d].name;
  }
  ASSERT_EQ(x.estimate.size(), y.estimate.size());
  for (size_t d = 0; d < x.estimate.size(); ++d)
    EXPECT_TRUE(SameBits(x.estimate[d].values_rc, y.estimate[d].values_rc));
  const H5File fa = H5File::OpenReadOnly(a), fb = H5File::OpenReadOnly(b);
  for (const char* attr : {"scheme", "seed", "identity", "status"}) {
    EXPECT_EQ(fa.GetStringAttribute("/replications/pairs", attr),
              fb.GetStringAttribute("/replications/pairs", attr));
  }
  EXPECT_EQ(fa.GetInt64Attribute("/replications/pairs", "completed_count"),
            fb.GetInt64Attribute("/replications/pairs", "completed_count"));
}

// The uninterrupted run every resumed one must equal.
std::string Reference(const TempDir& dir, int64_t replications) {
  const std::string p = dir.File("reference_" + std::to_string(replications) + ".h5");
  DrawWriter w = DrawWriter::Open(p, Identity(), replications, false, SmallChunks());
  w.WriteEstimate(Estimate());
  for (int64_t r = 0; r < replications; ++r) w.Append(Draw(r));
  w.Finish();
  return p;
}

TEST(DrawFileTest, OutOfOrderRoundTripIsExact) {
  TempDir dir;
  const std::string p = dir.File("draws.h5");
  constexpr int64_t kR = 150;
  {
    DrawWriter w = DrawWriter::Open(p, Identity(), kR, false, SmallChunks());
    EXPECT_EQ(w.replications(), kR);
    EXPECT_EQ(w.num_completed(), 0);
    EXPECT_TRUE(fs::exists(p));
    EXPECT_TRUE(fs::exists(p + ".journal"));
    const std::vector<int64_t> order = Shuffled(0, kR, 7);
    for (size_t i = 0; i < order.size(); ++i) {
      w.Append(Draw(order[i]));
      if (i == 40) {
        w.WriteEstimate(Estimate());
        DrawRecord again = Draw(order[3]);
        again.values[0][0] = -1;  // a replication already stored is ignored
        w.Append(again);
      }
    }
    EXPECT_EQ(w.num_completed(), kR);
    EXPECT_EQ(w.completed(), std::vector<uint8_t>(kR, 1));
    w.Finish();
  }
  ExpectComplete(p, kR, true);
  const DrawSet set = ReadDraws(p, "pairs");
  EXPECT_EQ(set.Dataset("quartile").cols, kWidthEffect);
  EXPECT_EQ(set.Dataset("caseworker_effect").columns, Identity().datasets[0].columns);
  EXPECT_EQ(set.Dataset("coefficients").columns[2], "caf\xC3\xA9");
  EXPECT_TRUE(set.Dataset("quartile").columns.empty());
  EXPECT_THROW(set.Dataset("nope"), Error);

  const H5File f = H5File::OpenReadOnly(p);
  const std::string g = "/replications/pairs";
  EXPECT_EQ(f.GetStringAttribute(g, "seed"), "18446744073709551557");
  EXPECT_EQ(f.GetStringAttribute(g, "scheme"), "pairs");
  EXPECT_EQ(f.GetStringAttribute(g, "status"), "complete");
  EXPECT_EQ(f.GetInt64Attribute(g, "replications"), kR);
  EXPECT_EQ(f.GetInt64Attribute(g, "completed_count"), kR);
  EXPECT_EQ(f.GetStringListAttribute(g + "/caseworker_effect", "columns"), Identity().datasets[0].columns);
  EXPECT_FALSE(f.HasAttribute(g + "/quartile", "columns"));
  EXPECT_EQ(f.Kind(g + "/quartile"), H5File::ElementKind::kInteger);
  EXPECT_EQ(f.Kind(g + "/caseworker_effect"), H5File::ElementKind::kFloat);
  EXPECT_EQ(f.Shape(g + "/caseworker_effect"), (std::vector<int64_t>{kR, kWidthEffect}));
  EXPECT_EQ(f.Shape(g + "/estimate/coefficients"), (std::vector<int64_t>{kWidthCoef}));
  for (const char* name : {"caseworker_effect", "quartile", "coefficients"}) {
    const H5DatasetLayout layout = f.Layout(g + "/" + name);
    EXPECT_TRUE(layout.chunked) << name;
    EXPECT_EQ(layout.chunk_dims[0], 8) << name;
    EXPECT_TRUE(layout.shuffle) << name;
    EXPECT_EQ(layout.deflate_level, 4) << name;
  }
  const H5DatasetLayout completed = f.Layout(g + "/completed");
  EXPECT_TRUE(completed.chunked);
  EXPECT_EQ(completed.chunk_dims, std::vector<int64_t>{kR});  // capped at the row count
}

TEST(DrawFileTest, PartialDrawsReadableAfterFlushAndInterrupt) {
  TempDir dir;
  const std::string p = dir.File("draws.h5");
  std::vector<uint8_t> stored(40, 0);
  DrawWriter w = DrawWriter::Open(p, Identity(), 40, false, SmallChunks());
  for (int64_t r : {3, 17, 4, 39, 0}) {
    w.Append(Draw(r));
    stored[static_cast<size_t>(r)] = 1;
  }
  w.Flush();
  {
    const DrawSet set = ReadDraws(p);  // while the writer still holds the file
    EXPECT_EQ(set.status, "running");
    ExpectDraws(set, stored);
  }
  w.Append(Draw(20));
  stored[20] = 1;
  w.Interrupt();
  EXPECT_TRUE(fs::exists(p + ".journal"));
  const DrawSet set = ReadDraws(p);
  EXPECT_EQ(set.status, "interrupted");
  ExpectDraws(set, stored);
  EXPECT_TRUE(set.estimate.empty());
  EXPECT_EQ(H5File::OpenReadOnly(p).GetInt64Attribute("/replications/pairs", "completed_count"), 6);
}

TEST(DrawFileTest, InterruptedAndResumedEqualsUninterrupted) {
  TempDir dir;
  constexpr int64_t kR = 100;
  const std::string ref = Reference(dir, kR);
  const std::string p = dir.File("draws.h5");
  const std::vector<int64_t> order = Shuffled(0, kR, 11);
  {
    DrawWriter w = DrawWriter::Open(p, Identity(), kR, false, SmallChunks());
    for (size_t i = 0; i < 45; ++i) w.Append(Draw(order[i]));
    w.Interrupt();
  }
  {
    DrawWriter w = DrawWriter::Open(p, Identity(), kR, true, SmallChunks());
    EXPECT_EQ(w.num_completed(), 45);
    for (size_t i = 0; i < 45; ++i) EXPECT_EQ(w.completed()[static_cast<size_t>(order[i])], 1);
    EXPECT_EQ(ReadDraws(p).status, "running");
    w.WriteEstimate(Estimate());
    for (size_t i = 45; i < 70; ++i) w.Append(Draw(order[i]));
    // Destroyed without Finish or Interrupt: like Interrupt.
  }
  EXPECT_EQ(ReadDraws(p).status, "interrupted");
  {
    DrawWriter w = DrawWriter::Open(p, Identity(), kR, true, SmallChunks());
    EXPECT_EQ(w.num_completed(), 70);
    for (int64_t r = 0; r < kR; ++r) w.Append(Draw(r));  // stored ones are ignored
    w.Finish();
  }
  ExpectComplete(p, kR, true);
  ExpectSameFile(p, ref);
}

// A kill -9 at an arbitrary point: the child appends (flushing every 8
// records) and SIGKILLs itself with the HDF5 file open mid-run.
TEST(DrawFileTest, KilledWriterResumesFromJournal) {
  TempDir dir;
  constexpr int64_t kR = 80;
  const std::string ref = Reference(dir, kR);
  const std::string p = dir.File("draws.h5");
  const std::vector<int64_t> order = Shuffled(0, kR, 5);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    DrawWriter w = DrawWriter::Open(p, Identity(), kR, false, SmallChunks());
    w.WriteEstimate(Estimate());
    for (size_t i = 0; i < 53; ++i) w.Append(Draw(order[i]));
    std::raise(SIGKILL);
    _exit(1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "child status " << status;
  // HDF5 1.10 leaves the killed writer's file flagged "open for writing".
  EXPECT_TRUE(ThrowsAt([&] { ReadDraws(p); }, p, -1, "", "resuming the run rebuilds the file"));
  DrawWriter w = DrawWriter::Open(p, Identity(), kR, true, SmallChunks());
  EXPECT_EQ(w.num_completed(), 53);
  for (int64_t r : order) w.Append(Draw(r));
  w.Finish();
  ExpectComplete(p, kR, true);
  ExpectSameFile(p, ref);
}

// Writers SIGKILLed at random moments (mid-append, mid-flush, mid-rebuild),
// each resuming the last one's draws: the final file is the reference.
TEST(DrawFileTest, RepeatedKillsAtRandomMomentsLoseNothing) {
  TempDir dir;
  constexpr int64_t kR = 1000;
  const std::string ref = Reference(dir, kR);
  const std::string p = dir.File("draws.h5");
  std::mt19937 rng(42);
  auto run = [&](uint32_t seed) {
    const bool resume = fs::exists(p) || fs::exists(p + ".journal");
    DrawWriter w = DrawWriter::Open(p, Identity(), kR, resume, SmallChunks());
    w.WriteEstimate(Estimate());
    for (int64_t r : Shuffled(0, kR, seed)) w.Append(Draw(r));
    w.Finish();
  };
  int killed = 0;
  for (uint32_t round = 0; round < 8; ++round) {
    const pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      try {
        run(100 + round);
      } catch (const std::exception& e) {
        std::fprintf(stderr, "child: %s\n", e.what());
        _exit(2);
      }
      _exit(0);
    }
    usleep(std::uniform_int_distribution<useconds_t>(1000, 40000)(rng));
    kill(child, SIGKILL);
    int status = 0;
    ASSERT_EQ(waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFSIGNALED(status) || (WIFEXITED(status) && WEXITSTATUS(status) == 0)) << status;
    killed += WIFSIGNALED(status) ? 1 : 0;
  }
  EXPECT_GT(killed, 0);
  run(7);
  ExpectComplete(p, kR, true);
  ExpectSameFile(p, ref);
}

// A snapshot of a live run (what a kill -9 leaves), then the last journal
// record torn and the HDF5 file cut in half: everything is rebuilt from the
// journal, the torn record is dropped, and appends after the resume land
// after the cut (a second interruption keeps them).
TEST(DrawFileTest, TornJournalAndDamagedFileResume) {
  TempDir dir;
  constexpr int64_t kR = 64;
  const std::string ref = Reference(dir, kR);
  const std::string live = dir.File("live.h5");
  const std::string p = dir.File("draws.h5");
  const std::vector<int64_t> order = Shuffled(0, kR, 3);
  {
    DrawWriter w = DrawWriter::Open(live, Identity(), kR, false, SmallChunks());
    w.WriteEstimate(Estimate());
    for (size_t i = 0; i < 30; ++i) w.Append(Draw(order[i]));
    fs::copy_file(live, p);
    fs::copy_file(live + ".journal", p + ".journal");
  }
  fs::resize_file(p + ".journal", fs::file_size(p + ".journal") - 5);
  fs::resize_file(p, fs::file_size(p) / 2);
  EXPECT_THROW(ReadDraws(p), Error);
  {
    DrawWriter w = DrawWriter::Open(p, Identity(), kR, true, SmallChunks());
    EXPECT_EQ(w.num_completed(), 29);
    EXPECT_EQ(w.completed()[static_cast<size_t>(order[29])], 0);
    for (size_t i = 29; i < 40; ++i) w.Append(Draw(order[i]));
    w.Interrupt();
  }
  {
    DrawWriter w = DrawWriter::Open(p, Identity(), kR, true, SmallChunks());
    EXPECT_EQ(w.num_completed(), 40);
    for (int64_t r : order) w.Append(Draw(r));
    w.Finish();
  }
  ExpectComplete(p, kR, true);
  ExpectSameFile(p, ref);
  EXPECT_FALSE(fs::exists(p + ".tmp"));
}

TEST(DrawFileTest, ResumeWithAnotherIdentityNamesTheField) {
  TempDir dir;
  const std::string p = dir.File("draws.h5");
  {
    DrawWriter w = DrawWriter::Open(p, Identity(), 20, false, SmallChunks());
    for (int64_t r = 0; r < 5; ++r) w.Append(Draw(r));
    w.Interrupt();
  }
  auto resume = [&](const DrawIdentity& id) {
    return [&p, id] { DrawWriter::Open(p, id, 20, true, SmallChunks()); };
  };
  DrawIdentity id = Identity();
  id.seed = 1;
  EXPECT_TRUE(ThrowsAt(resume(id), p, -1, "", "the seed differs (was '18446744073709551557', now '1')"));
  id = Identity();
  id.configuration_json = R"({"replications": 100, "cluster": "job_centre_id", "min_citizens": 10})";
  EXPECT_TRUE(ThrowsAt(resume(id), p, -1, "", "the configuration differs: 'cluster' was \"caseworker_id\""));
  id = Identity();
  id.data_fingerprint = "xxh3:ffffffffffffffff:1000";
  EXPECT_TRUE(ThrowsAt(resume(id), p, -1, "", "the data fingerprint differs"));
  id = Identity();
  id.engine_version = "0.2.0";
  EXPECT_TRUE(ThrowsAt(resume(id), p, -1, "", "the engine version differs"));
  id = Identity();
  id.scheme = "wild";
  EXPECT_TRUE(ThrowsAt(resume(id), p, -1, "", "the scheme differs"));
  id = Identity();
  id.datasets[1].type = DrawType::kFloat64;
  EXPECT_TRUE(ThrowsAt(resume(id), p, -1, "", "datasets differ: type of 'quartile'"));
  id = Identity();
  id.datasets.pop_back();
  EXPECT_TRUE(ThrowsAt(resume(id), p, -1, "", "the datasets differ"));
  // The same configuration, formatted differently, is the same configuration.
  id = Identity();
  id.configuration_json = R"({"min_citizens":10,"cluster":"caseworker_id","replications":100})";
  DrawWriter w = DrawWriter::Open(p, id, 20, true, SmallChunks());
  EXPECT_EQ(w.num_completed(), 5);
}

TEST(DrawFileTest, ExistingDrawsAreNotOverwrittenWithoutResume) {
  TempDir dir;
  const std::string p = dir.File("draws.h5");
  {
    DrawWriter w = DrawWriter::Open(p, Identity(), 10, false, SmallChunks());
    w.Append(Draw(2));
  }
  auto create = [&] { DrawWriter::Open(p, Identity(), 10, false, SmallChunks()); };
  EXPECT_TRUE(ThrowsAt(create, p, -1, "", "pass --resume"));
  fs::remove(p);  // the journal alone is enough to refuse
  EXPECT_TRUE(ThrowsAt(create, p, -1, "", "pass --resume"));
  {
    DrawWriter w = DrawWriter::Open(p, Identity(), 10, true, SmallChunks());  // rebuilt from the journal
    EXPECT_EQ(w.num_completed(), 1);
    for (int64_t r = 0; r < 10; ++r) w.Append(Draw(r));
    w.Finish();
  }
  EXPECT_TRUE(ThrowsAt(create, p, -1, "", "pass --resume"));
  const std::string none = dir.File("none.h5");
  EXPECT_TRUE(
      ThrowsAt([&] { DrawWriter::Open(none, Identity(), 10, true); }, none, -1, "", "nothing to resume"));
}

TEST(DrawFileTest, OneWriterAtATime) {
  TempDir dir;
  const std::string p = dir.File("draws.h5");
  DrawWriter w = DrawWriter::Open(p, Identity(), 10, false, SmallChunks());
  w.Append(Draw(3));
  EXPECT_TRUE(ThrowsAt([&] { DrawWriter::Open(p, Identity(), 10, true, SmallChunks()); }, p, -1, "",
                       "another writer is using these draws"));
  w.Append(Draw(4));  // the first writer is unharmed
  w.Interrupt();
  EXPECT_TRUE(ThrowsAt([&] { w.Append(Draw(5)); }, p, -1, "", "the draw writer is closed"));
  DrawWriter moved = DrawWriter::Open(p, Identity(), 10, true, SmallChunks());
  EXPECT_EQ(moved.num_completed(), 2);
  w = std::move(moved);  // the interrupted writer is replaced; the new one lives on in w
  w.Append(Draw(5));
  w.Interrupt();
  EXPECT_EQ(ReadDraws(p).completed, (std::vector<uint8_t>{0, 0, 0, 1, 1, 1, 0, 0, 0, 0}));
}

TEST(DrawFileTest, ReplicationCountGrowsOnResume) {
  TempDir dir;
  const std::string ref = Reference(dir, 60);
  const std::string p = dir.File("draws.h5");
  {
    DrawWriter w = DrawWriter::Open(p, Identity(), 40, false, SmallChunks());
    w.WriteEstimate(Estimate());
    for (int64_t r = 0; r < 25; ++r) w.Append(Draw(r));
    w.Interrupt();
  }
  EXPECT_TRUE(ThrowsAt([&] { DrawWriter::Open(p, Identity(), 24, true, SmallChunks()); }, p, -1, "",
                       "replication 24 is already stored"));
  {
    DrawWriter w = DrawWriter::Open(p, Identity(), 50, true, SmallChunks());
    EXPECT_EQ(w.replications(), 50);
    EXPECT_EQ(w.completed().size(), 50u);
    EXPECT_EQ(w.num_completed(), 25);
    for (int64_t r = 0; r < 50; ++r) w.Append(Draw(r));
    w.Finish();
  }
  ExpectComplete(p, 50, true);
  // A complete file (no journal) grows too: its journal is rebuilt from it.
  {
    DrawWriter w = DrawWriter::Open(p, Identity(), 60, true, SmallChunks());
    EXPECT_EQ(w.num_completed(), 50);
    EXPECT_TRUE(fs::exists(p + ".journal"));
    for (int64_t r = 50; r < 60; ++r) w.Append(Draw(r));
    w.Finish();
  }
  ExpectComplete(p, 60, true);
  ExpectSameFile(p, ref);
  EXPECT_TRUE(ThrowsAt([&] { DrawWriter::Open(p, Identity(), 59, true, SmallChunks()); }, p, -1, "",
                       "may grow, not shrink"));
}

TEST(DrawFileTest, ShardsOwnTheirRowsAndGrowOnResume) {
  TempDir dir;
  DrawFileOptions o = SmallChunks();
  o.shard_index = 1;
  o.shard_count = 3;
  const std::string p = dir.File("shard.h5");
  {
    DrawWriter w = DrawWriter::Open(p, Identity(), 10, false, o);
    EXPECT_EQ(w.owned_rows(), 3);  // rows 1, 4, 7
    EXPECT_TRUE(w.owns(4));
    EXPECT_FALSE(w.owns(5));
    for (int64_t r : {1, 4, 7}) w.Append(Draw(r));
    w.Finish();  // complete: every owned row is stored
  }
  EXPECT_FALSE(fs::exists(p + ".journal"));
  DrawSet d = ReadDraws(p);
  EXPECT_EQ(d.status, "complete");
  EXPECT_EQ(d.shard_index, 1);
  EXPECT_EQ(d.shard_count, 3);
  EXPECT_EQ(std::count(d.completed.begin(), d.completed.end(), uint8_t{1}), 3);
  // Growing a complete shard keeps only its own rows (not the other shards' fill values).
  {
    DrawWriter w = DrawWriter::Open(p, Identity(), 14, true, o);
    EXPECT_EQ(w.num_completed(), 3);
    EXPECT_EQ(w.owned_rows(), 5);  // + rows 10, 13
    w.Append(Draw(10));
    w.Finish();  // row 13 missing: interrupted
  }
  d = ReadDraws(p);
  EXPECT_EQ(d.status, "interrupted");
  EXPECT_EQ(std::count(d.completed.begin(), d.completed.end(), uint8_t{1}), 4);
  EXPECT_EQ(d.completed[0], 0);
  // Resuming with another shard is refused.
  DrawFileOptions other = o;
  other.shard_index = 2;
  EXPECT_TRUE(ThrowsAt([&] { DrawWriter::Open(p, Identity(), 14, true, other); }, p, -1, "", "same --shard"));
  o.shard_index = 3;
  EXPECT_TRUE(ThrowsAt([&] { DrawWriter::Open(dir.File("bad.h5"), Identity(), 14, false, o); }, dir.File("bad.h5"),
                       -1, "", "bad shard"));
}

// Shard `index` of `count` over `rows` rows, every owned row stored unless
// `stop_after` rows were (then interrupted).
std::string WriteShard(const TempDir& dir, int64_t index, int64_t count, int64_t rows, int64_t stop_after = -1,
                       bool estimate = true) {
  DrawFileOptions o = SmallChunks();
  o.shard_index = index;
  o.shard_count = count;
  const std::string p = dir.File("shard" + std::to_string(index) + "of" + std::to_string(count) + ".h5");
  DrawWriter w = DrawWriter::Open(p, Identity(), rows, false, o);
  if (estimate) w.WriteEstimate(Estimate());
  int64_t stored = 0;
  for (int64_t r = rows - 1; r >= 0; --r) {  // any order
    if (!w.owns(r)) continue;
    if (stored == stop_after) break;
    w.Append(Draw(r));
    ++stored;
  }
  w.Finish();
  return p;
}

TEST(DrawMergeTest, ShardsMergeToTheFileOfOneWriter) {
  TempDir dir;
  const std::string ref = Reference(dir, 11);
  const std::vector<std::string> shards = {WriteShard(dir, 2, 3, 11), WriteShard(dir, 0, 3, 11),
                                           WriteShard(dir, 1, 3, 11)};
  const MergeReport r = MergeDrawFiles(dir.File("merged.h5"), shards);
  EXPECT_EQ(r.rows, 11);
  EXPECT_EQ(r.shards, 3);
  ExpectComplete(dir.File("merged.h5"), 11, true);
  ExpectSameFile(dir.File("merged.h5"), ref);
  // An existing output is kept unless asked to overwrite.
  EXPECT_THROW(MergeDrawFiles(dir.File("merged.h5"), shards), Error);
  EXPECT_NO_THROW(MergeDrawFiles(dir.File("merged.h5"), shards, true));
}

TEST(DrawMergeTest, PartialForeignAndMismatchedShardsAreRefusedByName) {
  TempDir dir;
  const std::string a = WriteShard(dir, 0, 2, 9), partial = WriteShard(dir, 1, 2, 9, 2);
  EXPECT_TRUE(ThrowsAt([&] { MergeDrawFiles(dir.File("m.h5"), {a, partial}); }, partial, -1, "", "not complete"));
  const std::string of3 = WriteShard(dir, 1, 3, 9);
  EXPECT_TRUE(ThrowsAt([&] { MergeDrawFiles(dir.File("m.h5"), {a, of3}); }, of3, -1, "", "split into 3"));
  TempDir other;
  const std::string no_estimate = WriteShard(other, 1, 2, 9, -1, false);
  EXPECT_TRUE(ThrowsAt([&] { MergeDrawFiles(dir.File("m.h5"), {a, no_estimate}); }, no_estimate, -1, "",
                       "estimate differs"));
  EXPECT_TRUE(ThrowsAt([&] { MergeDrawFiles(dir.File("m.h5"), {a, dir.File("absent.h5")}); }, dir.File("absent.h5"),
                       -1, "", "does not exist"));
  EXPECT_FALSE(fs::exists(dir.File("m.h5")));
}

TEST(DrawFileTest, ResumingACompleteFileHasNothingToDo) {
  TempDir dir;
  const std::string p = Reference(dir, 30);
  const auto before = fs::last_write_time(p);
  {
    DrawWriter w = DrawWriter::Open(p, Identity(), 30, true, SmallChunks());
    EXPECT_EQ(w.num_completed(), 30);
    w.WriteEstimate(Estimate());  // unchanged: nothing to write
    w.Append(Draw(4));
    w.Flush();
    w.Finish();
  }
  EXPECT_EQ(fs::last_write_time(p), before);
  EXPECT_FALSE(fs::exists(p + ".journal"));
  ExpectComplete(p, 30, true);
  {
    DrawWriter w = DrawWriter::Open(p, Identity(), 30, true, SmallChunks());
    DrawRecord e = Estimate();
    e.values[2][1] = 42;  // a new estimate goes through the journal
    w.WriteEstimate(e);
    EXPECT_TRUE(fs::exists(p + ".journal"));
    w.Finish();
  }
  EXPECT_FALSE(fs::exists(p + ".journal"));
  const DrawSet set = ReadDraws(p);
  EXPECT_EQ(set.status, "complete");
  EXPECT_EQ(set.estimate[2].values_rc[1], 42);
  ExpectDraws(set, std::vector<uint8_t>(30, 1));
}

TEST(DrawFileTest, DamagedJournalHeaderIsRefused) {
  TempDir dir;
  const std::string p = dir.File("draws.h5");
  const std::string journal = dir.Write("draws.h5.journal", "not a journal at all");
  auto resume = [&] { DrawWriter::Open(p, Identity(), 10, true, SmallChunks()); };
  EXPECT_TRUE(ThrowsAt(resume, journal, -1, "", "not a draw journal"));
  {
    DrawWriter w = DrawWriter::Open(dir.File("ok.h5"), Identity(), 10, false, SmallChunks());
    w.Append(Draw(1));
  }
  std::string bytes;
  {
    std::ifstream in(dir.File("ok.h5.journal"), std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  bytes[30] ^= 1;  // inside the identity: the header checksum fails
  dir.Write("draws.h5.journal", bytes);
  EXPECT_TRUE(ThrowsAt(resume, journal, -1, "", "the journal's header is damaged"));
  dir.Write("draws.h5.journal", bytes.substr(0, 26));
  EXPECT_TRUE(ThrowsAt(resume, journal, -1, "", "the journal's header is damaged"));
}

TEST(DrawFileTest, IncompleteFileWithoutJournalIsRefused) {
  TempDir dir;
  const std::string p = dir.File("draws.h5");
  {
    DrawWriter w = DrawWriter::Open(p, Identity(), 10, false, SmallChunks());
    w.Append(Draw(1));
    w.Interrupt();
  }
  fs::remove(p + ".journal");
  EXPECT_TRUE(
      ThrowsAt([&] { DrawWriter::Open(p, Identity(), 10, true, SmallChunks()); }, p, -1, "",
               "journal " + p + ".journal is missing and the file is not complete (status 'interrupted')"));
}

TEST(DrawFileTest, BadRecordsAndOptionsAreRefused) {
  TempDir dir;
  const std::string p = dir.File("draws.h5");
  DrawWriter w = DrawWriter::Open(p, Identity(), 10, false, SmallChunks());
  DrawRecord r = Draw(10);
  EXPECT_TRUE(ThrowsAt([&] { w.Append(r); }, p, -1, "", "replication 10 is outside 0..9"));
  r = Draw(1);
  r.values[0].pop_back();
  EXPECT_TRUE(
      ThrowsAt([&] { w.Append(r); }, p, -1, "", "dataset 'caseworker_effect' has 6 values, expected 7"));
  r = Draw(1);
  r.values[1][0] = 0.5;
  EXPECT_TRUE(ThrowsAt([&] { w.Append(r); }, p, -1, "", "dataset 'quartile' is int32"));
  r.values[1][0] = std::numeric_limits<double>::quiet_NaN();
  EXPECT_TRUE(ThrowsAt([&] { w.Append(r); }, p, -1, "", "dataset 'quartile' is int32"));
  r = Draw(1);
  r.values.pop_back();
  EXPECT_TRUE(ThrowsAt([&] { w.WriteEstimate(r); }, p, -1, "", "the estimate: has 2 datasets, expected 3"));
  EXPECT_EQ(w.num_completed(), 0);
  w.Append(Draw(1));
  w.Interrupt();
  EXPECT_EQ(ReadDraws(p).completed[1], 1);

  const std::string q = dir.File("other.h5");
  DrawIdentity id = Identity();
  id.datasets[0].columns.pop_back();
  EXPECT_TRUE(
      ThrowsAt([&] { DrawWriter::Open(q, id, 10, false); }, q, -1, "", "6 column labels for width 7"));
  id = Identity();
  id.datasets[1].name = "completed";
  EXPECT_TRUE(ThrowsAt([&] { DrawWriter::Open(q, id, 10, false); }, q, -1, "", "bad draw dataset name"));
  EXPECT_TRUE(ThrowsAt([&] { DrawWriter::Open(q, Identity(), 0, false); }, q, -1, "", "must be positive"));
  EXPECT_FALSE(fs::exists(q));
  EXPECT_FALSE(fs::exists(q + ".journal"));
}

TEST(DrawFileTest, ReadingANonDrawFileNamesIt) {
  TempDir dir;
  const std::string h5 = dir.File("plain.h5");
  {
    H5File f = H5File::Create(h5);
    f.WriteDoubles("/x", std::vector<double>{1, 2});
    f.Close();
  }
  EXPECT_TRUE(ThrowsAt([&] { ReadDraws(h5); }, h5, -1, "", "not a draw file"));
  const std::string text = dir.Write("notes.txt", "hello\n");
  EXPECT_TRUE(ThrowsAt([&] { ReadDraws(text); }, text, -1, "", "not an HDF5 file"));
  const std::string draws = Reference(dir, 3);
  EXPECT_TRUE(ThrowsAt([&] { ReadDraws(draws, "wild"); }, draws, -1, "", "no draws of scheme 'wild'"));
}

// Wide draws: labels and identity far beyond HDF5's 64 KiB compact attribute limit.
TEST(DrawFileTest, ManyColumns) {
  TempDir dir;
  const std::string p = dir.File("wide.h5");
  DrawIdentity id = Identity();
  id.datasets = {{"effect", 6000, DrawType::kFloat64, {}}};
  for (int c = 0; c < 6000; ++c)
    id.datasets[0].columns.push_back("caseworker_" + std::to_string(1000000 + c));
  {
    DrawWriter w = DrawWriter::Open(p, id, 5, false);
    for (int64_t r = 4; r >= 0; --r) w.Append({r, {std::vector<double>(6000, static_cast<double>(r))}});
    w.Finish();
  }
  const DrawSet set = ReadDraws(p);
  EXPECT_EQ(set.datasets[0].columns, id.datasets[0].columns);
  EXPECT_EQ(set.datasets[0].values_rc[4 * 6000 + 5999], 4.0);
}

}  // namespace
}  // namespace cwfx::store
