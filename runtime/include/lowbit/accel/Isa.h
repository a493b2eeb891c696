//===- Isa.h - The accelerator target: description, ISA, binary format -*- C++ -*-===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// One definition of the tile accelerator that `--target=accel` compiles for
// and `accel-sim` executes: its description (array shape, weight modes,
// buffer sizes, DMA rate), its instructions (fields, encoding, what each one
// computes and costs), the versioned binary and the assembly text. The
// compiler (the `accel` dialect's verifiers, lowbit-translate), the
// simulator and its fuzz target all include this header; none of them
// re-states a rule written here.
//
// The machine (in the spirit of TVM's VTA and of DianNao): three modules
// that run concurrently, LOAD (DRAM -> input/weight buffer), COMPUTE (MAC,
// REQUANT, POOL, SYNC) and STORE (output buffer -> DRAM), each executing its
// own instructions in program order. Four token queues order them: L2C
// (load push_next -> compute pop_prev), C2L (compute push_prev -> load
// pop_next), C2S (compute push_next -> store pop_prev) and S2C (store
// push_prev -> compute pop_next). An instruction that pops waits until a
// token is there; its tokens are pushed when it finishes. Queues have no
// depth limit; a program that ends with a token left in a queue, or that
// waits on a queue no instruction will fill, is an error.
//
// DRAM is one byte array: the binary's data segment (weights, biases,
// requant parameters) at address 0, then activations. Activations are
// signed 8-bit, NHWC, row-major. On-chip buffers are byte arrays; 32-bit
// values in them (biases, accumulators, requant parameters) are
// little-endian and need no alignment.
//
// Instructions (every field is an unsigned little-endian integer of the
// listed width unless marked signed; counts are >= 1):
//
//   load   buf(1: 0 input, 1 weight) dram(4) sram(4) rows(2) cols(2)
//          elem(4) stride(4) pad_top(1) pad_bottom(1) pad_left(1)
//          pad_right(1) pad_value(1, signed)
//     The buffer receives (pad_top + rows + pad_bottom) rows of
//     (pad_left + cols + pad_right) * elem bytes, contiguous from sram; row r
//     of the source is the cols * elem bytes at dram + r * stride; the
//     padding bytes are pad_value. Cost: dma_latency +
//     ceil(rows * cols * elem / dma_bytes_per_cycle).
//   store  dram(4) sram(4) rows(2) cols(2) elem(4) stride(4)
//     The rows * cols * elem bytes at sram in the output buffer go to DRAM,
//     row r (cols * elem bytes) at dram + r * stride, in row order (where
//     rows overlap, the later row wins). Cost as load.
//   mac    mode(1) init(1) depthwise(1) inp(4) wgt(4) bias(4) acc(4)
//          out_h(2) out_w(2) in_w(2) in_c(2) in_c_off(2) cin(2) cout(2)
//          kh(1) kw(1) sh(1) sw(1) dh(1) dw(1) wgt2(4) words(4)
//     A convolution tile on the Tn x Tm array. Input pixel (y, x) channel c
//     is the byte inp + ((y * in_w + x) * in_c + c) of the input buffer;
//     output (oy, ox, co) is the int32 at acc + 4 * ((oy * out_w + ox) *
//     cout + co) of the output buffer. Each output starts at the int32 bias
//     co at bias (weight buffer) when init is 1, else at its current value,
//     and adds, modulo 2^32,
//       sum_{ky < kh, kx < kw, ci < cin} in(oy sh + ky dh, ox sw + kx dw,
//           in_c_off + ci) * w[((co kh + ky) kw + kx) cin + ci]
//     with the weight bytes w at wgt (OHWI order); a depthwise tile has
//     cin = cout, reads channel in_c_off + co only and its weights are
//     w[(co kh + ky) kw + kx]. The weight modes (mode):
//       0 multiply: w is a signed int-N weight, the product x * w;
//       1 shift1 (one-word log, #lowbit.log): w is a shift term (ShiftKernels.h
//         shiftTerm): 0, or +-(1 + s) for the product +-(x << s), s <= 30;
//       2 shift2 (STLQ, #lowbit.stlq): as shift1, plus a second term for
//         every weight of a two-word tile: the weights of two-word tiles, in
//         the same order, have their second terms one after the other from
//         wgt2. Tiles are Tn input x Tm output channels at one kernel
//         position, row-major over [ceil(cout / Tm), kh, kw, ceil(cin' /
//         Tn)] (cin' = 1 for depthwise); bit i of the bytes at words (LSB
//         first) is set when tile i has two words.
//     wgt2 and words are 0 in the other modes. A term with |t| > 31, or a
//     second plane that leaves the weight buffer, is an execution error. Cost: out_h out_w cycles per
//     step of the array over all its tiles, a step taking one cycle per word
//     (the tile's PEs work in lock-step, stlq paper section 4.4): out_h out_w
//     kh kw ceil(cin / Tn) ceil(cout / Tm) for one word; a depthwise step
//     covers min(Tn, Tm) channels (the array's diagonal).
//   requant src_kind(1: 0 int32 accumulators in the output buffer, 1 int8
//          in the input buffer) src(4) dst(4) pixels(4) channels(2)
//          params(4) per_channel(1) dual(1) round(1) in_zp(4, signed)
//          out_zp(4, signed) qmin(1, signed) qmax(1, signed)
//     For pixel p and channel c: v = src[p * channels + c] (minus in_zp for
//     int8 sources); the int8 result at dst + p * channels + c of the output
//     buffer is lowbit::rt::requantize (or requantizeDual when dual is 1,
//     for v < 0) with the parameters of channel c (entry 0 when per_channel
//     is 0): four int32 at params + 16 * entry of the weight buffer,
//     multiplier, shift, negative multiplier, negative shift. round is
//     lowbit::rt::RoundingMode. Parameters outside Requant.h's ranges are an
//     execution error (a negative multiplier is allowed on the negative
//     side only; the negative side is checked only when dual is 1).
//     Elements are processed in ascending order, so dst may overlap src
//     from below. Cost: ceil(pixels * channels / Tm).
//   pool   kind(1: 0 max, 1 average) src(4) dst(4) in_w(2) c(2) out_h(2)
//          out_w(2) kh(2) kw(2) sh(2) sw(2) zp(4, signed) qmin(1, signed)
//          qmax(1, signed)
//     out[(oy out_w + ox) c + ch] (output buffer, int8) is the maximum (not
//     clamped, as Kernels.h's maxPool2d), or
//     saturate(zp + divideRoundHalfEven(sum (x - zp), kh kw), qmin, qmax),
//     over the input-buffer bytes x = in[((oy sh + ky) in_w + ox sw + kx) c
//     + ch]. Cost: ceil(out_h out_w c / Tm) kh kw.
//   add    src_a(4) src_b(4) dst(4) count(4) params(4) input_shift(1)
//          round(1) a_zp(4, signed) b_zp(4, signed) out_zp(4, signed)
//          qmin(1, signed) qmax(1, signed)
//     lowbit.add: the int8 result at dst + i of the output buffer is
//     lowbit::rt::addElement(a[src_a + i], b[src_b + i], ...) of two
//     input-buffer bytes, for i < count, with six int32 at params of the
//     weight buffer: the multiplier and shift of a, of b and of the output.
//     input_shift is at most 23 and the zero points are int8 values (so
//     (x - zp) << input_shift fits 32 bits, lowbit.add's bound); parameters
//     outside Requant.h's ranges are an execution error. Cost:
//     ceil(count / Tm).
//   copy   src(4) dst(4) bytes(4)
//     Copies input-buffer bytes to the output buffer (with a strided store,
//     a transpose). Cost: ceil(bytes / Tm).
//   sync   (no fields) a compute no-op that only pops and pushes tokens
//     (a layer's first loads wait on the previous layer's stores through
//     it). Cost: 1.
//
// Every instruction is kInstrBytes long: byte 0 the opcode, byte 1 the
// tokens (bit 0 pop_prev, 1 pop_next, 2 push_prev, 3 push_next), then the
// fields in the order above, then zero bytes.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_ACCEL_ISA_H
#define LOWBIT_ACCEL_ISA_H

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace lowbit {
namespace accel {

constexpr uint32_t kVersion = 1;
constexpr size_t kInstrBytes = 64;
constexpr size_t kHeaderBytes = 80;
/// Limits a binary (and a target description) must respect, so that a
/// malformed file cannot make the simulator allocate without bound.
constexpr uint64_t kMaxDramBytes = uint64_t(1) << 30;
constexpr uint64_t kMaxBufferBytes = uint64_t(64) << 20;
constexpr uint32_t kMaxArraySide = 1024;

//===----------------------------------------------------------------------===//
// Target description
//===----------------------------------------------------------------------===//

/// Weight modes of the MAC array (bit i of Target::modes is mode i).
enum class MacMode : uint8_t { Multiply = 0, Shift1 = 1, Shift2 = 2 };
constexpr unsigned kNumModes = 3;
const char *modeName(unsigned mode);

struct Target {
  std::string name = "accel";
  uint32_t tn = 16; ///< input channels per array step
  uint32_t tm = 16; ///< output channels per array step
  uint32_t modes = (1u << unsigned(MacMode::Multiply)) |
                   (1u << unsigned(MacMode::Shift1)) |
                   (1u << unsigned(MacMode::Shift2));
  uint32_t activationBits = 8;
  uint32_t accumulatorBits = 32;
  uint32_t weightBits = 8; ///< widest multiply-mode weight
  uint64_t inputBuffer = 64 * 1024;
  uint64_t weightBuffer = 64 * 1024;
  uint64_t outputBuffer = 64 * 1024;
  uint32_t dmaBytesPerCycle = 8;
  uint32_t dmaLatency = 32;
  bool dualRequant = true; ///< the requant unit has the second multiplier set

  bool supports(MacMode m) const { return modes >> unsigned(m) & 1u; }
};

/// Checks a description against the limits this ISA can express; returns ""
/// or the reason.
std::string checkTarget(const Target &t);

/// Sets one `key = value` of the description (the file's and the command
/// line's syntax). Keys: name, tn, tm, modes (separated by commas or `+`:
/// multiply, shift1, shift2), activation_bits, accumulator_bits, weight_bits,
/// input_buffer, weight_buffer, output_buffer (bytes; K/M suffixes),
/// dma_bytes_per_cycle, dma_latency, dual_requant (0/1/true/false).
/// Returns "" or the reason.
std::string setTargetField(Target &t, const std::string &key,
                           const std::string &value);

/// Parses a target description file's text: one `key = value` per line,
/// `#` comments. Errors name the line. Returns "" or the reason.
std::string parseTarget(const std::string &text, Target &t);

/// The description as the file format parseTarget reads.
std::string printTarget(const Target &t);

//===----------------------------------------------------------------------===//
// Instructions
//===----------------------------------------------------------------------===//

enum class Opcode : uint8_t {
  Load = 1,
  Store = 2,
  Mac = 3,
  Requant = 4,
  Pool = 5,
  Sync = 6,
  Add = 7,
  Copy = 8,
};

enum class Module : uint8_t { Load = 0, Compute = 1, Store = 2 };

enum Dep : uint8_t {
  PopPrev = 1,
  PopNext = 2,
  PushPrev = 4,
  PushNext = 8,
};

struct FieldSpec {
  const char *name;
  uint8_t bytes;
  bool isSigned;
};

struct OpSpec {
  Opcode opcode;
  const char *mnemonic;
  Module module;
  const FieldSpec *fields;
  unsigned numFields;
};

constexpr unsigned kMaxFields = 24;

/// The spec of an opcode, or nullptr for an unknown one.
const OpSpec *opSpec(Opcode op);
/// The spec with this mnemonic, or nullptr.
const OpSpec *opSpec(const std::string &mnemonic);
/// Index of field `name` in `spec`, or -1.
int fieldIndex(const OpSpec &spec, const char *name);

/// One instruction: its opcode, tokens and field values (in OpSpec order).
struct Instr {
  Opcode opcode = Opcode::Sync;
  uint8_t deps = 0;
  int64_t f[kMaxFields] = {};

  /// The value of field `name` (which must exist for the opcode).
  int64_t get(const char *name) const;
  void set(const char *name, int64_t value);
};

/// Checks one instruction against the target: known opcode, field values
/// within their widths, the tokens its module can use, every buffer region
/// it touches inside the buffer, dimensions consistent, the mode supported
/// (and implemented). `dramBytes` bounds load/store addresses. Returns "" or
/// the reason.
std::string checkInstr(const Target &t, const Instr &in, uint64_t dramBytes);

/// Upper bound of the elementary operations one instruction performs (for
/// callers that must bound execution time, such as the fuzz target).
uint64_t instrWork(const Instr &in);

/// Number of tiles a mac steps over, ceil(cout / Tm) kh kw ceil(cin' / Tn),
/// and the bytes of its shift2 word mask, ceil(tiles / 8).
uint64_t macTiles(const Target &t, const Instr &in);
inline uint64_t macMaskBytes(const Target &t, const Instr &in) {
  return (macTiles(t, in) + 7) / 8;
}
/// Whether tile `tile` of a shift2 mac has two words (mask = its word mask).
inline bool macTwoWords(const uint8_t *mask, uint64_t tile) {
  return (mask[tile / 8] >> (tile % 8) & 1u) != 0;
}

/// Cycles the instruction occupies its module (the cost rules above). A
/// shift2 mac needs its word mask (macMaskBytes bytes); `twoWordCycles`, if
/// given, receives the part of the cycles spent on two-word tiles.
uint64_t instrCycles(const Target &t, const Instr &in,
                     const uint8_t *wordMask = nullptr,
                     uint64_t *twoWordCycles = nullptr);

//===----------------------------------------------------------------------===//
// Programs, the binary and the assembly
//===----------------------------------------------------------------------===//

/// A graph input or output: an int8 NHWC tensor in DRAM.
struct TensorDesc {
  std::string name;
  bool isOutput = false;
  std::vector<int64_t> shape;
  uint64_t addr = 0;
  double scale = 1.0;
  int32_t zeroPoint = 0;
  uint64_t bytes() const;
};

struct Program {
  Target target;
  uint64_t dramBytes = 0;
  std::vector<TensorDesc> tensors;
  std::vector<uint8_t> data; ///< DRAM [0, data.size()) at start
  std::vector<Instr> instrs;
};

/// Checks a whole program: the target, the DRAM size against the limits and
/// the data, every tensor inside DRAM, at least one output tensor, every
/// instruction. Returns "" or the
/// reason (naming the instruction's index).
std::string checkProgram(const Program &p);

/// The versioned binary: header (magic "LBACCEL\0", version, target, DRAM
/// size, counts), tensor table, data segment, instructions.
std::vector<uint8_t> encodeBinary(const Program &p);
/// Decodes and checks a binary. Returns "" or the reason (with the byte
/// offset where the file went wrong).
std::string decodeBinary(const uint8_t *bytes, size_t size, Program &p);

/// The assembly text (a disassembly of the program); parseAssembly reads it
/// back to the same program, so binary -> assembly -> binary is the identity.
std::string printAssembly(const Program &p);
/// Assembles text; errors name the line. Returns "" or the reason.
std::string parseAssembly(const std::string &text, Program &p);

/// One instruction's assembly line (without a newline).
std::string printInstr(const Instr &in);

} // namespace accel
} // namespace lowbit

#endif // LOWBIT_ACCEL_ISA_H
