// The GPU BatchNorm's split of a channel into (chunk, thread) walks (kernels/common/channel_chunks.h): together
// they must visit every element of the channel exactly once and nothing else, for any shape, chunk count and
// block size, or the GPU's statistics would silently miss or double-count values.
#include <cstddef>
#include <vector>

#include <doctest/doctest.h>

#include "kernels/common/channel_chunks.h"

using namespace bts::kernels;

TEST_SUITE("channel_chunks") {

TEST_CASE("every (chunk, thread) walk together covers each element of the channel exactly once") {
  struct Shape {
    int64_t N, C, HW;
  };
  int64_t checked = 0;
  for (Shape s : {Shape{128, 64, 1024}, Shape{128, 512, 16}, Shape{7, 3, 1}, Shape{5, 2, 49}, Shape{1, 1, 300},
                  Shape{33, 4, 255}, Shape{128, 10, 7056}})
    for (int64_t threads : {32, 256, 512, 1000})
      for (int64_t chunks : {int64_t{1}, int64_t{2}, int64_t{3}, s.N}) {
        if (chunks > s.N) continue;
        for (int64_t c : {int64_t{0}, s.C - 1}) {
          std::vector<int> seen(static_cast<size_t>(s.N * s.C * s.HW), 0);
          bool in_range = true;
          for (int64_t p = 0; p < chunks; ++p) {
            int64_t n0, n1;
            chunk_images(s.N, chunks, p, &n0, &n1);
            for (int64_t t = 0; t < threads; ++t)
              walk_channel_chunk(s.C, s.HW, c, n0, n1, t, threads, [&](int64_t off) {
                if (off < 0 || off >= s.N * s.C * s.HW) {
                  in_range = false;
                  return;
                }
                ++seen[static_cast<size_t>(off)];
              });
          }
          bool exact = in_range;
          for (int64_t n = 0; n < s.N; ++n)
            for (int64_t ch = 0; ch < s.C; ++ch)
              for (int64_t hw = 0; hw < s.HW; ++hw)
                exact = exact && seen[static_cast<size_t>((n * s.C + ch) * s.HW + hw)] == (ch == c ? 1 : 0);
          CHECK_MESSAGE(exact, "N " << s.N << " C " << s.C << " HW " << s.HW << " threads " << threads << " chunks "
                                    << chunks << " channel " << c);
          ++checked;
        }
      }
  CHECK(checked > 100);
}

TEST_CASE("chunks are whole images, in order, covering all N") {
  for (int64_t N : {1, 2, 7, 128})
    for (int64_t chunks = 1; chunks <= N; ++chunks) {
      int64_t expect = 0;
      for (int64_t p = 0; p < chunks; ++p) {
        int64_t n0, n1;
        chunk_images(N, chunks, p, &n0, &n1);
        CHECK(n0 == expect);
        CHECK(n1 > n0);  // no empty chunk while chunks <= N
        expect = n1;
      }
      CHECK(expect == N);
    }
}

}  // TEST_SUITE
