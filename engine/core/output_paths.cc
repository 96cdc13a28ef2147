// The output-path rule (see output_paths.h).
#include "core/output_paths.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
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

void CheckOutputPaths(const OutputPathCheck& check) {
  std::vector<std::pair<FileId, const NamedPath*>> input_ids;
  for (const NamedPath& in : check.inputs) {
    if (in.path.empty() || in.path == "-") continue;
    if (const auto id = IdOf(in.path)) input_ids.emplace_back(*id, &in);
  }
  std::vector<std::pair<std::string, const NamedPath*>> seen;
  for (const NamedPath& out : check.outputs) {
    if (out.path.empty()) continue;
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
    seen.emplace_back(norm, &out);
    std::error_code ec;
    if (std::filesystem::is_directory(out.path, ec))
      throw Error(Location{out.path, -1, ""}, out.role + " is a directory; give a file name");
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
