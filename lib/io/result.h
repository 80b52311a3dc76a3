// result.h: errors as values. A library function returns Result<T>; callers prepend context on
// the way up ("vmcore: PT_LOAD 3: ...") and only main() prints, once, on one line.
#pragma once

#include <cerrno>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace kk {

enum class Errc {
  io,           // a system call failed (sys_errno says which)
  truncated,    // input ends before a structure it promises
  corrupt,      // input is structurally wrong
  unsupported,  // valid input we do not handle (other arch, format version)
  missing,      // a required piece is absent (vmcoreinfo key, note)
  usage,        // bad command line
  exists,       // output already there
  no_space,     // ENOSPC / EDQUOT while writing
  stopped,      // stopped on purpose: a signal (SIGTERM, SIGINT, SIGHUP) asked the program to stop
  internal,     // the program broke a promise to itself (a bug): callers disagree on a size
};

struct Error {
  Errc code = Errc::io;
  int sys_errno = 0;
  std::string msg;

  Error context(std::string_view where) && {
    msg.insert(0, std::string(where) + ": ");
    return std::move(*this);
  }
  Error context(std::string_view where) const& { return Error(*this).context(where); }
};

Error make_error(Errc code, std::string msg);
// An Error from errno, with strerror appended: "open: No such file or directory".
Error sys_error(std::string_view what, int err = errno);

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}
  Result(Error e) : v_(std::in_place_index<1>, std::move(e)) {}

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& operator*() & { return std::get<0>(v_); }
  const T& operator*() const& { return std::get<0>(v_); }
  T&& operator*() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &std::get<0>(v_); }
  const T* operator->() const { return &std::get<0>(v_); }
  T& value() & { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  const Error& error() const& { return std::get<1>(v_); }
  Error&& error() && { return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error e) : err_(std::move(e)), failed_(true) {}
  bool ok() const { return !failed_; }
  explicit operator bool() const { return ok(); }
  const Error& error() const& { return err_; }
  Error&& error() && { return std::move(err_); }

 private:
  Error err_;
  bool failed_ = false;
};

inline Result<void> ok_result() { return {}; }

}  // namespace kk

// Propagate an error, optionally with context. Keeps pass lists readable (STYLE.md 6).
#define KK_TRY(expr)                                   \
  do {                                                 \
    auto kk_try_r_ = (expr);                           \
    if (!kk_try_r_) return std::move(kk_try_r_).error(); \
  } while (0)

// Declares a variable holding the value of a Result, or returns its error:
//   KK_TRY_ASSIGN(Elf64Ehdr eh, read_ehdr(file));  // eh is the header itself from here on
// A declaration with a comma in its type needs an alias first.
#define KK_TRY_ASSIGN(decl, ...) KK_TRY_ASSIGN_IMPL_(KK_TRY_CAT_(kk_try_a_, __LINE__), decl, __VA_ARGS__)
#define KK_TRY_ASSIGN_IMPL_(tmp, decl, ...)  \
  auto tmp = (__VA_ARGS__);                    \
  if (!tmp) return std::move(tmp).error();     \
  decl = std::move(*tmp)
#define KK_TRY_CAT_(a, b) KK_TRY_CAT2_(a, b)
#define KK_TRY_CAT2_(a, b) a##b
