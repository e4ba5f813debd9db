// Writes one small valid file per fuzz target into <dir>/<target>/ (the starting corpus), using the project's
// own writers where it has them and the formats' definitions otherwise. Run by tools/fuzz.sh.
#include <matio.h>
#include <zlib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "data/packed_file.h"
#include "engine/tensor_file.h"

namespace {

using Bytes = std::vector<uint8_t>;

void put(const std::string& path, const Bytes& b) {
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(b.data()), std::streamsize(b.size()));
}

Bytes gzip(const Bytes& in) {
  z_stream zs{};
  deflateInit2(&zs, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
  Bytes out(deflateBound(&zs, uLong(in.size())) + 32);
  zs.next_in = const_cast<Bytef*>(in.data());
  zs.avail_in = uInt(in.size());
  zs.next_out = out.data();
  zs.avail_out = uInt(out.size());
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

Bytes idx(const std::vector<uint32_t>& dims) {
  Bytes b{0, 0, 8, uint8_t(dims.size())};
  size_t n = 1;
  for (uint32_t d : dims) {
    for (int s = 24; s >= 0; s -= 8) b.push_back(uint8_t(d >> s));
    n *= d;
  }
  for (size_t i = 0; i < n; ++i) b.push_back(uint8_t(i * 7 % 10));
  return b;
}

void mat(const std::string& path, mat_ft version, matio_compression comp) {
  mat_t* m = Mat_CreateVer(path.c_str(), nullptr, version);
  if (!m) return;
  std::vector<uint8_t> x(32 * 32 * 3 * 2, 17);
  std::vector<double> y{10, 3};
  size_t xd[4] = {32, 32, 3, 2}, yd[2] = {2, 1};
  matvar_t* vx = Mat_VarCreate("X", MAT_C_UINT8, MAT_T_UINT8, 4, xd, x.data(), 0);
  matvar_t* vy = Mat_VarCreate("y", MAT_C_DOUBLE, MAT_T_DOUBLE, 2, yd, y.data(), 0);
  Mat_VarWrite(m, vx, comp);
  Mat_VarWrite(m, vy, comp);
  Mat_VarFree(vx);
  Mat_VarFree(vy);
  Mat_Close(m);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_seeds <corpus dir>\n");
    return 2;
  }
  const std::string dir = argv[1];
  for (const char* t : {"cifar", "idx", "packed", "svhn", "tensorfile", "config", "coreset", "convert"}) std::filesystem::create_directories(dir + "/" + t);
  Bytes c10, c100;
  for (int r = 0; r < 2; ++r) {
    c10.push_back(uint8_t(r + 3));
    c100.push_back(uint8_t(r + 1));
    c100.push_back(uint8_t(r + 40));
    for (int i = 0; i < 3072; ++i) {
      c10.push_back(uint8_t(i * 13 + r));
      c100.push_back(uint8_t(i * 11 + r));
    }
  }
  put(dir + "/cifar/cifar10.bin", c10);
  put(dir + "/cifar/cifar100.bin", c100);
  put(dir + "/idx/images", idx({2, 4, 4}));
  put(dir + "/idx/labels", idx({3}));
  put(dir + "/idx/images.gz", gzip(idx({2, 4, 4})));
  bts::ImageSet train{bts::Tensor::zeros({2, 3, 4, 4}, bts::DType::U8), bts::Tensor::zeros({2}, bts::DType::I32)};
  bts::ImageSet test{bts::Tensor::zeros({1, 3, 4, 4}, bts::DType::U8), bts::Tensor::zeros({1}, bts::DType::I32)};
  train.labels.data<int32_t>()[1] = 4;
  bts::write_packed(dir + "/packed/mini.bin", "miniimagenet", 5, train, test);
  mat(dir + "/svhn/v5.mat", MAT_FT_MAT5, MAT_COMPRESSION_NONE);
  mat(dir + "/svhn/v5z.mat", MAT_FT_MAT5, MAT_COMPRESSION_ZLIB);
  mat(dir + "/svhn/v73.mat", MAT_FT_MAT73, MAT_COMPRESSION_NONE);
  // A checkpoint-like tensor file: parameters, counts, an order and a consistent state.
  bts::TensorMap ck;
  ck.emplace("params", bts::Tensor::from_vector<float>({0.5f, -1, 2, 0}, {4}));
  ck.emplace("counts", bts::Tensor::from_vector<int32_t>({1, 0, 2}, {3}));
  ck.emplace("order", bts::Tensor::from_vector<int32_t>({2, 0, 1}, {3}));
  ck.emplace("sampler.q", bts::Tensor::from_vector<int64_t>({16}, {1}));
  ck.emplace("state_json", bts::text_to_tensor(
      R"({"epoch": 1, "iteration_in_epoch": 3, "epoch_trained": 96, "budget_spent": false, "last_lr": 0.05,)"
      R"( "sb_presented": 0, "counters": {"iterations": 11, "samples_forward": 352, "samples_backward": 352,)"
      R"( "samples_scored": 0}, "best_test_accuracy": 0.5, "last_test_accuracy": 0.5, "elapsed_seconds": 3.5,)"
      R"( "history": [{"epoch": 1}], "phase_ms": {"forward": 10}})"));
  bts::write_tensor_file(dir + "/tensorfile/checkpoint.bin", ck);
  // A forgetting file, as a core-set selection run writes it.
  bts::TensorMap fg;
  fg.emplace("forgets", bts::Tensor::from_vector<int32_t>({0, 3, 1, 3, 2, 0}, {6}));
  fg.emplace("ever_correct", bts::Tensor::from_vector<int32_t>({1, 1, 0, 1, 1, 1}, {6}));
  fg.emplace("last_correct", bts::Tensor::from_vector<int32_t>({1, 0, 0, 1, 0, 1}, {6}));
  bts::write_tensor_file(dir + "/coreset/forgetting.bin", fg);
  // A config (the toy run's) and an override after its first line.
  const std::string cfg =
      R"({"dataset": "fashion-mnist", "method": "p-sgd", "budget": 0.5, "epochs": 3, "batch_size": 32,)"
      R"( "model": {"width": 0.0625}, "train_subset": 512, "lr": {"schedule": "linear", "initial": 0.1},)"
      R"( "augment": {"mixup_alpha": 0.3}, "importance": {"warmup_epochs": 1}, "sb": {"beta": 1}, "seed": 4})";
  put(dir + "/config/toy.json", Bytes(cfg.begin(), cfg.end()));
  const std::string with_set = cfg + "\nsb.staleness=2";
  put(dir + "/config/toy_set.json", Bytes(with_set.begin(), with_set.end()));
  // The converter: a split CSV (first byte even) and a tiny PPM image (first byte odd).
  const std::string csv = std::string(1, '\0') + "filename,label\na.jpg,n01\nb.jpg,n02\n";
  put(dir + "/convert/split.csv", Bytes(csv.begin(), csv.end()));
  const std::string ppm = std::string(1, '\1') + "P6\n3 2\n255\n" + std::string(18, '\x7f');
  put(dir + "/convert/image.ppm", Bytes(ppm.begin(), ppm.end()));
  return 0;
}
