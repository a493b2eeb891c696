// lowbit.slice and lowbit.pad in the reference evaluator, and in the C++
// target (the same runtime kernels).
// RUN: %python %S/../lib/npy_tool.py save %t.x.npy int8 1x2x3 1,2,3,4,5,6
// RUN: rm -rf %t.out && lowbitc %s --run %t.x.npy -o %t.out
// RUN: %python %S/../lib/npy_tool.py print %t.out/output0.npy | FileCheck %s --check-prefix=SLICE
// RUN: %python %S/../lib/npy_tool.py print %t.out/output1.npy | FileCheck %s --check-prefix=PAD
// RUN: lowbit-translate --emit-cpp --model-name=mv %s | FileCheck %s --check-prefix=CPP

!q = !quant.uniform<i8:f32, 0.5:-1>

func.func @main(%x: tensor<1x2x3x!q>) -> (tensor<1x2x2x!q>, tensor<1x3x4x!q>) {
  // Columns 1 and 2 of both rows.
  // SLICE: int8 1x2x2
  // SLICE-NEXT: 2 3
  // SLICE-NEXT: 5 6
  %s = lowbit.slice %x {start = array<i64: 0, 0, 1>} : tensor<1x2x3x!q> -> tensor<1x2x2x!q>
  // One row after, one column before, the stored value 7.
  // PAD: int8 1x3x4
  // PAD-NEXT: 7 1 2 3
  // PAD-NEXT: 7 4 5 6
  // PAD-NEXT: 7 7 7 7
  %p = lowbit.pad %x {padding = array<i64: 0, 0, 0, 1, 1, 0>, pad_value = 7 : i64} : tensor<1x2x3x!q> -> tensor<1x3x4x!q>
  return %s, %p : tensor<1x2x2x!q>, tensor<1x3x4x!q>
}
// CPP: lowbit::rt::slice({{.*}}, 1, {{.*}}, 3,
// CPP: lowbit::rt::pad({{.*}}, 1, {{.*}}, 3,
