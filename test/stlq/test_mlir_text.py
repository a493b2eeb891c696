#!/usr/bin/python3
"""Unit tests of mlir_text.py (the reader of lowbit-opt's output) on
hand-written samples in decimal and hex forms, and, when LOWBIT_OPT names a
lowbit-opt, on what that lowbit-opt really prints (decimal and hex).

  test_mlir_text.py [-v]
  LOWBIT_OPT=path/to/lowbit-opt test_mlir_text.py
"""

import os
import subprocess
import sys
import tempfile
import unittest

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mlir_text as mt  # noqa: E402

F32 = np.float32


def f32_hex(a):
    return np.ascontiguousarray(a, dtype="<f4").tobytes().hex().upper()


class DenseTest(unittest.TestCase):
    def test_decimal_nested(self):
        a = mt.parse_dense("dense<[[1.000000e+00, -5.000000e-01, 3.000000e-01], "
                           "[2.500000e-01, 0.123456701, -1.23456794E-5]]> : tensor<2x3xf32>")
        self.assertEqual(a.dtype, np.float32)
        self.assertEqual(a.shape, (2, 3))
        want = np.array([[1, -0.5, 0.3], [0.25, 0.1234567, -1.23456794e-5]], dtype=F32)
        self.assertTrue(np.array_equal(a.view(np.uint32), want.view(np.uint32)))

    def test_decimal_splat_and_scalar_tensor(self):
        a = mt.parse_dense("dense<-2.500000e-01> : tensor<3x1x2xf32>")
        self.assertEqual(a.shape, (3, 1, 2))
        self.assertTrue(np.all(a == F32(-0.25)))
        b = mt.parse_dense("dense<7.000000e+00> : tensor<f32>")
        self.assertEqual(b.shape, ())
        self.assertEqual(b[()], 7.0)

    def test_hex_f32(self):
        w = np.array([[[1.0, -0.5, 0.3]], [[0.25, 0.125, 0.1]]], dtype=F32)
        text = 'dense<"0x%s"> : tensor<2x1x3xf32>' % f32_hex(w)
        a = mt.parse_dense(text)
        self.assertTrue(np.array_equal(a.view(np.uint32), w.view(np.uint32)))
        # the sample MLIR printed for these values
        b = mt.parse_dense('dense<"0x0000803F000000BF9A99993E0000803E0000003ECDCCCC3D"> : tensor<2x1x1x3xf32>')
        self.assertTrue(np.array_equal(b.ravel(), w.ravel()))

    def test_hex_splat_f32(self):
        a = mt.parse_dense('dense<"0x0000C03F"> : tensor<2x2xf32>')
        self.assertTrue(np.all(a == 1.5))

    def test_special_float_tokens(self):
        a = mt.parse_dense("dense<[0x7FC00000, 0xFF800000, -0.000000e+00, 1.401298e-45]> : tensor<4xf32>")
        self.assertTrue(np.isnan(a[0]))
        self.assertEqual(a[1], -np.inf)
        self.assertTrue(a[2] == 0 and np.signbit(a[2]))
        self.assertEqual(a.view(np.uint32)[3], 1)  # smallest subnormal

    def test_i1_forms(self):
        want = np.array([[[[True, False, True]]], [[[False, False, True]]]])
        dec = mt.parse_dense("dense<[[[[true, false, true]]], [[[false, false, true]]]]> : tensor<2x1x1x3xi1>")
        self.assertEqual(dec.dtype, bool)
        self.assertTrue(np.array_equal(dec, want))
        # MLIR packs i1 hex data 8 per byte, least significant bit first.
        hx = mt.parse_dense('dense<"0x25"> : tensor<2x1x1x3xi1>')
        self.assertTrue(np.array_equal(hx, want))
        # More than 8 elements: two bytes.
        m = np.zeros((3, 4), dtype=bool)
        m[0, 0] = m[2, 3] = m[1, 2] = True
        raw = np.packbits(m.ravel().astype(np.uint8), bitorder="little").tobytes().hex().upper()
        self.assertTrue(np.array_equal(mt.parse_dense('dense<"0x%s"> : tensor<3x4xi1>' % raw), m))
        # One byte per element (another possible storage).
        self.assertTrue(np.array_equal(
            mt.parse_dense('dense<"0x010001"> : tensor<3xi1>'), [True, False, True]))
        # Splats.
        self.assertFalse(mt.parse_dense("dense<false> : tensor<3x3x3x1xi1>").any())
        self.assertTrue(mt.parse_dense("dense<true> : tensor<2x2xi1>").all())
        self.assertTrue(mt.parse_dense('dense<"0xFF"> : tensor<20x1xi1>').all())
        self.assertFalse(mt.parse_dense('dense<"0x00"> : tensor<20x1xi1>').any())

    def test_ints(self):
        a = mt.parse_dense("dense<[[1, -2], [3, 127]]> : tensor<2x2xi8>")
        self.assertTrue(np.array_equal(a, [[1, -2], [3, 127]]))
        b = mt.parse_dense('dense<"0x01FE"> : tensor<2xi8>')
        self.assertTrue(np.array_equal(b, [1, -2]))

    def test_resource(self):
        w = np.array([0.5, -1.0, 3.0], dtype=F32)
        res = {"blob0": "0x04000000" + f32_hex(w)}
        a = mt.parse_dense("dense_resource<blob0> : tensor<3xf32>", res)
        self.assertTrue(np.array_equal(a, w))

    def test_errors(self):
        for bad in ("dense<[1.0, 2.0]> : tensor<3xf32>",          # too few
                    "dense<[[1.0], [2.0, 3.0]]> : tensor<2x2xf32>",  # ragged
                    'dense<"0x0000803F00"> : tensor<1xf32>',       # stray byte
                    "dense<[1.0, 2.0]>",                           # no type
                    "dense<[true, maybe]> : tensor<2xi1>"):
            with self.assertRaises(mt.MlirParseError, msg=bad):
                mt.parse_dense(bad)


