// Draw files (see draw_file.h): the journal, the live HDF5 file, resuming and
// reading back.
//
// JOURNAL "<path>.journal" (all integers little-endian; format version 1)
//   header  "CWFXJRNL" (8 bytes) | uint32 version = 1 | uint32 0 (reserved) |
//           uint64 n | n bytes: the identity as JSON (IdentityJson) |
//           uint64 FNV-1a 64 of every preceding header byte
//   record  int64 replication (-1: the full-sample estimate) | uint64 b |
//           b bytes: every dataset's values as IEEE float64, datasets in
//           identity order | uint64 FNV-1a 64 of the replication, b and the
//           payload bytes
// A journal is created whole: header (and, when rebuilt from a complete file,
// its records) written to "<journal>.tmp", synced and renamed. Records are
// then appended with one write(2) each, with no user-space buffer, so a
// kill -9 loses at most the record being written; the journal is synced
// (fdatasync) at most every kSyncSeconds and when the writer stops. A reader
// stops at the first record that is short, has the wrong length or fails its
// checksum (a torn append, or damage: everything after it is recomputed);
// the resumed writer truncates the journal there before appending.
//
// LIVE FILE: created in place at <path> (not atomically), so the draws of an
// interrupted run can be read at <path>. Records are buffered and written to
// the datasets, the completed mask and @completed_count when the buffer holds
// chunk_rows records or flush_seconds have passed, then H5Fflush'ed. Resume
// never trusts that file: it rebuilds it from the journal into "<path>.tmp"
// and renames it into place, then reopens it for writing.
#include "store/draw_file.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <utility>

#include "core/error.h"
#include "store/h5_file.h"

namespace cwfx::store {

namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

constexpr char kMagic[8] = {'C', 'W', 'F', 'X', 'J', 'R', 'N', 'L'};
constexpr uint32_t kJournalVersion = 1;
constexpr int64_t kHeaderFixedBytes = 8 + 4 + 4 + 8;  // before the identity JSON
constexpr int64_t kRecordOverhead = 8 + 8 + 8;        // replication, length, checksum
constexpr int64_t kEstimateIndex = -1;
// The journal is fdatasync'ed at most this often (a kill -9 loses nothing that
// was written; only a power cut can lose the unsynced tail, which is recomputed).
constexpr double kSyncSeconds = 5.0;
// Values buffered when a file is rebuilt from its journal.
constexpr int64_t kRebuildBufferBytes = int64_t{64} << 20;
// Rows per chunk of the 1-D completed mask.
constexpr int64_t kCompletedChunkRows = 4096;

constexpr uint64_t kFnvOffset = 14695981039346656037ULL;
constexpr uint64_t kFnvPrime = 1099511628211ULL;

uint64_t Fnv1a64(const void* data, size_t n, uint64_t hash = kFnvOffset) {
  const auto* p = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < n; ++i) {
    hash ^= p[i];
    hash *= kFnvPrime;
  }
  return hash;
}

