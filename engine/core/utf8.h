// UTF-8 validation: text read from a register ends up in HDF5 strings (which
// are declared UTF-8), JSON attributes and HTML reports, so invalid bytes are
// refused where they are read, naming the row, rather than wherever they
// happen to break a writer.
#pragma once

#include <cstddef>
#include <string_view>

namespace cwfx {

// Byte offset of the first invalid UTF-8 sequence in `text` (overlong forms,
// surrogates and code points above U+10FFFF are invalid), or npos.
size_t FindInvalidUtf8(std::string_view text);

}  // namespace cwfx
