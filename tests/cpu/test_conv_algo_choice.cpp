// The rule that picks a cuDNN convolution algorithm from the heuristics' list (kernels/common/conv_algo_choice.h),
// proved here without a GPU: it must never dead-end on lists cuDNN 9 can return, and never pick what the engine's
// accuracy promise excludes; and the text a run keeps its chosen algorithms in (conv_algorithms.txt).
#include <doctest/doctest.h>

#include "kernels/common/conv_algo_choice.h"
#include "kernels/common/conv_algo_record.h"

using namespace bts::kernels;

namespace {
ConvAlgoCandidate cand(int algo, ConvMath math, bool det = true, size_t mem = 0, bool transform = false,
                       bool ok = true) {
  ConvAlgoCandidate c;
  c.algo = algo;
  c.math = math;
  c.deterministic = det;
  c.memory = mem;
  c.transform_based = transform;
  c.ok = ok;
  c.status = ok ? "CUDNN_STATUS_SUCCESS" : "CUDNN_STATUS_NOT_SUPPORTED";
  return c;
}
ConvAlgoPolicy policy(bool tf32) {
  ConvAlgoPolicy p;
  p.tf32 = tf32;
  return p;
}
}  // namespace

TEST_SUITE("conv_algo_choice") {

TEST_CASE("TF32 off: entries reporting default math are accepted (the list cuDNN 9 may return)") {
  const std::vector<ConvAlgoCandidate> list{cand(1, ConvMath::Default), cand(0, ConvMath::Default)};
  CHECK(choose_conv_algo(list, policy(false)) == 0);
}

TEST_CASE("TF32 off: tensor-op entries are skipped; fp16 conversion never") {
  const std::vector<ConvAlgoCandidate> list{cand(6, ConvMath::TensorOp), cand(7, ConvMath::TensorOpAllowConversion),
                                            cand(1, ConvMath::Fma)};
  CHECK(choose_conv_algo(list, policy(false)) == 2);
  CHECK(choose_conv_algo(list, policy(true)) == 0);
  const std::vector<ConvAlgoCandidate> only_fp16{cand(7, ConvMath::TensorOpAllowConversion)};
  CHECK(choose_conv_algo(only_fp16, policy(true)) == -1);
}

TEST_CASE("deterministic entries first, else the first usable") {
  const std::vector<ConvAlgoCandidate> list{cand(3, ConvMath::Fma, false), cand(1, ConvMath::Fma, true)};
  CHECK(choose_conv_algo(list, policy(false)) == 1);
  const std::vector<ConvAlgoCandidate> none_det{cand(3, ConvMath::Fma, false), cand(0, ConvMath::Fma, false)};
  CHECK(choose_conv_algo(none_det, policy(false)) == 0);
}

TEST_CASE("TF32 off: FFT/Winograd only when nothing else is usable; with TF32 they are ordinary") {
  const std::vector<ConvAlgoCandidate> list{cand(4, ConvMath::Fma, true, 0, true), cand(1, ConvMath::Fma)};
  CHECK(choose_conv_algo(list, policy(false)) == 1);
  CHECK(choose_conv_algo(list, policy(true)) == 0);
  const std::vector<ConvAlgoCandidate> only_fft{cand(4, ConvMath::Fma, true, 0, true)};
  CHECK(choose_conv_algo(only_fft, policy(false)) == 0);
}

TEST_CASE("failed entries and those over the workspace cap are skipped; nothing usable gives -1 and a list") {
  ConvAlgoPolicy p = policy(false);
  p.max_workspace = 1000;
  const std::vector<ConvAlgoCandidate> list{cand(0, ConvMath::Fma, true, 0, false, false),
                                            cand(1, ConvMath::Fma, true, 5000)};
  CHECK(choose_conv_algo(list, p) == -1);
  const std::string text = describe_conv_candidates(list);
  CHECK(text.find("algo 0: status CUDNN_STATUS_NOT_SUPPORTED, math fma, deterministic, workspace 0 bytes") !=
        std::string::npos);
  CHECK(text.find("algo 1: status CUDNN_STATUS_SUCCESS, math fma, deterministic, workspace 5000 bytes") !=
        std::string::npos);
  CHECK(describe_conv_candidates({}).find("no entries") != std::string::npos);
  CHECK(choose_conv_algo({}, p) == -1);
}

TEST_CASE("conv_algorithms.txt: records round-trip; damaged lines are errors naming the file and line") {
  ConvAlgoRecord a;
  a.shape = ConvShape{128, 64, 32, 32, 128, 3, 3, 2, 1};
  a.tf32 = true;
  a.algo[0] = 1; a.algo[1] = 5; a.algo[2] = 3;
  a.math[0] = 1; a.math[1] = 2; a.math[2] = 3;
  ConvAlgoRecord b;
  b.shape = ConvShape{7, 3, 28, 28, 8, 1, 1, 1, 0};
  const std::string text = format_conv_algo_records({a, b});
  CHECK(text == "conv 128 64 32 32 128 3 3 2 1 1 | fwd 1 1 | bwd-data 5 2 | bwd-filter 3 3\n"
                "conv 7 3 28 28 8 1 1 1 0 0 | fwd 0 0 | bwd-data 0 0 | bwd-filter 0 0\n");
  const std::vector<ConvAlgoRecord> back = parse_conv_algo_records(text + "\n", "f");
  REQUIRE(back.size() == 2);
  CHECK(format_conv_algo_records(back) == text);
  CHECK(same_key(back[0], a.shape, true));
  CHECK_FALSE(same_key(back[0], a.shape, false));
  ConvShape other = a.shape;
  other.N = 64;
  CHECK_FALSE(same_key(back[0], other, true));
  CHECK(parse_conv_algo_records("", "f").empty());
  // The data word: absent for f32 NCHW (the first format), named otherwise; part of the key.
  ConvAlgoRecord c = a;
  c.data = ConvData{true, true};
  const std::string with_data = format_conv_algo_records({c});
  CHECK(with_data == "conv 128 64 32 32 128 3 3 2 1 1 bf16-nhwc | fwd 1 1 | bwd-data 5 2 | bwd-filter 3 3\n");
  const std::vector<ConvAlgoRecord> back_data = parse_conv_algo_records(with_data, "f");
  REQUIRE(back_data.size() == 1);
  CHECK(back_data[0].data == ConvData{true, true});
  CHECK(same_key(back_data[0], a.shape, true, ConvData{true, true}));
  CHECK_FALSE(same_key(back_data[0], a.shape, true));
  CHECK_FALSE(same_key(back[0], a.shape, true, ConvData{false, true}));
  for (bool bf16 : {false, true})
    for (bool nhwc : {false, true}) {
      ConvData d;
      CHECK(parse_conv_data(conv_data_name({bf16, nhwc}), &d));
      CHECK(d == ConvData{bf16, nhwc});
    }
  for (const char* bad : {"conv 128 64 32 32 128 3 3 2 1 1 | fwd 1 1 | bwd-data 5 2",           // cut short
                          "conv 128 64 32 32 128 3 3 2 1 2 | fwd 1 1 | bwd-data 5 2 | bwd-filter 3 3",  // tf32 2
                          "conv 0 64 32 32 128 3 3 2 1 1 | fwd 1 1 | bwd-data 5 2 | bwd-filter 3 3",   // N 0
                          "conv 1 64 32 32 128 3 3 2 1 1 | fwd -1 1 | bwd-data 5 2 | bwd-filter 3 3",  // algo -1
                          "conv 1 64 32 32 128 3 3 2 1 1 | fwd 1 1 | bwd-data 5 2 | bwd-filter 3 3 9",  // extra
                          "CONV 1 64 32 32 128 3 3 2 1 1 | fwd 1 1 | bwd-data 5 2 | bwd-filter 3 3",
                          "conv 1 64 32 32 128 3 3 2 1 1 fp16-nhwc | fwd 1 1 | bwd-data 5 2 | bwd-filter 3 3",
                          "conv 1 64 32 32 128 3 3 2 1 1 bf16-nhwc fwd 1 1 | bwd-data 5 2 | bwd-filter 3 3"}) {
    INFO(bad);
    CHECK_THROWS_WITH_AS(parse_conv_algo_records(text + bad + "\n", "run/conv_algorithms.txt"),
                         doctest::Contains("run/conv_algorithms.txt line 3 is not a convolution algorithm record"),
                         bts::Error);
  }
}

}  // TEST_SUITE
