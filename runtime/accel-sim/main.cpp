//===- main.cpp - accel-sim: run, disassemble and assemble accel binaries -===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
//   accel-sim model.bin --input x.npy [--input y.npy ...] -o out.npy
//             [--raw] [--report=text|json|none] [--report-file=F]
//   accel-sim --disasm model.bin [-o model.s]
//   accel-sim --assemble model.s -o model.bin
//
// Inputs are float32 .npy (quantized with the input's scale and zero point
// by rt::quantizeTensor) or int8 .npy (stored values as they are). An input
// may hold N samples: its element count is N times the tensor's, and every
// input must give the same N; the samples run one after the other and the
// outputs are stacked along their leading dimension. Outputs are float32
// (rt::dequantizeTensor) or, with --raw, int8 stored values; a model with
// several outputs writes <name>.npy for each into the folder -o names.
// Every error is `accel-sim: error: <file>: <reason>` and exit status 1.
//
//===----------------------------------------------------------------------===//

#include "lowbit/accel/Sim.h"

#include "lowbit/accel/Isa.h"
#include "lowbit/runtime/Ops.h"

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <sys/stat.h>
#include <vector>

using namespace lowbit;
using namespace lowbit::accel;

namespace {

/// Reports `accel-sim: error: <where>: <why>` and yields the exit status.
int fail(const std::string &where, const std::string &why) {
  std::fprintf(stderr, "accel-sim: error: %s: %s\n", where.c_str(),
               why.c_str());
  return 1;
}

//===----------------------------------------------------------------------===//
// Files
//===----------------------------------------------------------------------===//

bool readFile(const std::string &path, std::vector<uint8_t> &bytes,
              std::string &err) {
  FILE *f = std::fopen(path.c_str(), "rb");
  if (!f)
    return err = std::string("cannot open: ") + std::strerror(errno), false;
  bytes.clear();
  uint8_t chunk[1 << 16];
  size_t got;
  // Read in chunks: the size is what the file really has, whatever it is
  // (a pipe or a growing file included).
  while ((got = std::fread(chunk, 1, sizeof(chunk), f)) > 0)
    bytes.insert(bytes.end(), chunk, chunk + got);
  const bool bad = std::ferror(f);
  std::fclose(f);
  if (bad)
    return err = "read error", false;
  return true;
}

bool writeFile(const std::string &path, const void *data, size_t size,
               std::string &err) {
  FILE *f = std::fopen(path.c_str(), "wb");
  if (!f)
    return err = std::string("cannot create: ") + std::strerror(errno), false;
  const bool ok = (size == 0 || std::fwrite(data, 1, size, f) == size);
  if (std::fclose(f) != 0 || !ok)
    return err = "write error", false;
  return true;
}

//===----------------------------------------------------------------------===//
// .npy
//===----------------------------------------------------------------------===//

enum class DType { F32, I8 };

struct Array {
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  std::vector<uint8_t> data; ///< little-endian elements, C order
  uint64_t count() const { return data.size() / (dtype == DType::F32 ? 4 : 1); }
};

/// Parses the header dictionary of an .npy file: {'descr': ...,
/// 'fortran_order': ..., 'shape': (...)} in any key order.
class HeaderParser {
public:
  explicit HeaderParser(const std::string &text) : s(text) {}

