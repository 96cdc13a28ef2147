// A small, exception-safe HDF5 file: the only way the engine touches HDF5.
//
// Only store/*.cc include hdf5.h; HDF5 handles appear here as plain int64_t
// (hid_t is int64_t since HDF5 1.10). HDF5's automatic error printing is
// switched off; every failing HDF5 call becomes a cwfx::Error naming the file
// and the object path, with the innermost message from HDF5's error stack.
//
// Datasets: 1-D double / int64 / int32 / string arrays and 2-D double
// matrices. Every non-empty dataset is chunked with a Fletcher-32 checksum of
// its data, verified on every read; arrays longer than one chunk are also
// compressed (shuffle + deflate). Numeric datasets can also be created
// empty (filled with NaN / 0) and written row block by row block
// (CreateChunked, WriteRows), e.g. by the draw writer (draw_file.h). Strings
// are UTF-8, fixed length by default. Readers convert between numeric storage
// types, and read both variable- and fixed-length strings (as written by h5py,
// pandas, R).
//
// Files are created in the HDF5 1.10 object format (readable by HDF5 >= 1.10,
// h5py, R hdf5r): all of its metadata, chunk indexes included, carries
// checksums, so a damaged file we wrote fails with an Error instead of being
// misread. Files from other tools are read as they are; HDF5 1.10 is not
// hardened against damaged files in the older format.
//
// HDF5 (serial build) is not thread-safe: use one H5File from one thread at a
// time, and do not use two H5Files concurrently.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace cwfx::store {

struct H5WriteOptions {
  // Elements per chunk for 1-D arrays (rows per chunk for matrices); arrays no
  // longer than this are written contiguous and uncompressed.
  int64_t chunk_elements = int64_t{1} << 16;
  // zlib level 0-9; 0 disables compression. Shuffle is applied with deflate.
  int deflate_level = 4;
  // Store strings fixed-length (NUL-padded to the longest value) rather than
  // variable-length. Fixed-length strings live in the dataset's own
  // (checksummed, compressed) chunks; variable-length ones live in HDF5's
  // global heap, which has no checksum and which HDF5 1.10 reads unsafely
  // when the file is damaged. Either way a string ends at its first NUL byte.
  bool fixed_length_strings = true;
  // A Fletcher-32 checksum on every non-empty dataset's data (verified by
  // HDF5 on every read, so a flipped byte is an error, not a wrong number).
  bool checksums = true;
};

struct H5CreateOptions {
  // Write to "<path>.tmp" and rename onto <path> only in Close(); a file
  // destroyed without Close() (exception, full disk) is removed and any
  // previous <path> survives intact.
  bool atomic = true;
};

// A row-major matrix read back from a 2-D dataset.
struct H5Matrix {
  int64_t rows = 0;
  int64_t cols = 0;
  std::vector<double> values_rc;  // values_rc[r * cols + c]
};

// Numeric storage types of datasets created empty and filled block by block.
enum class H5NumericType { kFloat64, kInt32 };

// A dataset created empty by CreateChunked and written row block by row block
// (WriteRows), e.g. as results arrive in any order. Its size is fixed.
struct H5ChunkedSpec {
  int64_t rows = 0;  // > 0
  int64_t cols = 0;  // 0: a 1-D dataset of `rows` elements; > 0: rows x cols
  H5NumericType type = H5NumericType::kFloat64;
  // Rows per chunk (each chunk spans every column); capped at `rows`.
  int64_t chunk_rows = 64;
  // zlib level 0-9; 0 disables compression. Shuffle is applied with deflate.
  int deflate_level = 4;
  // A Fletcher-32 checksum per chunk (see H5WriteOptions::checksums).
  bool checksums = true;
};

// How a dataset is stored (for tests and diagnostics).
struct H5DatasetLayout {
  bool chunked = false;
  std::vector<int64_t> chunk_dims;  // empty unless chunked
  bool shuffle = false;
  int deflate_level = -1;  // -1: no deflate filter
  bool checksum = false;   // Fletcher-32
};

class H5File {
 public:
  // Creates (truncating any existing file). Throws cwfx::Error naming the file.
  static H5File Create(const std::string& path, const H5CreateOptions& options = {});
  // Opens an existing file. Throws cwfx::Error if it is missing or not HDF5.
  static H5File OpenReadOnly(const std::string& path);
  static H5File OpenReadWrite(const std::string& path);

  H5File(H5File&& other) noexcept;
  H5File& operator=(H5File&& other) noexcept;
  H5File(const H5File&) = delete;
  H5File& operator=(const H5File&) = delete;
  // Closes without throwing; an uncommitted atomic file is discarded.
  ~H5File();

  // Flushes and closes (and, for atomic files, renames into place). Throws
  // cwfx::Error if any of that fails, e.g. on a full disk. Idempotent.
  void Close();
  // Writes HDF5's buffered data and metadata to the file (H5Fflush) without
  // closing it, so the file on disk is consistent until the next write. Throws
  // cwfx::Error on failure (e.g. a full disk). No-op for read-only files.
  void Flush();

  // The path the user asked for (not the temporary one).
  const std::string& path() const { return path_; }
  bool writable() const { return writable_; }

