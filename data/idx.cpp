#include "data/idx.h"

#include <cstdio>
#include <cstring>

#include "kernels/common/check.h"

namespace bts {

namespace {

std::string hex_bytes(const uint8_t* p, size_t n) {
  std::string s;
  char buf[4];
  for (size_t i = 0; i < n; ++i) {
    std::snprintf(buf, sizeof buf, "%s%02x", i ? " " : "", p[i]);
    s += buf;
  }
  return s;
}

std::string dims_str(const std::vector<int64_t>& dims) {
  std::string s;
  for (size_t i = 0; i < dims.size(); ++i) s += (i ? "x" : "") + std::to_string(dims[i]);
  return s;
}

}  // namespace

IdxArray parse_idx(const uint8_t* data, size_t size, const std::string& file) {
  BTS_CHECK(size >= 4, "'" << file << "': " << size << " bytes, too short for an IDX header (expected magic 00 00 08 <rank>)");
  BTS_CHECK(data[0] == 0 && data[1] == 0,
            "'" << file << "': bad magic " << hex_bytes(data, 4) << ", expected an IDX file (00 00 08 <rank>)"
                << (is_gzip(data, size) ? "; the file is gzip-compressed, decompress it first" : ""));
  BTS_CHECK(data[2] == 0x08, "'" << file << "': IDX element type 0x" << hex_bytes(data + 2, 1)
                                 << ", expected 0x08 (unsigned byte)");
  const int rank = data[3];
  BTS_CHECK(rank >= 1 && rank <= 4, "'" << file << "': IDX rank " << rank << ", expected 1..4");
  const size_t header = 4 + 4 * static_cast<size_t>(rank);
  BTS_CHECK(size >= header, "'" << file << "': truncated IDX header, expected " << header << " bytes for rank "
                                << rank << ", found " << size);
  IdxArray a;
  uint64_t count = 1;
  bool overflow = false;
  for (int i = 0; i < rank; ++i) {
    const uint32_t d = load_be32(data + 4 + 4 * i);
    a.dims.push_back(d);
    if (d != 0 && count > (uint64_t(1) << 40) / d) overflow = true;  // no real data set comes near 2^40 bytes
    count *= d;
  }
  BTS_CHECK(!overflow, "'" << file << "': IDX dimensions " << dims_str(a.dims) << " are implausibly large");
  BTS_CHECK(size - header == count,
            "'" << file << "': expected " << with_commas(count) << " data bytes for dimensions " << dims_str(a.dims)
                << " after the " << header << "-byte header, found " << with_commas(size - header)
                << (size - header < count ? " (truncated)" : " (trailing bytes)"));
  a.data = data + header;
  a.bytes = static_cast<size_t>(count);
  return a;
}

IdxFileBytes::IdxFileBytes(const std::string& path, size_t max_inflated) {
  auto map = std::make_unique<MappedFile>(path);
  if (is_gzip(map->data(), map->size())) inflated_ = gunzip(map->data(), map->size(), path, max_inflated);
  else map_ = std::move(map);
}

ImageSet read_idx_pair(const std::string& images_file, const std::string& labels_file, int classes) {
  IdxFileBytes ib(images_file), lb(labels_file);
  const IdxArray im = parse_idx(ib.data(), ib.size(), images_file);
  const IdxArray lab = parse_idx(lb.data(), lb.size(), labels_file);
  BTS_CHECK(im.dims.size() == 3, "'" << images_file << "': expected images of rank 3 (N, H, W), found rank "
                                     << im.dims.size() << " (" << dims_str(im.dims) << ")");
  BTS_CHECK(lab.dims.size() == 1, "'" << labels_file << "': expected labels of rank 1 (N), found rank "
                                      << lab.dims.size() << " (" << dims_str(lab.dims) << ")");
  BTS_CHECK(im.dims[0] == lab.dims[0], "'" << labels_file << "' holds " << lab.dims[0] << " labels but '"
                                           << images_file << "' holds " << im.dims[0] << " images");
  const int64_t n = im.dims[0];
  ImageSet s{Tensor::empty({n, 1, im.dims[1], im.dims[2]}, DType::U8), Tensor::empty({n}, DType::I32)};
  if (im.bytes) std::memcpy(s.images.data<uint8_t>(), im.data, im.bytes);
  int32_t* y = s.labels.data<int32_t>();
  for (int64_t i = 0; i < n; ++i) {
    BTS_CHECK(lab.data[i] < classes, "'" << labels_file << "': label " << int(lab.data[i]) << " of sample " << i
                                         << " is outside 0.." << classes - 1);
    y[i] = lab.data[i];
  }
  return s;
}

}  // namespace bts
