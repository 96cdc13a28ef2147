// RAII wrappers of SuiteSparse CHOLMOD handles (internal to engine/solve: the
// only place of the engine that includes cholmod.h; never include this from a
// public header).
//
// Status mapping, at every call site through CholmodCommon::Check:
//   CHOLMOD_OUT_OF_MEMORY, CHOLMOD_TOO_LARGE, CHOLMOD_INVALID, ... -> cwfx::Error
//   CHOLMOD_NOT_POSDEF -> reported failure (returned as false, not thrown)
//   other warnings (CHOLMOD_DSMALL: tiny diagonal) -> ignored here, the
//   caller's summary reports the factor's conditioning.
#pragma once

#include <cholmod.h>

#include <string>

namespace cwfx::solve::internal {

// One cholmod_common, started on construction and finished on destruction,
// with all of CHOLMOD's printing switched off. Uses the long-index (cholmod_l_)
// interface throughout.
class CholmodCommon {
 public:
  CholmodCommon();
  ~CholmodCommon();
  CholmodCommon(const CholmodCommon&) = delete;
  CholmodCommon& operator=(const CholmodCommon&) = delete;

  cholmod_common* get() { return &common_; }

  // Throws cwfx::Error for fatal statuses (naming `what`); returns false when
  // the matrix was not positive definite, true otherwise.
  bool Check(const char* what);

 private:
  cholmod_common common_;
};

// Owner of a cholmod_factor.
class CholmodFactor {
 public:
  CholmodFactor() = default;
  ~CholmodFactor();
  CholmodFactor(const CholmodFactor&) = delete;
  CholmodFactor& operator=(const CholmodFactor&) = delete;

  cholmod_factor* get() const { return factor_; }
  void reset(cholmod_factor* f);

 private:
  cholmod_factor* factor_ = nullptr;
  CholmodCommon common_;  // frees the factor
};

}  // namespace cwfx::solve::internal
