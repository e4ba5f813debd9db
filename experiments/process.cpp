#include "experiments/process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <sstream>

#include "kernels/common/check.h"

extern char** environ;

namespace bts::experiments {

pid_t spawn_process(const std::vector<std::string>& args, const std::string& output,
                    const std::vector<std::string>& extra_env) {
  BTS_CHECK(!args.empty(), "spawn_process: empty command");
  std::vector<std::string> copy = args;
  std::vector<char*> argv;
  for (auto& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  if (!output.empty()) {
    posix_spawn_file_actions_addopen(&fa, 1, output.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
  }
  // The child starts with default SIGINT/SIGTERM/SIGPIPE handling whatever the sweep does with them (an ignored
  // signal would otherwise stay ignored across exec).
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t defaults;
  sigemptyset(&defaults);
  for (int s : {SIGINT, SIGTERM, SIGPIPE}) sigaddset(&defaults, s);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF);
  // BTS_PARENT_PID asks a bts child to end (with a checkpoint, as on SIGTERM) when this process dies: killing only
  // a sweep's parent must not leave its runs going on unattended (apps/bts_main.cpp).
  std::vector<std::string> env_strings;
  std::vector<std::string> replaced{"BTS_PARENT_PID="};
  for (const std::string& e : extra_env) replaced.push_back(e.substr(0, e.find('=') + 1));
  for (char** e = environ; *e != nullptr; ++e) {
    bool keep = true;
    for (const std::string& r : replaced) keep = keep && std::strncmp(*e, r.c_str(), r.size()) != 0;
    if (keep) env_strings.emplace_back(*e);
  }
  env_strings.push_back("BTS_PARENT_PID=" + std::to_string(::getpid()));
  for (const std::string& e : extra_env) env_strings.push_back(e);
  std::vector<char*> envp;
  for (auto& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);
  pid_t pid = -1;
  const int rc = posix_spawnp(&pid, copy[0].c_str(), &fa, &attr, argv.data(), envp.data());
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&fa);
  BTS_CHECK(rc == 0, "cannot start '" << copy[0] << "': " << std::strerror(rc));
  return pid;
}

int wait_process(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    BTS_CHECK(errno == EINTR, "waitpid(" << pid << ") failed: " << std::strerror(errno));
  }
  return status;
}

std::string describe_wait_status(int status) {
  if (WIFEXITED(status)) return "exit status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
  return "ended abnormally";
}

std::string find_in_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  if (!path) return "";
  std::istringstream ps(path);
  std::string dir;
  while (std::getline(ps, dir, ':')) {
    if (dir.empty()) continue;
    const std::string p = dir + "/" + name;
    if (::access(p.c_str(), X_OK) == 0) return p;
  }
  return "";
}

}  // namespace bts::experiments