  std::string parse(std::string &descr, bool &fortran,
                    std::vector<int64_t> &shape) {
    bool haveDescr = false, haveOrder = false, haveShape = false;
    skip();
    if (!eat('{'))
      return "the header is not a dictionary";
    for (;;) {
      skip();
      if (eat('}'))
        break;
      std::string key;
      if (!quoted(key))
        return "expected a quoted key in the header";
      skip();
      if (!eat(':'))
        return "expected ':' after '" + key + "'";
      skip();
      if (key == "descr") {
        if (!quoted(descr))
          return "'descr' is not a string";
        haveDescr = true;
      } else if (key == "fortran_order") {
        if (word("True"))
          fortran = true;
        else if (word("False"))
          fortran = false;
        else
          return "'fortran_order' is not True or False";
        haveOrder = true;
      } else if (key == "shape") {
        std::string err = tuple(shape);
        if (!err.empty())
          return err;
        haveShape = true;
      } else {
        return "unknown header key '" + key + "'";
      }
      skip();
      if (eat(','))
        continue;
      skip();
      if (eat('}'))
        break;
      return "expected ',' or '}' in the header";
    }
    skip();
    if (pos != s.size())
      return "unexpected text after the header dictionary";
    if (!haveDescr || !haveOrder || !haveShape)
      return "the header lacks 'descr', 'fortran_order' or 'shape'";
    return "";
  }

private:
  void skip() {
    while (pos < s.size() && (s[pos] == ' ' || s[pos] == '\t' ||
                              s[pos] == '\n' || s[pos] == '\r'))
      ++pos;
  }
  bool eat(char c) {
    if (pos < s.size() && s[pos] == c)
      return ++pos, true;
    return false;
  }
  bool word(const char *w) {
    const size_t n = std::strlen(w);
    if (s.compare(pos, n, w) != 0)
      return false;
    pos += n;
    return true;
  }
  bool quoted(std::string &out) {
    if (pos >= s.size() || (s[pos] != '\'' && s[pos] != '"'))
      return false;
    const char q = s[pos++];
    const size_t end = s.find(q, pos);
    if (end == std::string::npos)
      return false;
    out = s.substr(pos, end - pos);
    pos = end + 1;
    return true;
  }
  std::string tuple(std::vector<int64_t> &shape) {
    shape.clear();
    if (!eat('('))
      return "'shape' is not a tuple";
    for (;;) {
      skip();
      if (eat(')'))
        return "";
      if (pos >= s.size() || s[pos] < '0' || s[pos] > '9')
        return "'shape' holds something other than integers";
      uint64_t d = 0;
      while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
        d = d * 10 + uint64_t(s[pos++] - '0');
        if (d > (uint64_t(1) << 48))
          return "a 'shape' dimension is too large";
      }
      if (shape.size() >= 32)
        return "'shape' has too many dimensions";
      shape.push_back(int64_t(d));
      skip();
      if (eat(','))
        continue;
      skip();
      if (eat(')'))
        return "";
      return "'shape' is not a tuple of integers";
    }
  }

  const std::string &s;
  size_t pos = 0;
};

/// Reads a C-order '<f4' or '|i1' .npy file (format versions 1 and 2).
/// Every size is checked against the file's, so nothing is allocated that
/// the file does not back.
bool readNpy(const std::string &path, Array &a, std::string &err) {
  std::vector<uint8_t> file;
  if (!readFile(path, file, err))
    return false;
  if (file.size() < 10 || std::memcmp(file.data(), "\x93NUMPY", 6) != 0)
    return err = "not an .npy file", false;
  const unsigned major = file[6];
  if (major != 1 && major != 2)
    return err = "unsupported .npy version " + std::to_string(major) + "." +
                 std::to_string(file[7]),
           false;
  size_t at = 8;
  uint64_t headerLen = file[8] | uint64_t(file[9]) << 8;
  at = 10;
  if (major == 2) {
    if (file.size() < 12)
      return err = "truncated .npy header", false;
    headerLen |= uint64_t(file[10]) << 16 | uint64_t(file[11]) << 24;
    at = 12;
  }
  if (headerLen > file.size() - at)
    return err = "truncated .npy header", false;
  const std::string header(reinterpret_cast<const char *>(file.data() + at),
                           headerLen);
  at += headerLen;

  std::string descr;
  bool fortran = false;
  err = HeaderParser(header).parse(descr, fortran, a.shape);
  if (!err.empty())
    return false;
  if (fortran)
    return err = "Fortran-order arrays are not supported", false;
  size_t elemBytes;
  if (descr == "<f4") {
    a.dtype = DType::F32;
    elemBytes = 4;
  } else if (descr == "|i1") {
    a.dtype = DType::I8;
    elemBytes = 1;
  } else {
    return err = "dtype '" + descr + "' is not float32 ('<f4') or int8 ('|i1')",
           false;
  }
  uint64_t count = 1;
  for (int64_t d : a.shape)
    if (__builtin_mul_overflow(count, uint64_t(d), &count))
      return err = "the shape's element count overflows", false;
  const uint64_t available = file.size() - at;
  if (count > available / elemBytes || count * elemBytes != available)
    return err = "the shape needs " + std::to_string(count) + " elements of " +
                 std::to_string(elemBytes) + " byte(s), the file holds " +
                 std::to_string(available) + " data bytes",
           false;
  a.data.assign(file.begin() + long(at), file.end());
  return true;
}

