//===- Npy.cpp - NumPy .npy reading and writing ---------------------------===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// The format: magic "\x93NUMPY", version, header length, a Python dict
// literal {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }, then
// the raw data. Only little-endian (or byte-order-free) C-ordered arrays are
// accepted; anything else is a clear error, never a silent misread.
//
//===----------------------------------------------------------------------===//

#include "lowbit/Support/Npy.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

using namespace lowbit;
using llvm::StringRef;

static llvm::Error npyError(StringRef path, const llvm::Twine &msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 path + ": " + msg);
}

/// Finds `'key':` in the header dict and returns the text after it.
static std::optional<StringRef> dictValue(StringRef header, StringRef key) {
  std::string quoted = ("'" + key + "'").str();
  size_t pos = header.find(quoted);
  if (pos == StringRef::npos)
    return std::nullopt;
  StringRef rest = header.drop_front(pos + quoted.size()).ltrim();
  if (!rest.consume_front(":"))
    return std::nullopt;
  return rest.ltrim();
}

llvm::Expected<HostTensor> lowbit::readNpy(StringRef path) {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                            /*RequiresNullTerminator=*/false);
  if (!buffer)
    return npyError(path, "cannot open: " + buffer.getError().message());
  StringRef bytes = (*buffer)->getBuffer();
  if (bytes.size() < 10 || !bytes.starts_with("\x93NUMPY"))
    return npyError(path, "not a .npy file (missing \\x93NUMPY magic)");
  unsigned major = static_cast<uint8_t>(bytes[6]);
  size_t headerLen, headerStart;
  if (major == 1) {
    headerLen = static_cast<uint8_t>(bytes[8]) |
                (static_cast<uint8_t>(bytes[9]) << 8);
    headerStart = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12)
      return npyError(path, "truncated .npy header");
    headerLen = 0;
    for (int i = 0; i < 4; ++i)
      headerLen |= static_cast<size_t>(static_cast<uint8_t>(bytes[8 + i]))
                   << (8 * i);
    headerStart = 12;
  } else {
    return npyError(path, "unsupported .npy version " + llvm::Twine(major));
  }
  if (headerStart + headerLen > bytes.size())
    return npyError(path, "truncated .npy header");
  StringRef header = bytes.substr(headerStart, headerLen);

  auto descr = dictValue(header, "descr");
  auto fortran = dictValue(header, "fortran_order");
  auto shapeText = dictValue(header, "shape");
  if (!descr || !fortran || !shapeText)
    return npyError(path, "malformed .npy header: " + header.trim());
  if (!fortran->starts_with("False"))
    return npyError(path, "Fortran-ordered arrays are not supported; save "
                          "with np.ascontiguousarray");
  StringRef d = descr->drop_front(1); // skip the opening quote
  d = d.take_until([](char c) { return c == '\'' || c == '"'; });
  ElemKind kind;
  if (d == "<f4")
    kind = ElemKind::F32;
  else if (d == "<f8")
    kind = ElemKind::F64;
  else if (d == "|b1")
    kind = ElemKind::I1;
  else if (d == "|i1")
    kind = ElemKind::I8;
  else if (d == "|u1")
    kind = ElemKind::U8;
  else if (d == "<i2")
    kind = ElemKind::I16;
  else if (d == "<u2")
    kind = ElemKind::U16;
  else if (d == "<i4")
    kind = ElemKind::I32;
  else if (d == "<u4")
    kind = ElemKind::U32;
  else if (d == "<i8")
    kind = ElemKind::I64;
  else
    return npyError(path, "unsupported dtype '" + d +
                              "' (supported: float32, float64, bool, int8, "
                              "uint8, int16, uint16, int32, uint32, int64, "
                              "little-endian)");

  if (!shapeText->consume_front("("))
    return npyError(path, "malformed shape in .npy header");
  StringRef dims = shapeText->take_until([](char c) { return c == ')'; });
  llvm::SmallVector<int64_t> shape;
  llvm::SmallVector<StringRef> parts;
  dims.split(parts, ',');
  for (StringRef p : parts) {
    p = p.trim();
    if (p.empty())
      continue;
    int64_t v;
    if (p.getAsInteger(10, v) || v < 0)
      return npyError(path, "malformed dimension '" + p + "' in .npy shape");
    shape.push_back(v);
  }
  // Compare sizes before allocating, so a corrupt header cannot ask for a
  // huge buffer. A shape whose running product overflows is refused even
  // when a later dimension is 0 (a fuzzer's find: (554, 5555, 8.9e14, 0, 4)
  // matched an empty file and overflowed the element count).
  std::string tooLarge = tensorSizeError(kind, shape);
  if (!tooLarge.empty())
    return npyError(path, tooLarge);
  size_t dataStart = headerStart + headerLen;
  uint64_t expected = elemSize(kind);
  for (int64_t d : shape) {
    if (d != 0 && expected > UINT64_MAX / static_cast<uint64_t>(d))
      return npyError(path, "shape " + shapeToString(shape) + " is too large");
    expected *= static_cast<uint64_t>(d);
  }
  if (bytes.size() - dataStart != expected)
    return npyError(path, "holds " + llvm::Twine(bytes.size() - dataStart) +
                              " data bytes, expected " + llvm::Twine(expected) +
                              " for " + numpyName(kind) + " " +
                              shapeToString(shape));
  HostTensor tensor(kind, shape);
  if (tensor.byteSize() != 0) // an empty tensor has no storage to copy into
    std::memcpy(tensor.raw(), bytes.data() + dataStart, tensor.byteSize());
  return tensor;
}

llvm::Error lowbit::writeNpy(StringRef path, const HostTensor &tensor) {
  const char *descr = "<f4";
  switch (tensor.kind()) {
  case ElemKind::F32: descr = "<f4"; break;
  case ElemKind::F64: descr = "<f8"; break;
  case ElemKind::I1: descr = "|b1"; break;
  case ElemKind::I8: descr = "|i1"; break;
  case ElemKind::U8: descr = "|u1"; break;
  case ElemKind::I16: descr = "<i2"; break;
  case ElemKind::U16: descr = "<u2"; break;
  case ElemKind::I32: descr = "<i4"; break;
  case ElemKind::U32: descr = "<u4"; break;
  case ElemKind::I64: descr = "<i8"; break;
  }
  std::string shape = "(";
  for (int64_t d : tensor.shape())
    shape += std::to_string(d) + ", ";
  if (tensor.rank() > 1)
    shape.erase(shape.size() - 2); // "(2, 3" ; keep "(4, " for rank 1
  else if (tensor.rank() == 1)
    shape.pop_back();              // "(4,"
  shape += ")";
  std::string header = std::string("{'descr': '") + descr +
                       "', 'fortran_order': False, 'shape': " + shape + ", }";
  // Pad with spaces so that magic + header is a multiple of 64, ending in \n.
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';

  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec, llvm::sys::fs::OF_None);
  auto writeError = [&](const std::string &reason) {
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "cannot write '" + path + "': " + reason);
  };
  if (ec)
    return writeError(ec.message());
  os << "\x93NUMPY" << char(1) << char(0);
  os << char(header.size() & 0xff) << char((header.size() >> 8) & 0xff);
  os << header;
  os.write(static_cast<const char *>(tensor.raw()), tensor.byteSize());
  os.close();
  if (os.has_error()) {
    std::string reason = os.error().message();
    // Cleared, or the stream's destructor ends the program.
    os.clear_error();
    return writeError(reason);
  }
  return llvm::Error::success();
}
