// Child processes for the sweep: start a program with its output appended to a file, wait for one child.
#pragma once
#include <sys/types.h>

#include <string>
#include <vector>

namespace bts::experiments {

// Starts argv[0] (a path, or a name looked up in PATH) with stdout and stderr appended to `output` ("" keeps
// the parent's). Throws bts::Error when it cannot start.
// `extra_env` ("NAME=value") is added to (or replaces in) the inherited environment.
pid_t spawn_process(const std::vector<std::string>& argv, const std::string& output,
                    const std::vector<std::string>& extra_env = {});

// Waits for that child; its raw wait status.
int wait_process(pid_t pid);

// "exit status 1", "killed by signal 9".
std::string describe_wait_status(int status);

// The full path of a program found in PATH, or "".
std::string find_in_path(const std::string& name);

}  // namespace bts::experiments