bool writeNpy(const std::string &path, const Array &a, std::string &err) {
  std::string dims;
  for (int64_t d : a.shape)
    dims += std::to_string(d) + ", ";
  if (a.shape.size() > 1)
    dims.resize(dims.size() - 2); // "(a, b)", but "(a,)" for one dimension
  else if (a.shape.size() == 1)
    dims.resize(dims.size() - 1);
  std::string header = std::string("{'descr': '") +
                       (a.dtype == DType::F32 ? "<f4" : "|i1") +
                       "', 'fortran_order': False, 'shape': (" + dims + "), }";
  // Version 1.0 pads magic + length + header + '\n' to 64 bytes.
  const size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header.push_back('\n');
  if (header.size() > 0xffff)
    return err = "the .npy header is too long", false;
  std::string out("\x93NUMPY\x01\x00", 8);
  out += char(header.size() & 0xff);
  out += char(header.size() >> 8);
  out += header;
  out.insert(out.end(), a.data.begin(), a.data.end());
  return writeFile(path, out.data(), out.size(), err);
}

//===----------------------------------------------------------------------===//
// Commands
//===----------------------------------------------------------------------===//

bool loadModel(const std::string &path, Program &p, std::string &err) {
  std::vector<uint8_t> bytes;
  if (!readFile(path, bytes, err))
    return false;
  err = decodeBinary(bytes.data(), bytes.size(), p);
  return err.empty();
}

int disassemble(const std::string &in, const std::string &out) {
  Program p;
  std::string err;
  if (!loadModel(in, p, err))
    return fail(in, err);
  const std::string text = printAssembly(p);
  if (out.empty() || out == "-") {
    std::fwrite(text.data(), 1, text.size(), stdout);
    return std::fflush(stdout) == 0 ? 0 : fail("<stdout>", "write error");
  }
  if (!writeFile(out, text.data(), text.size(), err))
    return fail(out, err);
  return 0;
}

int assemble(const std::string &in, const std::string &out) {
  if (out.empty())
    return fail(in, "--assemble needs -o <model.bin>");
  std::vector<uint8_t> bytes;
  std::string err;
  if (!readFile(in, bytes, err))
    return fail(in, err);
  Program p;
  err = parseAssembly(std::string(bytes.begin(), bytes.end()), p);
  if (!err.empty())
    return fail(in, err);
  err = checkProgram(p);
  if (!err.empty())
    return fail(in, err);
  const std::vector<uint8_t> bin = encodeBinary(p);
  if (!writeFile(out, bin.data(), bin.size(), err))
    return fail(out, err);
  return 0;
}

/// A file name from an output's name: characters other than letters,
/// digits, '-', '_' and '.' become '_' (a name from a binary must not
/// reach outside the folder).
std::string fileNameFor(const std::string &name, size_t index) {
  std::string s;
  for (char c : name)
    s += (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' ||
          c == '.')
             ? c
             : '_';
  if (s.empty() || s[0] == '.')
    s = "output" + std::to_string(index) + "_" + s;
  return s + ".npy";
}

struct RunOptions {
  std::string model;
  std::vector<std::string> inputs;
  std::string output;
  bool raw = false;
  std::string report = "text";
  std::string reportFile;
};

