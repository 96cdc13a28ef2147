// A content fingerprint of an input file, stored with every result so that a
// result can be traced to the exact data it came from (and a resume or merge
// can refuse different data).
#pragma once

#include <string>

namespace cwfx::results {

// "xxh3:<16 hex digits>:<size in bytes>" of the file's bytes (see
// core/fingerprint.h; a CSV or TSV register is fingerprinted by its reader,
// ReadReport::content_fingerprint). Throws cwfx::Error naming the file
// if it cannot be read.
std::string FileFingerprint(const std::string& path);

}  // namespace cwfx::results
