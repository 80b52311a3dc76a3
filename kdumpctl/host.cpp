// host.cpp: processes and files for kdumpctl (see host.h).
#include "kdumpctl/host.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "lib/io/file.h"
#include "lib/io/text_file.h"

namespace kk {

bool Host::exists(std::string_view abs) const { return access(path(abs).c_str(), F_OK) == 0; }

Result<std::string> Host::read(std::string_view abs, size_t max) const { return read_text_file(path(abs), max); }

Result<std::string> Host::read_value(std::string_view abs) const {
  Result<std::string> s = read(abs, 64 << 10);
  if (!s) return s;
  std::string v = s->substr(0, s->find('\n'));
  v.erase(0, v.find_first_not_of(" \t"));
  v.erase(v.find_last_not_of(" \t") + 1);
  return v;
}

std::string find_program(std::string_view name) {
  if (name.find('/') != std::string_view::npos) return access(std::string(name).c_str(), X_OK) == 0 ? std::string(name) : "";
  const char* p = getenv("PATH");
  std::string_view rest = p ? p : "/usr/sbin:/usr/bin:/sbin:/bin";
  while (!rest.empty()) {
    size_t colon = rest.find(':');
    std::string dir(rest.substr(0, colon));
    rest = colon == std::string_view::npos ? std::string_view() : rest.substr(colon + 1);
    std::string full = (dir.empty() ? "." : dir) + "/" + std::string(name);
    if (access(full.c_str(), X_OK) == 0) return full;
  }
  return "";
}

namespace {

Result<pid_t> spawn(const std::vector<std::string>& argv, RunIo io) {
  if (argv.empty()) return make_error(Errc::internal, "empty command");
  std::string prog = find_program(argv[0]);
  if (prog.empty()) return make_error(Errc::missing, argv[0] + ": not found in PATH");
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = fork();
  if (pid < 0) return sys_error("fork");
  if (pid == 0) {
    if (io.in_fd >= 0) dup2(io.in_fd, 0);
    if (io.out_fd >= 0) dup2(io.out_fd, 1);
    execv(prog.c_str(), args.data());
    _exit(127);
  }
  return pid;
}

Result<int> wait_child(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return sys_error("waitpid");
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return WEXITSTATUS(status);
}

Result<void> status_ok(const std::string& prog, const Result<int>& rc) {
  if (!rc) return rc.error();
  if (*rc != 0) return make_error(Errc::io, prog + " exited with status " + std::to_string(*rc));
  return {};
}

}  // namespace

Result<int> run(const std::vector<std::string>& argv, RunIo io) {
  KK_TRY_ASSIGN(pid_t pid, spawn(argv, io));
  return wait_child(pid);
}

Result<void> run_ok(const std::vector<std::string>& argv, RunIo io) { return status_ok(argv.empty() ? "" : argv[0], run(argv, io)); }

Result<void> run_pipe(const std::vector<std::string>& producer, const std::vector<std::string>& consumer) {
  int p[2];
  if (pipe2(p, O_CLOEXEC) != 0) return sys_error("pipe");
  Fd rd(p[0]), wr(p[1]);
  KK_TRY_ASSIGN(pid_t cpid, spawn(consumer, RunIo{rd.get(), -1}));
  rd = Fd();
  Result<pid_t> ppid = spawn(producer, RunIo{-1, wr.get()});
  wr = Fd();  // the consumer sees end of file when the producer exits
  Result<void> pr = ppid ? status_ok(producer[0], wait_child(*ppid)) : Result<void>(std::move(ppid).error());
  Result<void> cr = status_ok(consumer[0], wait_child(cpid));
  if (!pr) return pr;
  return cr;
}

Result<std::string> run_output(const std::vector<std::string>& argv, size_t max) {
  Fd out(memfd_create("kdumpctl-output", MFD_CLOEXEC));
  if (!out.valid()) return sys_error("memfd_create");
  KK_TRY(run_ok(argv, RunIo{-1, out.get()}));
  std::string text(max, '\0');
  ssize_t n = pread(out.get(), text.data(), text.size(), 0);
  if (n < 0) return sys_error("reading the output of " + argv[0]);
  text.resize(static_cast<size_t>(n));
  return text;
}

Result<void> rename_noreplace(const std::string& from, const std::string& to) {
  if (renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) return {};
  if (errno != EINVAL && errno != ENOSYS) return sys_error("rename " + from + " to " + to);
  if (link(from.c_str(), to.c_str()) != 0) return sys_error("link " + from + " to " + to);
  if (unlink(from.c_str()) != 0) return sys_error("unlink " + from);
  return {};
}

Result<void> write_file_atomic(const std::string& path, std::string_view data) {
  KK_TRY_ASSIGN(OutputFile out, OutputFile::create(path, true));
  KK_TRY(out.write_at(0, std::as_bytes(std::span(data.data(), data.size()))));
  return out.publish();
}

Result<void> fsync_path(const std::string& path) {
  Fd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return sys_error("open " + path);
  if (fsync(fd.get()) != 0) return sys_error("fsync " + path);
  return {};
}

}  // namespace kk
