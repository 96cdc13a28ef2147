// RAII wrappers of CHOLMOD handles; see cholmod_handle_internal.h.
#include "solve/cholmod_handle_internal.h"

#include "core/error.h"

namespace cwfx::solve::internal {

CholmodCommon::CholmodCommon() {
  cholmod_l_start(&common_);
  common_.print = 0;               // no output at all, errors included
  common_.error_handler = nullptr; // statuses are mapped by Check()
}

CholmodCommon::~CholmodCommon() { cholmod_l_finish(&common_); }

bool CholmodCommon::Check(const char* what) {
  const int status = common_.status;
  if (status == CHOLMOD_OK) return true;
  if (status == CHOLMOD_NOT_POSDEF) return false;
  if (status > 0) return true;  // CHOLMOD_DSMALL and other warnings
  std::string reason;
  switch (status) {
    case CHOLMOD_OUT_OF_MEMORY: reason = "out of memory"; break;
    case CHOLMOD_TOO_LARGE: reason = "problem too large (integer overflow)"; break;
    case CHOLMOD_INVALID: reason = "invalid input"; break;
    case CHOLMOD_NOT_INSTALLED: reason = "method not installed"; break;
    case CHOLMOD_GPU_PROBLEM: reason = "GPU problem"; break;
    default: reason = "status " + std::to_string(status); break;
  }
  throw ComputationError(std::string("CHOLMOD ") + what + " failed: " + reason);
}

CholmodFactor::~CholmodFactor() { reset(nullptr); }

void CholmodFactor::reset(cholmod_factor* f) {
  if (factor_ != nullptr) cholmod_l_free_factor(&factor_, common_.get());
  factor_ = f;
}

}  // namespace cwfx::solve::internal
