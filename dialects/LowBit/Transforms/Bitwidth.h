//===- Bitwidth.h - Per-layer bit-width attributes --------------*- C++ -*-===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// The attributes per-layer bit-widths travel in, on the layers (tosa.conv2d,
// tosa.depthwise_conv2d, tosa.matmul) of a calibrated float graph:
//
//   lowbit.sqnr_table   {w4 = 31.2 : f64, log3 = 24.0 : f64, a8 = 45.1, ...}
//                       the SQNR (dB) of the network's output when only this
//                       candidate's quantization of this layer adds noise
//                       (lowbitc --bitwidth=auto measures it);
//   lowbit.weight_bits, lowbit.weight_scheme, lowbit.activation_bits
//                       the layer's choice (lowbit-assign-bitwidth writes
//                       them, lowbit-insert-qdq honours them over its
//                       options; 0 bits leaves the weights or the inputs
//                       float);
//   lowbit.layer_sqnr, lowbit.weight_bytes
//                       the chosen candidates' predicted SQNR and the
//                       weights' bytes;
//
// and on the function: lowbit.fixed_sqnr (dB, the output SQNR with every
// layer float: the noise of the quantized activations no layer reads and of
// the outputs), lowbit.predicted_sqnr and lowbit.measured_sqnr; and
// lowbit.float_results, a unit attribute by which the measurements keep the
// function's results float (lowbit-insert-qdq does not quantize them), so
// that a layer's noise is not lost under the outputs' quantization noise.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_DIALECT_LOWBIT_TRANSFORMS_BITWIDTH_H
#define LOWBIT_DIALECT_LOWBIT_TRANSFORMS_BITWIDTH_H

#include "mlir/IR/Operation.h"
#include "llvm/ADT/StringRef.h"

#include <optional>
#include <string>

namespace mlir::lowbit {

inline constexpr llvm::StringLiteral kSqnrTableAttr = "lowbit.sqnr_table";
inline constexpr llvm::StringLiteral kWeightBitsAttr = "lowbit.weight_bits";
inline constexpr llvm::StringLiteral kWeightSchemeAttr =
    "lowbit.weight_scheme";
inline constexpr llvm::StringLiteral kActivationBitsAttr =
    "lowbit.activation_bits";
inline constexpr llvm::StringLiteral kLayerSqnrAttr = "lowbit.layer_sqnr";
inline constexpr llvm::StringLiteral kWeightBytesAttr = "lowbit.weight_bytes";
inline constexpr llvm::StringLiteral kFixedSqnrAttr = "lowbit.fixed_sqnr";
inline constexpr llvm::StringLiteral kPredictedSqnrAttr =
    "lowbit.predicted_sqnr";
inline constexpr llvm::StringLiteral kMeasuredSqnrAttr =
    "lowbit.measured_sqnr";
inline constexpr llvm::StringLiteral kFloatResultsAttr =
    "lowbit.float_results";

/// One candidate quantization of a layer: its weights (uniform `w<bits>` or
/// one power-of-two log word `log<bits>`) or its input activations
/// (`a<bits>`).
struct BitwidthCandidate {
  enum Kind { Weights, LogWeights, Activations } kind;
  unsigned bits;

  bool isWeights() const { return kind != Activations; }
  std::string name() const {
    return (kind == Weights ? "w" : kind == LogWeights ? "log" : "a") +
           std::to_string(bits);
  }
  /// Parses a table key; none for anything else or bits outside the range
  /// lowbit quantizes to (weights 2-8, log words 2-5, activations 2-16).
  static std::optional<BitwidthCandidate> parse(llvm::StringRef key) {
    Kind kind;
    if (key.consume_front("log"))
      kind = LogWeights;
    else if (key.consume_front("w"))
      kind = Weights;
    else if (key.consume_front("a"))
      kind = Activations;
    else
      return std::nullopt;
    unsigned bits = 0;
    if (key.getAsInteger(10, bits))
      return std::nullopt;
    unsigned hi = kind == Weights ? 8 : kind == LogWeights ? 5 : 16;
    if (bits < 2 || bits > hi)
      return std::nullopt;
    return BitwidthCandidate{kind, bits};
  }
};

/// Whether `op` is a layer bit-widths are assigned to (tosa.conv2d,
/// tosa.depthwise_conv2d, tosa.matmul).
bool isBitwidthLayer(Operation *op);

/// A dB figure in messages: "12.34", or "inf".
std::string formatDb(double db);

} // namespace mlir::lowbit

#endif // LOWBIT_DIALECT_LOWBIT_TRANSFORMS_BITWIDTH_H