int run(const RunOptions &o) {
  Program p;
  std::string err;
  if (!loadModel(o.model, p, err))
    return fail(o.model, err);
  std::vector<const TensorDesc *> ins, outs;
  for (const TensorDesc &d : p.tensors)
    (d.isOutput ? outs : ins).push_back(&d);
  if (o.inputs.size() != ins.size())
    return fail(o.model, "the model has " + std::to_string(ins.size()) +
                             " input(s), " + std::to_string(o.inputs.size()) +
                             " --input file(s) given");
  if (!outs.empty() && o.output.empty())
    return fail(o.model, "no output file: use -o");

  // Read and quantize the inputs; count the samples.
  std::vector<std::vector<int8_t>> stored(ins.size());
  uint64_t samples = 1;
  for (size_t i = 0; i < ins.size(); ++i) {
    const std::string &path = o.inputs[i];
    Array a;
    if (!readNpy(path, a, err))
      return fail(path, err);
    const uint64_t per = ins[i]->bytes();
    const uint64_t n = a.count();
    if (n == 0 || n % per != 0)
      return fail(path, "holds " + std::to_string(n) +
                            " elements, not a positive multiple of the " +
                            std::to_string(per) + " of input '" + ins[i]->name +
                            "'");
    if (i > 0 && n / per != samples)
      return fail(path, "holds " + std::to_string(n / per) +
                            " sample(s), the first input " +
                            std::to_string(samples));
    samples = n / per;
    stored[i].resize(n);
    if (a.dtype == DType::I8) {
      std::memcpy(stored[i].data(), a.data.data(), n);
    } else {
      std::vector<float> f(n);
      std::memcpy(f.data(), a.data.data(), n * 4);
      rt::quantizeTensor<int8_t>(f.data(), stored[i].data(), int64_t(n),
                                 static_cast<float>(ins[i]->scale),
                                 ins[i]->zeroPoint, -128, 127);
    }
  }

  // Output names (checked before the run, which may be long).
  std::vector<std::string> outPaths;
  if (outs.size() == 1) {
    outPaths.push_back(o.output);
  } else if (outs.size() > 1) {
    if (::mkdir(o.output.c_str(), 0777) != 0 && errno != EEXIST)
      return fail(o.output, std::string("cannot create the output folder: ") +
                                std::strerror(errno));
    for (size_t k = 0; k < outs.size(); ++k) {
      const std::string path = o.output + "/" + fileNameFor(outs[k]->name, k);
      for (const std::string &other : outPaths)
        if (other == path)
          return fail(o.model, "two outputs would both be written to " + path);
      outPaths.push_back(path);
    }
  }

  SimStats stats;
  std::vector<std::vector<int8_t>> results(outs.size());
  std::vector<std::vector<int8_t>> sampleIn(ins.size()), sampleOut;
  for (uint64_t s = 0; s < samples; ++s) {
    for (size_t i = 0; i < ins.size(); ++i) {
      const uint64_t per = ins[i]->bytes();
      sampleIn[i].assign(stored[i].begin() + long(s * per),
                         stored[i].begin() + long((s + 1) * per));
    }
    err = runProgram(p, sampleIn, sampleOut, stats);
    if (!err.empty())
      return fail(o.model, samples > 1
                               ? "sample " + std::to_string(s) + ": " + err
                               : err);
    for (size_t k = 0; k < outs.size(); ++k)
      results[k].insert(results[k].end(), sampleOut[k].begin(),
                        sampleOut[k].end());
  }

  for (size_t k = 0; k < outs.size(); ++k) {
    Array a;
    a.shape = outs[k]->shape;
    a.shape[0] *= int64_t(samples);
    const size_t n = results[k].size();
    if (o.raw) {
      a.dtype = DType::I8;
      a.data.assign(reinterpret_cast<const uint8_t *>(results[k].data()),
                    reinterpret_cast<const uint8_t *>(results[k].data()) + n);
    } else {
      a.dtype = DType::F32;
      std::vector<float> f(n);
      rt::dequantizeTensor<int8_t>(results[k].data(), f.data(), int64_t(n),
                                   outs[k]->scale, outs[k]->zeroPoint);
      a.data.resize(n * 4);
      std::memcpy(a.data.data(), f.data(), n * 4);
    }
    if (!writeNpy(outPaths[k], a, err))
      return fail(outPaths[k], err);
  }

  if (o.report == "none")
    return 0;
  const std::string report = o.report == "json" ? reportJson(p, stats, samples)
                                                : reportText(p, stats, samples);
  if (!o.reportFile.empty()) {
    if (!writeFile(o.reportFile, report.data(), report.size(), err))
      return fail(o.reportFile, err);
  } else {
    std::fputs(report.c_str(), stderr);
  }
  return 0;
}

