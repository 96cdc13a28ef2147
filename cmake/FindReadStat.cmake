# FindReadStat: the ReadStat C library (Stata/SAS/SPSS files; Debian libreadstat-dev).
# Defines the imported target ReadStat::ReadStat.
find_path(READSTAT_INCLUDE_DIR readstat.h)
find_library(READSTAT_LIBRARY readstat)
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(ReadStat REQUIRED_VARS READSTAT_LIBRARY READSTAT_INCLUDE_DIR)
if(ReadStat_FOUND AND NOT TARGET ReadStat::ReadStat)
  add_library(ReadStat::ReadStat UNKNOWN IMPORTED)
  set_target_properties(ReadStat::ReadStat PROPERTIES
    IMPORTED_LOCATION "${READSTAT_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${READSTAT_INCLUDE_DIR}")
endif()
mark_as_advanced(READSTAT_INCLUDE_DIR READSTAT_LIBRARY)
