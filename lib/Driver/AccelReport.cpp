//===- AccelReport.cpp - lowbitc --report for --target=accel --------------===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// The accelerator part of `lowbitc --report`: the compiled program runs once
// in the simulator (its cycles do not depend on the data), and its figures
// are summed per layer from the instructions' `layer` names.
//
//===----------------------------------------------------------------------===//

#include "lowbit/Driver/Driver.h"

#include "Common.h"

#include "lowbit/Driver/Output.h"

#include "Accel/IR/AccelOps.h"
#include "lowbit/accel/Sim.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

#include <map>

using namespace mlir;
using namespace ::lowbit;
using namespace ::lowbit::driver;
namespace ax = ::lowbit::accel;

namespace {

struct LayerFigures {
  size_t firstInstr = 0;
  uint64_t instructions = 0, macCycles = 0, twoWordCycles = 0,
           dmaBytes = 0, computeCycles = 0, end = 0;
  uint64_t requants = 0, dual = 0;
};

std::string escape(StringRef s) {
  std::string out;
  for (char c : s) {
    if (c == '<')
      out += "&lt;";
    else if (c == '>')
      out += "&gt;";
    else if (c == '&')
      out += "&amp;";
    else
      out += c;
  }
  return out;
}

} // namespace

LogicalResult driver::reportAccel(ModuleOp module,
                                          llvm::StringRef htmlPath,
                                          llvm::raw_ostream &os) {
  auto programs = llvm::to_vector(module.getOps<mlir::accel::ProgramOp>());
  if (programs.size() != 1)
    return fail(module.getContext(),
                "--report: expected one accel.program after --target=accel");
  FailureOr<ax::Program> program = mlir::accel::getProgram(programs.front());
  if (failed(program))
    return failure();
  const ax::Program &p = *program;
  std::vector<std::vector<int8_t>> inputs, outputs;
  for (const ax::TensorDesc &d : p.tensors)
    if (!d.isOutput)
      inputs.emplace_back(d.bytes(), int8_t(d.zeroPoint));
  ax::SimStats stats;
  std::vector<ax::InstrTiming> timing;
  std::string err = ax::runProgram(p, inputs, outputs, stats, 0, &timing);
  if (!err.empty())
    return fail(module.getContext(), "--report: the simulator: " + err);

  // Per layer, in the order the layers first appear.
  std::vector<std::string> order;
  std::map<std::string, LayerFigures> layers;
  size_t index = 0;
  for (Operation &op : programs.front().getBody().front()) {
    FailureOr<ax::Instr> in = mlir::accel::getInstr(&op);
    if (failed(in))
      continue;
    auto name = op.getAttrOfType<StringAttr>("layer");
    std::string key = name ? name.str() : "(unnamed)";
    if (!layers.count(key))
      order.push_back(key);
    LayerFigures &f = layers[key];
    if (f.instructions == 0)
      f.firstInstr = index;
    ++f.instructions;
    const ax::InstrTiming &tm = timing[index];
    f.end = std::max(f.end, tm.start + tm.cycles);
    switch (in->opcode) {
    case ax::Opcode::Mac:
      f.macCycles += tm.cycles;
      f.twoWordCycles += tm.twoWordCycles;
      f.computeCycles += tm.cycles;
      break;
    case ax::Opcode::Load:
    case ax::Opcode::Store:
      f.dmaBytes += uint64_t(in->get("rows")) * uint64_t(in->get("cols")) *
                    uint64_t(in->get("elem"));
      break;
    case ax::Opcode::Requant:
      ++f.requants;
      f.dual += in->get("dual") == 1;
      f.computeCycles += tm.cycles;
      break;
    default:
      f.computeCycles += tm.cycles;
      break;
    }
    ++index;
  }

  const ax::Target &t = p.target;
  const uint64_t mac = stats.totalMacCycles();
  uint64_t requants = 0, dual = 0;
  for (auto &[name, f] : layers) {
    requants += f.requants;
    dual += f.dual;
  }
  std::string text;
  llvm::raw_string_ostream s(text);
  s << "accelerator: target '" << t.name << "' (" << t.tn << " x " << t.tm
    << " array, " << t.inputBuffer / 1024 << "/" << t.weightBuffer / 1024
    << "/" << t.outputBuffer / 1024 << " KiB input/weight/output buffers, "
    << t.dmaBytesPerCycle << " DMA bytes per cycle), " << p.instrs.size()
    << " instructions, " << p.data.size() << " data bytes, " << p.dramBytes
    << " DRAM bytes\n";
  s << "  cycles per image: " << stats.totalCycles << "; MAC cycles " << mac
    << " (multiply " << stats.macCycles[0] << ", shift1 "
    << stats.macCycles[1] << ", shift2 " << stats.macCycles[2]
    << "; on two-word tiles " << stats.macTwoWordCycles << ")"
    << "; DMA cycles: load " << stats.loadDmaCycles << ", store "
    << stats.storeDmaCycles << "; PE utilization "
    << llvm::format("%.1f%%", 100.0 * stats.peUtilization(t)) << "\n";
  s << "  REQUANT instructions: " << requants << ", " << dual
    << " of them dual (a PReLU / LeakyReLU folded into the requant: " << dual
    << " REQUANT instructions and int8 round trips through DRAM saved)\n";
  s << "  layer: instructions, MAC cycles (two-word tiles), other compute "
       "cycles, DMA bytes, done at cycle\n";
  for (const std::string &name : order) {
    const LayerFigures &f = layers[name];
    s << "    " << name << ": " << f.instructions << ", " << f.macCycles
      << " (" << f.twoWordCycles << "), " << f.computeCycles - f.macCycles
      << ", " << f.dmaBytes << ", " << f.end << "\n";
  }
  os << text;

  if (htmlPath.empty())
    return success();
  auto buf = llvm::MemoryBuffer::getFile(htmlPath, /*IsText=*/true);
  if (!buf)
    return fail(module.getContext(),
                "--report: cannot read " + htmlPath.str() + " back");
  std::string html = (*buf)->getBuffer().str();
  size_t end = html.rfind("</body>");
  if (end == std::string::npos)
    return fail(module.getContext(), "--report: " + htmlPath.str() +
                                         " has no </body>");
  std::string section;
  llvm::raw_string_ostream h(section);
  h << "<h2>Accelerator</h2>\n<pre>" << escape(text.substr(
                                             0, text.find("  layer:")))
    << "</pre>\n<table>\n<tr><th>layer</th><th>instructions</th><th>MAC "
       "cycles</th><th>of which two-word tiles</th><th>other compute "
       "cycles</th><th>DMA bytes</th><th>done at cycle</th></tr>\n";
  for (const std::string &name : order) {
    const LayerFigures &f = layers[name];
    h << "<tr><td>" << escape(name) << "</td><td>" << f.instructions
      << "</td><td>" << f.macCycles << "</td><td>" << f.twoWordCycles
      << "</td><td>" << f.computeCycles - f.macCycles << "</td><td>"
      << f.dmaBytes << "</td><td>" << f.end << "</td></tr>\n";
  }
  h << "</table>\n";
  html.insert(end, section);
  std::error_code ec;
  llvm::raw_fd_ostream out(htmlPath, ec);
  if (ec)
    return fail(module.getContext(), "--report: cannot write '" +
                                         htmlPath.str() + "': " +
                                         ec.message());
  out << html;
  if (std::string err = closeOutputStream(out, htmlPath); !err.empty())
    return fail(module.getContext(), "--report: " + err);
  return success();
}
