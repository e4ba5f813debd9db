# Every dependency comes from a Debian package; a missing one stops configure with the package to install.

function(bts_require_path var header package)
  find_path(${var} ${header} PATH_SUFFIXES ${ARGN})
  if(NOT ${var})
    message(FATAL_ERROR "bts: ${header} not found. Install the Debian package '${package}' "
                        "(apt-get install ${package}).")
  endif()
endfunction()

find_package(nlohmann_json 3 CONFIG QUIET)
if(NOT nlohmann_json_FOUND)
  message(FATAL_ERROR "bts: nlohmann/json not found. Install the Debian package 'nlohmann-json3-dev'.")
endif()

find_package(CLI11 CONFIG QUIET)
if(NOT CLI11_FOUND)
  bts_require_path(BTS_CLI11_INCLUDE CLI/CLI.hpp libcli11-dev)
  add_library(CLI11::CLI11 INTERFACE IMPORTED)
  target_include_directories(CLI11::CLI11 INTERFACE ${BTS_CLI11_INCLUDE})
endif()

if(BTS_BUILD_TESTS)
  bts_require_path(BTS_DOCTEST_INCLUDE doctest/doctest.h doctest-dev)
  add_library(bts_doctest INTERFACE)
  target_include_directories(bts_doctest INTERFACE ${BTS_DOCTEST_INCLUDE})
endif()

# OpenBLAS's cblas for the fast CPU convolution and linear layers.
find_path(BTS_CBLAS_INCLUDE cblas.h PATH_SUFFIXES openblas-pthread openblas x86_64-linux-gnu/openblas-pthread)
find_library(BTS_OPENBLAS_LIB NAMES openblas PATH_SUFFIXES openblas-pthread)
if(NOT BTS_CBLAS_INCLUDE OR NOT BTS_OPENBLAS_LIB)
  message(FATAL_ERROR "bts: OpenBLAS (cblas.h, libopenblas) not found. Install the Debian package 'libopenblas-dev'.")
endif()
add_library(bts_openblas INTERFACE)
target_include_directories(bts_openblas INTERFACE ${BTS_CBLAS_INCLUDE})
target_link_libraries(bts_openblas INTERFACE ${BTS_OPENBLAS_LIB})

# OpenMP (part of GCC) spreads the CPU convolution's per-image work over the cores.
find_package(OpenMP REQUIRED COMPONENTS CXX)
