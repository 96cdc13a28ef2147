// Replication draws in HDF5, written by one writer, resumable after any
// interruption (Ctrl-C, SIGTERM, kill -9, a full disk).
//
// FILE LAYOUT (one scheme per file)
//   /replications/<scheme>/<dataset>   replications x width, chunked
//                                      (chunk_rows rows), shuffle + deflate;
//                                      float64 or int32; rows not yet computed
//                                      hold the fill value (NaN / 0); the
//                                      attribute "columns" lists the column
//                                      labels when given.
//   /replications/<scheme>/completed   int32[replications], 1 = row written
//   /replications/<scheme>/estimate/<dataset>   width values: the full-sample
//                                      estimate of each dataset (optional)
//   attributes of /replications/<scheme>: scheme, replications, seed (as
//   text: uint64), identity (JSON: configuration, data fingerprint, engine
//   version, datasets), status ("running", "interrupted", "complete"),
//   completed_count.
//
// CRASH SAFETY: the journal "<path>.journal" is the source of truth while a
// run is under way: a header (the identity) and one record per finished
// replication, each with a length and a checksum, appended and flushed by the
// writer before the HDF5 file is touched. HDF5 files are not crash-consistent
// (a writer killed mid-flush can leave one that does not open), so resuming
// rebuilds the HDF5 file from the journal (a torn last record is dropped and
// recomputed) and then carries on. Finish() writes status "complete", closes
// the file and deletes the journal.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace cwfx::store {

enum class DrawType { kFloat64, kInt32 };

struct DrawDataset {
  std::string name;                  // e.g. "caseworker_effect"
  int64_t width = 0;                 // values per replication (> 0)
  DrawType type = DrawType::kFloat64;
  std::vector<std::string> columns;  // labels (empty or `width` entries)
};

// Everything that must match for draws to be combined: a resume against a
// different identity is refused, naming the first field that differs.
struct DrawIdentity {
  std::string scheme;                // "pairs", "bayes", "wild", "permute"
  uint64_t seed = 0;
  std::string configuration_json;    // the options that shape the draws
  std::string data_fingerprint;      // of the input data
  std::string engine_version;
  std::vector<DrawDataset> datasets;
};

// One finished replication: values[d] holds datasets[d].width numbers
// (int32 datasets: integral values, stored as int32).
struct DrawRecord {
  int64_t replication = -1;
  std::vector<std::vector<double>> values;
};

struct DrawFileOptions {
  int64_t chunk_rows = 64;      // replications per chunk
  int deflate_level = 4;
  // Buffered records are written to HDF5 and flushed at least this often
  // (and when the buffer holds chunk_rows records).
  double flush_seconds = 2.0;
  // A shard of a run split across processes (job-array tasks, MPI ranks):
  // the file has every row of the run but owns only the rows r with
  // r mod shard_count == shard_index; it is complete when those are stored.
  // Recorded as the attributes shard_index and shard_count; MergeDrawFiles
  // joins the shards. 0 of 1 = the whole run.
  int64_t shard_index = 0;
  int64_t shard_count = 1;
};

class DrawWriter {
 public:
  // resume = false: creates `path` for `replications` rows; refuses (Error)
  //   if `path` or its journal exists, so no finished draws are overwritten
  //   by accident (the caller deletes them first when asked to overwrite).
  // resume = true: needs the journal (or a complete file) from an earlier run
  //   with the same identity; rebuilds the file from the journal. The number
  //   of replications may grow (draws are pure functions of (seed, r)), not
  //   shrink below a completed row.
  // Errors name the file and what differs.
  static DrawWriter Open(const std::string& path, const DrawIdentity& identity, int64_t replications, bool resume,
                         const DrawFileOptions& options = {});

  DrawWriter(DrawWriter&&) noexcept;
  DrawWriter& operator=(DrawWriter&&) noexcept;
  ~DrawWriter();  // without Finish/Interrupt: flushes, status "interrupted", keeps the journal

  int64_t replications() const;
  bool owns(int64_t replication) const;   // this file's shard holds row r
  int64_t owned_rows() const;             // rows of this shard
  const std::vector<uint8_t>& completed() const;  // per replication, 1 = stored
  int64_t num_completed() const;

  // Writes the full-sample estimate of each dataset (values[d] of width d).
  void WriteEstimate(const DrawRecord& estimate);
  // Journal first, then the HDF5 buffer. Records may come in any order; a
  // replication already stored is ignored. Throws Error on a bad shape.
  void Append(const DrawRecord& record);
  void Flush();
  // All rows stored: status "complete", close, delete the journal.
  // Otherwise (some rows missing): like Interrupt().
  void Finish();
  // Flush, status "interrupted", close; the journal stays for --resume.
  void Interrupt();

 private:
  struct Impl;
  explicit DrawWriter(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Reading a draw file back (for summaries, reports, tests, merges).
struct DrawMatrix {
  std::string name;
  int64_t rows = 0, cols = 0;
  std::vector<double> values_rc;     // row-major; int32 datasets converted
  std::vector<std::string> columns;
};
struct DrawSet {
  DrawIdentity identity;
  int64_t replications = 0;
  std::string status;
  std::vector<uint8_t> completed;
  std::vector<DrawMatrix> datasets;  // in identity.datasets order
  std::vector<DrawMatrix> estimate;  // width-1 rows (empty if never written)
  int64_t shard_index = 0, shard_count = 1;  // see DrawFileOptions
  const DrawMatrix& Dataset(const std::string& name) const;  // throws Error if absent
};
// Throws Error naming the file if it is not a draw file (or has no such scheme; "" = the only one).
DrawSet ReadDraws(const std::string& path, const std::string& scheme = "");

// "" when a and b may be combined (same scheme, seed, configuration, data
// fingerprint, engine version and datasets), else the first difference.
std::string DrawIdentityDifference(const DrawIdentity& a, const DrawIdentity& b);

// --overwrite: deletes a draw file and its journal, but refuses (cwfx::Error)
// while another process is writing them (its journal is locked), which would
// otherwise leave two runs destroying each other's work.
void RemoveDrawFiles(const std::string& path);

}  // namespace cwfx::store
