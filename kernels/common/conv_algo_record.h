// The convolution algorithms a run chose, as text kept beside the run (conv_algorithms.txt): one line per
// convolution shape, math mode and data kind,
//   conv N C H W K R S stride pad tf32 [data] | fwd algo math | bwd-data algo math | bwd-filter algo math
// with cuDNN's enum values; data is bf16-nhwc, bf16-nchw or f32-nhwc, absent for f32-nchw (the first format). A resumed or repeated run reads it back and uses the same algorithms, so measuring
// them (`conv_algorithms: measured`, whose timing can differ between runs) does not cost bitwise repeatability.
// Kept free of cuDNN's types so the CPU tests prove the format (tests/cpu/test_conv_algo_choice.cpp).
#pragma once
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "kernels/common/check.h"
#include "kernels/common/conv_shape.h"

namespace bts::kernels {

// How a convolution's tensors are stored (input, weights and output alike): element type and layout.
struct ConvData {
  bool bf16 = false;
  bool channels_last = false;  // NHWC activations, KRSC weights
  bool operator==(const ConvData& o) const { return bf16 == o.bf16 && channels_last == o.channels_last; }
};

inline std::string conv_data_name(ConvData d) {
  return std::string(d.bf16 ? "bf16" : "f32") + (d.channels_last ? "-nhwc" : "-nchw");
}

inline bool parse_conv_data(const std::string& word, ConvData* d) {
  for (bool bf16 : {false, true})
    for (bool nhwc : {false, true})
      if (word == conv_data_name({bf16, nhwc})) {
        *d = {bf16, nhwc};
        return true;
      }
  return false;
}

struct ConvAlgoRecord {
  ConvShape shape{};
  bool tf32 = false;
  ConvData data{};
  int algo[3] = {0, 0, 0};  // forward, backward-data, backward-filter
  int math[3] = {0, 0, 0};  // cudnnMathType_t of each
};

inline bool same_key(const ConvAlgoRecord& a, const ConvShape& s, bool tf32, ConvData data = {}) {
  const ConvShape& t = a.shape;
  return a.tf32 == tf32 && a.data == data && t.N == s.N && t.C == s.C && t.H == s.H && t.W == s.W && t.K == s.K && t.R == s.R &&
         t.S == s.S && t.stride == s.stride && t.pad == s.pad;
}

inline std::string format_conv_algo_records(const std::vector<ConvAlgoRecord>& records) {
  std::ostringstream os;
  for (const ConvAlgoRecord& r : records) {
    const ConvShape& s = r.shape;
    os << "conv " << s.N << ' ' << s.C << ' ' << s.H << ' ' << s.W << ' ' << s.K << ' ' << s.R << ' ' << s.S << ' '
       << s.stride << ' ' << s.pad << ' ' << (r.tf32 ? 1 : 0)
       << (r.data == ConvData{} ? std::string() : " " + conv_data_name(r.data)) << " | fwd " << r.algo[0] << ' ' << r.math[0]
       << " | bwd-data " << r.algo[1] << ' ' << r.math[1] << " | bwd-filter " << r.algo[2] << ' ' << r.math[2] << "\n";
  }
  return os.str();
}

// Throws naming `where` and the line when a line does not parse (a damaged file is an error, not ignored).
inline std::vector<ConvAlgoRecord> parse_conv_algo_records(const std::string& text, const std::string& where) {
  std::vector<ConvAlgoRecord> out;
  std::istringstream in(text);
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.empty()) continue;
    std::istringstream ls(line);
    ConvAlgoRecord r;
    ConvShape& s = r.shape;
    std::string conv, data, bar1, fwd, bar2, bwd_data, bar3, bwd_filter, extra;
    int tf32 = -1;
    ls >> conv >> s.N >> s.C >> s.H >> s.W >> s.K >> s.R >> s.S >> s.stride >> s.pad >> tf32 >> data;
    bool data_ok = true;
    if (data == "|")
      bar1 = data;  // no data word: f32 NCHW
    else {
      data_ok = parse_conv_data(data, &r.data);
      ls >> bar1;
    }
    ls >> fwd >> r.algo[0] >> r.math[0] >> bar2 >> bwd_data >> r.algo[1] >> r.math[1] >> bar3 >> bwd_filter >>
        r.algo[2] >> r.math[2];
    const bool shape_ok = s.N > 0 && s.C > 0 && s.H > 0 && s.W > 0 && s.K > 0 && s.R > 0 && s.S > 0 &&
                          s.stride > 0 && s.pad >= 0;
    const bool ok = !ls.fail() && !(ls >> extra) && conv == "conv" && data_ok && (tf32 == 0 || tf32 == 1) && bar1 == "|" &&
                    bar2 == "|" && bar3 == "|" && fwd == "fwd" && bwd_data == "bwd-data" &&
                    bwd_filter == "bwd-filter" && shape_ok && r.algo[0] >= 0 && r.algo[1] >= 0 && r.algo[2] >= 0 &&
                    r.math[0] >= 0 && r.math[1] >= 0 && r.math[2] >= 0;
    BTS_CHECK(ok, where << " line " << number << " is not a convolution algorithm record: '" << line << "'");
    r.tf32 = tf32 == 1;
    out.push_back(r);
  }
  return out;
}

}  // namespace bts::kernels
