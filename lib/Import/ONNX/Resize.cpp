//===- Resize.cpp - Resize and Upsample ------------------------------------===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// ONNX Resize (opsets 10-19) and Upsample (7-9) of the two spatial axes of
// an NCHW tensor become a tosa.resize on NHWC, whose geometry is rational:
// output index o reads input coordinate (o * d + offset) / n. Every
// coordinate mode exporters write is exact in that form:
//
//   asymmetric          o / s                 n = N,      d = D
//   half_pixel          (o + 1/2) / s - 1/2   n = 2N,     d = 2D, off = D - N
//   pytorch_half_pixel  the same (0 when the output has one pixel)
//   align_corners       o (in - 1) / (out - 1)
//
// with the scale s = N / D (out / in when sizes are given or the scale is
// exactly out / in, else the scale's own value when it is an integer).
// Nearest neighbour rounds half up in TOSA; ONNX's nearest modes (floor,
// ceil, round_prefer_floor, round_prefer_ceil) are the same rounding of a
// coordinate shifted by a fraction of 1/n, so the indices are exact too.
//
//===----------------------------------------------------------------------===//

#include "ImporterImpl.h"

#include "mlir/Dialect/Tosa/IR/TosaOps.h"

#include <cmath>
#include <numeric>

using namespace lowbit::onnx_import;

namespace {
/// The rational geometry of one axis.
struct Axis {
  int64_t n, d, offset;
};
} // namespace

