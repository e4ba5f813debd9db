#!/usr/bin/env bash
# Installs the Debian packages bts needs (build tools, libraries, the Fashion-MNIST data set).
# nvcc and the CUDA libraries come from the CUDA toolkit under /usr/local/cuda, not from apt.
# libcurl4-openssl-dev, libarchive-dev and libssl-dev are for `bts data fetch` (download, unpack, MD5);
# libdnnl-dev (oneDNN) for the CPU convolutions.
set -euo pipefail
packages=(cmake ninja-build g++ nlohmann-json3-dev doctest-dev libcli11-dev zlib1g-dev libopenblas-dev libdnnl-dev
          libmatio-dev libstb-dev dataset-fashion-mnist gnuplot-nox libcurl4-openssl-dev libarchive-dev libssl-dev)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
fi
if ! command -v nvcc >/dev/null && [ -x /usr/local/cuda/bin/nvcc ]; then
  echo "note: nvcc is at /usr/local/cuda/bin/nvcc; add /usr/local/cuda/bin to PATH to build the CUDA backend"
fi
