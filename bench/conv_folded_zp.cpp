// Time of one integer 3x3 convolution (7x7x256 -> 7x7x256, padding 1, the
// shape of ResNet-18's last stage) with the input zero point folded into
// the bias (lowbit::rt::conv2dFoldedZp, whose border windows add the padded
// taps back) and unfolded (conv2dTensor, which subtracts the zero point in
// the inner loop). Prints milliseconds per call, best of 5 runs of 50.
//
//   g++ -O2 -std=c++17 -Iruntime/include bench/conv_folded_zp.cpp -o /tmp/cfz && /tmp/cfz
#include "lowbit/runtime/Ops.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <vector>

using namespace lowbit::rt;

int main() {
  Conv2DShape s{};
  s.n = 1, s.h = s.w = 7, s.c = s.oc = 256, s.kh = s.kw = 3;
  s.strideH = s.strideW = s.dilationH = s.dilationW = 1;
  s.padTop = s.padLeft = 1, s.groups = 1, s.oh = s.ow = 7;
  std::mt19937 rng(1);
  std::vector<int8_t> in(s.h * s.w * s.c), w(s.oc * s.kh * s.kw * s.c);
  for (auto &v : in)
    v = static_cast<int8_t>(rng() % 256 - 128);
  for (auto &v : w)
    v = static_cast<int8_t>(rng() % 255 - 127);
  std::vector<int32_t> bias(s.oc, 0), out(s.oh * s.ow * s.oc);
  auto time = [&](bool folded) {
    double best = 1e30;
    for (int run = 0; run < 5; ++run) {
      auto t0 = std::chrono::steady_clock::now();
      for (int r = 0; r < 50; ++r)
        if (folded)
          conv2dFoldedZp<int8_t, int8_t, int32_t>(in.data(), w.data(),
                                                  bias.data(), -7, out.data(),
                                                  s);
        else
          conv2dTensor<int8_t, int8_t, int32_t>(in.data(), w.data(),
                                                bias.data(), -7, out.data(), s);
      std::chrono::duration<double, std::milli> d =
          std::chrono::steady_clock::now() - t0;
      best = std::min(best, d.count() / 50);
    }
    return best;
  };
  std::printf("conv 7x7x256 -> 256, 3x3 pad 1: folded zero point %.3f ms, "
              "unfolded %.3f ms\n",
              time(true), time(false));
}