const char kUsage[] =
    "usage: accel-sim model.bin --input x.npy [--input y.npy ...] -o out.npy\n"
    "                 [--raw] [--report=text|json|none] [--report-file=F]\n"
    "       accel-sim --disasm model.bin [-o model.s]\n"
    "       accel-sim --assemble model.s -o model.bin\n"
    "\n"
    "Runs a lowbit accelerator binary on .npy inputs (float32, quantized with\n"
    "the input's scale and zero point, or int8 stored values; N samples may\n"
    "be stacked), writing float32 outputs (int8 with --raw; a folder of\n"
    "<name>.npy for several outputs) and a cycle report (stderr by default).\n";

} // namespace

int main(int argc, char **argv) {
  RunOptions o;
  std::string disasm, assembleFrom;
  std::vector<std::string> positional;
  // The value of an option given as `--opt value` or `--opt=value`.
  auto value = [&](int &i, const std::string &arg, const std::string &name,
                   std::string &out) {
    if (arg == name) {
      if (i + 1 >= argc)
        return -1;
      out = argv[++i];
      return 1;
    }
    if (arg.compare(0, name.size() + 1, name + "=") == 0) {
      out = arg.substr(name.size() + 1);
      return 1;
    }
    return 0;
  };
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    std::string v;
    int r;
    if (arg == "-h" || arg == "--help") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (arg == "--raw") {
      o.raw = true;
      continue;
    }
    if ((r = value(i, arg, "--input", v)) != 0) {
      if (r < 0)
        return fail(arg, "needs a file");
      o.inputs.push_back(v);
      continue;
    }
    if ((r = value(i, arg, "-o", v)) != 0 ||
        (r = value(i, arg, "--output", v)) != 0) {
      if (r < 0)
        return fail(arg, "needs a file");
      if (!o.output.empty())
        return fail(arg, "given twice");
      o.output = v;
      continue;
    }
    if ((r = value(i, arg, "--report", v)) != 0) {
      if (r < 0 || (v != "text" && v != "json" && v != "none"))
        return fail(arg, "expected --report=text, json or none");
      o.report = v;
      continue;
    }
    if ((r = value(i, arg, "--report-file", v)) != 0) {
      if (r < 0 || v.empty())
        return fail(arg, "needs a file");
      o.reportFile = v;
      continue;
    }
    if ((r = value(i, arg, "--disasm", v)) != 0) {
      if (r < 0)
        return fail(arg, "needs a model.bin");
      disasm = v;
      continue;
    }
    if ((r = value(i, arg, "--assemble", v)) != 0) {
      if (r < 0)
        return fail(arg, "needs a model.s");
      assembleFrom = v;
      continue;
    }
    if (arg.size() > 1 && arg[0] == '-')
      return fail(arg, "unknown option (see --help)");
    positional.push_back(arg);
  }

  const int modes = int(!disasm.empty()) + int(!assembleFrom.empty()) +
                    int(!positional.empty());
  if (modes == 0)
    return fail("accel-sim", "no model given (see --help)");
  if (modes > 1 || positional.size() > 1)
    return fail(positional.size() > 1 ? positional[1] : "accel-sim",
                "give one of: a model to run, --disasm, --assemble");
  if (!disasm.empty() || !assembleFrom.empty()) {
    if (!o.inputs.empty() || o.raw || o.report != "text" ||
        !o.reportFile.empty())
      return fail(!disasm.empty() ? disasm : assembleFrom,
                  "--input, --raw and --report apply to running a model only");
    return !disasm.empty() ? disassemble(disasm, o.output)
                           : assemble(assembleFrom, o.output);
  }
  o.model = positional[0];
  return run(o);
}
