// libdw_loader.h: libdw (and the libelf calls made through it), opened at run time. Only
// -x/--config reads DWARF, and linking libdw would make every capture initramfs carry libdw,
// libelf, liblzma and libbz2 (about 1 MB unpacked, out of a crashkernel= reservation) for dumps
// that never use them.
#pragma once

#include <elfutils/libdw.h>
#include <gelf.h>

#include <string>

#include "lib/io/result.h"

namespace kk::debuginfo {

// Every libdw/libelf function dwarf_index.cpp calls.
#define KK_LIBDW_FUNCTIONS(X)                                                                  \
  X(dwarf_attr) X(dwarf_attr_integrate) X(dwarf_begin) X(dwarf_child) X(dwarf_diename)         \
  X(dwarf_dieoffset) X(dwarf_end) X(dwarf_errmsg) X(dwarf_formaddr) X(dwarf_formflag)          \
  X(dwarf_formref_die) X(dwarf_formstring) X(dwarf_formudata) X(dwarf_get_units)               \
  X(dwarf_getelf) X(dwarf_getlocation) X(dwarf_getlocation_attr) X(dwarf_hasattr)              \
  X(dwarf_offdie) X(dwarf_siblingof) X(dwarf_tag) X(elf_getdata) X(elf_nextscn) X(elf_strptr)  \
  X(elf_version) X(gelf_getshdr) X(gelf_getsym)

struct LibDw {
#define KK_LIBDW_MEMBER(f) decltype(&::f) f = nullptr;
  KK_LIBDW_FUNCTIONS(KK_LIBDW_MEMBER)
#undef KK_LIBDW_MEMBER
};

/// Opens SONAME and resolves every function (libelf's through libdw's dependencies). The error
/// names the library and what needs it. The library stays loaded for the life of the process.
Result<LibDw> open_libdw(const char* soname);

/// libdw.so.1, opened on the first call; later calls return the same table (or error).
Result<const LibDw*> libdw();

/// The file the dynamic linker opens for libdw.so.1 here, for the capture initramfs hooks:
/// dlopen is invisible to ldd, so they must be told to install it.
Result<std::string> libdw_path();

}  // namespace kk::debuginfo
