#include "data/packed_file.h"

#include <cstring>

#include "data/file_io.h"
#include "kernels/common/check.h"

namespace bts {

namespace {

uint64_t image_bytes(const PackedHeader& h) { return uint64_t(h.channels) * uint64_t(h.height) * uint64_t(h.width); }

// Copies `count` samples at `at` out of the mapped bytes, checking each label.
ImageSet take_split(const uint8_t* base, uint64_t& at, const PackedHeader& h, int64_t count, const char* split,
                    const std::string& file) {
  ImageSet s{Tensor::empty({count, h.channels, h.height, h.width}, DType::U8), Tensor::empty({count}, DType::I32)};
  const uint64_t img = image_bytes(h) * uint64_t(count);
  if (img) std::memcpy(s.images.data<uint8_t>(), base + at, img);
  at += img;
  int32_t* y = s.labels.data<int32_t>();
  for (int64_t i = 0; i < count; ++i, at += 4) {
    const int32_t v = static_cast<int32_t>(load_le32(base + at));
    BTS_CHECK(v >= 0 && v < h.classes, "'" << file << "': " << split << " label " << v << " of sample " << i
                                           << " is outside 0.." << h.classes - 1);
    y[i] = v;
  }
  return s;
}

}  // namespace

uint64_t packed_file_bytes(const PackedHeader& h) {
  const uint64_t per = image_bytes(h) + 4;
  return kPackedHeaderBytes + per * uint64_t(h.train_count) + per * uint64_t(h.test_count);
}

PackedHeader parse_packed_header(const uint8_t* data, size_t size, const std::string& file) {
  BTS_CHECK(size >= kPackedHeaderBytes, "'" << file << "': " << size << " bytes, too short for the "
                                            << kPackedHeaderBytes << "-byte packed image header");
  BTS_CHECK(std::memcmp(data, kPackedMagic, sizeof kPackedMagic) == 0,
            "'" << file << "': bad magic, expected \"BTSIMGS\" (a file written by convert_miniimagenet)");
  const uint32_t version = load_le32(data + 8), header = load_le32(data + 12);
  BTS_CHECK(version == kPackedVersion, "'" << file << "': packed format version " << version << ", expected "
                                           << kPackedVersion << " (re-run convert_miniimagenet)");
  BTS_CHECK(header == kPackedHeaderBytes, "'" << file << "': header size " << header << ", expected "
                                              << kPackedHeaderBytes);
  PackedHeader h;
  const uint64_t train = load_le64(data + 16), test = load_le64(data + 24);
  const uint32_t c = load_le32(data + 32), hh = load_le32(data + 36), w = load_le32(data + 40),
                 k = load_le32(data + 44);
  BTS_CHECK(c >= 1 && c <= 4 && hh >= 1 && hh <= 4096 && w >= 1 && w <= 4096,
            "'" << file << "': image shape " << c << "x" << hh << "x" << w
                << ", expected 1..4 channels and sides of 1..4096 pixels");
  BTS_CHECK(k >= 1 && k <= 100000, "'" << file << "': " << k << " classes, expected 1..100000");
  // At most 2^46 bytes per split keeps packed_file_bytes far from uint64 overflow, whatever the header says.
  const uint64_t per = uint64_t(c) * hh * w + 4;
  BTS_CHECK(train <= (uint64_t(1) << 46) / per && test <= (uint64_t(1) << 46) / per,
            "'" << file << "': implausible sample counts " << train << " / " << test);
  char name[17] = {};
  std::memcpy(name, data + 48, 16);
  h.name = name;
  h.train_count = static_cast<int64_t>(train);
  h.test_count = static_cast<int64_t>(test);
  h.channels = static_cast<int>(c);
  h.height = static_cast<int>(hh);
  h.width = static_cast<int>(w);
  h.classes = static_cast<int>(k);
  const uint64_t want = packed_file_bytes(h);
  BTS_CHECK(size == want, "'" << file << "': expected " << with_commas(want) << " bytes for " << train << " + "
                              << test << " samples of " << c << "x" << hh << "x" << w << ", found "
                              << with_commas(size) << (size < want ? " (truncated)" : " (trailing bytes)"));
  return h;
}

void encode_packed_header(const PackedHeader& h, uint8_t out[kPackedHeaderBytes]) {
  BTS_CHECK(h.name.size() <= 16, "packed header: name '" << h.name << "' is longer than 16 bytes");
  std::memset(out, 0, kPackedHeaderBytes);
  std::memcpy(out, kPackedMagic, sizeof kPackedMagic);
  store_le32(out + 8, kPackedVersion);
  store_le32(out + 12, kPackedHeaderBytes);
  store_le64(out + 16, static_cast<uint64_t>(h.train_count));
  store_le64(out + 24, static_cast<uint64_t>(h.test_count));
  store_le32(out + 32, static_cast<uint32_t>(h.channels));
  store_le32(out + 36, static_cast<uint32_t>(h.height));
  store_le32(out + 40, static_cast<uint32_t>(h.width));
  store_le32(out + 44, static_cast<uint32_t>(h.classes));
  std::memcpy(out + 48, h.name.data(), h.name.size());
}

PackedContents parse_packed(const uint8_t* data, size_t size, const std::string& file) {
  PackedContents c;
  c.header = parse_packed_header(data, size, file);
  uint64_t at = kPackedHeaderBytes;
  c.train = take_split(data, at, c.header, c.header.train_count, "train", file);
  c.test = take_split(data, at, c.header, c.header.test_count, "test", file);
  return c;
}

PackedContents read_packed(const std::string& path) {
  MappedFile map(path);
  return parse_packed(map.data(), map.size(), path);
}

PackedWriter::PackedWriter(const std::string& path, const PackedHeader& h) : file_(path, path + ".tmp"), h_(h) {
  uint8_t header[kPackedHeaderBytes];
  encode_packed_header(h, header);
  write(header, sizeof header);
}

void PackedWriter::write(const void* p, size_t bytes) {
  file_.write(p, bytes);
  written_ += bytes;
}

void PackedWriter::write_images(const uint8_t* data, size_t n_images) { write(data, n_images * image_bytes(h_)); }

void PackedWriter::write_labels(const int32_t* labels, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    uint8_t b[4];
    store_le32(b, static_cast<uint32_t>(labels[i]));
    write(b, 4);
  }
}

