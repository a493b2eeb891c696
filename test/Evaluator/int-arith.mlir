// Integer elementwise ops wrap in the element type without undefined
// behaviour: int64 overflows, INT64_MIN / -1 (a SIGFPE in hardware) and the
// negation of INT64_MIN; a division by zero is an error.
// RUN: %python -c "import numpy as n; n.save('%t.a.npy', n.array([-2**63, 2**63 - 1, -7, 7], n.int64)); n.save('%t.b.npy', n.array([-1, 1, 2, 0], n.int64)); n.save('%t.c.npy', n.array([-1, 1, 2, 3], n.int64))"
// RUN: not lowbitc %s --run %t.a.npy --run %t.b.npy -o %t.out 2>&1 | FileCheck %s --check-prefix=ZERO
// ZERO: int-arith.mlir:[[@LINE+5]]:8: error: evaluator: integer division by zero
// RUN: rm -rf %t.out && lowbitc %s --run %t.a.npy --run %t.c.npy -o %t.out
// RUN: %python -c "import numpy as n; print(*[n.load('%t.out/output%%d.npy' %% i).tolist() for i in range(4)])" | FileCheck %s
// CHECK: [-9223372036854775808, 9223372036854775807, -3, 2] [9223372036854775807, -9223372036854775808, -5, 10] [-9223372036854775808, 9223372036854775807, -14, 21] [-9223372036854775808, -9223372036854775807, 7, -7]
func.func @main(%a: tensor<4xi64>, %b: tensor<4xi64>) -> (tensor<4xi64>, tensor<4xi64>, tensor<4xi64>, tensor<4xi64>) {
  %d = tosa.intdiv %a, %b : (tensor<4xi64>, tensor<4xi64>) -> tensor<4xi64>
  %s = tosa.add %a, %b : (tensor<4xi64>, tensor<4xi64>) -> tensor<4xi64>
  %z = "tosa.const"() <{values = dense<0> : tensor<1xi8>}> : () -> tensor<1xi8>
  %m = tosa.mul %a, %b, %z : (tensor<4xi64>, tensor<4xi64>, tensor<1xi8>) -> tensor<4xi64>
  %z64 = "tosa.const"() <{values = dense<0> : tensor<1xi64>}> : () -> tensor<1xi64>
  %n = tosa.negate %a, %z64, %z64 : (tensor<4xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<4xi64>
  return %d, %s, %m, %n : tensor<4xi64>, tensor<4xi64>, tensor<4xi64>, tensor<4xi64>
}