void PutU32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}
void PutU64(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}
uint32_t GetU32(const unsigned char* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}
uint64_t GetU64(const unsigned char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

std::string ErrnoText() { return std::strerror(errno); }

bool PathExists(const std::string& p) {
  std::error_code ec;
  return std::filesystem::exists(std::filesystem::symlink_status(p, ec));
}

std::string Abbreviate(const std::string& s, size_t max = 60) {
  return s.size() <= max ? s : s.substr(0, max - 3) + "...";
}

const char* TypeName(DrawType t) { return t == DrawType::kInt32 ? "int32" : "float64"; }

int64_t TotalWidth(const DrawIdentity& id) {
  int64_t w = 0;
  for (const auto& d : id.datasets) w += d.width;
  return w;
}

// ---------------------------------------------------------------------------
// Identity <-> JSON

json IdentityJson(const DrawIdentity& id) {
  json j;
  j["format"] = "cwfx-draws";
  j["format_version"] = 1;
  j["scheme"] = id.scheme;
  j["seed"] = std::to_string(id.seed);  // text: uint64 survives any JSON reader
  j["configuration"] = id.configuration_json;
  j["data_fingerprint"] = id.data_fingerprint;
  j["engine_version"] = id.engine_version;
  json ds = json::array();
  for (const auto& d : id.datasets) {
    ds.push_back({{"name", d.name}, {"width", d.width}, {"type", TypeName(d.type)}, {"columns", d.columns}});
  }
  j["datasets"] = ds;
  return j;
}

std::string IdentityText(const DrawIdentity& id, const std::string& file) {
  try {
    return IdentityJson(id).dump();
  } catch (const json::exception& e) {
    throw Error(Location{file, -1, ""},
                std::string("the draw identity cannot be stored (not UTF-8?): ") + e.what());
  }
}

uint64_t ParseSeed(const std::string& text, const std::string& file) {
  if (text.empty() || text.size() > 20 ||
      !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    throw Error(Location{file, -1, ""},
                "the stored seed '" + Abbreviate(text) + "' is not an unsigned integer");
  }
  errno = 0;
  const unsigned long long v = std::strtoull(text.c_str(), nullptr, 10);
  if (errno == ERANGE) throw Error(Location{file, -1, ""}, "the stored seed '" + text + "' is out of range");
  return static_cast<uint64_t>(v);
}

DrawIdentity IdentityFromText(const std::string& text, const std::string& file, const std::string& what) {
  try {
    const json j = json::parse(text);
    DrawIdentity id;
    id.scheme = j.at("scheme").get<std::string>();
    id.seed = ParseSeed(j.at("seed").get<std::string>(), file);
    id.configuration_json = j.at("configuration").get<std::string>();
    id.data_fingerprint = j.at("data_fingerprint").get<std::string>();
    id.engine_version = j.at("engine_version").get<std::string>();
    for (const auto& d : j.at("datasets")) {
      DrawDataset ds;
      ds.name = d.at("name").get<std::string>();
      ds.width = d.at("width").get<int64_t>();
      const std::string type = d.at("type").get<std::string>();
      if (type == "float64") {
        ds.type = DrawType::kFloat64;
      } else if (type == "int32") {
        ds.type = DrawType::kInt32;
      } else {
        throw Error(Location{file, -1, ""}, what + ": unknown dataset type '" + Abbreviate(type) + "'");
      }
      ds.columns = d.at("columns").get<std::vector<std::string>>();
      if (ds.width <= 0 || (!ds.columns.empty() && static_cast<int64_t>(ds.columns.size()) != ds.width)) {
        throw Error(Location{file, -1, ""}, what + ": dataset '" + ds.name + "' has a bad width");
      }
      id.datasets.push_back(std::move(ds));
    }
    return id;
  } catch (const json::exception& e) {
    throw Error(Location{file, -1, ""}, what + " is not a valid draw identity: " + e.what());
  }
}

// Configurations are compared as JSON values when both parse (so formatting
// does not matter), else as text. Returns "" when equal, else a description.
std::string ConfigurationDifference(const std::string& stored, const std::string& now) {
  if (stored == now) return "";
  const json a = json::parse(stored, nullptr, false);
  const json b = json::parse(now, nullptr, false);
  if (!a.is_discarded() && !b.is_discarded()) {
    if (a == b) return "";
    if (a.is_object() && b.is_object()) {
      std::set<std::string> keys;
      for (const auto& [k, v] : a.items()) keys.insert(k);
      for (const auto& [k, v] : b.items()) keys.insert(k);
      for (const auto& k : keys) {
        const std::string sa = a.contains(k) ? a[k].dump() : "(absent)";
        const std::string sb = b.contains(k) ? b[k].dump() : "(absent)";
        if (sa != sb) {
          return "the configuration differs: '" + k + "' was " + Abbreviate(sa) + ", now " + Abbreviate(sb);
        }
      }
    }
  }
  return "the configuration differs (was " + Abbreviate(stored) + ", now " + Abbreviate(now) + ")";
}

// The first field in which the stored identity and the requested one differ,
// described for the user; "" when they match.
std::string IdentityDifference(const DrawIdentity& stored, const DrawIdentity& now) {
  auto field = [](const std::string& what, const std::string& a, const std::string& b) {
    return "the " + what + " differs (was '" + Abbreviate(a) + "', now '" + Abbreviate(b) + "')";
  };
  if (stored.scheme != now.scheme) return field("scheme", stored.scheme, now.scheme);
  if (stored.seed != now.seed) return field("seed", std::to_string(stored.seed), std::to_string(now.seed));
  if (std::string c = ConfigurationDifference(stored.configuration_json, now.configuration_json); !c.empty())
    return c;
  if (stored.data_fingerprint != now.data_fingerprint)
    return field("data fingerprint", stored.data_fingerprint, now.data_fingerprint);
  if (stored.engine_version != now.engine_version)
    return field("engine version", stored.engine_version, now.engine_version);
  const size_t n = std::min(stored.datasets.size(), now.datasets.size());
  for (size_t i = 0; i < n; ++i) {
    const DrawDataset& a = stored.datasets[i];
    const DrawDataset& b = now.datasets[i];
    if (a.name != b.name)
      return field("datasets differ: dataset " + std::to_string(i) + "'s name", a.name, b.name);
    if (a.width != b.width)
      return field("datasets differ: width of '" + a.name + "'", std::to_string(a.width),
                   std::to_string(b.width));
    if (a.type != b.type)
      return field("datasets differ: type of '" + a.name + "'", TypeName(a.type), TypeName(b.type));
    if (a.columns != b.columns) return "the datasets differ: the column labels of '" + a.name + "' differ";
  }
  if (stored.datasets.size() != now.datasets.size()) {
    return "the datasets differ (" + std::to_string(stored.datasets.size()) + " stored, " +
           std::to_string(now.datasets.size()) + " now)";
  }
  return "";
}

// ---------------------------------------------------------------------------
// Validation

bool ValidLinkName(const std::string& s) {
  return !s.empty() && s != "." && s != ".." && s.find('/') == std::string::npos &&
         s.find('\0') == std::string::npos;
}

void Validate(const std::string& path, const DrawIdentity& id, int64_t replications,
              const DrawFileOptions& o) {
  auto fail = [&path](const std::string& msg) { throw Error(Location{path, -1, ""}, msg); };
  if (!ValidLinkName(id.scheme)) fail("bad scheme name '" + id.scheme + "' (non-empty, no '/')");
  if (id.datasets.empty()) fail("a draw file needs at least one dataset");
  std::set<std::string> names;
  for (const auto& d : id.datasets) {
    if (!ValidLinkName(d.name) || d.name == "completed" || d.name == "estimate")
      fail("bad draw dataset name '" + d.name + "' (non-empty, no '/', not 'completed' or 'estimate')");
    if (!names.insert(d.name).second) fail("draw dataset '" + d.name + "' is named twice");
    if (d.width <= 0)
      fail("draw dataset '" + d.name + "' has width " + std::to_string(d.width) + "; must be > 0");
    if (!d.columns.empty() && static_cast<int64_t>(d.columns.size()) != d.width) {
      fail("draw dataset '" + d.name + "' has " + std::to_string(d.columns.size()) +
           " column labels for width " + std::to_string(d.width));
    }
  }
  if (replications <= 0)
    fail("the number of replications must be positive, got " + std::to_string(replications));
  if (o.chunk_rows <= 0) fail("chunk_rows must be positive");
  if (o.deflate_level < 0 || o.deflate_level > 9) fail("deflate_level must be 0 to 9");
  if (!(o.flush_seconds >= 0) || !std::isfinite(o.flush_seconds)) fail("flush_seconds must be >= 0");
  if (o.shard_count < 1 || o.shard_index < 0 || o.shard_index >= o.shard_count)
    fail("bad shard " + std::to_string(o.shard_index) + "/" + std::to_string(o.shard_count) +
         " (expected 0 <= i < n)");
}

// Checks a record's shape and, with `int32_values`, that int32 datasets get
// int32 values (estimates are stored as float64); `what` names it in errors.
void ValidateRecord(const std::string& path, const DrawIdentity& id, const DrawRecord& r,
                    const std::string& what, bool int32_values) {
  auto fail = [&](const std::string& msg) { throw Error(Location{path, -1, ""}, what + ": " + msg); };
  if (r.values.size() != id.datasets.size()) {
    fail("has " + std::to_string(r.values.size()) + " datasets, expected " +
         std::to_string(id.datasets.size()));
  }
  for (size_t d = 0; d < id.datasets.size(); ++d) {
    const DrawDataset& ds = id.datasets[d];
    if (static_cast<int64_t>(r.values[d].size()) != ds.width) {
      fail("dataset '" + ds.name + "' has " + std::to_string(r.values[d].size()) + " values, expected " +
           std::to_string(ds.width));
    }
    if (int32_values && ds.type == DrawType::kInt32) {
      for (size_t c = 0; c < r.values[d].size(); ++c) {
        const double v = r.values[d][c];
        if (!(v >= std::numeric_limits<int32_t>::min() && v <= std::numeric_limits<int32_t>::max()) ||
            v != std::floor(v)) {
          fail("dataset '" + ds.name + "' is int32 but value " + std::to_string(c) + " is " +
               std::to_string(v));
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------
// Journal bytes

std::string HeaderBytes(const std::string& identity_text) {
  std::string out(kMagic, sizeof kMagic);
  PutU32(out, kJournalVersion);
  PutU32(out, 0);
  PutU64(out, identity_text.size());
  out += identity_text;
  PutU64(out, Fnv1a64(out.data(), out.size()));
  return out;
}

// Appends one record (replication, concatenated values) to `out`.
void AppendRecordBytes(std::string& out, int64_t replication,
                       const std::vector<std::vector<double>>& values) {
  const size_t start = out.size();
  PutU64(out, static_cast<uint64_t>(replication));
  uint64_t n = 0;
  for (const auto& v : values) n += v.size();
  PutU64(out, n * 8);
  for (const auto& v : values) {
    for (double x : v) PutU64(out, std::bit_cast<uint64_t>(x));
  }
  PutU64(out, Fnv1a64(out.data() + start, out.size() - start));
}

// Writes all of `bytes` to `fd`; false (errno set) on failure.
bool WriteAll(int fd, const char* bytes, size_t n) {
  while (n > 0) {
    const ssize_t w = ::write(fd, bytes, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    bytes += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

void SyncDirectoryOf(const std::string& path) {
  std::string dir = std::filesystem::path(path).parent_path().string();
  if (dir.empty()) dir = ".";
  const int fd = ::open(dir.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);  // best effort: makes the rename durable on power loss
    ::close(fd);
  }
}

// Creates a journal whole: `header`, then whatever `more(fd)` writes (records;
// it returns false with errno set on failure), go to "<journal>.tmp", which
// is synced and renamed onto `journal`.
template <typename More>
void WriteWholeJournal(const std::string& journal, const std::string& header, More more) {
  const std::string tmp = journal + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw Error(Location{journal, -1, ""}, "cannot create the journal: " + ErrnoText());
  bool ok = WriteAll(fd, header.data(), header.size()) && more(fd) && ::fsync(fd) == 0;
  const std::string err = ok ? "" : ErrnoText();
  if (::close(fd) != 0 && ok) ok = false;
  if (!ok || std::rename(tmp.c_str(), journal.c_str()) != 0) {
    const std::string why = err.empty() ? ErrnoText() : err;
    std::remove(tmp.c_str());
    throw WriteError(Location{journal, -1, ""}, "cannot write the journal (disk full?): " + why);
  }
  SyncDirectoryOf(journal);
}

// Reads a journal: the header on construction (throws Error naming the
// journal if it is not one), then record by record up to the first bad one.
class JournalReader {
 public:
  explicit JournalReader(std::string journal)
      : journal_(std::move(journal)), file_(std::fopen(journal_.c_str(), "rb"), &std::fclose) {
    if (file_ == nullptr) Fail("cannot open the journal: " + ErrnoText());
    std::error_code ec;
    size_ = static_cast<int64_t>(std::filesystem::file_size(journal_, ec));
    if (ec) Fail("cannot read the journal: " + ec.message());
    unsigned char fixed[kHeaderFixedBytes];
    if (!Read(fixed, sizeof fixed) || std::memcmp(fixed, kMagic, sizeof kMagic) != 0) {
      Fail("not a draw journal (bad magic)");
    }
    const uint32_t version = GetU32(fixed + 8);
    if (version != kJournalVersion) {
      Fail("journal format version " + std::to_string(version) + " is not supported (this engine writes " +
           std::to_string(kJournalVersion) + ")");
    }
    const uint64_t n = GetU64(fixed + 16);
    if (size_ < kHeaderFixedBytes + 8 || n > static_cast<uint64_t>(size_ - kHeaderFixedBytes - 8)) {
      Fail("the journal's header is damaged");
    }
    std::string text(n, '\0');
    unsigned char sum[8];
    if (!Read(text.data(), n) || !Read(sum, 8)) Fail("the journal's header is damaged");
    uint64_t h = Fnv1a64(fixed, sizeof fixed);
    h = Fnv1a64(text.data(), text.size(), h);
    if (h != GetU64(sum)) Fail("the journal's header is damaged (checksum)");
    identity_ = IdentityFromText(text, journal_, "the journal's header");
    width_ = TotalWidth(identity_);
    good_end_ = static_cast<int64_t>(kHeaderFixedBytes + n + 8);
  }
  JournalReader(const JournalReader&) = delete;
  JournalReader& operator=(const JournalReader&) = delete;

  const DrawIdentity& identity() const { return identity_; }
  // End of the header and of every good record read so far.
  int64_t good_end() const { return good_end_; }
  int64_t size() const { return size_; }

  // The next record (values split per dataset); false at the end of the
  // journal or at the first torn or damaged record.
  bool Next(int64_t& replication, std::vector<std::vector<double>>& values) {
    unsigned char head[16];
    if (!Read(head, sizeof head)) return false;
    replication = static_cast<int64_t>(GetU64(head));
    const uint64_t bytes = GetU64(head + 8);
    if (replication < kEstimateIndex || bytes != static_cast<uint64_t>(width_) * 8) return false;
    payload_.resize(bytes);
    unsigned char sum[8];
    if (!Read(payload_.data(), bytes) || !Read(sum, 8)) return false;
    uint64_t h = Fnv1a64(head, sizeof head);
    h = Fnv1a64(payload_.data(), payload_.size(), h);
    if (h != GetU64(sum)) return false;
    values.resize(identity_.datasets.size());
    const unsigned char* p = payload_.data();
    for (size_t d = 0; d < identity_.datasets.size(); ++d) {
      values[d].resize(static_cast<size_t>(identity_.datasets[d].width));
      for (double& x : values[d]) {
        x = std::bit_cast<double>(GetU64(p));
        p += 8;
      }
    }
    good_end_ += static_cast<int64_t>(sizeof head + bytes + 8);
    return true;
  }

 private:
  [[noreturn]] void Fail(const std::string& msg) { throw Error(Location{journal_, -1, ""}, msg); }
  bool Read(void* out, size_t n) { return n == 0 || std::fread(out, 1, n, file_.get()) == n; }

  std::string journal_;
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file_;
  int64_t size_ = 0;
  DrawIdentity identity_;
  int64_t width_ = 0;
  int64_t good_end_ = 0;
  std::vector<unsigned char> payload_;
};

std::string GroupOf(const DrawIdentity& id) { return "/replications/" + id.scheme; }

// ---------------------------------------------------------------------------
// Reading a draw file's group (everything but the draws themselves)

struct DrawGroup {
  std::string group;  // "/replications/<scheme>"
  DrawIdentity identity;
  int64_t replications = 0;
  std::string status;
  std::vector<uint8_t> completed;
  std::vector<DrawMatrix> estimate;  // empty if never written
  int64_t shard_index = 0, shard_count = 1;
};

DrawGroup ReadDrawGroup(const H5File& f, const std::string& scheme) {
  const std::string& path = f.path();
  auto fail = [&path](const std::string& msg) { throw Error(Location{path, -1, ""}, msg); };
  if (!f.IsGroup("/replications")) fail("not a draw file (no group '/replications')");
  const std::vector<std::string> schemes = f.List("/replications");
  std::string listed;
  for (const auto& s : schemes) listed += (listed.empty() ? "" : ", ") + s;
  std::string name = scheme;
  if (name.empty()) {
    if (schemes.empty()) fail("not a draw file ('/replications' is empty)");
    if (schemes.size() > 1) fail("holds draws of several schemes (" + listed + "): name one");
    name = schemes[0];
  } else if (std::find(schemes.begin(), schemes.end(), name) == schemes.end()) {
    fail("no draws of scheme '" + name + "' (the file holds: " + listed + ")");
  }
  DrawGroup g;
  g.group = "/replications/" + name;
  if (!f.IsGroup(g.group)) fail("not a draw file ('" + g.group + "' is not a group)");
  for (const char* attr : {"identity", "replications", "status"}) {
    if (!f.HasAttribute(g.group, attr))
      fail("not a draw file ('" + g.group + "' has no attribute '" + attr + "')");
  }
  g.identity = IdentityFromText(f.GetStringAttribute(g.group, "identity"), path,
                                "attribute 'identity' of '" + g.group + "'");
  if (g.identity.scheme != name)
    fail("'" + g.group + "' holds the identity of scheme '" + g.identity.scheme + "'");
  g.replications = f.GetInt64Attribute(g.group, "replications");
  if (g.replications < 0) fail("'" + g.group + "' has a negative replication count");
  g.status = f.GetStringAttribute(g.group, "status");
  if (f.HasAttribute(g.group, "shard_count")) {
    g.shard_index = f.GetInt64Attribute(g.group, "shard_index");
    g.shard_count = f.GetInt64Attribute(g.group, "shard_count");
    if (g.shard_count < 1 || g.shard_index < 0 || g.shard_index >= g.shard_count)
      fail("'" + g.group + "' has a bad shard " + std::to_string(g.shard_index) + "/" + std::to_string(g.shard_count));
  }
  const std::vector<int32_t> completed = f.ReadInt32(g.group + "/completed");
  if (static_cast<int64_t>(completed.size()) != g.replications) {
    fail("'" + g.group + "/completed' has " + std::to_string(completed.size()) + " entries for " +
         std::to_string(g.replications) + " replications");
  }
  g.completed.reserve(completed.size());
  for (int32_t c : completed) g.completed.push_back(c != 0 ? 1 : 0);
  for (const auto& ds : g.identity.datasets) {
    const std::string p = g.group + "/" + ds.name;
    const std::vector<int64_t> shape = f.Shape(p);
    if (shape != std::vector<int64_t>{g.replications, ds.width}) {
      fail("dataset '" + p + "' does not have the shape " + std::to_string(g.replications) + " x " +
           std::to_string(ds.width));
    }
  }
  if (f.IsGroup(g.group + "/estimate")) {
    for (const auto& ds : g.identity.datasets) {
      const std::string p = g.group + "/estimate/" + ds.name;
      if (!f.Exists(p)) fail("'" + p + "' is missing");
      std::vector<double> v = f.ReadDoubles(p);
      if (static_cast<int64_t>(v.size()) != ds.width) {
        fail("'" + p + "' has " + std::to_string(v.size()) + " values; expected " + std::to_string(ds.width));
      }
      g.estimate.push_back({ds.name, 1, ds.width, std::move(v), ds.columns});
    }
  }
  return g;
}

}  // namespace

// ---------------------------------------------------------------------------
// DrawWriter

struct DrawWriter::Impl {
  enum class Mode {
    kClosed,    // finished, interrupted, or not yet open
    kLive,      // journal and HDF5 file open for writing
    kComplete,  // resumed a complete file with nothing to add: file untouched
  };

  std::string path;
  std::string journal;
  std::string group;
  DrawIdentity identity;
  DrawFileOptions options;
  int64_t replications = 0;
  std::vector<uint8_t> completed;  // 1 = in the journal (or the complete file)
  int64_t num_completed = 0;
  Mode mode = Mode::kClosed;

  std::optional<H5File> file;       // the live file (kLive)
  int journal_fd = -1;              // O_APPEND (kLive)
  int64_t journal_bytes = 0;        // end of the last whole record
  std::vector<DrawRecord> pending;  // journaled, not yet in the HDF5 file
  int64_t rows_in_file = 0;         // completed rows written to the HDF5 file
  Clock::time_point last_flush = Clock::now();
  Clock::time_point last_sync = Clock::now();
  std::vector<DrawMatrix> complete_estimate;  // the stored estimate (kComplete)

  ~Impl() {
    if (mode == Mode::kLive) {
      try {
        Interrupt();
      } catch (...) {  // a destructor must not throw; the journal keeps everything
      }
    }
    CloseJournal();
  }

  [[noreturn]] void Fail(const std::string& msg) const { throw Error(Location{path, -1, ""}, msg); }

  // --- the HDF5 side ---

  void CreateLayout(H5File& f) const {
    f.CreateGroup(group);
    for (const auto& d : identity.datasets) {
      const std::string p = group + "/" + d.name;
      f.CreateChunked(p, {replications, d.width,
                          d.type == DrawType::kInt32 ? H5NumericType::kInt32 : H5NumericType::kFloat64,
                          options.chunk_rows, options.deflate_level});
      if (!d.columns.empty()) f.SetAttribute(p, "columns", std::span<const std::string>(d.columns));
    }
    f.CreateChunked(group + "/completed",
                    {replications, 0, H5NumericType::kInt32,
                     std::max(options.chunk_rows, kCompletedChunkRows), options.deflate_level});
    f.SetAttribute(group, "scheme", identity.scheme);
    f.SetAttribute(group, "replications", replications);
    f.SetAttribute(group, "seed", std::to_string(identity.seed));
    f.SetAttribute(group, "identity", IdentityText(identity, path));
    f.SetAttribute(group, "status", "running");
    f.SetAttribute(group, "completed_count", int64_t{0});
    f.SetAttribute(group, "shard_index", options.shard_index);
    f.SetAttribute(group, "shard_count", options.shard_count);
  }

  bool Owns(int64_t r) const { return r % options.shard_count == options.shard_index; }
  int64_t OwnedRows() const {
    return replications / options.shard_count + (options.shard_index < replications % options.shard_count ? 1 : 0);
  }
  bool AllOwnedStored(const std::vector<uint8_t>& done) const {
    for (int64_t r = options.shard_index; r < static_cast<int64_t>(done.size()); r += options.shard_count)
      if (done[static_cast<size_t>(r)] == 0) return false;
    return true;
  }
  std::string ShardText(int64_t i, int64_t n) const { return std::to_string(i) + "/" + std::to_string(n); }
  void CheckShard(int64_t i, int64_t n, const std::string& where) const {
    if (i != options.shard_index || n != options.shard_count) {
      Fail("cannot resume: " + where + " is shard " + ShardText(i, n) + ", this run shard " +
           ShardText(options.shard_index, options.shard_count) + "; resume it with the same --shard");
    }
  }

  // Writes the pending records into `f` (rows, completed mask, count): one
  // HDF5 write per dataset, so each chunk is rewritten once per batch.
  void WritePending(H5File& f) {
    if (pending.empty()) return;
    std::sort(pending.begin(), pending.end(),
              [](const DrawRecord& a, const DrawRecord& b) { return a.replication < b.replication; });
    std::vector<int64_t> rows;
    rows.reserve(pending.size());
    for (const DrawRecord& r : pending) rows.push_back(r.replication);
    std::vector<double> block_f;
    std::vector<int32_t> block_i;
    for (size_t d = 0; d < identity.datasets.size(); ++d) {
      const DrawDataset& ds = identity.datasets[d];
      const std::string p = group + "/" + ds.name;
      if (ds.type == DrawType::kInt32) {
        block_i.clear();
        for (const DrawRecord& r : pending) {
          for (double v : r.values[d]) block_i.push_back(static_cast<int32_t>(v));
        }
        f.WriteRowSet(p, rows, std::span<const int32_t>(block_i));
      } else {
        block_f.clear();
        for (const DrawRecord& r : pending)
          block_f.insert(block_f.end(), r.values[d].begin(), r.values[d].end());
        f.WriteRowSet(p, rows, std::span<const double>(block_f));
      }
    }
    const std::vector<int32_t> ones(rows.size(), 1);
    f.WriteRowSet(group + "/completed", rows, std::span<const int32_t>(ones));
    rows_in_file += static_cast<int64_t>(pending.size());
    f.SetAttribute(group, "completed_count", rows_in_file);
    pending.clear();
  }

  void WriteEstimateTo(H5File& f, const std::vector<std::vector<double>>& values) const {
    for (size_t d = 0; d < identity.datasets.size(); ++d) {
      const DrawDataset& ds = identity.datasets[d];
      const std::string p = group + "/estimate/" + ds.name;
      if (!f.Exists(p))
        f.CreateChunked(p, {ds.width, 0, H5NumericType::kFloat64, ds.width, options.deflate_level});
      f.WriteRows(p, 0, ds.width, std::span<const double>(values[d]));
    }
  }

  // Buffered records into the live file, then H5Fflush.
  void FlushFile() {
    WritePending(*file);
    file->Flush();
    last_flush = Clock::now();
  }

  // --- the journal side ---

  // Opens the journal for appending and takes its lock: one writer per
  // journal, in this process or any other (flock, released on exit or kill).
  void OpenJournalForAppend(int64_t good_end) {
    journal_fd = ::open(journal.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
    if (journal_fd < 0) throw Error(Location{journal, -1, ""}, "cannot open the journal: " + ErrnoText());
    if (::flock(journal_fd, LOCK_EX | LOCK_NB) != 0) {
      const bool busy = errno == EWOULDBLOCK;
      const std::string why = ErrnoText();
      CloseJournal();
      Fail(busy ? "another writer is using these draws (its journal " + journal + " is locked)"
                : "cannot lock the journal " + journal + ": " + why);
    }
    journal_bytes = good_end;
    last_sync = Clock::now();
  }

  void CloseJournal() noexcept {
    if (journal_fd >= 0) ::close(journal_fd);
    journal_fd = -1;
  }

  void SyncJournal() {
    if (journal_fd >= 0 && ::fdatasync(journal_fd) != 0) {
      throw WriteError(Location{journal, -1, ""}, "cannot sync the journal (disk full?): " + ErrnoText());
    }
    last_sync = Clock::now();
  }

  // One record, in one write; on failure the journal is cut back to its last
  // whole record, so later appends are not hidden behind a torn one.
  void JournalAppend(int64_t replication, const std::vector<std::vector<double>>& values) {
    std::string bytes;
    bytes.reserve(static_cast<size_t>(kRecordOverhead + 8 * TotalWidth(identity)));
    AppendRecordBytes(bytes, replication, values);
    if (!WriteAll(journal_fd, bytes.data(), bytes.size())) {
      const std::string why = ErrnoText();
      if (::ftruncate(journal_fd, journal_bytes) != 0) {
        // Cannot cut the torn record off: stop, so nothing is appended after it.
        mode = Mode::kClosed;
        CloseJournal();
      }
      throw WriteError(Location{journal, -1, ""}, "cannot write the journal (disk full?): " + why);
    }
    journal_bytes += static_cast<int64_t>(bytes.size());
    if (std::chrono::duration<double>(Clock::now() - last_sync).count() >= kSyncSeconds) SyncJournal();
  }

  // --- opening ---

  void CreateNew() {
    if (PathExists(path) || PathExists(journal)) {
      Fail("draws already exist (" + std::string(PathExists(path) ? path : journal) +
           "): pass --resume to continue that run, or delete " + path + " and " + journal +
           " to start again");
    }
    const std::string header = HeaderBytes(IdentityText(identity, path));
    WriteWholeJournal(journal, header, [](int) { return true; });
    try {
      OpenJournalForAppend(static_cast<int64_t>(header.size()));
      H5CreateOptions live;
      live.atomic = false;  // the partial draws stay readable at `path`
      file.emplace(H5File::Create(path, live));
      CreateLayout(*file);
      file->Flush();
    } catch (...) {
      file.reset();
      CloseJournal();
      std::remove(path.c_str());
      std::remove(journal.c_str());
      throw;
    }
    completed.assign(static_cast<size_t>(replications), 0);
    mode = Mode::kLive;
  }

  // Rebuilds `path` from the journal (atomically) and continues it.
  void ResumeFromJournal() {
    OpenJournalForAppend(0);  // the lock first: nobody else may be appending
    if (PathExists(path)) {
      // The journal does not record the shard; the file it rebuilds does.
      std::optional<DrawGroup> stored;
      try {
        const H5File f = H5File::OpenReadOnly(path);
        stored = ReadDrawGroup(f, identity.scheme);
      } catch (const Error&) {  // a torn file: the journal is the truth
      }
      if (stored) CheckShard(stored->shard_index, stored->shard_count, path);
    }
    int64_t max_replication = -1;
    int64_t good_end = 0;
    {
      JournalReader reader(journal);
      if (std::string diff = IdentityDifference(reader.identity(), identity); !diff.empty()) {
        Fail("cannot resume: " + diff + " from the run recorded in " + journal +
             "; resume with that run's settings, or delete " + path + " and " + journal + " to start again");
      }
      int64_t r = 0;
      std::vector<std::vector<double>> values;
      while (reader.Next(r, values)) max_replication = std::max(max_replication, r);
      good_end = reader.good_end();
      if (good_end < reader.size() && ::ftruncate(journal_fd, good_end) != 0) {
        throw Error(Location{journal, -1, ""}, "cannot cut the torn record off the journal: " + ErrnoText());
      }
    }
    if (max_replication >= replications) {
      Fail("cannot resume with " + std::to_string(replications) + " replications: replication " +
           std::to_string(max_replication) + " is already stored (the count may grow, not shrink)");
    }
    completed.assign(static_cast<size_t>(replications), 0);
    num_completed = 0;
    rows_in_file = 0;
    pending.clear();
    // Journal order is completion order, not row order: replay it in large
    // sorted batches, so that each chunk is compressed and written about once.
    const int64_t rebuild_rows =
        std::max(options.chunk_rows, kRebuildBufferBytes / (8 * TotalWidth(identity)));
    {
      H5File rebuilt = H5File::Create(path);  // atomic: "<path>.tmp", renamed by Close()
      CreateLayout(rebuilt);
      JournalReader reader(journal);
      int64_t r = 0;
      std::vector<std::vector<double>> values;
      std::optional<std::vector<std::vector<double>>> estimate;
      while (reader.good_end() < good_end && reader.Next(r, values)) {
        if (r == kEstimateIndex) {
          estimate = values;  // the last one wins
          continue;
        }
        if (completed[static_cast<size_t>(r)] != 0) continue;
        completed[static_cast<size_t>(r)] = 1;
        ++num_completed;
        pending.push_back({r, values});
        if (static_cast<int64_t>(pending.size()) >= rebuild_rows) WritePending(rebuilt);
      }
      WritePending(rebuilt);
      if (estimate) WriteEstimateTo(rebuilt, *estimate);
      rebuilt.Close();
    }
    file.emplace(H5File::OpenReadWrite(path));
    journal_bytes = good_end;
    last_flush = last_sync = Clock::now();
    mode = Mode::kLive;
  }

  // Checks that `path` is a complete draw file of this identity (resumed
  // without a journal); returns its group.
  DrawGroup ReadCompleteFile() const {
    const H5File f = H5File::OpenReadOnly(path);
    DrawGroup g = ReadDrawGroup(f, "");
    if (std::string diff = IdentityDifference(g.identity, identity); !diff.empty()) {
      Fail("cannot resume: " + diff +
           " from the run stored in this file; resume with that run's settings, "
           "or delete the file to start again");
    }
    CheckShard(g.shard_index, g.shard_count, "the stored file");
    const bool all = AllOwnedStored(g.completed);
    if (g.status != "complete" || !all) {
      Fail("cannot resume: its journal " + journal + " is missing and the file is not complete (status '" +
           g.status + "'); the journal is the record of an unfinished run, so delete " + path +
           " and start again without --resume");
    }
    return g;
  }

  // Writes a journal holding every row and the estimate of the complete draw
  // file at `path`, read block by block.
  void JournalFromFile() const {
    const H5File f = H5File::OpenReadOnly(path);
    const DrawGroup g = ReadDrawGroup(f, identity.scheme);
    WriteWholeJournal(journal, HeaderBytes(IdentityText(identity, path)), [&](int fd) {
      constexpr int64_t kBlockRows = 1024;
      std::string bytes;
      std::vector<std::vector<double>> values(identity.datasets.size());
      std::vector<H5Matrix> block(identity.datasets.size());
      for (int64_t first = 0; first < g.replications; first += kBlockRows) {
        const int64_t n = std::min(kBlockRows, g.replications - first);
        for (size_t d = 0; d < values.size(); ++d)
          block[d] = f.ReadRows(g.group + "/" + identity.datasets[d].name, first, n);
        for (int64_t i = 0; i < n; ++i) {
          if (!g.completed[static_cast<size_t>(first + i)]) continue;  // another shard's row
          for (size_t d = 0; d < values.size(); ++d) {
            const H5Matrix& m = block[d];
            values[d].assign(m.values_rc.begin() + i * m.cols, m.values_rc.begin() + (i + 1) * m.cols);
          }
          AppendRecordBytes(bytes, first + i, values);
        }
        if (!WriteAll(fd, bytes.data(), bytes.size())) return false;
        bytes.clear();
      }
      if (!g.estimate.empty()) {
        for (size_t d = 0; d < values.size(); ++d) values[d] = g.estimate[d].values_rc;
        AppendRecordBytes(bytes, kEstimateIndex, values);
      }
      return WriteAll(fd, bytes.data(), bytes.size());
    });
  }

  void ResumeFromCompleteFile() {
    DrawGroup g = ReadCompleteFile();
    if (replications < g.replications) {
      Fail("cannot resume with " + std::to_string(replications) + " replications: the file holds " +
           std::to_string(g.replications) + " completed ones (the count may grow, not shrink)");
    }
    if (replications == g.replications) {
      completed = g.completed;
      num_completed = std::count(completed.begin(), completed.end(), uint8_t{1});
      complete_estimate = std::move(g.estimate);
      mode = Mode::kComplete;  // nothing to do; the file is left untouched
      return;
    }
    JournalFromFile();
    ResumeFromJournal();
  }

  // From kComplete to kLive (a new estimate for a complete file): a journal
  // rebuilt from the file, then the usual resume.
  void GoLive() {
    ReadCompleteFile();
    JournalFromFile();
    ResumeFromJournal();
  }

  // --- stopping ---

  void Interrupt() {
    if (mode != Mode::kLive) {
      mode = Mode::kClosed;
      return;
    }
    mode = Mode::kClosed;  // whatever happens below, the journal stays for --resume
    try {
      WritePending(*file);
      file->SetAttribute(group, "status", "interrupted");
      file->Close();
      file.reset();
      SyncJournal();
    } catch (...) {
      file.reset();
      CloseJournal();
      throw;
    }
    CloseJournal();
  }

  void Finish() {
    if (mode != Mode::kLive) {
      mode = Mode::kClosed;
      return;
    }
    if (!AllOwnedStored(completed)) {
      Interrupt();
      return;
    }
    mode = Mode::kClosed;
    try {
      WritePending(*file);
      file->SetAttribute(group, "status", "complete");
      file->Close();  // throws (keeping the journal) if the file cannot be written
      file.reset();
    } catch (...) {
      file.reset();
      CloseJournal();
      throw;
    }
    CloseJournal();
    if (std::remove(journal.c_str()) != 0) {
      throw Error(Location{journal, -1, ""},
                  "the draws are complete but the journal cannot be deleted: " + ErrnoText());
    }
  }
};

DrawWriter::DrawWriter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
DrawWriter::DrawWriter(DrawWriter&&) noexcept = default;
DrawWriter& DrawWriter::operator=(DrawWriter&&) noexcept = default;
DrawWriter::~DrawWriter() = default;

DrawWriter DrawWriter::Open(const std::string& path, const DrawIdentity& identity, int64_t replications,
                            bool resume, const DrawFileOptions& options) {
  Validate(path, identity, replications, options);
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  impl->journal = path + ".journal";
  impl->group = GroupOf(identity);
  impl->identity = identity;
  impl->options = options;
  impl->replications = replications;
  if (!resume) {
    impl->CreateNew();
  } else if (PathExists(impl->journal)) {
    impl->ResumeFromJournal();
  } else if (PathExists(path)) {
    impl->ResumeFromCompleteFile();
  } else {
    impl->Fail("nothing to resume: neither the file nor its journal " + impl->journal +
               " exists; start without --resume");
  }
  return DrawWriter(std::move(impl));
}

int64_t DrawWriter::replications() const {
  CWFX_CHECK(impl_ != nullptr, "DrawWriter used after move");
  return impl_->replications;
}

bool DrawWriter::owns(int64_t replication) const {
  CWFX_CHECK(impl_ != nullptr, "DrawWriter used after move");
  return impl_->Owns(replication);
}

int64_t DrawWriter::owned_rows() const {
  CWFX_CHECK(impl_ != nullptr, "DrawWriter used after move");
  return impl_->OwnedRows();
}

const std::vector<uint8_t>& DrawWriter::completed() const {
  CWFX_CHECK(impl_ != nullptr, "DrawWriter used after move");
  return impl_->completed;
}

int64_t DrawWriter::num_completed() const {
  CWFX_CHECK(impl_ != nullptr, "DrawWriter used after move");
  return impl_->num_completed;
}

void DrawWriter::WriteEstimate(const DrawRecord& estimate) {
  CWFX_CHECK(impl_ != nullptr, "DrawWriter used after move");
  Impl& m = *impl_;
  if (m.mode == Impl::Mode::kClosed) m.Fail("cannot write the estimate: the draw writer is closed");
  ValidateRecord(m.path, m.identity, estimate, "the estimate", false);
  if (m.mode == Impl::Mode::kComplete) {
    // Unchanged (bit for bit): nothing to do. Otherwise go through the journal.
    const std::vector<DrawMatrix>& stored = m.complete_estimate;
    bool same = stored.size() == estimate.values.size();
    for (size_t d = 0; same && d < estimate.values.size(); ++d) {
      same = stored[d].values_rc.size() == estimate.values[d].size() &&
             std::memcmp(stored[d].values_rc.data(), estimate.values[d].data(),
                         estimate.values[d].size() * sizeof(double)) == 0;
    }
    if (same) return;
    m.GoLive();
  }
  m.JournalAppend(kEstimateIndex, estimate.values);
  m.WriteEstimateTo(*m.file, estimate.values);
  m.file->Flush();
}

void DrawWriter::Append(const DrawRecord& record) {
  CWFX_CHECK(impl_ != nullptr, "DrawWriter used after move");
  Impl& m = *impl_;
  if (m.mode == Impl::Mode::kClosed) {
    m.Fail("cannot append replication " + std::to_string(record.replication) +
           ": the draw writer is closed (finished, interrupted or failed)");
  }
  if (record.replication < 0 || record.replication >= m.replications) {
    m.Fail("replication " + std::to_string(record.replication) + " is outside 0.." +
           std::to_string(m.replications - 1));
  }
  ValidateRecord(m.path, m.identity, record, "replication " + std::to_string(record.replication), true);
  if (m.completed[static_cast<size_t>(record.replication)] != 0) return;
  m.JournalAppend(record.replication, record.values);
  m.completed[static_cast<size_t>(record.replication)] = 1;
  ++m.num_completed;
  m.pending.push_back(record);
  if (static_cast<int64_t>(m.pending.size()) >= m.options.chunk_rows ||
      std::chrono::duration<double>(Clock::now() - m.last_flush).count() >= m.options.flush_seconds) {
    m.FlushFile();
  }
}

void DrawWriter::Flush() {
  CWFX_CHECK(impl_ != nullptr, "DrawWriter used after move");
  Impl& m = *impl_;
  if (m.mode != Impl::Mode::kLive) return;
  m.FlushFile();
  if (std::chrono::duration<double>(Clock::now() - m.last_sync).count() >= kSyncSeconds) m.SyncJournal();
}

void DrawWriter::Finish() {
  CWFX_CHECK(impl_ != nullptr, "DrawWriter used after move");
  impl_->Finish();
}

void DrawWriter::Interrupt() {
  CWFX_CHECK(impl_ != nullptr, "DrawWriter used after move");
  impl_->Interrupt();
}

// ---------------------------------------------------------------------------
// Reading

const DrawMatrix& DrawSet::Dataset(const std::string& name) const {
  for (const auto& d : datasets) {
    if (d.name == name) return d;
  }
  std::string have;
  for (const auto& d : datasets) have += (have.empty() ? "" : ", ") + d.name;
  throw Error("no draw dataset '" + name + "' (the draws hold: " + have + ")");
}

namespace {

// Opens a draw file for reading; when it cannot be opened and its journal
// exists, says how to get the draws back (a live or killed writer leaves the
// file locked or flagged "open for writing" by HDF5 1.10).
H5File OpenDrawFile(const std::string& path) {
  try {
    return H5File::OpenReadOnly(path);
  } catch (const Error& e) {
    const std::string journal = path + ".journal";
    if (!PathExists(path) || !PathExists(journal)) throw;
    std::string detail = e.what();
    if (detail.rfind(path + ": ", 0) == 0) detail.erase(0, path.size() + 2);
    throw Error(
        Location{path, -1, ""},
        detail + "; a writer has this draw file open, or stopped without closing it (killed?): its journal " +
            journal + " holds the draws, and resuming the run rebuilds the file from it");
  }
}

}  // namespace

DrawSet ReadDraws(const std::string& path, const std::string& scheme) {
  const H5File f = OpenDrawFile(path);
  DrawGroup g = ReadDrawGroup(f, scheme);
  DrawSet set;
  set.replications = g.replications;
  set.status = std::move(g.status);
  set.completed = std::move(g.completed);
  set.estimate = std::move(g.estimate);
  set.shard_index = g.shard_index;
  set.shard_count = g.shard_count;
  for (const auto& ds : g.identity.datasets) {
    H5Matrix m = f.ReadMatrix(g.group + "/" + ds.name);
    set.datasets.push_back({ds.name, m.rows, m.cols, std::move(m.values_rc), ds.columns});
  }
  set.identity = std::move(g.identity);
  return set;
}

std::string DrawIdentityDifference(const DrawIdentity& a, const DrawIdentity& b) { return IdentityDifference(a, b); }

void RemoveDrawFiles(const std::string& path) {
  const std::string journal = path + ".journal";
  const int fd = ::open(journal.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd >= 0 && ::flock(fd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK) {
    ::close(fd);
    throw Error(Location{path, -1, ""}, "another run is writing these draws (its journal " + journal +
                                            " is locked); --overwrite would destroy its work: stop it first");
  }
  // Removed while holding the lock, so no writer can start in between.
  std::error_code ec;
  std::filesystem::remove(path, ec);
  std::filesystem::remove(journal, ec);
  if (fd >= 0) ::close(fd);
}

}  // namespace cwfx::store