void PackedWriter::finish() {
  const uint64_t want = packed_file_bytes(h_);
  BTS_CHECK(written_ == want, "'" << file_.temporary_path() << "': wrote " << with_commas(written_)
                                  << " bytes, the header promises " << with_commas(want));
  file_.commit();
}

void write_packed(const std::string& path, const std::string& name, int classes, const ImageSet& train,
                  const ImageSet& test) {
  const Shape& s = train.images.shape();
  BTS_CHECK(s.size() == 4 && test.images.shape().size() == 4 && s[1] == test.images.dim(1) &&
                s[2] == test.images.dim(2) && s[3] == test.images.dim(3),
            "write_packed: train " << train.images.describe() << " and test " << test.images.describe()
                                   << " must be [N, C, H, W] of one shape");
  PackedHeader h;
  h.name = name;
  h.train_count = train.size();
  h.test_count = test.size();
  h.channels = static_cast<int>(s[1]);
  h.height = static_cast<int>(s[2]);
  h.width = static_cast<int>(s[3]);
  h.classes = classes;
  PackedWriter w(path, h);
  w.write_images(train.images.data<uint8_t>(), static_cast<size_t>(train.size()));
  w.write_labels(train.labels.data<int32_t>(), static_cast<size_t>(train.size()));
  w.write_images(test.images.data<uint8_t>(), static_cast<size_t>(test.size()));
  w.write_labels(test.labels.data<int32_t>(), static_cast<size_t>(test.size()));
  w.finish();
}

}  // namespace bts
