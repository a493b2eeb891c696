// The C++ target's block loop for lowbitc --input-bit-depth: with
// lowbit.bit_depth on the function, convert-lowbit-to-emitc includes
// lowbit/runtime/BitDepth.h and emits <name>_run_blocks, the runtime's
// block loop over the float API, and declares it in the header.
// RUN: lowbit-translate --emit-cpp --model-name=blk %s | FileCheck %s
// RUN: lowbit-opt --convert-lowbit-to-emitc='model-name=blk' %s | FileCheck %s --check-prefix=HEADER

// CHECK: #include "lowbit/runtime/BitDepth.h"
// CHECK: extern "C" int32_t blk_run_blocks(const uint16_t *image, int64_t height, int64_t width, uint16_t *out, float *scratch, void *arena) {
// CHECK-NEXT: lowbit::rt::BitDepthConfig config{};
// CHECK-NEXT: config.inputBits = 10;
// CHECK-NEXT: config.networkBits = 8;
// CHECK-NEXT: config.block = 4;
// CHECK-NEXT: config.channels = 1;
// CHECK-NEXT: config.outChannels = 2;
// CHECK-NEXT: config.mode = lowbit::rt::BitDepthMode::Truncate;
// CHECK-NEXT: config.dither = 1;
// CHECK-NEXT: config.seed = 3u;
// CHECK-NEXT: return lowbit::rt::runBitDepthBlocks(image, height, width, out, config, scratch,
// CHECK-NEXT: [arena](const float *in, float *res) { return blk_run_float(in, res, arena); });

// HEADER: #define BLK_INPUT_BIT_DEPTH 10\0A#define BLK_BLOCK 4\0A#define BLK_BLOCK_CHANNELS 1\0A#define BLK_BLOCK_OUT_CHANNELS 2\0A#define BLK_BLOCKS_SCRATCH_FLOATS 48\0Aint32_t blk_run_blocks(const uint16_t *image, int64_t height, int64_t width, uint16_t *out, float *scratch, void *arena);
func.func @main(%x: tensor<1x1x4x4x!quant.uniform<i8:f32, 0.1>>) -> tensor<1x2x4x4x!quant.uniform<i8:f32, 0.1>> attributes {lowbit.bit_depth = {input_bits = 10 : i32, network_bits = 8 : i32, block = 4 : i32, mode = "truncate", dither = true, seed = 3 : i64}} {
  %c = lowbit.concat(%x, %x) {axis = 1 : i64} : (tensor<1x1x4x4x!quant.uniform<i8:f32, 0.1>>, tensor<1x1x4x4x!quant.uniform<i8:f32, 0.1>>) -> tensor<1x2x4x4x!quant.uniform<i8:f32, 0.1>>
  return %c : tensor<1x2x4x4x!quant.uniform<i8:f32, 0.1>>
}
