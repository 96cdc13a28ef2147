// A fixed-effect factor: one dense level code per observation.
//
// CONVENTION (as in every kernel file of the engine): a suffix tells an
// array's length: _n observations, _g levels of one factor, _k regressors,
// _q factors, _r replications.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace cwfx::absorb {

struct Factor {
  std::string name;
  std::vector<int32_t> codes_n;  // values in [0, num_levels)
  int32_t num_levels = 0;
};

}  // namespace cwfx::absorb
