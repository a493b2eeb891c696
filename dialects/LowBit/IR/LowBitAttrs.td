//===- LowBitAttrs.td - lowbit attributes and enums --------*- tablegen -*-===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_DIALECT_LOWBIT_IR_LOWBITATTRS_TD
#define LOWBIT_DIALECT_LOWBIT_IR_LOWBITATTRS_TD

include "LowBit/IR/LowBitDialect.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"
include "mlir/IR/BuiltinAttributeInterfaces.td"

//===----------------------------------------------------------------------===//
// Enums
//===----------------------------------------------------------------------===//

def LowBit_RoundingMode : I32EnumAttr<"RoundingMode",
    "rounding applied when an accumulator is scaled down", [
      I32EnumAttrCase<"single_round", 0>,
      I32EnumAttrCase<"double_round", 1>
    ]> {
  let cppNamespace = "::mlir::lowbit";
  let genSpecializedAttr = 0;
}

def LowBit_RoundingModeAttr
    : EnumAttr<LowBit_Dialect, LowBit_RoundingMode, "rounding"> {
  let assemblyFormat = "`<` $value `>`";
}

//===----------------------------------------------------------------------===//
// Attribute parameters
//===----------------------------------------------------------------------===//

// A real scale held as an IEEE double, printed so that it round-trips.
def LowBit_F64Parameter : APFloatParameter<"a real scale"> {
  let parser = [{ [&]() -> ::mlir::FailureOr<::llvm::APFloat> {
    double value;
    if ($_parser.parseFloat(value))
      return ::mlir::failure();
    return ::llvm::APFloat(value);
  }() }];
  let printer = [{ $_printer.printFloat($_self) }];
}

// One real scale per channel, `[u0, u1, ...]`, each printed so that it
// round-trips; optional (empty when absent), never written empty.
def LowBit_F64ArrayParameter
    : OptionalArrayRefParameter<"::llvm::APFloat", "real scales"> {
  let parser = [{ [&]() -> ::mlir::FailureOr<::llvm::SmallVector<::llvm::APFloat>> {
    ::llvm::SmallVector<::llvm::APFloat> values;
    ::llvm::SMLoc loc = $_parser.getCurrentLocation();
    if ($_parser.parseCommaSeparatedList(
            ::mlir::AsmParser::Delimiter::Square, [&]() {
              double v;
              if ($_parser.parseFloat(v))
                return ::mlir::failure();
              values.push_back(::llvm::APFloat(v));
              return ::mlir::success();
            }))
      return ::mlir::failure();
    if (values.empty())
      return $_parser.emitError(loc, "expected at least one scale"),
             ::mlir::failure();
    return values;
  }() }];
  let printer = [{
    $_printer << '[';
    ::llvm::interleaveComma($_self, $_printer, [&](const ::llvm::APFloat &v) {
      $_printer.printFloat(v);
    });
    $_printer << ']';
  }];
  let comparator = [{ ::llvm::equal($_lhs, $_rhs,
      [](const ::llvm::APFloat &a, const ::llvm::APFloat &b) {
        return a.bitwiseIsEqual(b);
      }) }];
}

//===----------------------------------------------------------------------===//
// Weight encodings
//===----------------------------------------------------------------------===//

class LowBit_Attr<string name, string attrMnemonic, list<Trait> traits = []>
    : AttrDef<LowBit_Dialect, name, traits> {
  let mnemonic = attrMnemonic;
}

def LowBit_LogAttr : LowBit_Attr<"Log", "log"> {
  let summary = "power-of-two (logarithmic) weight encoding";
  let description = [{
    One signed word of `bits` bits per weight, read as in
    stlq-two-word-log-quantization eq. 1: a code `q` in `[-M, M-1]` with
    `M = 2^(bits-1)` stands for `0` when `q = 0` and for
    `sign(q) * 2^-|q| * U` otherwise.  Multiplying by such a weight is a
    shift, which is what log-to-shift lowering exploits.

    `U` is `scale` for every weight (one scale per layer, as in the paper),
    or, when `channel_scales` is given, `channel_scales[c]` for the weights
    of output channel `c` (per-channel log scales: each channel's grid of
    octaves sits where its weights are).  `c` runs along the consuming op's
    output-channel dimension: dimension 0 of `lowbit.conv2d` (OHWI) and
    `lowbit.fully_connected` (OI) weights, and of TOSA `conv2d` (OHWI),
    dimension 2 of TOSA `depthwise_conv2d` ([KH, KW, C, 1]) and of TOSA
    `matmul` ([1, K, N]) weights.  `scale` is then the largest of them, so
    that `scale / 2` bounds every weight's magnitude either way.

    The attribute is attached to the op that consumes the weights
    (`weight_encoding`), whose weight operand then holds the codes as a
    signless integer tensor of width `bits`.

    ```mlir
    #lowbit.log<bits = 4, scale = 5.000000e-01>
    #lowbit.log<bits = 4, scale = 5.000000e-01,
                channel_scales = [5.000000e-01, 2.500000e-01]>
    ```
  }];
  let parameters = (ins "unsigned":$bits, LowBit_F64Parameter:$scale,
                        LowBit_F64ArrayParameter:$channelScales);
  let assemblyFormat = [{
    `<` `bits` `=` $bits `,` `scale` `=` $scale
    (`,` `channel_scales` `=` $channelScales^)? `>`
  }];
  let builders = [
    AttrBuilder<(ins "unsigned":$bits, "::llvm::APFloat":$scale,
                     "::llvm::ArrayRef<double>":$channelScales), [{
      ::llvm::SmallVector<::llvm::APFloat> scales;
      for (double u : channelScales)
        scales.push_back(::llvm::APFloat(u));
      return $_get($_ctxt, bits, scale, scales);
    }]>,
    AttrBuilder<(ins "unsigned":$bits, "::llvm::APFloat":$scale), [{
      return $_get($_ctxt, bits, scale, ::llvm::ArrayRef<::llvm::APFloat>());
    }]>
  ];
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// The layer scale (the largest U) as a double.
    double getScaleValue() const { return ::mlir::lowbit::toDouble(getScale()); }
    /// True when every output channel has its own U.
    bool isPerChannel() const { return !getChannelScales().empty(); }
    /// Number of distinct scales: 1, or the number of output channels.
    int64_t getNumScales() const {
      return isPerChannel() ? getChannelScales().size() : 1;
    }
    /// U of output channel `c` (the layer scale when there is one).
    double getScaleValue(int64_t c) const {
      return isPerChannel() ? ::mlir::lowbit::toDouble(getChannelScales()[c])
                            : getScaleValue();
    }
  }];
}

