// The output-path rule (see output_paths.h).
#include "core/output_paths.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <optional>

#include "core/error.h"

namespace cwfx {
namespace {

struct FileId {
  dev_t device;
  ino_t inode;
  bool operator==(const FileId&) const = default;
};

std::optional<FileId> IdOf(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return std::nullopt;
  return FileId{st.st_dev, st.st_ino};
}

std::string Normalised(const std::string& path) {
  std::error_code ec;
  const std::filesystem::path p = std::filesystem::weakly_canonical(std::filesystem::absolute(path, ec), ec);
  return (ec ? std::filesystem::path(path).lexically_normal() : p).string();
}

std::string Named(const NamedPath& p) { return p.role + " " + p.path; }

// A new file can be made in the directory: a probe created and removed
// (access() would say yes to root on a read-only file system).
void CheckDirectoryTakesFiles(const NamedPath& out) {
  std::filesystem::path dir = std::filesystem::path(out.path).parent_path();
  if (dir.empty()) dir = ".";
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    throw Error(Location{out.path, -1, ""},
                "cannot write " + out.role + ": its directory " + dir.string() + " does not exist");
  }
  std::string probe = (dir / ".cwfx-write-probe-XXXXXX").string();
  const int fd = ::mkstemp(probe.data());
  if (fd < 0) {
    const int err = errno;
    throw Error(Location{out.path, -1, ""}, "cannot write " + out.role + " in directory " + dir.string() + ": " +
                                                std::strerror(err));
  }
  ::close(fd);
  ::unlink(probe.c_str());
}

}  // namespace

std::string TemporaryPathFor(const std::string& path) {
  const std::filesystem::path p(path);
  const std::string name = p.filename().string();
  constexpr size_t kNameMax = 255;
  if (name.size() + 4 <= kNameMax) return path + ".tmp";
  uint64_t h = 1469598103934665603ULL;  // FNV-1a of the name: stable, short
  for (const char c : name) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
  return (p.parent_path() / (".cwfx-" + std::string(hex) + ".tmp")).string();
}

void CheckOutputPaths(const OutputPathCheck& check) {
  std::vector<std::pair<FileId, const NamedPath*>> input_ids;
  for (const NamedPath& in : check.inputs) {
    if (in.path.empty() || in.path == "-") continue;
    if (const auto id = IdOf(in.path)) input_ids.emplace_back(*id, &in);
  }
  std::vector<std::pair<std::string, const NamedPath*>> seen;
  for (const NamedPath& out : check.outputs) {
    if (out.path.empty()) throw Error(out.role + ": the path is empty; give a file name");
    if (std::filesystem::path(out.path).filename().string().size() > 255)
      throw Error(Location{out.path, -1, ""}, out.role + ": the file name is too long (more than 255 bytes)");
    const auto id = IdOf(out.path);
    if (id) {
      for (const auto& [in_id, in] : input_ids)
        if (*id == in_id)
          throw Error(Location{out.path, -1, ""}, out.role + " is the same file as the input " + Named(*in) +
                                                      ": writing it would destroy the input; choose another path");
    }
    const std::string norm = Normalised(out.path);
    for (const auto& [other_norm, other] : seen) {
      const auto other_id = IdOf(other->path);
      if (norm == other_norm || (id && other_id && *id == *other_id))
        throw Error(Location{out.path, -1, ""},
                    out.role + " and " + other->role + " are the same file: each output needs its own path");
    }
    for (const auto& [other_norm, other] : seen) {
      if (norm == other_norm + ".journal" || other_norm == norm + ".journal")
        throw Error(Location{out.path, -1, ""}, out.role + " and " + other->role +
                                                    ": one is the other's journal (<file>.journal), which a "
                                                    "replication run writes beside its draws; choose another path");
    }
    seen.emplace_back(norm, &out);
    std::error_code ec;
    if (std::filesystem::is_directory(out.path, ec))
      throw Error(Location{out.path, -1, ""}, out.role + " is a directory; give a file name");
    if (id && !std::filesystem::is_regular_file(out.path, ec))
      throw Error(Location{out.path, -1, ""}, out.role + " exists and is not a regular file (a device, pipe or "
                                                         "socket would be replaced by a file); choose another path");
    const std::string temp = TemporaryPathFor(out.path);
    struct stat temp_st {};
    if (::lstat(temp.c_str(), &temp_st) == 0)
      throw Error(Location{out.path, -1, ""},
                  out.role + ": its temporary file " + temp +
                      " already exists (left by an interrupted run, or someone else's file); it is written through "
                      "and renamed into place, so remove or move it first");
    bool continued = false;
    for (const auto& c : check.continued) continued = continued || Normalised(c) == norm;
    if (id && !continued && !check.overwrite) {
      const bool resumable = !check.resumable.empty() && Normalised(check.resumable) == norm;
      throw Error(Location{out.path, -1, ""},
                  out.role + " already exists; " + (resumable ? "pass --resume to continue it, " : "") +
                      (check.overwrite_flag.empty() ? std::string("remove it or choose another path")
                                                    : "pass " + check.overwrite_flag +
                                                          " to replace it, or choose another path"));
    }
    CheckDirectoryTakesFiles(out);
  }
}

}  // namespace cwfx