  // Object paths are absolute or relative to the root: "/a/b", "a/b".
  bool Exists(const std::string& object_path) const;
  bool IsGroup(const std::string& object_path) const;
  // Creates the group and any missing parents; an existing group is fine.
  void CreateGroup(const std::string& group_path);
  // Names of the group's direct children, sorted by name.
  std::vector<std::string> List(const std::string& group_path) const;

  // 1-D writers create missing parent groups; an existing object at the path
  // is an error.
  void WriteDoubles(const std::string& path, std::span<const double> values,
                    const H5WriteOptions& options = {});
  void WriteInt64(const std::string& path, std::span<const int64_t> values,
                  const H5WriteOptions& options = {});
  void WriteInt32(const std::string& path, std::span<const int32_t> values,
                  const H5WriteOptions& options = {});
  void WriteStrings(const std::string& path, std::span<const std::string> values,
                    const H5WriteOptions& options = {});
  // values_rc is row-major, rows * cols long.
  void WriteMatrix(const std::string& path, std::span<const double> values_rc, int64_t rows, int64_t cols,
                   const H5WriteOptions& options = {});

  // Creates a numeric dataset of spec.rows (x spec.cols) elements, chunked
  // and (with deflate_level > 0) compressed with shuffle + deflate, every
  // element holding the fill value until written: NaN for float64, 0 for
  // int32. Chunks are allocated when first written. Creates missing parent
  // groups; an existing object at the path is an error.
  void CreateChunked(const std::string& path, const H5ChunkedSpec& spec);
  // Writes rows [first_row, first_row + num_rows) of a 1-D or 2-D numeric
  // dataset from row-major values_rc (num_rows * cols values; cols = 1 for
  // 1-D), converting to the storage type. Rows outside the dataset are an
  // error; other rows are untouched.
  void WriteRows(const std::string& path, int64_t first_row, int64_t num_rows,
                 std::span<const double> values_rc);
  void WriteRows(const std::string& path, int64_t first_row, int64_t num_rows,
                 std::span<const int32_t> values_rc);
  // Writes the rows listed in `rows` (strictly increasing, not necessarily
  // consecutive) from row-major values_rc (rows.size() * cols values) in one
  // HDF5 call, so each chunk they touch is read and rewritten once.
  void WriteRowSet(const std::string& path, std::span<const int64_t> rows, std::span<const double> values_rc);
  void WriteRowSet(const std::string& path, std::span<const int64_t> rows, std::span<const int32_t> values_rc);
  // Reads rows [first_row, first_row + num_rows) of a 1-D or 2-D numeric
  // dataset (a 1-D one reads as a matrix of one column).
  H5Matrix ReadRows(const std::string& path, int64_t first_row, int64_t num_rows) const;
  // Chunking and filters of a dataset.
  H5DatasetLayout Layout(const std::string& dataset_path) const;

  // Kind of a dataset's element type, for callers that dispatch on it.
  enum class ElementKind { kFloat, kInteger, kString, kOther };
  ElementKind Kind(const std::string& dataset_path) const;
  // Dataset dimensions (empty for a scalar dataset).
  std::vector<int64_t> Shape(const std::string& dataset_path) const;

  // 1-D readers; numeric ones convert from any numeric storage type (the
  // integer readers refuse float datasets rather than truncate).
  std::vector<double> ReadDoubles(const std::string& path) const;
  std::vector<int64_t> ReadInt64(const std::string& path) const;
  std::vector<int32_t> ReadInt32(const std::string& path) const;
  std::vector<std::string> ReadStrings(const std::string& path) const;
  H5Matrix ReadMatrix(const std::string& path) const;

  // Attributes on the file root ("/"), a group or a dataset. Setting replaces
  // an existing attribute of the same name.
  bool HasAttribute(const std::string& object_path, const std::string& name) const;
  void SetAttribute(const std::string& object_path, const std::string& name, const std::string& value);
  void SetAttribute(const std::string& object_path, const std::string& name, const char* value) {
    SetAttribute(object_path, name, std::string(value));
  }
  void SetAttribute(const std::string& object_path, const std::string& name, double value);
  void SetAttribute(const std::string& object_path, const std::string& name, int64_t value);
  void SetAttribute(const std::string& object_path, const std::string& name,
                    std::span<const std::string> values);
  std::string GetStringAttribute(const std::string& object_path, const std::string& name) const;
  double GetDoubleAttribute(const std::string& object_path, const std::string& name) const;
  int64_t GetInt64Attribute(const std::string& object_path, const std::string& name) const;
  std::vector<std::string> GetStringListAttribute(const std::string& object_path,
                                                  const std::string& name) const;

 private:
  H5File(std::string path, std::string disk_path, int64_t id, bool writable, bool atomic);
  void CloseQuietly() noexcept;

  std::string path_;       // what the user asked for
  std::string disk_path_;  // where HDF5 writes ("<path>.tmp" for atomic files)
  int64_t id_ = -1;        // hid_t of the open file, -1 when closed
  bool writable_ = false;
  bool atomic_ = false;
};

}  // namespace cwfx::store
