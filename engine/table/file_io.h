// Whole-file reads and all-or-nothing writes for the table readers/writers.
//
// Writers never leave a half-written file where the user expects a result:
// bytes go to "<path>.tmp", which is renamed over <path> only by Commit(). If
// the writer is destroyed uncommitted (an exception, a full disk) the
// temporary file is removed and any previous <path> is left untouched.
#pragma once

#include <cstddef>
#include <cstdio>
#include <string>
#include <string_view>

namespace cwfx::table {

// The file's bytes. Throws cwfx::Error naming the file if it cannot be opened
// or read (missing, a directory, permission denied, I/O error).
std::string ReadWholeFile(const std::string& path);

// A file's bytes for reading, memory-mapped when it is a regular file (no
// copy, and pages already read can be handed back with Release so that a
// long file never sits in memory whole), else read into memory (pipes,
// /proc files). Throws cwfx::Error naming the file like ReadWholeFile.
class InputBytes {
 public:
  explicit InputBytes(const std::string& path);
  ~InputBytes();
  InputBytes(const InputBytes&) = delete;
  InputBytes& operator=(const InputBytes&) = delete;

  const char* data() const { return data_; }
  size_t size() const { return size_; }
  // Read from a pipe (or another file that cannot be read twice).
  bool streamed() const { return streamed_; }
  // Drops the pages wholly inside [begin, end) from this process's memory;
  // reading them again faults them back in from the page cache.
  void Release(const char* begin, const char* end) const;

 private:
  const char* data_ = nullptr;
  size_t size_ = 0;
  void* mapping_ = nullptr;
  bool streamed_ = false;
  std::string owned_;  // when not mapped
};

class AtomicFileWriter {
 public:
  // Opens "<path>.tmp" for writing; throws cwfx::Error naming `path` on failure.
  explicit AtomicFileWriter(std::string path);
  ~AtomicFileWriter();
  AtomicFileWriter(const AtomicFileWriter&) = delete;
  AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;

  // Buffered; throws cwfx::Error naming the file when the disk refuses bytes.
  void Write(std::string_view bytes);
  // Flushes, closes and renames onto the final path; throws on any failure.
  void Commit();

  const std::string& path() const { return path_; }
  const std::string& temp_path() const { return temp_path_; }

 private:
  [[noreturn]] void Fail(const std::string& what, int err);

  std::string path_;
  std::string temp_path_;
  std::FILE* file_ = nullptr;
  bool committed_ = false;
};

}  // namespace cwfx::table
