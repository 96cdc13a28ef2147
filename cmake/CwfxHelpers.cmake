# One helper per kind of target, so every module is declared the same way.

# Warnings for every target of ours.
function(cwfx_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wno-unused-parameter)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    target_compile_options(${target} PRIVATE -Wshadow=local)
  endif()
  # GCC 12 reports -Wrestrict false positives inside libstdc++'s string
  # concatenation (GCC bug 105329); the warning is noise there.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
    target_compile_options(${target} PRIVATE -Wno-restrict)
  endif()
endfunction()

# cwfx_add_library(<module> SOURCES ... DEPS ...)
# Creates engine_<module> with alias cwfx::<module>; headers are included as
# "<module>/<file>.h" from engine/ (or data_gen/ for the generator).
function(cwfx_add_library module)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;PRIVATE_DEPS" ${ARGN})
  set(target engine_${module})
  add_library(${target} STATIC ${ARG_SOURCES})
  add_library(cwfx::${module} ALIAS ${target})
  target_include_directories(${target} PUBLIC ${PROJECT_SOURCE_DIR}/engine ${PROJECT_SOURCE_DIR})
  target_link_libraries(${target} PUBLIC ${ARG_DEPS} PRIVATE ${ARG_PRIVATE_DEPS})
  cwfx_warnings(${target})
endfunction()

# cwfx_add_test(<name> SOURCES ... DEPS ...): a GoogleTest executable registered with ctest.
function(cwfx_add_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gtest_main)
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/tests)
  cwfx_warnings(${name})
  include(GoogleTest)
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60
                       PROPERTIES LABELS "${ARG_LABELS}"
                       ENVIRONMENT "CWFX_SOURCE_DIR=${PROJECT_SOURCE_DIR}")
endfunction()

# cwfx_add_benchmark(<name> SOURCES ... DEPS ...): a Google Benchmark executable.
function(cwfx_add_benchmark name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} benchmark::benchmark)
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/bench)
  cwfx_warnings(${name})
endfunction()
