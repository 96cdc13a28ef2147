// Wall-clock time stamps written into results files and reports.
#pragma once

#include <string>

namespace cwfx {

// The current UTC time in ISO 8601, to the second: "2026-11-25T11:45:01Z".
std::string UtcIsoNow();

}  // namespace cwfx
