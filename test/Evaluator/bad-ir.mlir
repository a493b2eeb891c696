// The evaluator refuses what it cannot run with a located error, before
// running anything.
// RUN: %python %S/../lib/npy_tool.py save %t.x.npy float32 4 1
// RUN: not lowbitc %s --run %t.x.npy -o %t.y.npy 2>&1 | FileCheck %s
// CHECK: bad-ir.mlir:[[@LINE+3]]:8: error: evaluator: unsupported op 'tosa.sin'
// CHECK-NOT: Stack dump
func.func @main(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = tosa.sin %x : (tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}