class AttrTest(unittest.TestCase):
    def test_stlq_decimal_per_channel(self):
        text = ("#lowbit.stlq<bits = 3, scale = 1.250000e-01, tile = [16, 16], "
                "mask = dense<[[true, false], [false, true]]> : tensor<2x2xi1>, "
                "channel_scales = [1.250000e-01, 0.30000001192092896, 9.9999999999999995E-8]>")
        a = mt.parse_stlq_attr(text)
        self.assertEqual(a["bits"], 3)
        self.assertEqual(a["scale"], 0.125)
        self.assertEqual(a["tile"], [16, 16])
        self.assertTrue(np.array_equal(a["mask"], [[True, False], [False, True]]))
        self.assertEqual(a["channel_scales"], [0.125, float(F32(0.3)), 1e-7])
        self.assertEqual(a["extra"], {})

    def test_stlq_hex_per_layer(self):
        text = ('#lowbit.stlq<bits = 4, scale = 0x3FC0000000000000, tile = [8, 4], '
                'mask = dense<"0x25"> : tensor<2x1x1x3xi1>>')
        a = mt.parse_stlq_attr(text)
        self.assertEqual(a["scale"], 0.125)
        self.assertEqual(a["tile"], [8, 4])
        self.assertIsNone(a["channel_scales"])
        self.assertEqual(a["mask"].ravel().tolist(), [True, False, True, False, False, True])

    def test_stlq_splat_mask_any_order(self):
        text = ("#lowbit.stlq<mask = dense<false> : tensor<3x3x3x1xi1>, tile = [16, 16], "
                "channel_scales = [2.000000e+00], scale = 2.000000e+00, bits = 3, words = 2>")
        a = mt.parse_stlq_attr(text)
        self.assertEqual(a["mask"].shape, (3, 3, 3, 1))
        self.assertFalse(a["mask"].any())
        self.assertEqual(a["extra"], {"words": "2"})

    def test_stlq_errors(self):
        for bad in ("#lowbit.log<bits = 3, scale = 1.0>",
                    "#lowbit.stlq<bits = 3, scale = 1.0, tile = [16, 16]>",
                    "#lowbit.stlq<bits = 3, scale = 1.0, tile = [16, 16], "
                    "mask = dense<[1.0]> : tensor<1xf32>>",
                    "#lowbit.stlq<bits = 3, scale = 1.0, tile = [16, 16], "
                    "mask = dense<true> : tensor<1x1xi1>"):
            with self.assertRaises(mt.MlirParseError, msg=bad):
                mt.parse_stlq_attr(bad)