LogicalResult Importer::importResize(bool upsample) {
  auto x = upsample
               ? attributesAndF32Input({"mode", "scales"})
               : attributesAndF32Input(
                     {"mode", "coordinate_transformation_mode", "nearest_mode",
                      "cubic_coeff_a", "exclude_outside",
                      "extrapolation_value", "antialias", "axes",
                      "keep_aspect_ratio_policy"});
  if (failed(x))
    return failure();
  ArrayRef<int64_t> in = (*x)->shape;
  if (in.size() != 4)
    return unsupported("resize of a rank-" + std::to_string(in.size()) +
                       " tensor (NCHW images only)");
  if ((*x)->constant)
    return unsupported("resize of a constant tensor");
  auto modeAttr = attrString("mode", "nearest");
  auto coordAttr = attrString("coordinate_transformation_mode",
                              opset < 11 ? "asymmetric" : "half_pixel");
  auto nearestAttr =
      attrString("nearest_mode", opset < 11 ? "floor" : "round_prefer_floor");
  auto antialias = attrInt("antialias", 0);
  auto policy = attrString("keep_aspect_ratio_policy", "stretch");
  if (failed(modeAttr) || failed(coordAttr) || failed(nearestAttr) ||
      failed(antialias) || failed(policy) ||
      failed(checkAttributeTypes(
          {{"cubic_coeff_a", onnx::AttributeProto::FLOAT},
           {"exclude_outside", onnx::AttributeProto::INT},
           {"extrapolation_value", onnx::AttributeProto::FLOAT},
           {"axes", onnx::AttributeProto::INTS},
           {"scales", onnx::AttributeProto::FLOATS}})))
    return failure();
  const std::string &mode = *modeAttr;
  if (mode != "nearest" && mode != "linear" && mode != "bilinear")
    return unsupported("resize mode '" + mode + "' (nearest and linear only)");
  bool linear = mode != "nearest";
  // Upsample has neither attribute (checkAttributes refused them).
  std::string coord = upsample ? "asymmetric" : *coordAttr;
  std::string nearestMode = upsample ? "floor" : *nearestAttr;
  if (coord != "asymmetric" && coord != "half_pixel" &&
      coord != "pytorch_half_pixel" && coord != "align_corners")
    return unsupported("coordinate_transformation_mode '" + coord + "'");
  if (!linear && nearestMode != "floor" && nearestMode != "ceil" &&
      nearestMode != "round_prefer_floor" && nearestMode != "round_prefer_ceil")
    return unsupported("nearest_mode '" + nearestMode + "'");
  if (*antialias != 0)
    return unsupported("antialias");
  if (attr("axes"))
    return unsupported("the 'axes' attribute");
  if (*policy != "stretch")
    return unsupported("keep_aspect_ratio_policy other than stretch");

  // Scales (float) or sizes (int64) for all four dimensions.
  std::vector<double> scales;
  std::vector<int64_t> sizes;
  int scalesIdx = upsample || opset < 11 ? 1 : 2;
  if (upsample && opset < 9) {
    auto s = attrFloats("scales");
    if (failed(s))
      return failure();
    if (!*s)
      return nodeError() << "missing 'scales'", failure();
    scales.assign((*s)->begin(), (*s)->end());
  } else {
    auto s = optionalConstantInput(scalesIdx, "scales");
    if (failed(s))
      return failure();
    if (*s && (*s)->numElements() > 0)
      for (int64_t i = 0; i < (*s)->numElements(); ++i)
        scales.push_back((*s)->getDouble(i));
    if (!upsample && opset >= 11) {
      auto z = optionalConstantInput(3, "sizes");
      if (failed(z))
        return failure();
      if (*z && (*z)->numElements() > 0) {
        auto ints = integersOf(*z, "sizes");
        if (failed(ints))
          return failure();
        sizes = std::move(*ints);
      }
    }
  }
  if (scales.empty() == sizes.empty())
    return nodeError() << "needs exactly one of 'scales' and 'sizes'",
           failure();
  if ((!scales.empty() && scales.size() != 4) ||
      (!sizes.empty() && sizes.size() != 4))
    return nodeError() << "scales or sizes must have 4 entries (N, C, H, W)",
           failure();
  SmallVector<int64_t> out(in);
  for (int i = 0; i < 4; ++i) {
    if (!sizes.empty()) {
      out[i] = sizes[i];
    } else {
      double s = scales[i];
      if (!(s > 0) || !std::isfinite(s) || s * in[i] > double(1 << 24))
        return nodeError() << "scale " << s << " of dimension " << i
                           << " is not a positive size factor",
               failure();
      out[i] = static_cast<int64_t>(std::floor(in[i] * s));
    }
    if (out[i] < 1)
      return nodeError() << "output dimension " << i << " would be "
                         << out[i],
             failure();
  }
  if (out[0] != in[0] || out[1] != in[1])
    return unsupported("resizing the batch or channel dimension");

  // The scale of spatial axis i as a fraction N / D.
  auto ratio = [&](int i, int64_t &num, int64_t &den) -> LogicalResult {
    num = out[i];
    den = in[i];
    if (scales.empty())
      return success();
    double s = scales[i];
    if (static_cast<double>(out[i]) == s * static_cast<double>(in[i]))
      return success();
    if (s == std::floor(s) && s <= 1024) {
      num = static_cast<int64_t>(s);
      den = 1;
      return success();
    }
    return unsupported("resize scale " + std::to_string(s) +
                       " that is neither out / in nor an integer");
  };
  Axis axes[2];
  for (int k = 0; k < 2; ++k) {
    int i = 2 + k;
    int64_t num, den;
    if (failed(ratio(i, num, den)))
      return failure();
    // Refuse steps finer than 1/2^20 before the arithmetic below doubles
    // num and den (a fuzzer's find: a huge scale overflowed int64 there).
    // The reduced ratio bounds the final step: the doublings and offsets
    // shrink it by at most 4, so no geometry accepted before is refused
    // (align_corners does not use the ratio).
    if (int64_t g = std::gcd(num, den); g > 1) {
      num /= g;
      den /= g;
    }
    if (coord != "align_corners" &&
        (num > (int64_t(1) << 20) || den > (int64_t(1) << 20)))
      return unsupported("resize geometry with steps finer than 1/2^20");
    Axis a{num, den, 0};
    if (coord == "align_corners") {
      // o (in - 1) / (out - 1); coordinate 0 when either side has one
      // pixel ({1, 1, 0} reads o, which clamps to 0 for a 1-pixel input).
      a = out[i] > 1 && in[i] > 1 ? Axis{out[i] - 1, in[i] - 1, 0}
                                  : Axis{1, 1, 0};
    } else if (coord == "pytorch_half_pixel" && out[i] == 1) {
      a = Axis{1, 1, 0}; // the one output pixel reads coordinate 0
    } else if (coord != "asymmetric") {
      a = Axis{2 * num, 2 * den, den - num};
    }
    if (!linear) {
      // Round half up of a coordinate shifted by a fraction of 1 / (2n).
      a = Axis{2 * a.n, 2 * a.d, 2 * a.offset};
      if (nearestMode == "floor")
        a.offset -= a.n / 2;
      else if (nearestMode == "ceil")
        a.offset += a.n / 2 - 1;
      else if (nearestMode == "round_prefer_floor")
        a.offset -= 1;
    }
    int64_t g = std::gcd(std::gcd(a.n, a.d), std::abs(a.offset));
    if (g > 1)
      a = Axis{a.n / g, a.d / g, a.offset / g};
    if (a.n > (1 << 20) || a.d > (1 << 20))
      return unsupported("resize geometry with steps finer than 1/2^20");
    axes[k] = a;
  }
  // TOSA's border closes the output size equation:
  // out - 1 = ((in - 1) n - offset + border) / d.
  int64_t border[2];
  for (int k = 0; k < 2; ++k)
    border[k] = (out[2 + k] - 1) * axes[k].d - (in[2 + k] - 1) * axes[k].n +
                axes[k].offset;
  Value xn = toNHWC(valueOf(**x));
  auto type = RankedTensorType::get({out[0], out[2], out[3], out[1]},
                                    b.getF32Type());
  Value y = create<tosa::ResizeOp>(
      type,
      {xn, constShape({axes[0].n, axes[0].d, axes[1].n, axes[1].d}),
       constShape({axes[0].offset, axes[1].offset}),
       constShape({border[0], border[1]})},
      {named("mode", tosa::ResizeModeAttr::get(
                         &ctx, linear ? tosa::ResizeMode::BILINEAR
                                      : tosa::ResizeMode::NEAREST_NEIGHBOR))});
  y = toNCHW(y);
  setOutput(0, y, ElemKind::F32, out);
  return success();
}
