// A failed write of the output (-o /dev/full, stdout on a full disk) is
// "cannot write '<path>': <reason>" and exit 1, also when a chunk of the
// input fails too, not LLVM's "IO failure on output stream" abort.
// RUN: not lowbit-opt %S/dialects.mlir -o /dev/full 2>&1 | FileCheck %s
// RUN: not lowbit-opt %S/dialects.mlir --emit-bytecode -o /dev/full 2>&1 | FileCheck %s
// CHECK: lowbit-opt: error: cannot write '/dev/full': No space left on device
// RUN: not lowbit-opt %S/dialects.mlir 2>%t.err >/dev/full
// RUN: FileCheck %s --check-prefix=STDOUT < %t.err
// STDOUT: lowbit-opt: error: cannot write '<stdout>': No space left on device
//
// The second chunk is invalid; the first one's output still fails to write:
// RUN: not lowbit-opt %s --split-input-file -o /dev/full 2>&1 | FileCheck %s --check-prefix=BOTH
// BOTH: error: 'lowbit.requant' op positive shift 70 is outside [2, 62]
// BOTH: lowbit-opt: error: cannot write '/dev/full': No space left on device
//
// A writable -o still gets the IR:
// RUN: lowbit-opt %S/dialects.mlir -o %t.mlir
// RUN: FileCheck %s --check-prefix=OK < %t.mlir
// OK: func.func @float_graph

func.func @relu6(%x: tensor<1x4xf32>) -> tensor<1x4xf32> {
  %0 = tosa.clamp %x {min_val = 0.0 : f32, max_val = 6.0 : f32} : (tensor<1x4xf32>) -> tensor<1x4xf32>
  return %0 : tensor<1x4xf32>
}

// -----

func.func @bad_shift(%acc: tensor<4xi32>) -> tensor<4x!quant.uniform<i8:f32, 0.1>> {
  %y = lowbit.requant %acc {multiplier = array<i32: 1073741824>, shift = array<i32: 70>} : tensor<4xi32> -> tensor<4x!quant.uniform<i8:f32, 0.1>>
  return %y : tensor<4x!quant.uniform<i8:f32, 0.1>>
}
