# FindFastFloat: header-only, correctly rounded decimal-to-double parsing
# (Debian libfast-float-dev). Defines the imported target FastFloat::FastFloat.
find_path(FASTFLOAT_INCLUDE_DIR fast_float/fast_float.h)
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(FastFloat REQUIRED_VARS FASTFLOAT_INCLUDE_DIR)
if(FastFloat_FOUND AND NOT TARGET FastFloat::FastFloat)
  add_library(FastFloat::FastFloat INTERFACE IMPORTED)
  set_target_properties(FastFloat::FastFloat PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "${FASTFLOAT_INCLUDE_DIR}")
endif()
mark_as_advanced(FASTFLOAT_INCLUDE_DIR)
