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
