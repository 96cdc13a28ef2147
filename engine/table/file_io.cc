// Whole-file reads and temp-file-then-rename writes (see file_io.h).
#include "table/file_io.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <utility>

#include "core/error.h"
#include "core/output_paths.h"

namespace cwfx::table {

std::string ReadWholeFile(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    throw Error(Location{path, -1, ""}, std::string("cannot open file: ") + std::strerror(errno));
  }
  struct stat st {};
  if (::fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
    std::fclose(f);
    throw Error(Location{path, -1, ""}, "cannot read file: it is a directory");
  }
  // The size is only a hint (pipes and /proc files report 0); read to EOF.
  std::string data;
  size_t capacity = st.st_size > 0 ? static_cast<size_t>(st.st_size) + 1 : (size_t{1} << 16);
  size_t used = 0;
  for (;;) {
    data.resize(capacity);
    used += std::fread(data.data() + used, 1, capacity - used, f);
    if (used < capacity) break;
    capacity *= 2;
  }
  const bool failed = std::ferror(f) != 0;
  const int err = errno;
  std::fclose(f);
  if (failed) throw Error(Location{path, -1, ""}, std::string("cannot read file: ") + std::strerror(err));
  data.resize(used);
  return data;
}

InputBytes::InputBytes(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw Error(Location{path, -1, ""}, std::string("cannot open file: ") + std::strerror(errno));
  struct stat st {};
  const bool regular = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
  if (regular && st.st_size > 0) {
    void* m = ::mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
    if (m != MAP_FAILED) {
      ::madvise(m, static_cast<size_t>(st.st_size), MADV_SEQUENTIAL);
      mapping_ = m;
      data_ = static_cast<const char*>(m);
      size_ = static_cast<size_t>(st.st_size);
      ::close(fd);
      return;
    }
  }
  if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    ::close(fd);
    throw Error(Location{path, -1, ""}, "cannot read file: it is a directory");
  }
  // A pipe is read from this descriptor: opening it again would block (no
  // writer is left) or cut the writer off.
  streamed_ = !regular;
  size_t used = 0;
  owned_.resize(regular && st.st_size > 0 ? static_cast<size_t>(st.st_size) + 1 : size_t{1} << 16);
  for (;;) {
    if (used == owned_.size()) owned_.resize(owned_.size() * 2);
    const ssize_t got = ::read(fd, owned_.data() + used, owned_.size() - used);
    if (got == 0) break;
    if (got < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      throw Error(Location{path, -1, ""}, std::string("cannot read file: ") + std::strerror(err));
    }
    used += static_cast<size_t>(got);
  }
  ::close(fd);
  owned_.resize(used);
  data_ = owned_.data();
  size_ = owned_.size();
}

InputBytes::~InputBytes() {
  if (mapping_ != nullptr) ::munmap(mapping_, size_);
}

void InputBytes::Release(const char* begin, const char* end) const {
  if (mapping_ == nullptr) return;
  const auto page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  const uintptr_t lo = (reinterpret_cast<uintptr_t>(begin) + page - 1) / page * page;
  const uintptr_t hi = reinterpret_cast<uintptr_t>(end) / page * page;
  if (hi > lo) ::madvise(reinterpret_cast<void*>(lo), hi - lo, MADV_DONTNEED);
}

AtomicFileWriter::AtomicFileWriter(std::string path) : path_(std::move(path)), temp_path_(TemporaryPathFor(path_)) {
  file_ = std::fopen(temp_path_.c_str(), "wb");
  if (file_ == nullptr) Fail("cannot create file", errno);
}

AtomicFileWriter::~AtomicFileWriter() {
  if (file_ != nullptr) std::fclose(file_);
  if (!committed_) std::remove(temp_path_.c_str());
}

void AtomicFileWriter::Fail(const std::string& what, int err) {
  if (file_ != nullptr) {
    std::fclose(file_);
    file_ = nullptr;
  }
  std::remove(temp_path_.c_str());
  throw WriteError(Location{path_, -1, ""}, what + ": " + std::strerror(err));
}

void AtomicFileWriter::Write(std::string_view bytes) {
  CWFX_CHECK(file_ != nullptr, "Write after Commit");
  if (bytes.empty()) return;
  if (std::fwrite(bytes.data(), 1, bytes.size(), file_) != bytes.size()) Fail("write failed", errno);
}

void AtomicFileWriter::Commit() {
  CWFX_CHECK(file_ != nullptr, "Commit called twice");
  // fflush then fclose: both can report a full disk (buffered bytes).
  if (std::fflush(file_) != 0) Fail("write failed", errno);
  std::FILE* f = file_;
  file_ = nullptr;
  if (std::fclose(f) != 0) Fail("write failed", errno);
  if (std::rename(temp_path_.c_str(), path_.c_str()) != 0)
    Fail("cannot rename temporary file into place", errno);
  committed_ = true;
}

}  // namespace cwfx::table
