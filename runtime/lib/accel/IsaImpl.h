//===- IsaImpl.h - Helpers shared by the accelerator ISA files --*- C++ -*-===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//
//
// What the parts of lowbit/accel/Isa.h's implementation share (Target.cpp,
// Instructions.cpp, Program.cpp, Binary.cpp, Assembly.cpp): printf-style
// formatting, name and number parsing, field ranges and overflow-checked
// products. Private to runtime/lib/accel; plain C++17 like the runtime.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_RUNTIME_LIB_ACCEL_ISAIMPL_H
#define LOWBIT_RUNTIME_LIB_ACCEL_ISAIMPL_H

#include "lowbit/accel/Isa.h"

#include <cerrno>
#include <cinttypes>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <istream>
#include <string>

namespace lowbit {
namespace accel {
namespace detail {

/// printf into a std::string.
inline std::string str(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
inline std::string str(const char *fmt, ...) {
  va_list ap, again;
  va_start(ap, fmt);
  va_copy(again, ap);
  int n = vsnprintf(nullptr, 0, fmt, ap);
  va_end(ap);
  std::string out(n > 0 ? size_t(n) : 0, '\0');
  if (n > 0)
    vsnprintf(&out[0], size_t(n) + 1, fmt, again);
  va_end(again);
  return out;
}

/// Names survive the assembly text unchanged: printable ASCII without
/// spaces, quotes or the assembly's comment character (and, for the target,
/// without the description file's '=' and '#').
inline bool isPrintableName(const std::string &s, const char *alsoBanned) {
  if (s.empty() || s.size() > 255)
    return false;
  for (char c : s)
    if (c < 0x21 || c > 0x7e || c == '"' || c == ';' ||
        std::strchr(alsoBanned, c))
      return false;
  return true;
}

inline int64_t fieldMin(const FieldSpec &f) {
  return f.isSigned ? -(int64_t(1) << (8 * f.bytes - 1)) : 0;
}
inline int64_t fieldMax(const FieldSpec &f) {
  return f.isSigned ? (int64_t(1) << (8 * f.bytes - 1)) - 1
                    : (int64_t(1) << (8 * f.bytes)) - 1;
}

/// a * b * c... with overflow detection (all operands non-negative).
inline bool mulOk(uint64_t &acc, uint64_t v) {
  return !__builtin_mul_overflow(acc, v, &acc);
}

/// A non-negative integer (decimal, 0x hexadecimal or 0 octal) with an
/// optional K or M suffix.
inline bool parseUnsigned(const std::string &s, uint64_t &v) {
  if (s.empty())
    return false;
  char *end = nullptr;
  errno = 0;
  unsigned long long x = strtoull(s.c_str(), &end, 0);
  if (errno || s[0] == '-' || s[0] == '+')
    return false;
  uint64_t mult = 1;
  std::string rest(end);
  if (rest == "K" || rest == "k")
    mult = 1024;
  else if (rest == "M" || rest == "m")
    mult = 1024 * 1024;
  else if (!rest.empty())
    return false;
  v = x;
  return mulOk(v, mult);
}

/// `s` without leading and trailing blanks.
inline std::string trim(const std::string &s) {
  size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos)
    return "";
  size_t e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

/// Reads the next line of `in` that holds anything but white space and a
/// comment (from `comment` to the end of the line) into line, without the
/// comment and trimmed; lineNo counts every line read. False at the end.
inline bool nextContentLine(std::istream &in, char comment, std::string &line,
                            unsigned &lineNo) {
  while (std::getline(in, line)) {
    ++lineNo;
    size_t c = line.find(comment);
    if (c != std::string::npos)
      line.resize(c);
    line = trim(line);
    if (!line.empty())
      return true;
  }
  return false;
}

/// The weight modes of a mode mask as the description lists them
/// ("multiply,shift1"); in Target.cpp.
std::string modeList(uint32_t modes);

} // namespace detail
} // namespace accel
} // namespace lowbit

#endif // LOWBIT_RUNTIME_LIB_ACCEL_ISAIMPL_H
