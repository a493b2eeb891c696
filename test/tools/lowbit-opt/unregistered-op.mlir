// RUN: not lowbit-opt %s 2>&1 | FileCheck %s

// CHECK: unregistered-op.mlir:[[@LINE+2]]:8: error: custom op 'lowbit.frobnicate' is unknown
func.func @f(%x: tensor<4xi8>) -> tensor<4xi8> {
  %y = lowbit.frobnicate %x : tensor<4xi8>
  return %y : tensor<4xi8>
}
