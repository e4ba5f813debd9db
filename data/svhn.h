// SVHN cropped digits (Netzer et al. 2011), format 2: train_32x32.mat (73,257 images) and test_32x32.mat
// (26,032), MATLAB files read with libmatio. X is 32x32x3xN uint8 (MATLAB column-major: X(row, col, channel,
// sample)); y is N labels 1..10, where 10 means the digit 0 (stored here as label 0). The "extra" set is unused.
#pragma once
#include <string>

#include "data/dataset.h"

namespace bts {

// Throws naming `path` when the file is missing or unreadable by matio, X or y is missing or has the wrong
// class or shape, the counts differ, or a label is not an integer in 1..10. Builds without libmatio throw saying so.
ImageSet read_svhn_mat(const std::string& path);
DataSplit load_svhn(const std::string& dir);

}  // namespace bts
