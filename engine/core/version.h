#pragma once

namespace cwfx {
// Engine version, stored as an attribute in every HDF5 file the engine writes.
inline constexpr const char* kEngineVersion = "0.1.0";
}  // namespace cwfx