SAMPLE = '''#enc = #lowbit.stlq<bits = 3, scale = 5.000000e-01, tile = [2, 1], mask = dense<[[true], [false]]> : tensor<2x1xi1>>
module {
  func.func @conv(%arg0: tensor<1x1x1x3xf32> {lowbit.range = array<f64: -1.000000e+00, 1.000000e+00>}) -> tensor<1x1x1x2xf32> {
    %0 = "tosa.const"() <{values = dense<[[[[1.000000e+00, -5.000000e-01, 3.000000e-01]]], [[[2.500000e-01, 1.250000e-01, 1.000000e-01]]]]> : tensor<2x1x1x3xf32>}> : () -> tensor<2x1x1x3xf32>
    %1 = "tosa.const"() <{values = dense<0.000000e+00> : tensor<2xf32>}> : () -> tensor<2xf32>
    %2 = "tosa.const"() <{values = dense<0.000000e+00> : tensor<1xf32>}> : () -> tensor<1xf32>
    %3 = "tosa.const"() <{values = dense<"0x0000803F000000BF0000803E0000803E0000003E0000003E"> : tensor<2x1x1x3xf32>}> : () -> tensor<2x1x1x3xf32>
    %4 = tosa.conv2d %arg0, %3, %1, %2, %2 {acc_type = f32, dilation = array<i64: 1, 1>, lowbit.range = array<f64: -3.000000e+00, 3.000000e+00>, lowbit.weight_encoding = #lowbit.stlq<bits = 3, scale = 2.000000e+00, tile = [16, 16], mask = dense<true> : tensor<1x1x1x1xi1>, channel_scales = [2.000000e+00, 5.000000e-01]>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>} : (tensor<1x1x1x3xf32>, tensor<2x1x1x3xf32>, tensor<2xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x1x1x2xf32>
    return %4 : tensor<1x1x1x2xf32>
  }
  func.func @mm(%arg0: tensor<1x1x3xf32>) -> tensor<1x1x2xf32> {
    %0 = "tosa.const"() <{values = dense<0.000000e+00> : tensor<1xf32>}> : () -> tensor<1xf32>
    %cst = "tosa.const"() <{values = dense_resource<w_blob> : tensor<1x3x2xf32>}> : () -> tensor<1x3x2xf32>
    %1 = "tosa.matmul"(%arg0, %cst, %0, %0) {lowbit.weight_encoding = #enc} : (tensor<1x1x3xf32>, tensor<1x3x2xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x1x2xf32>
    return %1 : tensor<1x1x2xf32>
  }
}

{-#
  dialect_resources: {
    builtin: {
      w_blob: "0x040000000000803F000000BF0000803E0000803E0000003E0000003E"
    }
  }
#-}
'''


class ModuleTest(unittest.TestCase):
    def test_sample(self):
        m = mt.Module(SAMPLE)
        convs = m.ops_named("tosa.conv2d")
        self.assertEqual(len(convs), 1)
        op = convs[0]
        self.assertEqual(op.func, "conv")
        self.assertEqual(op.operands, ["%arg0", "%3", "%1", "%2", "%2"])
        cop, w = m.constant("conv", op.operands[1])
        self.assertEqual(cop.name, "tosa.const")
        self.assertEqual(w.ravel().tolist(), [1.0, -0.5, 0.25, 0.25, 0.125, 0.125])
        enc = m.encoding(op)
        self.assertEqual(enc["channel_scales"], [2.0, 0.5])
        self.assertTrue(enc["mask"].all())
        # the old weights are still there (unused), under another name
        self.assertEqual(m.constant("conv", "%0")[1].ravel()[2], F32(0.3))
        mm = m.ops_named("tosa.matmul")[0]
        self.assertEqual(mm.func, "mm")
        self.assertEqual(mm.operands, ["%arg0", "%cst", "%0", "%0"])
        self.assertEqual(m.constant("mm", "%cst")[1].shape, (1, 3, 2))
        self.assertEqual(m.constant("mm", "%cst")[1].ravel().tolist(),
                         [1.0, -0.5, 0.25, 0.25, 0.125, 0.125])
        enc = m.encoding(mm)  # through the #enc alias
        self.assertEqual(enc["tile"], [2, 1])
        self.assertEqual(enc["mask"].ravel().tolist(), [True, False])
        # SSA names are per function
        self.assertIsNone(m.constant("mm", "%3")[0])

    def test_arrow_in_types(self):
        line = ('%0 = "tosa.const"() <{values = dense<1.000000e+00> : tensor<2xf32>}> '
                ': () -> tensor<2xf32>')
        m = mt.Module(line)
        self.assertEqual(m.constant(None, "%0")[1].tolist(), [1.0, 1.0])
        self.assertEqual(mt.split_top("a = b<c, d>, e = (f) -> g, h = [1, 2]"),
                         ["a = b<c, d>", "e = (f) -> g", "h = [1, 2]"])


