//===- Npy.h - NumPy .npy reading and writing -------------------*- C++ -*-===//
//
// Part of the lowbit project.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_SUPPORT_NPY_H
#define LOWBIT_SUPPORT_NPY_H

#include "lowbit/Support/HostTensor.h"

#include "llvm/Support/Error.h"

namespace lowbit {

/// Reads a version 1.0/2.0/3.0 .npy file holding a C-ordered array of
/// float32, float64, bool, int8, uint8, int16, uint16, int32, uint32 or
/// int64. Errors name the file and what is wrong with it.
llvm::Expected<HostTensor> readNpy(llvm::StringRef path);

/// Writes `tensor` as a version 1.0 .npy file.
llvm::Error writeNpy(llvm::StringRef path, const HostTensor &tensor);

} // namespace lowbit

#endif // LOWBIT_SUPPORT_NPY_H
