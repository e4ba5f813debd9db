#include "data/miniimagenet_convert.h"

#include <algorithm>
#include <fstream>
#include <map>
#include <numeric>

#include "data/file_io.h"
#include "data/packed_file.h"
#include "kernels/common/check.h"
#include "engine/rng.h"

#ifdef BTS_WITH_STB
#include <stb/stb_image.h>
#include <stb/stb_image_resize.h>
#endif

namespace bts {

namespace {

// Rng stream id of the pooling permutation ("mini"), so the seed's other streams stay independent.
constexpr uint64_t kMiniImagenetStream = 0x6d696e69;

std::string trim_cr(std::string s) {
  while (!s.empty() && (s.back() == '\r' || s.back() == '\n')) s.pop_back();
  return s;
}

#ifdef BTS_WITH_STB
constexpr int kMaxImageSide = 8192;

// Decodes one image to size x size RGB, CHW order, into dst. Returns whether it had to be resized.
bool load_image(const std::string& path, int size, uint8_t* dst) {
  int w = 0, h = 0, comp = 0;
  // The header first: a corrupt or hostile one can claim dimensions whose pixels stb would allocate before
  // failing (mini-ImageNet's originals are about 500 x 375).
  BTS_CHECK(stbi_info(path.c_str(), &w, &h, &comp) == 1,
            "cannot decode image '" << path << "': " << (stbi_failure_reason() ? stbi_failure_reason() : "unknown"));
  BTS_CHECK(w > 0 && h > 0 && w <= kMaxImageSide && h <= kMaxImageSide,
            "image '" << path << "' is " << w << " x " << h << " pixels; at most " << kMaxImageSide
                      << " on a side is accepted");
  uint8_t* px = stbi_load(path.c_str(), &w, &h, &comp, 3);
  BTS_CHECK(px != nullptr, "cannot decode image '" << path << "': "
                                                  << (stbi_failure_reason() ? stbi_failure_reason() : "unknown"));
  std::vector<uint8_t> resized;
  const uint8_t* hwc = px;
  const bool resize = w != size || h != size;
  if (resize) {
    resized.resize(static_cast<size_t>(size) * size * 3);
    const int ok = stbir_resize_uint8(px, w, h, 0, resized.data(), size, size, 0, 3);
    if (!ok) stbi_image_free(px);
    BTS_CHECK(ok, "cannot resize image '" << path << "' from " << w << "x" << h << " to " << size << "x" << size);
    hwc = resized.data();
  }
  const size_t plane = static_cast<size_t>(size) * size;
  for (size_t p = 0; p < plane; ++p)
    for (size_t c = 0; c < 3; ++c) dst[c * plane + p] = hwc[p * 3 + c];
  stbi_image_free(px);
  return resize;
}
#endif

}  // namespace

std::vector<CsvRow> read_split_csv(const std::string& path) {
  std::ifstream in(path);
  BTS_CHECK(in.good(), "cannot open '" << path << "': expected a CSV with header 'filename,label'");
  std::string line;
  std::vector<CsvRow> rows;
  BTS_CHECK(std::getline(in, line) && trim_cr(line) == "filename,label",
            "'" << path << "' line 1: expected the header 'filename,label', found '" << trim_cr(line) << "'");
  for (int no = 2; std::getline(in, line); ++no) {
    line = trim_cr(line);
    if (line.empty()) continue;
    const size_t comma = line.find(',');
    const bool ok = comma != std::string::npos && comma > 0 && comma + 1 < line.size() &&
                    line.find(',', comma + 1) == std::string::npos;
    BTS_CHECK(ok, "'" << path << "' line " << no << ": expected 'filename,label', found '" << line << "'");
    rows.push_back({line.substr(0, comma), line.substr(comma + 1), no});
  }
  return rows;
}

std::vector<int64_t> miniimagenet_permutation(int64_t n, uint64_t seed) {
  std::vector<int64_t> p(static_cast<size_t>(n));
  std::iota(p.begin(), p.end(), 0);
  Rng rng(seed, kMiniImagenetStream);
  for (int64_t i = n - 1; i > 0; --i)
    std::swap(p[static_cast<size_t>(i)], p[static_cast<size_t>(rng.below(static_cast<uint64_t>(i) + 1))]);
  return p;
}

MiniImagenetConvertReport convert_miniimagenet(const MiniImagenetConvertOptions& opt) {
#ifndef BTS_WITH_STB
  (void)opt;
  BTS_FAIL("convert_miniimagenet: this build has no stb (install the Debian package libstb-dev and reconfigure)");
#else
  BTS_CHECK(opt.size >= 1 && opt.size <= 4096, "convert_miniimagenet: image size " << opt.size << ", expected 1..4096");
  std::vector<CsvRow> rows;
  std::vector<std::string> sources;  // the CSV each row came from, for messages
  for (const char* split : {"train.csv", "val.csv", "test.csv"}) {
    const std::string path = join_path(opt.csv_dir, split);
    for (CsvRow& r : read_split_csv(path)) {
      rows.push_back(std::move(r));
      sources.push_back(path);
    }
  }
  const int64_t n = static_cast<int64_t>(rows.size());
  BTS_CHECK(opt.test_count <= 0 || n == opt.train_count + opt.test_count,
            "convert_miniimagenet: the CSVs in '" << opt.csv_dir << "' list " << n << " images, expected "
                                                  << opt.train_count + opt.test_count << " (" << opt.train_count
                                                  << " for training + " << opt.test_count << " for testing)");
  BTS_CHECK(opt.train_count > 0 && opt.train_count < n,
            "convert_miniimagenet: the CSVs in '" << opt.csv_dir << "' list " << n << " images, cannot split off "
                                                  << opt.train_count << " for training and keep a test split");
  std::map<std::string, size_t> seen;
  std::map<std::string, int> classes;
  for (size_t i = 0; i < rows.size(); ++i) {
    auto [it, fresh] = seen.emplace(rows[i].file, i);
    BTS_CHECK(fresh, "'" << sources[i] << "' line " << rows[i].line << ": image '" << rows[i].file
                         << "' is already listed at '" << sources[it->second] << "' line " << rows[it->second].line);
    classes.emplace(rows[i].label, 0);
  }
  int next = 0;
  for (auto& kv : classes) kv.second = next++;  // sorted label names -> 0..K-1

  // Decode everything in the pooled (CSV) order, then write in permuted order.
  const size_t per = static_cast<size_t>(3) * opt.size * opt.size;
  std::vector<uint8_t> pool(per * rows.size());
  std::vector<int32_t> labels(rows.size());
  MiniImagenetConvertReport rep;
  for (size_t i = 0; i < rows.size(); ++i) {
    rep.resized += load_image(join_path(opt.image_dir, rows[i].file), opt.size, pool.data() + i * per) ? 1 : 0;
    labels[i] = classes.at(rows[i].label);
    if (opt.progress && ((i + 1) % 1000 == 0 || i + 1 == rows.size())) opt.progress(int64_t(i + 1), n);
  }

  PackedHeader h;
  h.name = "miniimagenet";
  h.train_count = opt.train_count;
  h.test_count = n - opt.train_count;
  h.channels = 3;
  h.height = h.width = opt.size;
  h.classes = static_cast<int>(classes.size());
  const std::vector<int64_t> order = miniimagenet_permutation(n, opt.seed);
  PackedWriter w(opt.out_path, h);
  auto write_split = [&](int64_t begin, int64_t end) {
    std::vector<int32_t> y;
    for (int64_t k = begin; k < end; ++k) {
      const size_t src = static_cast<size_t>(order[static_cast<size_t>(k)]);
      w.write_images(pool.data() + src * per, 1);
      y.push_back(labels[src]);
    }
    w.write_labels(y.data(), y.size());
  };
  write_split(0, h.train_count);
  write_split(h.train_count, n);
  w.finish();
  rep.images = n;
  rep.classes = h.classes;
  rep.train = h.train_count;
  rep.test = h.test_count;
  return rep;
#endif
}

}  // namespace bts