@unittest.skipUnless(os.environ.get("LOWBIT_OPT"), "LOWBIT_OPT not set")
class RoundTripTest(unittest.TestCase):
    """What the real lowbit-opt prints, read back (decimal and hex)."""

    def run_opt(self, text, *flags):
        with tempfile.NamedTemporaryFile("w", suffix=".mlir", delete=False) as f:
            f.write(text)
        try:
            p = subprocess.run([os.environ["LOWBIT_OPT"], f.name] + list(flags),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               universal_newlines=True, timeout=120)
        finally:
            os.unlink(f.name)
        self.assertEqual(p.returncode, 0, p.stderr)
        return p.stdout

    def test_round_trip(self):
        rng = np.random.RandomState(3)
        w = rng.normal(0, 0.1, size=(5, 2, 3, 7)).astype(F32)
        w[0, 0, 0, :4] = [0.0, -0.0, 1e-42, 3.0e38]
        mask = rng.rand(1, 2, 3, 1) < 0.5
        mask[0, 0, 0, 0], mask[0, 1, 2, 0] = True, False
        mask2 = rng.rand(3, 2, 3, 4) < 0.5  # 72 bits: several bytes of hex
        dec = "dense<%s> : tensor<1x2x3x1xi1>" % str(mask.tolist()).replace("True", "true").replace("False", "false")
        text = '''func.func @f(%x: tensor<1x2x3x7xf32>) -> tensor<1x1x1x5xf32> {
  %w = "tosa.const"() {values = dense<"0xWHEX"> : tensor<5x2x3x7xf32>} : () -> tensor<5x2x3x7xf32>
  %b = "tosa.const"() {values = dense<0.0> : tensor<5xf32>} : () -> tensor<5xf32>
  %zp = "tosa.const"() {values = dense<0.0> : tensor<1xf32>} : () -> tensor<1xf32>
  %c = tosa.conv2d %x, %w, %b, %zp, %zp {acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>, lowbit.weight_encoding = #lowbit.stlq<bits = 3, scale = 0.30000001192092896, tile = [16, 16], mask = MASK1>, other = #lowbit.stlq<bits = 4, scale = 2.0, tile = [1, 2], mask = dense<"0xMASK2"> : tensor<3x2x3x4xi1>>} : (tensor<1x2x3x7xf32>, tensor<5x2x3x7xf32>, tensor<5xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x1x1x5xf32>
  return %c : tensor<1x1x1x5xf32>
}
'''
        text = text.replace("WHEX", f32_hex(w)).replace("MASK1", dec).replace(
            "MASK2", np.packbits(mask2.ravel().astype(np.uint8), bitorder="little").tobytes().hex())
        for flag in ("--mlir-print-elementsattrs-with-hex-if-larger=-1",
                     "--mlir-print-elementsattrs-with-hex-if-larger=0",
                     "--mlir-print-op-generic"):
            out = self.run_opt(text, flag)
            m = mt.Module(out)
            op = m.ops_named("tosa.conv2d")[0]
            got = m.constant(op.func, op.operands[1])[1]
            self.assertTrue(np.array_equal(got.view(np.uint32), w.view(np.uint32)), flag)
            enc = m.encoding(op)
            self.assertEqual(enc["scale"], float(F32(0.3)), flag)
            self.assertTrue(np.array_equal(enc["mask"], mask), flag)
            other = mt.parse_stlq_attr(op.attr("other"))
            self.assertTrue(np.array_equal(other["mask"], mask2), flag)
            if "hex-if-larger=0" in flag:
                self.assertIn('dense<"0x', op.attr("lowbit.weight_encoding"))


if __name__ == "__main__":
    unittest.main()
