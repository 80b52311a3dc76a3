// capture_ssh.cpp: the ssh target (see capture.h). The flattened stream goes through ssh into
// a remote directory created for this dump; the host key must match the one recorded in the
// first kernel, or nothing is sent. Every remote word goes through shell_quote().
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>

#include "lib/io/file.h"
#include "lib/io/text_file.h"
#include "kdumpctl/capture.h"
#include "kdumpctl/known_hosts.h"
#include "kdumpctl/shell_quote.h"

namespace kk {

namespace {

constexpr const char* kLogFiles[] = {"vmcore-dmesg.txt", "report.txt", "report.json"};

std::vector<std::string> ssh_argv(const SaveJob& job, const std::string& remote_cmd) {
  std::vector<std::string> a = {"ssh"};
  for (std::string& o : ssh_options(job.host, job.conf)) a.push_back(std::move(o));
  a.insert(a.end(), {"--", job.conf.ssh, remote_cmd});
  return a;
}

Result<void> check_host_key(const SaveJob& job) {
  std::string file = job.host.path(known_hosts_path(job.conf)), host = ssh_host(job.conf.ssh);
  Result<std::string> text = read_text_file(file, 1 << 20);
  if (!text || !known_hosts_has(*text, host))
    return make_error(Errc::missing, file + ": no host key recorded for " + host +
                                         " (kdumpctl propagate or start records it); nothing sent");
  return {};
}

// mkdir without -p, name, name-1, ... until one is new; prints the one it made.
std::string mkdir_script(const std::string& path, const std::string& name) {
  std::string p = shell_quote(path), n = shell_quote(name);
  return "umask 077 && mkdir -p -- " + p + " && cd -- " + p + " && d=" + n +
         " && i=0 && until mkdir -- \"$d\" 2>/dev/null; do i=$((i+1)); [ $i -le 999 ] || exit 1; d=" + n +
         "-$i; done && printf '%s\\n' \"$d\"";
}

bool is_our_name(std::string_view got, std::string_view name) {
  if (!got.starts_with(name)) return false;
  std::string_view rest = got.substr(name.size());
  return rest.empty() || (rest.size() > 1 && rest[0] == '-' &&
                          std::all_of(rest.begin() + 1, rest.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }));
}

Result<std::string> make_remote_dir(const SaveJob& job) {
  Result<std::string> out = run_output(ssh_argv(job, mkdir_script(job.conf.path, job.name)), 4096);
  if (!out) return std::move(out).error().context("creating the dump directory on " + job.conf.ssh);
  std::string got = out->substr(0, out->find('\n'));
  if (!is_our_name(got, job.name)) return make_error(Errc::io, job.conf.ssh + ": unexpected answer '" + got + "' to mkdir");
  return job.conf.path + "/" + got;
}

// "set -C": the shell's > refuses a file that exists.
std::string write_cmd(const std::string& file) { return "umask 077 && set -C && cat > " + shell_quote(file); }

// The log and report are written locally, then copied the same way (best effort).
void copy_logs(const SaveJob& job, const std::string& dir) {
  char tmpl[] = "/tmp/kdumpctl.XXXXXX";
  if (!mkdtemp(tmpl)) {
    say("no local directory for the log and report");
    return;
  }
  std::string local = tmpl;
  logs_and_report(job, local);
  for (const char* f : kLogFiles) {
    std::string path = local + "/" + f;
    Fd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) continue;
    Result<void> r = run_ok(ssh_argv(job, write_cmd(dir + "/" + f)), RunIo{fd.get(), -1});
    if (!r) say(std::string("copying ") + f + " failed: " + r.error().msg);
    unlink(path.c_str());
  }
  rmdir(local.c_str());
}

}  // namespace

Result<std::string> save_ssh(const SaveJob& job) {
  KK_TRY(check_host_key(job));
  Result<std::string> dir = make_remote_dir(job);
  if (!dir) return dir;
  std::string incomplete = *dir + "/vmcore-incomplete", done = *dir + "/vmcore.flat";
  say("running " + job.conf.core_collector + " into " + job.conf.ssh + ":" + incomplete);
  Result<void> r = run_pipe(collector_argv(job, ""), ssh_argv(job, write_cmd(incomplete)));
  if (!r) return std::move(r).error().context("ssh " + job.conf.ssh + ": copying the dump");
  std::string publish = "sync && [ ! -e " + shell_quote(done) + " ] && mv -- " + shell_quote(incomplete) + " " + shell_quote(done);
  KK_TRY(run_ok(ssh_argv(job, publish)));
  copy_logs(job, *dir);
  return job.conf.ssh + ":" + *dir;
}

}  // namespace kk
