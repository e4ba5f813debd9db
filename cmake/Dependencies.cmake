# Every dependency comes from a Debian package; a missing one stops configure with the package to install.
# BTS_EXTRA_PREFIX (a folder with include/ and lib/) is searched first: the GPU machine has no apt, so the
# header-only libraries travel there in a git-ignored folder (see docs/GPU.md).
if(BTS_EXTRA_PREFIX)
  list(PREPEND CMAKE_PREFIX_PATH ${BTS_EXTRA_PREFIX})
  list(PREPEND CMAKE_INCLUDE_PATH ${BTS_EXTRA_PREFIX}/include)
endif()

function(bts_require_path var header package)
  find_path(${var} ${header} PATH_SUFFIXES ${ARGN})
  if(NOT ${var})
    message(FATAL_ERROR "bts: ${header} not found. Install the Debian package '${package}' "
                        "(apt-get install ${package}).")
  endif()
endfunction()

find_package(nlohmann_json 3 CONFIG QUIET)
if(NOT nlohmann_json_FOUND)
  bts_require_path(BTS_JSON_INCLUDE nlohmann/json.hpp nlohmann-json3-dev)
  add_library(nlohmann_json::nlohmann_json INTERFACE IMPORTED)
  target_include_directories(nlohmann_json::nlohmann_json INTERFACE ${BTS_JSON_INCLUDE})
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

# OpenBLAS's cblas for the fast CPU convolution and linear layers. Required unless BTS_REQUIRE_OPENBLAS is OFF
# (the GPU machine, which has no apt: there the CPU ops fall back to a plain blocked GEMM, used only as the GPU
# tests' reference).
option(BTS_REQUIRE_OPENBLAS "Fail configure when OpenBLAS is missing" ON)
find_path(BTS_CBLAS_INCLUDE cblas.h PATH_SUFFIXES openblas-pthread openblas x86_64-linux-gnu/openblas-pthread)
find_library(BTS_OPENBLAS_LIB NAMES openblas PATH_SUFFIXES openblas-pthread)
add_library(bts_blas INTERFACE)
if(BTS_CBLAS_INCLUDE AND BTS_OPENBLAS_LIB)
  target_include_directories(bts_blas INTERFACE ${BTS_CBLAS_INCLUDE})
  target_link_libraries(bts_blas INTERFACE ${BTS_OPENBLAS_LIB})
  target_compile_definitions(bts_blas INTERFACE BTS_WITH_OPENBLAS)
  message(STATUS "bts: OpenBLAS ${BTS_OPENBLAS_LIB}")
elseif(BTS_REQUIRE_OPENBLAS)
  message(FATAL_ERROR "bts: OpenBLAS (cblas.h, libopenblas) not found. Install the Debian package "
                      "'libopenblas-dev', or configure with -DBTS_REQUIRE_OPENBLAS=OFF for the slow built-in GEMM.")
else()
  message(WARNING "bts: OpenBLAS not found; CPU GEMM uses the built-in blocked loops (slow, correct)")
endif()

# oneDNN (Debian's libdnnl-dev) for the CPU convolutions: JIT kernels for the machine's vector units. Required unless
# BTS_REQUIRE_DNNL is OFF (the GPU machine, which has no apt): without it the CPU convolutions use im2col + GEMM.
option(BTS_REQUIRE_DNNL "Fail configure when oneDNN is missing" ON)
find_path(BTS_DNNL_INCLUDE oneapi/dnnl/dnnl.hpp)
find_library(BTS_DNNL_LIB NAMES dnnl)
add_library(bts_dnnl INTERFACE)
if(BTS_DNNL_INCLUDE AND BTS_DNNL_LIB)
  target_include_directories(bts_dnnl INTERFACE ${BTS_DNNL_INCLUDE})
  target_link_libraries(bts_dnnl INTERFACE ${BTS_DNNL_LIB})
  target_compile_definitions(bts_dnnl INTERFACE BTS_WITH_DNNL)
  message(STATUS "bts: oneDNN ${BTS_DNNL_LIB}")
elseif(BTS_REQUIRE_DNNL)
  message(FATAL_ERROR "bts: oneDNN (oneapi/dnnl/dnnl.hpp, libdnnl) not found. Install the Debian package "
                      "'libdnnl-dev', or configure with -DBTS_REQUIRE_DNNL=OFF for im2col + GEMM convolutions.")
else()
  message(WARNING "bts: oneDNN not found; CPU convolutions use im2col + GEMM")
endif()

# OpenMP (part of GCC) spreads the CPU convolution's per-image work over the cores.
find_package(OpenMP REQUIRED COMPONENTS CXX)

# cuDNN: with the toolkit (/usr/local/cuda here) or anywhere CUDNN_ROOT points (on the GPU machine, the Python
# wheel: python3 -c "import nvidia.cudnn as m; print(m.__path__[0])").
function(bts_find_cudnn)
  # CUDNN_ROOT, when given, is searched alone first, so its header and library always come from one install
  # (mixing a wheel's 9.26 header with a toolkit's 9.19 library was seen). The wheel ships only versioned names
  # (libcudnn.so.9), so look for those too.
  if(CUDNN_ROOT OR DEFINED ENV{CUDNN_ROOT})
    find_path(BTS_CUDNN_INCLUDE cudnn.h HINTS ${CUDNN_ROOT} $ENV{CUDNN_ROOT} PATH_SUFFIXES include NO_DEFAULT_PATH)
    find_library(BTS_CUDNN_LIB NAMES cudnn libcudnn.so.9 NAMES_PER_DIR HINTS ${CUDNN_ROOT} $ENV{CUDNN_ROOT}
                 PATH_SUFFIXES lib lib64 NO_DEFAULT_PATH)
  endif()
  set(hints ${CUDAToolkit_LIBRARY_ROOT} /usr/local/cuda)
  find_path(BTS_CUDNN_INCLUDE cudnn.h HINTS ${hints} ${CUDAToolkit_INCLUDE_DIRS} PATH_SUFFIXES include)
  find_library(BTS_CUDNN_LIB NAMES cudnn libcudnn.so.9 NAMES_PER_DIR HINTS ${hints} PATH_SUFFIXES lib lib64)
  if(NOT BTS_CUDNN_INCLUDE OR NOT BTS_CUDNN_LIB)
    message(FATAL_ERROR "bts: cuDNN not found (cudnn.h: ${BTS_CUDNN_INCLUDE}, libcudnn: ${BTS_CUDNN_LIB}). "
                        "Install it with the CUDA toolkit, or pass -DCUDNN_ROOT=<folder with include/cudnn.h and "
                        "lib/libcudnn.so*>, or configure with -DBTS_CUDA=OFF.")
  endif()
  add_library(bts_cudnn INTERFACE)
  target_include_directories(bts_cudnn INTERFACE ${BTS_CUDNN_INCLUDE})
  target_link_libraries(bts_cudnn INTERFACE ${BTS_CUDNN_LIB})
  message(STATUS "bts: cuDNN ${BTS_CUDNN_LIB} (headers ${BTS_CUDNN_INCLUDE})")
endfunction()