def LowBit_STLQAttr : LowBit_Attr<"STLQ", "stlq"> {
  let summary = "selective two-word log weight encoding, chosen per tile";
  let description = [{
    Selective two-word logarithmic quantization (STLQ,
    stlq-two-word-log-quantization eq. 3-4): every weight is one log word
    (`#lowbit.log` rule, same `bits` and `scale`), and the weights of some
    tiles carry a second log word that encodes the residual of the first.
    All weights of a tile use the same number of words.

    `tile = [Tn, Tm]` is the tile shape over input channels (`Tn`) and
    output channels (`Tm`), 16×16 in the paper. `mask` holds one `i1` per
    tile, `true` meaning two words; its shape is the weight shape with the
    output-channel dimension divided by `Tm` and the input-channel dimension
    divided by `Tn`, rounded up: `[ceil(O/Tm), KH, KW, ceil(I/Tn)]` for OHWI
    convolution weights, `[ceil(O/Tm), ceil(I/Tn)]` for OI matrices.

    `U` is `scale` for every weight, or `channel_scales[c]` for the weights
    of output channel `c` when given, with `scale` their largest, exactly as
    in `#lowbit.log` (the paper keeps one U per layer; per-channel scales
    are lowbit's extension, and a tile may span channels of different U:
    only its number of words is shared).

    On TOSA ops (the float graph, where the weights are the decoded values)
    the mask is laid out over the weights as the integer op will see them:
    output channel `o` and input channel `i` of TOSA `conv2d` OHWI weights,
    `o = c * M + m` and `i = 0` of TOSA `depthwise_conv2d` `[KH, KW, C, M]`
    weights (one input channel per group), and `o = n`, `i = k` of TOSA
    `matmul` `[1, K, N]` weights.

    The consuming integer op's weight operand has a leading dimension of 2:
    `[0, ...]` holds the first words, `[1, ...]` the second words (code 0,
    i.e. no contribution, in one-word tiles). The integer a weight stands
    for is `sign(q1) 2^(M-|q1|) + sign(q2) 2^(M-|q2|)` in units of
    `U 2^-M` (`lowbit/runtime/LogQuant.h`, `logCodeInteger`).

    ```mlir
    #lowbit.stlq<bits = 3, scale = 1.000000e+00, tile = [16, 16],
                 mask = dense<[[true, false]]> : tensor<1x2xi1>>
    ```
  }];
  let parameters = (ins "unsigned":$bits, LowBit_F64Parameter:$scale,
                        ArrayRefParameter<"int64_t">:$tile,
                        "::mlir::DenseElementsAttr":$mask,
                        LowBit_F64ArrayParameter:$channelScales);
  let assemblyFormat = [{
    `<` `bits` `=` $bits `,` `scale` `=` $scale `,` `tile` `=` `[` $tile `]`
    `,` `mask` `=` $mask (`,` `channel_scales` `=` $channelScales^)? `>`
  }];
  let builders = [
    AttrBuilder<(ins "unsigned":$bits, "::llvm::APFloat":$scale,
                     "::llvm::ArrayRef<int64_t>":$tile,
                     "::mlir::DenseElementsAttr":$mask,
                     "::llvm::ArrayRef<double>":$channelScales), [{
      ::llvm::SmallVector<::llvm::APFloat> scales;
      for (double u : channelScales)
        scales.push_back(::llvm::APFloat(u));
      return $_get($_ctxt, bits, scale, tile, mask, scales);
    }]>
  ];
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// Tn: tile extent along input channels.
    int64_t getInputTile() const { return getTile()[0]; }
    /// Tm: tile extent along output channels.
    int64_t getOutputTile() const { return getTile()[1]; }
    /// The layer scale (the largest U) as a double.
    double getScaleValue() const { return ::mlir::lowbit::toDouble(getScale()); }
    /// True when every output channel has its own U.
    bool isPerChannel() const { return !getChannelScales().empty(); }
    /// Number of distinct scales: 1, or the number of output channels.
    int64_t getNumScales() const {
      return isPerChannel() ? getChannelScales().size() : 1;
    }
    /// U of output channel `c` (the layer scale when there is one).
    double getScaleValue(int64_t c) const {
      return isPerChannel() ? ::mlir::lowbit::toDouble(getChannelScales()[c])
                            : getScaleValue();
    }
    /// Number of tiles that use two words.
    int64_t getNumTwoWordTiles() const;
  }];
}

def LowBit_WeightEncodingAttr : AnyAttrOf<[LowBit_LogAttr, LowBit_STLQAttr]>;

#endif // LOWBIT_DIALECT_LOWBIT_IR_LOWBITATTRS_TD
