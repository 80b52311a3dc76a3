// libdw_loader.cpp: dlopen and dlsym behind a table of typed function pointers.
#include "lib/debuginfo/libdw_loader.h"

#include <dlfcn.h>
#include <link.h>

#include <string>
#include <type_traits>

namespace kk::debuginfo {

namespace {

constexpr const char* kSoname = "libdw.so.1";

// RTLD_LOCAL: nothing else in the process should bind to these symbols by accident.
Result<void*> open_handle(const char* soname, int mode) {
  if (void* h = dlopen(soname, mode | RTLD_LOCAL)) return h;
  const char* why = dlerror();
  return make_error(Errc::missing, std::string(why ? why : soname) +
                                       " (reading a vmlinux's DWARF needs libdw: Debian package libdw1)");
}

}  // namespace

Result<LibDw> open_libdw(const char* soname) {
  KK_TRY_ASSIGN(void* opened, open_handle(soname, RTLD_NOW));
  void* h = opened;
  LibDw t;
  const char* missing = nullptr;
  auto resolve = [&](auto& fn, const char* name) {
    if (missing) return;
    // The C standard leaves object-to-function pointer casts open; POSIX requires this one to work.
    fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(dlsym(h, name));
    if (!fn) missing = name;
  };
#define KK_LIBDW_RESOLVE(f) resolve(t.f, #f);
  KK_LIBDW_FUNCTIONS(KK_LIBDW_RESOLVE)
#undef KK_LIBDW_RESOLVE
  if (missing) {
    dlclose(h);
    return make_error(Errc::unsupported, std::string(soname) + " has no function " + missing);
  }
  return t;
}

Result<const LibDw*> libdw() {
  static const Result<LibDw> loaded = open_libdw(kSoname);
  if (!loaded) return loaded.error();
  return &*loaded;
}

Result<std::string> libdw_path() {
  KK_TRY_ASSIGN(void* h, open_handle(kSoname, RTLD_LAZY));
  link_map* lm = nullptr;
  std::string path;
  if (dlinfo(h, RTLD_DI_LINKMAP, &lm) == 0 && lm && lm->l_name) path = lm->l_name;
  dlclose(h);
  if (path.empty()) return make_error(Errc::missing, std::string(kSoname) + ": the dynamic linker does not say where it is");
  return path;
}

}  // namespace kk::debuginfo
