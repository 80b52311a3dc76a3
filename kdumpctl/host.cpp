// host.cpp: processes and files for kdumpctl (see host.h).
#include "kdumpctl/host.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "io/file.h"
#include "io/text_file.h"

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

Result<int> run(const std::vector<std::string>& argv, RunIo io) {
  if (argv.empty()) return make_error(Errc::usage, "empty command");
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
  int status = 0;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return sys_error("waitpid");
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return WEXITSTATUS(status);
}

Result<void> run_ok(const std::vector<std::string>& argv, RunIo io) {
  Result<int> rc = run(argv, io);
  if (!rc) return std::move(rc).error();
  if (*rc != 0) return make_error(Errc::io, argv[0] + " exited with status " + std::to_string(*rc));
  return {};
}

Result<void> write_file_atomic(const std::string& path, std::string_view data) {
  Result<OutputFile> out = OutputFile::create(path, true);
  if (!out) return std::move(out).error();
  KK_TRY(out->write_at(0, std::as_bytes(std::span(data.data(), data.size()))));
  return out->publish();
}

Result<void> make_dirs(const std::string& path, unsigned mode) {
  for (size_t i = 1; i <= path.size(); ++i) {
    if (i != path.size() && path[i] != '/') continue;
    std::string part = path.substr(0, i);
    bool last = i == path.size();
    if (mkdir(part.c_str(), last ? mode : 0755) != 0 && errno != EEXIST) return sys_error("mkdir " + part);
    if (last && chmod(part.c_str(), mode) != 0) return sys_error("chmod " + part);
  }
  return {};
}

Result<void> fsync_path(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return sys_error("open " + path);
  int r = fsync(fd);
  int e = errno;
  close(fd);
  if (r != 0) return sys_error("fsync " + path, e);
  return {};
}

}  // namespace kk
