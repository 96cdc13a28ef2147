// HDF5 adapter (see h5_file.h). One RAII Handle per hid_t; every HDF5 status is
// checked where the call is made and turned into cwfx::Error with the file,
// the object path and HDF5's own innermost message.
#include "store/h5_file.h"

#include <hdf5.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <limits>
#include <new>
#include <type_traits>
#include <utility>

#include "core/error.h"
#include "core/output_paths.h"

namespace cwfx::store {

static_assert(std::is_same_v<hid_t, int64_t>, "h5_file.h stores hid_t as int64_t");

namespace {

// Owns one hid_t and the function that releases it.
class Handle {
 public:
  using Closer = herr_t (*)(hid_t);
  Handle() = default;
  Handle(hid_t id, Closer closer) : id_(id), closer_(closer) {}
  Handle(Handle&& o) noexcept : id_(std::exchange(o.id_, -1)), closer_(o.closer_) {}
  Handle& operator=(Handle&& o) noexcept {
    if (this != &o) {
      Reset();
      id_ = std::exchange(o.id_, -1);
      closer_ = o.closer_;
    }
    return *this;
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  ~Handle() { Reset(); }

  hid_t get() const { return id_; }
  void Reset() {
    if (id_ >= 0 && closer_ != nullptr) closer_(id_);
    id_ = -1;
  }

 private:
  hid_t id_ = -1;
  Closer closer_ = nullptr;
};

void SilenceHdf5() {
  // HDF5 1.10 crashes in its atexit cleanup when a file failed to close (e.g.
  // the disk filled up during the final flush): it retries the flush on a
  // half-torn-down file. Every H5File is closed by RAII before exit anyway,
  // so skip that cleanup. Must run before HDF5 initialises itself, hence
  // first thing on the first call into this module.
  static const bool no_atexit = [] { return H5dont_atexit() >= 0; }();
  (void)no_atexit;
  // Per call rather than once: cheap, and robust if another component
  // re-enables printing.
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
}

herr_t TakeInnermost(unsigned /*n*/, const H5E_error2_t* err, void* data) {
  auto* out = static_cast<std::string*>(data);
  if (out->empty() && err != nullptr && err->desc != nullptr) *out = err->desc;
  return 0;
}

// The most specific message on HDF5's error stack (then cleared).
std::string Hdf5Detail() {
  std::string raw;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, TakeInnermost, &raw);
  H5Eclear2(H5E_DEFAULT);
  // Low-level I/O failures carry a multi-line dump whose useful part is the
  // system's message ("No space left on device"); keep just that.
  const std::string key = "error message = '";
  const size_t at = raw.find(key);
  if (at != std::string::npos) {
    const size_t from = at + key.size();
    const size_t to = raw.find('\'', from);
    return raw.substr(from, to == std::string::npos ? std::string::npos : to - from);
  }
  std::string detail;
  for (char ch : raw) {
    if (ch == '\n' || ch == '\r') ch = ' ';
    if (!(ch == ' ' && !detail.empty() && detail.back() == ' ')) detail += ch;
  }
  if (detail.size() > 200) detail = detail.substr(0, 200) + "...";
  return detail;
}

// A failure of the storage under the file (not of the file's content) makes
// the error an output error: HDF5 reports the system's message as the detail.
bool IsStorageFailure(const std::string& what, const std::string& detail) {
  static const char* const kSystem[] = {"No space left", "File too large", "Disk quota", "Input/output error",
                                        "Read-only file system", "disk full"};
  for (const char* key : kSystem) {
    if (detail.find(key) != std::string::npos || what.find(key) != std::string::npos) return true;
  }
  return false;
}

[[noreturn]] void Fail(const std::string& file, const std::string& what) {
  const std::string detail = Hdf5Detail();
  const std::string message = what + (detail.empty() ? "" : " (HDF5: " + detail + ")");
  if (IsStorageFailure(what, detail)) throw WriteError(Location{file, -1, ""}, message);
  throw Error(Location{file, -1, ""}, message);
}

std::string Quote(const std::string& object_path) { return "'" + object_path + "'"; }

// "a//b/" -> "/a/b"; "" -> "/".
std::string Normalize(const std::string& p) {
  std::string out = "/";
  for (char ch : p) {
    if (ch == '/' && out.back() == '/') continue;
    out += ch;
  }
  if (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}

template <typename T>
std::vector<T> Allocate(const std::string& file, const std::string& what, int64_t n) {
  // A damaged file can claim absurd sizes; refuse anything larger than the
  // machine's memory up front (before the allocator aborts under sanitizers or
  // the OOM killer steps in), and turn a plain allocation failure into Error.
  static const double kPhysicalBytes =
      static_cast<double>(sysconf(_SC_PHYS_PAGES)) * static_cast<double>(sysconf(_SC_PAGESIZE));
  if (n < 0 || static_cast<double>(n) * sizeof(T) > kPhysicalBytes) {
    throw Error(Location{file, -1, ""}, what + ": claims " + std::to_string(n) +
                                            " elements, more than this machine's memory (damaged file?)");
  }
  try {
    return std::vector<T>(static_cast<size_t>(n));
  } catch (const std::exception&) {
    throw Error(Location{file, -1, ""}, what + ": " + std::to_string(n) + " elements do not fit in memory");
  }
}

Handle Check(const std::string& file, hid_t id, Handle::Closer closer, const std::string& what) {
  if (id < 0) Fail(file, what);
  return Handle(id, closer);
}

void CheckStatus(const std::string& file, herr_t status, const std::string& what) {
  if (status < 0) Fail(file, what);
}

Handle StringType(const std::string& file, size_t fixed_size) {
  Handle t = Check(file, H5Tcopy(H5T_C_S1), H5Tclose, "cannot create a string type");
  CheckStatus(file, H5Tset_size(t.get(), fixed_size == 0 ? H5T_VARIABLE : fixed_size),
              "cannot size a string type");
  CheckStatus(file, H5Tset_cset(t.get(), H5T_CSET_UTF8), "cannot set UTF-8 on a string type");
  if (fixed_size != 0)
    CheckStatus(file, H5Tset_strpad(t.get(), H5T_STR_NULLPAD), "cannot set string padding");
  return t;
}

// Reads a string dataset or attribute whose file type is `file_type`, with
// `npoints` elements, through `read(mem_type, buffer)`.
template <typename ReadFn>
std::vector<std::string> ReadStringsWith(const std::string& file, const std::string& what, hid_t file_type,
                                         int64_t npoints, hid_t space, ReadFn read) {
  if (H5Tget_class(file_type) != H5T_STRING) {
    throw Error(Location{file, -1, ""}, what + " does not hold strings");
  }
  std::vector<std::string> out = Allocate<std::string>(file, what, npoints);
  const htri_t is_var = H5Tis_variable_str(file_type);
  if (is_var < 0) Fail(file, what + ": cannot inspect the string type");
  if (is_var > 0) {
    Handle mem = StringType(file, 0);
    std::vector<char*> ptrs = Allocate<char*>(file, what, npoints);
    if (npoints > 0) {
      // Reclaim even after a failed read: HDF5 may have filled some strings.
      const herr_t status = read(mem.get(), ptrs.data());
      if (status >= 0) {
        for (size_t i = 0; i < ptrs.size(); ++i) {
          if (ptrs[i] != nullptr) out[i] = ptrs[i];
        }
      }
      const std::string detail = status < 0 ? Hdf5Detail() : "";  // before reclaim clears the stack
      H5Dvlen_reclaim(mem.get(), space, H5P_DEFAULT, ptrs.data());
      if (status < 0) throw Error(Location{file, -1, ""}, "cannot read " + what + " (HDF5: " + detail + ")");
    }
    return out;
  }
  const size_t width = H5Tget_size(file_type);
  if (width == 0) Fail(file, what + ": cannot inspect the string type");
  const H5T_str_t pad = H5Tget_strpad(file_type);
  Handle mem = Check(file, H5Tcopy(file_type), H5Tclose, "cannot copy a string type");
  std::vector<char> buf = Allocate<char>(file, what, npoints * static_cast<int64_t>(width));
  if (npoints > 0) {
    CheckStatus(file, read(mem.get(), buf.data()), "cannot read " + what);
    for (size_t i = 0; i < out.size(); ++i) {
      const char* s = buf.data() + i * width;
      size_t len = strnlen(s, width);
      if (pad == H5T_STR_SPACEPAD) {
        while (len > 0 && s[len - 1] == ' ') --len;
      }
      out[i].assign(s, len);
    }
  }
  return out;
}

struct ListState {
  std::vector<std::string> names;
};

herr_t CollectName(hid_t /*group*/, const char* name, const H5L_info_t* /*info*/, void* data) {
  static_cast<ListState*>(data)->names.emplace_back(name);
  return 0;
}

}  // namespace

H5File::H5File(std::string path, std::string disk_path, int64_t id, bool writable, bool atomic)
    : path_(std::move(path)),
      disk_path_(std::move(disk_path)),
      id_(id),
      writable_(writable),
      atomic_(atomic) {}

H5File::H5File(H5File&& o) noexcept
    : path_(std::move(o.path_)),
      disk_path_(std::move(o.disk_path_)),
      id_(std::exchange(o.id_, -1)),
      writable_(o.writable_),
      atomic_(o.atomic_) {}

H5File& H5File::operator=(H5File&& o) noexcept {
  if (this != &o) {
    CloseQuietly();
    path_ = std::move(o.path_);
    disk_path_ = std::move(o.disk_path_);
    id_ = std::exchange(o.id_, -1);
    writable_ = o.writable_;
    atomic_ = o.atomic_;
  }
  return *this;
}

H5File::~H5File() { CloseQuietly(); }

void H5File::CloseQuietly() noexcept {
  if (id_ < 0) return;
  H5Fclose(id_);
  H5Eclear2(H5E_DEFAULT);
  id_ = -1;
  // Never committed: the temporary file is incomplete by definition.
  if (atomic_) std::remove(disk_path_.c_str());
}

H5File H5File::Create(const std::string& path, const H5CreateOptions& options) {
  SilenceHdf5();
  const std::string disk = options.atomic ? TemporaryPathFor(path) : path;
  // The 1.10 format checksums all metadata (see h5_file.h).
  Handle fapl = Check(path, H5Pcreate(H5P_FILE_ACCESS), H5Pclose, "cannot create a property list");
  CheckStatus(path, H5Pset_libver_bounds(fapl.get(), H5F_LIBVER_V110, H5F_LIBVER_V110),
              "cannot select the HDF5 1.10 file format");
  const hid_t id = H5Fcreate(disk.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl.get());
  if (id < 0) {
    const std::string detail = Hdf5Detail();
    if (options.atomic) std::remove(disk.c_str());
    throw Error(Location{path, -1, ""},
                "cannot create HDF5 file" + (detail.empty() ? "" : " (HDF5: " + detail + ")"));
  }
  return H5File(path, disk, id, true, options.atomic);
}

namespace {

hid_t OpenExisting(const std::string& path, unsigned flags) {
  SilenceHdf5();
  if (std::FILE* f = std::fopen(path.c_str(), "rb")) {
    std::fclose(f);
  } else {
    throw Error(Location{path, -1, ""}, std::string("cannot open file: ") + std::strerror(errno));
  }
  const htri_t is_hdf5 = H5Fis_hdf5(path.c_str());
  if (is_hdf5 <= 0) {
    H5Eclear2(H5E_DEFAULT);
    throw Error(Location{path, -1, ""}, "not an HDF5 file");
  }
  const hid_t id = H5Fopen(path.c_str(), flags, H5P_DEFAULT);
  if (id < 0) Fail(path, "cannot open HDF5 file");
  return id;
}

}  // namespace

// SilenceHdf5 before the flags: H5F_ACC_* expand to a call of H5open(),
// which initialises the library (and registers its atexit cleanup) before
// OpenExisting's body could ask it not to.
H5File H5File::OpenReadOnly(const std::string& path) {
  SilenceHdf5();
  return H5File(path, path, OpenExisting(path, H5F_ACC_RDONLY), false, false);
}

H5File H5File::OpenReadWrite(const std::string& path) {
  SilenceHdf5();
  return H5File(path, path, OpenExisting(path, H5F_ACC_RDWR), true, false);
}

void H5File::Close() {
  if (id_ < 0) return;
  const hid_t id = std::exchange(id_, -1);
  if (writable_ && H5Fflush(id, H5F_SCOPE_GLOBAL) < 0) {
    const std::string detail = Hdf5Detail();
    H5Fclose(id);
    H5Eclear2(H5E_DEFAULT);
    if (atomic_) std::remove(disk_path_.c_str());
    throw WriteError(Location{path_, -1, ""},
                     "cannot write HDF5 file (disk full?)" + (detail.empty() ? "" : " (HDF5: " + detail + ")"));
  }
  if (H5Fclose(id) < 0) {
    const std::string detail = Hdf5Detail();
    if (atomic_) std::remove(disk_path_.c_str());
    const std::string message = "cannot close HDF5 file" + (detail.empty() ? "" : " (HDF5: " + detail + ")");
    if (writable_) throw WriteError(Location{path_, -1, ""}, message);
    throw Error(Location{path_, -1, ""}, message);
  }
  if (atomic_ && std::rename(disk_path_.c_str(), path_.c_str()) != 0) {
    const int err = errno;
    std::remove(disk_path_.c_str());
    throw WriteError(Location{path_, -1, ""},
                     std::string("cannot rename temporary file into place: ") + std::strerror(err));
  }
}

void H5File::Flush() {
  CWFX_CHECK(id_ >= 0, "H5File used after Close");
  if (!writable_) return;
  CheckStatus(path_, H5Fflush(id_, H5F_SCOPE_GLOBAL), "cannot write HDF5 file (disk full?)");
}

bool H5File::Exists(const std::string& object_path) const {
  CWFX_CHECK(id_ >= 0, "H5File used after Close");
  const std::string p = Normalize(object_path);
  if (p == "/") return true;
  // H5Lexists fails (rather than answering no) when a parent is missing, so
  // walk the path one link at a time.
  size_t pos = 0;
  while (pos != std::string::npos) {
    pos = p.find('/', pos + 1);
    const std::string prefix = p.substr(0, pos);
    if (H5Lexists(id_, prefix.c_str(), H5P_DEFAULT) <= 0) {
      H5Eclear2(H5E_DEFAULT);
      return false;
    }
    if (pos != std::string::npos && !IsGroup(prefix)) return false;
  }
  return true;
}

bool H5File::IsGroup(const std::string& object_path) const {
  CWFX_CHECK(id_ >= 0, "H5File used after Close");
  const std::string p = Normalize(object_path);
  H5O_info_t info;
  if (H5Oget_info_by_name(id_, p.c_str(), &info, H5P_DEFAULT) < 0) {
    H5Eclear2(H5E_DEFAULT);
    return false;
  }
  return info.type == H5O_TYPE_GROUP;
}

void H5File::CreateGroup(const std::string& group_path) {
  CWFX_CHECK(id_ >= 0, "H5File used after Close");
  const std::string p = Normalize(group_path);
  if (Exists(p)) {
    if (!IsGroup(p)) throw Error(Location{path_, -1, ""}, Quote(p) + " exists and is not a group");
    return;
  }
  Handle lcpl = Check(path_, H5Pcreate(H5P_LINK_CREATE), H5Pclose, "cannot create a property list");
  CheckStatus(path_, H5Pset_create_intermediate_group(lcpl.get(), 1), "cannot set intermediate groups");
  Check(path_, H5Gcreate2(id_, p.c_str(), lcpl.get(), H5P_DEFAULT, H5P_DEFAULT), H5Gclose,
        "cannot create group " + Quote(p));
}

std::vector<std::string> H5File::List(const std::string& group_path) const {
  CWFX_CHECK(id_ >= 0, "H5File used after Close");
  const std::string p = Normalize(group_path);
  if (!IsGroup(p)) throw Error(Location{path_, -1, ""}, "no group " + Quote(p));
  Handle g = Check(path_, H5Gopen2(id_, p.c_str(), H5P_DEFAULT), H5Gclose, "cannot open group " + Quote(p));
  ListState st;
  hsize_t idx = 0;
  CheckStatus(path_, H5Literate(g.get(), H5_INDEX_NAME, H5_ITER_INC, &idx, CollectName, &st),
              "cannot list group " + Quote(p));
  std::sort(st.names.begin(), st.names.end());
  return st.names;
}

namespace {

// Shared body of every dataset writer. rank 1: dims = {rows}; rank 2: {rows, cols}.
struct DatasetSpec {
  hid_t file_type;
  hid_t mem_type;
  const void* data;
  int64_t rows;
  int64_t cols;  // 1 for rank 1
  int rank;
  bool filters_ok;  // shuffle/deflate are useless on variable-length data
  size_t element_bytes;
};

void WriteDataset(const std::string& file, hid_t fid, bool writable, const std::string& raw_path,
                  const DatasetSpec& spec, const H5WriteOptions& o, bool exists) {
  CWFX_CHECK(fid >= 0, "H5File used after Close");
  const std::string p = Normalize(raw_path);
  if (!writable) throw Error(Location{file, -1, ""}, "cannot write " + Quote(p) + ": file opened read-only");
  if (p == "/") throw Error(Location{file, -1, ""}, "cannot write a dataset at the root path");
  if (exists)
    throw Error(Location{file, -1, ""}, "cannot write " + Quote(p) + ": an object already exists there");
  CWFX_CHECK(spec.rows >= 0 && spec.cols >= 0, "negative dataset size");

  hsize_t dims[2] = {static_cast<hsize_t>(spec.rows), static_cast<hsize_t>(spec.cols)};
  Handle space =
      Check(file, H5Screate_simple(spec.rank, dims, nullptr), H5Sclose, "cannot create a dataspace");
  Handle dcpl = Check(file, H5Pcreate(H5P_DATASET_CREATE), H5Pclose, "cannot create a property list");
  // Chunks hold about chunk_elements doubles' worth of bytes, so wide
  // fixed-length strings do not make huge chunks.
  const int64_t requested = std::max<int64_t>(1, o.chunk_elements);
  const int64_t chunk = std::max<int64_t>(
      1, std::min<int64_t>(requested, requested * 8 / static_cast<int64_t>(spec.element_bytes)));
  // Every non-empty dataset is chunked so that its data carry a Fletcher-32
  // checksum (HDF5 verifies it on every read); one longer than a chunk is
  // also compressed. Variable-length data take no filters.
  if (spec.rows > 0 && spec.cols > 0) {
    const bool long_array = spec.rows * spec.cols > chunk;
    hsize_t chunk_dims[2] = {
        static_cast<hsize_t>(std::min(spec.rows, std::max<int64_t>(1, chunk / spec.cols))),
        static_cast<hsize_t>(spec.cols)};
    if (spec.rank == 1) chunk_dims[0] = static_cast<hsize_t>(std::min(spec.rows, chunk));
    CheckStatus(file, H5Pset_chunk(dcpl.get(), spec.rank, chunk_dims), "cannot set chunking for " + Quote(p));
    if (long_array && spec.filters_ok && o.deflate_level > 0 && H5Zfilter_avail(H5Z_FILTER_DEFLATE) > 0) {
      CheckStatus(file, H5Pset_shuffle(dcpl.get()), "cannot set shuffle for " + Quote(p));
      CheckStatus(file, H5Pset_deflate(dcpl.get(), static_cast<unsigned>(std::min(o.deflate_level, 9))),
                  "cannot set deflate for " + Quote(p));
    }
    if (spec.filters_ok && o.checksums)
      CheckStatus(file, H5Pset_fletcher32(dcpl.get()), "cannot set the checksum of " + Quote(p));
  }
  Handle lcpl = Check(file, H5Pcreate(H5P_LINK_CREATE), H5Pclose, "cannot create a property list");
  CheckStatus(file, H5Pset_create_intermediate_group(lcpl.get(), 1), "cannot set intermediate groups");
  Handle ds = Check(
      file, H5Dcreate2(fid, p.c_str(), spec.file_type, space.get(), lcpl.get(), dcpl.get(), H5P_DEFAULT),
      H5Dclose, "cannot create dataset " + Quote(p));
  if (spec.rows > 0 && spec.cols > 0) {
    CheckStatus(file, H5Dwrite(ds.get(), spec.mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, spec.data),
                "cannot write dataset " + Quote(p) + " (disk full?)");
  }
}

}  // namespace

void H5File::WriteDoubles(const std::string& p, std::span<const double> v, const H5WriteOptions& o) {
  WriteDataset(path_, id_, writable_, p,
               {H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, v.data(), static_cast<int64_t>(v.size()), 1, 1, true, 8},
               o, Exists(p));
}

void H5File::WriteInt64(const std::string& p, std::span<const int64_t> v, const H5WriteOptions& o) {
  WriteDataset(path_, id_, writable_, p,
               {H5T_STD_I64LE, H5T_NATIVE_INT64, v.data(), static_cast<int64_t>(v.size()), 1, 1, true, 8}, o,
               Exists(p));
}

void H5File::WriteInt32(const std::string& p, std::span<const int32_t> v, const H5WriteOptions& o) {
  WriteDataset(path_, id_, writable_, p,
               {H5T_STD_I32LE, H5T_NATIVE_INT32, v.data(), static_cast<int64_t>(v.size()), 1, 1, true, 4}, o,
               Exists(p));
}

void H5File::WriteMatrix(const std::string& p, std::span<const double> v, int64_t rows, int64_t cols,
                         const H5WriteOptions& o) {
  CWFX_CHECK(rows >= 0 && cols >= 0 && static_cast<size_t>(rows * cols) == v.size(),
             "matrix size does not match rows * cols");
  WriteDataset(path_, id_, writable_, p,
               {H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, v.data(), rows, cols, 2, true, 8}, o, Exists(p));
}

void H5File::WriteStrings(const std::string& p, std::span<const std::string> v, const H5WriteOptions& o) {
  const bool exists = Exists(p);
  if (o.fixed_length_strings) {
    size_t width = 1;
    for (const auto& s : v) width = std::max(width, s.size());
    Handle t = StringType(path_, width);
    std::vector<char> buf(v.size() * width, '\0');
    for (size_t i = 0; i < v.size(); ++i) std::memcpy(buf.data() + i * width, v[i].data(), v[i].size());
    WriteDataset(path_, id_, writable_, p,
                 {t.get(), t.get(), buf.data(), static_cast<int64_t>(v.size()), 1, 1, true, width}, o,
                 exists);
    return;
  }
  Handle t = StringType(path_, 0);
  std::vector<const char*> ptrs(v.size());
  for (size_t i = 0; i < v.size(); ++i) ptrs[i] = v[i].c_str();
  WriteDataset(path_, id_, writable_, p,
               {t.get(), t.get(), ptrs.data(), static_cast<int64_t>(v.size()), 1, 1, false, sizeof(char*)}, o,
               exists);
}

namespace {

struct OpenDataset {
  Handle ds;
  Handle space;
  Handle type;
  std::vector<int64_t> dims;
};

OpenDataset Open(const std::string& file, hid_t fid, const std::string& raw_path) {
  CWFX_CHECK(fid >= 0, "H5File used after Close");
  const std::string p = Normalize(raw_path);
  OpenDataset d;
  d.ds = Check(file, H5Dopen2(fid, p.c_str(), H5P_DEFAULT), H5Dclose, "no dataset " + Quote(p));
  d.space = Check(file, H5Dget_space(d.ds.get()), H5Sclose, "cannot read the shape of " + Quote(p));
  d.type = Check(file, H5Dget_type(d.ds.get()), H5Tclose, "cannot read the type of " + Quote(p));
  const int rank = H5Sget_simple_extent_ndims(d.space.get());
  if (rank < 0 || rank > 32) Fail(file, "cannot read the shape of " + Quote(p));
  hsize_t dims[32];
  if (H5Sget_simple_extent_dims(d.space.get(), dims, nullptr) < 0)
    Fail(file, "cannot read the shape of " + Quote(p));
  for (int i = 0; i < rank; ++i) d.dims.push_back(static_cast<int64_t>(dims[i]));
  return d;
}

int64_t OneDimLength(const std::string& file, const std::string& p, const OpenDataset& d) {
  if (d.dims.size() != 1) {
    throw Error(Location{file, -1, ""}, "dataset " + Quote(Normalize(p)) + " has " +
                                            std::to_string(d.dims.size()) + " dimensions; expected 1");
  }
  return d.dims[0];
}

template <typename T>
std::vector<T> ReadNumeric(const std::string& file, hid_t fid, const std::string& p, hid_t mem_type,
                           bool integers_only) {
  OpenDataset d = Open(file, fid, p);
  const int64_t n = OneDimLength(file, p, d);
  const H5T_class_t cls = H5Tget_class(d.type.get());
  if (cls != H5T_INTEGER && !(cls == H5T_FLOAT && !integers_only)) {
    throw Error(Location{file, -1, ""}, "dataset " + Quote(Normalize(p)) + " is not " +
                                            (integers_only ? "an integer" : "a numeric") + " dataset");
  }
  std::vector<T> out = Allocate<T>(file, "dataset " + Quote(Normalize(p)), n);
  if (n > 0) {
    CheckStatus(file, H5Dread(d.ds.get(), mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()),
                "cannot read dataset " + Quote(Normalize(p)));
  }
  return out;
}

}  // namespace

H5File::ElementKind H5File::Kind(const std::string& p) const {
  OpenDataset d = Open(path_, id_, p);
  switch (H5Tget_class(d.type.get())) {
    case H5T_FLOAT:
      return ElementKind::kFloat;
    case H5T_INTEGER:
      return ElementKind::kInteger;
    case H5T_STRING:
      return ElementKind::kString;
    default:
      return ElementKind::kOther;
  }
}

std::vector<int64_t> H5File::Shape(const std::string& p) const { return Open(path_, id_, p).dims; }

std::vector<double> H5File::ReadDoubles(const std::string& p) const {
  return ReadNumeric<double>(path_, id_, p, H5T_NATIVE_DOUBLE, false);
}

std::vector<int64_t> H5File::ReadInt64(const std::string& p) const {
  return ReadNumeric<int64_t>(path_, id_, p, H5T_NATIVE_INT64, true);
}

std::vector<int32_t> H5File::ReadInt32(const std::string& p) const {
  return ReadNumeric<int32_t>(path_, id_, p, H5T_NATIVE_INT32, true);
}

std::vector<std::string> H5File::ReadStrings(const std::string& p) const {
  OpenDataset d = Open(path_, id_, p);
  const int64_t n = OneDimLength(path_, p, d);
  const hid_t ds = d.ds.get();
  return ReadStringsWith(
      path_, "dataset " + Quote(Normalize(p)), d.type.get(), n, d.space.get(),
      [ds](hid_t mem, void* buf) { return H5Dread(ds, mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf); });
}

H5Matrix H5File::ReadMatrix(const std::string& p) const {
  OpenDataset d = Open(path_, id_, p);
  if (d.dims.size() != 2) {
    throw Error(Location{path_, -1, ""}, "dataset " + Quote(Normalize(p)) + " has " +
                                             std::to_string(d.dims.size()) + " dimensions; expected 2");
  }
  const H5T_class_t cls = H5Tget_class(d.type.get());
  if (cls != H5T_INTEGER && cls != H5T_FLOAT) {
    throw Error(Location{path_, -1, ""}, "dataset " + Quote(Normalize(p)) + " is not a numeric dataset");
  }
  H5Matrix m;
  m.rows = d.dims[0];
  m.cols = d.dims[1];
  if (m.cols > 0 && m.rows > INT64_MAX / m.cols) {
    throw Error(Location{path_, -1, ""}, "dataset " + Quote(Normalize(p)) + " is too large");
  }
  m.values_rc = Allocate<double>(path_, "dataset " + Quote(Normalize(p)), m.rows * m.cols);
  if (!m.values_rc.empty()) {
    CheckStatus(path_,
                H5Dread(d.ds.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, m.values_rc.data()),
                "cannot read dataset " + Quote(Normalize(p)));
  }
  return m;
}

void H5File::CreateChunked(const std::string& raw_path, const H5ChunkedSpec& spec) {
  CWFX_CHECK(id_ >= 0, "H5File used after Close");
  CWFX_CHECK(spec.rows > 0 && spec.cols >= 0 && spec.chunk_rows > 0, "bad chunked dataset shape");
  const std::string p = Normalize(raw_path);
  if (!writable_)
    throw Error(Location{path_, -1, ""}, "cannot write " + Quote(p) + ": file opened read-only");
  if (p == "/") throw Error(Location{path_, -1, ""}, "cannot write a dataset at the root path");
  if (Exists(p))
    throw Error(Location{path_, -1, ""}, "cannot write " + Quote(p) + ": an object already exists there");
  const int rank = spec.cols == 0 ? 1 : 2;
  const hsize_t dims[2] = {static_cast<hsize_t>(spec.rows), static_cast<hsize_t>(spec.cols)};
  const hsize_t chunk_dims[2] = {static_cast<hsize_t>(std::min(spec.rows, spec.chunk_rows)),
                                 static_cast<hsize_t>(spec.cols)};
  Handle space = Check(path_, H5Screate_simple(rank, dims, nullptr), H5Sclose, "cannot create a dataspace");
  Handle dcpl = Check(path_, H5Pcreate(H5P_DATASET_CREATE), H5Pclose, "cannot create a property list");
  CheckStatus(path_, H5Pset_chunk(dcpl.get(), rank, chunk_dims), "cannot set chunking for " + Quote(p));
  if (spec.deflate_level > 0 && H5Zfilter_avail(H5Z_FILTER_DEFLATE) > 0) {
    CheckStatus(path_, H5Pset_shuffle(dcpl.get()), "cannot set shuffle for " + Quote(p));
    CheckStatus(path_, H5Pset_deflate(dcpl.get(), static_cast<unsigned>(std::min(spec.deflate_level, 9))),
                "cannot set deflate for " + Quote(p));
  }
  if (spec.checksums)
    CheckStatus(path_, H5Pset_fletcher32(dcpl.get()), "cannot set the checksum of " + Quote(p));
  hid_t file_type = H5T_IEEE_F64LE;
  if (spec.type == H5NumericType::kFloat64) {
    const double fill = std::numeric_limits<double>::quiet_NaN();
    CheckStatus(path_, H5Pset_fill_value(dcpl.get(), H5T_NATIVE_DOUBLE, &fill),
                "cannot set the fill value of " + Quote(p));
  } else {
    file_type = H5T_STD_I32LE;
    const int32_t fill = 0;
    CheckStatus(path_, H5Pset_fill_value(dcpl.get(), H5T_NATIVE_INT32, &fill),
                "cannot set the fill value of " + Quote(p));
  }
  Handle lcpl = Check(path_, H5Pcreate(H5P_LINK_CREATE), H5Pclose, "cannot create a property list");
  CheckStatus(path_, H5Pset_create_intermediate_group(lcpl.get(), 1), "cannot set intermediate groups");
  Check(path_, H5Dcreate2(id_, p.c_str(), file_type, space.get(), lcpl.get(), dcpl.get(), H5P_DEFAULT),
        H5Dclose, "cannot create dataset " + Quote(p));
}

namespace {

// Runs of consecutive rows [first, first + count) of a 1-D or 2-D numeric
// dataset: the dataset with their union selected in `d.space`, a 1-D memory
// space of as many elements, and the number of columns.
struct RowRun {
  int64_t first = 0;
  int64_t count = 0;
};

struct RowSelection {
  OpenDataset d;
  Handle mem;
  int64_t cols = 1;
  int64_t rows = 0;  // selected
};

RowSelection SelectRows(const std::string& file, hid_t fid, const std::string& p,
                        std::span<const RowRun> runs) {
  RowSelection b;
  b.d = Open(file, fid, p);
  if (b.d.dims.size() != 1 && b.d.dims.size() != 2) {
    throw Error(Location{file, -1, ""}, "dataset " + Quote(p) + " has " + std::to_string(b.d.dims.size()) +
                                            " dimensions; expected 1 or 2");
  }
  const H5T_class_t cls = H5Tget_class(b.d.type.get());
  if (cls != H5T_INTEGER && cls != H5T_FLOAT) {
    throw Error(Location{file, -1, ""}, "dataset " + Quote(p) + " is not a numeric dataset");
  }
  const int64_t rows = b.d.dims[0];
  b.cols = b.d.dims.size() == 2 ? b.d.dims[1] : 1;
  CheckStatus(file, H5Sselect_none(b.d.space.get()), "cannot select rows of " + Quote(p));
  for (const RowRun& run : runs) {
    if (run.first < 0 || run.count < 0 || run.first > rows - run.count) {
      throw Error(Location{file, -1, ""},
                  "rows " + std::to_string(run.first) + " to " + std::to_string(run.first + run.count - 1) +
                      " are outside dataset " + Quote(p) + " of " + std::to_string(rows) + " rows");
    }
    if (run.count == 0 || b.cols == 0) continue;
    const hsize_t start[2] = {static_cast<hsize_t>(run.first), 0};
    const hsize_t count[2] = {static_cast<hsize_t>(run.count), static_cast<hsize_t>(b.cols)};
    CheckStatus(file,
                H5Sselect_hyperslab(b.d.space.get(), b.rows == 0 ? H5S_SELECT_SET : H5S_SELECT_OR, start,
                                    nullptr, count, nullptr),
                "cannot select rows of " + Quote(p));
    b.rows += run.count;
  }
  if (b.rows > 0 && b.cols > 0) {
    const hsize_t n[1] = {static_cast<hsize_t>(b.rows * b.cols)};
    b.mem = Check(file, H5Screate_simple(1, n, nullptr), H5Sclose, "cannot create a dataspace");
  }
  return b;
}

void WriteRowRuns(const std::string& file, hid_t fid, bool writable, const std::string& raw_path,
                  std::span<const RowRun> runs, hid_t mem_type, const void* data, size_t n_values) {
  CWFX_CHECK(fid >= 0, "H5File used after Close");
  const std::string p = Normalize(raw_path);
  if (!writable) throw Error(Location{file, -1, ""}, "cannot write " + Quote(p) + ": file opened read-only");
  RowSelection b = SelectRows(file, fid, p, runs);
  CWFX_CHECK(static_cast<int64_t>(n_values) == b.rows * b.cols, "WriteRows: values do not match rows * cols");
  if (b.rows == 0 || b.cols == 0) return;
  CheckStatus(file, H5Dwrite(b.d.ds.get(), mem_type, b.mem.get(), b.d.space.get(), H5P_DEFAULT, data),
              "cannot write rows of dataset " + Quote(p) + " (disk full?)");
}

// Strictly increasing row indexes as runs of consecutive rows.
std::vector<RowRun> RunsOf(std::span<const int64_t> rows) {
  std::vector<RowRun> runs;
  for (size_t i = 0; i < rows.size(); ++i) {
    CWFX_CHECK(i == 0 || rows[i] > rows[i - 1], "WriteRowSet: rows must be strictly increasing");
    if (!runs.empty() && rows[i] == runs.back().first + runs.back().count) {
      ++runs.back().count;
    } else {
      runs.push_back({rows[i], 1});
    }
  }
  return runs;
}

}  // namespace

void H5File::WriteRows(const std::string& p, int64_t first_row, int64_t num_rows,
                       std::span<const double> values_rc) {
  const RowRun run{first_row, num_rows};
  WriteRowRuns(path_, id_, writable_, p, {&run, 1}, H5T_NATIVE_DOUBLE, values_rc.data(), values_rc.size());
}

void H5File::WriteRows(const std::string& p, int64_t first_row, int64_t num_rows,
                       std::span<const int32_t> values_rc) {
  const RowRun run{first_row, num_rows};
  WriteRowRuns(path_, id_, writable_, p, {&run, 1}, H5T_NATIVE_INT32, values_rc.data(), values_rc.size());
}

void H5File::WriteRowSet(const std::string& p, std::span<const int64_t> rows,
                         std::span<const double> values_rc) {
  const std::vector<RowRun> runs = RunsOf(rows);
  WriteRowRuns(path_, id_, writable_, p, runs, H5T_NATIVE_DOUBLE, values_rc.data(), values_rc.size());
}

void H5File::WriteRowSet(const std::string& p, std::span<const int64_t> rows,
                         std::span<const int32_t> values_rc) {
  const std::vector<RowRun> runs = RunsOf(rows);
  WriteRowRuns(path_, id_, writable_, p, runs, H5T_NATIVE_INT32, values_rc.data(), values_rc.size());
}

H5Matrix H5File::ReadRows(const std::string& raw_path, int64_t first_row, int64_t num_rows) const {
  CWFX_CHECK(id_ >= 0, "H5File used after Close");
  const std::string p = Normalize(raw_path);
  const RowRun run{first_row, num_rows};
  RowSelection b = SelectRows(path_, id_, p, {&run, 1});
  H5Matrix m;
  m.rows = num_rows;
  m.cols = b.cols;
  if (m.cols > 0 && m.rows > INT64_MAX / m.cols) {
    throw Error(Location{path_, -1, ""}, "dataset " + Quote(p) + " is too large");
  }
  m.values_rc = Allocate<double>(path_, "dataset " + Quote(p), m.rows * m.cols);
  if (!m.values_rc.empty()) {
    CheckStatus(path_,
                H5Dread(b.d.ds.get(), H5T_NATIVE_DOUBLE, b.mem.get(), b.d.space.get(), H5P_DEFAULT,
                        m.values_rc.data()),
                "cannot read dataset " + Quote(p));
  }
  return m;
}

H5DatasetLayout H5File::Layout(const std::string& raw_path) const {
  const std::string p = Normalize(raw_path);
  OpenDataset d = Open(path_, id_, p);
  Handle dcpl =
      Check(path_, H5Dget_create_plist(d.ds.get()), H5Pclose, "cannot read the layout of " + Quote(p));
  H5DatasetLayout out;
  const H5D_layout_t layout = H5Pget_layout(dcpl.get());
  if (layout < 0) Fail(path_, "cannot read the layout of " + Quote(p));
  out.chunked = layout == H5D_CHUNKED;
  if (out.chunked) {
    hsize_t chunk[32];
    const int rank = H5Pget_chunk(dcpl.get(), 32, chunk);
    if (rank < 0) Fail(path_, "cannot read the chunking of " + Quote(p));
    for (int i = 0; i < rank; ++i) out.chunk_dims.push_back(static_cast<int64_t>(chunk[i]));
  }
  const int nfilters = H5Pget_nfilters(dcpl.get());
  if (nfilters < 0) Fail(path_, "cannot read the filters of " + Quote(p));
  for (int i = 0; i < nfilters; ++i) {
    unsigned flags = 0, config = 0;
    unsigned values[8] = {0};
    size_t nvalues = 8;
    char name[64];
    const H5Z_filter_t f = H5Pget_filter2(dcpl.get(), static_cast<unsigned>(i), &flags, &nvalues, values,
                                          sizeof name, name, &config);
    if (f < 0) Fail(path_, "cannot read the filters of " + Quote(p));
    if (f == H5Z_FILTER_SHUFFLE) out.shuffle = true;
    if (f == H5Z_FILTER_DEFLATE) out.deflate_level = nvalues > 0 ? static_cast<int>(values[0]) : 0;
    if (f == H5Z_FILTER_FLETCHER32) out.checksum = true;
  }
  return out;
}

bool H5File::HasAttribute(const std::string& object_path, const std::string& name) const {
  CWFX_CHECK(id_ >= 0, "H5File used after Close");
  const std::string p = Normalize(object_path);
  if (!Exists(p)) return false;
  const htri_t r = H5Aexists_by_name(id_, p.c_str(), name.c_str(), H5P_DEFAULT);
  if (r < 0) Fail(path_, "cannot look up attribute '" + name + "' on " + Quote(p));
  return r > 0;
}

namespace {

// Creates (replacing) attribute `name` on `p` and writes `data` through it.
void PutAttribute(const std::string& file, hid_t fid, bool writable, const std::string& p,
                  const std::string& name, hid_t type, hid_t space, const void* data, bool existed) {
  if (!writable)
    throw Error(Location{file, -1, ""}, "cannot set attribute on " + Quote(p) + ": file opened read-only");
  if (existed) {
    CheckStatus(file, H5Adelete_by_name(fid, p.c_str(), name.c_str(), H5P_DEFAULT),
                "cannot replace attribute '" + name + "' on " + Quote(p));
  }
  Handle a = Check(
      file,
      H5Acreate_by_name(fid, p.c_str(), name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
      H5Aclose, "cannot create attribute '" + name + "' on " + Quote(p));
  CheckStatus(file, H5Awrite(a.get(), type, data), "cannot write attribute '" + name + "' on " + Quote(p));
}

struct OpenAttribute {
  Handle attr;
  Handle space;
  Handle type;
  int64_t npoints = 0;
};

OpenAttribute OpenAttr(const std::string& file, hid_t fid, const std::string& p, const std::string& name) {
  OpenAttribute a;
  a.attr = Check(file, H5Aopen_by_name(fid, p.c_str(), name.c_str(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose,
                 "no attribute '" + name + "' on " + Quote(p));
  a.space = Check(file, H5Aget_space(a.attr.get()), H5Sclose, "cannot read attribute '" + name + "'");
  a.type = Check(file, H5Aget_type(a.attr.get()), H5Tclose, "cannot read attribute '" + name + "'");
  const hssize_t n = H5Sget_simple_extent_npoints(a.space.get());
  if (n < 0) Fail(file, "cannot read attribute '" + name + "'");
  a.npoints = n;
  return a;
}

}  // namespace

void H5File::SetAttribute(const std::string& object_path, const std::string& name, const std::string& value) {
  const std::string p = Normalize(object_path);
  const bool existed = HasAttribute(p, name);
  // Fixed-length, like string datasets (see H5WriteOptions).
  std::string padded = value;
  if (padded.empty()) padded.push_back('\0');
  Handle t = StringType(path_, padded.size());
  Handle space = Check(path_, H5Screate(H5S_SCALAR), H5Sclose, "cannot create a dataspace");
  PutAttribute(path_, id_, writable_, p, name, t.get(), space.get(), padded.data(), existed);
}

void H5File::SetAttribute(const std::string& object_path, const std::string& name, double value) {
  const std::string p = Normalize(object_path);
  const bool existed = HasAttribute(p, name);
  Handle space = Check(path_, H5Screate(H5S_SCALAR), H5Sclose, "cannot create a dataspace");
  PutAttribute(path_, id_, writable_, p, name, H5T_NATIVE_DOUBLE, space.get(), &value, existed);
}

void H5File::SetAttribute(const std::string& object_path, const std::string& name, int64_t value) {
  const std::string p = Normalize(object_path);
  const bool existed = HasAttribute(p, name);
  Handle space = Check(path_, H5Screate(H5S_SCALAR), H5Sclose, "cannot create a dataspace");
  PutAttribute(path_, id_, writable_, p, name, H5T_NATIVE_INT64, space.get(), &value, existed);
}

void H5File::SetAttribute(const std::string& object_path, const std::string& name,
                          std::span<const std::string> values) {
  const std::string p = Normalize(object_path);
  const bool existed = HasAttribute(p, name);
  size_t width = 1;
  for (const auto& v : values) width = std::max(width, v.size());
  Handle t = StringType(path_, width);
  const hsize_t dims[1] = {static_cast<hsize_t>(values.size())};
  Handle space = Check(path_, H5Screate_simple(1, dims, nullptr), H5Sclose, "cannot create a dataspace");
  std::vector<char> buf(std::max<size_t>(1, values.size() * width), '\0');
  for (size_t i = 0; i < values.size(); ++i)
    std::memcpy(buf.data() + i * width, values[i].data(), values[i].size());
  PutAttribute(path_, id_, writable_, p, name, t.get(), space.get(), buf.data(), existed);
}

std::string H5File::GetStringAttribute(const std::string& object_path, const std::string& name) const {
  std::vector<std::string> v = GetStringListAttribute(object_path, name);
  if (v.size() != 1) {
    throw Error(Location{path_, -1, ""},
                "attribute '" + name + "' on " + Quote(Normalize(object_path)) + " is not a single string");
  }
  return v[0];
}

std::vector<std::string> H5File::GetStringListAttribute(const std::string& object_path,
                                                        const std::string& name) const {
  CWFX_CHECK(id_ >= 0, "H5File used after Close");
  const std::string p = Normalize(object_path);
  OpenAttribute a = OpenAttr(path_, id_, p, name);
  const hid_t attr = a.attr.get();
  return ReadStringsWith(path_, "attribute '" + name + "' on " + Quote(p), a.type.get(), a.npoints,
                         a.space.get(), [attr](hid_t mem, void* buf) { return H5Aread(attr, mem, buf); });
}

namespace {

template <typename T>
T ReadScalarAttribute(const std::string& file, hid_t fid, const std::string& object_path,
                      const std::string& name, hid_t mem_type) {
  CWFX_CHECK(fid >= 0, "H5File used after Close");
  const std::string p = Normalize(object_path);
  OpenAttribute a = OpenAttr(file, fid, p, name);
  const H5T_class_t cls = H5Tget_class(a.type.get());
  if ((cls != H5T_INTEGER && cls != H5T_FLOAT) || a.npoints != 1) {
    throw Error(Location{file, -1, ""},
                "attribute '" + name + "' on " + Quote(p) + " is not a single number");
  }
  T value{};
  CheckStatus(file, H5Aread(a.attr.get(), mem_type, &value), "cannot read attribute '" + name + "'");
  return value;
}

}  // namespace

double H5File::GetDoubleAttribute(const std::string& object_path, const std::string& name) const {
  return ReadScalarAttribute<double>(path_, id_, object_path, name, H5T_NATIVE_DOUBLE);
}

int64_t H5File::GetInt64Attribute(const std::string& object_path, const std::string& name) const {
  return ReadScalarAttribute<int64_t>(path_, id_, object_path, name, H5T_NATIVE_INT64);
}

}  // namespace cwfx::store
