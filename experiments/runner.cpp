#include "experiments/runner.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <thread>

#include "engine/file_write.h"
#include "kernels/common/check.h"
#include "experiments/process.h"
#include "experiments/run_state.h"

namespace bts::experiments {

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

volatile sig_atomic_t g_stop = 0;
extern "C" void on_stop_signal(int s) { g_stop = s; }

// SIGINT/SIGTERM handlers without SA_RESTART (so waitpid returns EINTR), restored on scope exit.
class StopSignals {
 public:
  StopSignals() {
    g_stop = 0;
    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int_);
    sigaction(SIGTERM, &sa, &old_term_);
  }
  ~StopSignals() {
    sigaction(SIGINT, &old_int_, nullptr);
    sigaction(SIGTERM, &old_term_, nullptr);
  }

 private:
  struct sigaction old_int_ {}, old_term_ {};
};

struct Job {
  size_t index;  // into points
  fs::path dir;
  std::chrono::steady_clock::time_point t0;
  int gpu = -1;  // the GPU it is pinned to (one of RunnerOptions::gpus), -1: none
};

pid_t spawn_run(const std::string& bts, const fs::path& dir, bool resume, int gpu) {
  std::vector<std::string> args = bts_arguments(dir, resume);
  args.insert(args.begin(), bts);
  std::vector<std::string> env;
  if (gpu >= 0) env.push_back("CUDA_VISIBLE_DEVICES=" + pinned_visible_devices(gpu, std::getenv("CUDA_VISIBLE_DEVICES")));
  return spawn_process(args, (dir / "stdout.txt").string(), env);
}

std::string result_summary(const fs::path& dir) {
  std::ifstream f(dir / "result.json");
  try {
    const json r = json::parse(f);
    std::ostringstream os;
    os.precision(4);
    os << "test accuracy " << 100.0 * r.at("final_test_accuracy").get<double>() << "%";
    return os.str();
  } catch (const std::exception&) {
    return "no result.json";
  }
}

bool completed(const fs::path& dir) {
  std::ifstream f(dir / "result.json");
  try {
    return json::parse(f).value("status", "") == "completed";
  } catch (const std::exception&) {
    return false;
  }
}

}  // namespace

std::string pinned_visible_devices(int index, const char* visible) {
  if (visible == nullptr || *visible == '\0') return std::to_string(index);
  std::vector<std::string> ids;
  std::stringstream in(visible);
  for (std::string id; std::getline(in, id, ',');) ids.push_back(id);
  BTS_CHECK(index >= 0 && index < static_cast<int>(ids.size()),
            "GPU " << index << " is not among the " << ids.size() << " this process sees (CUDA_VISIBLE_DEVICES="
                   << visible << ")");
  return ids[static_cast<size_t>(index)];
}

std::vector<int> parse_gpu_list(const std::string& text) {
  std::vector<int> out;
  if (text.empty()) return out;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');) {
    BTS_CHECK(!item.empty() && item.size() <= 4 && item.find_first_not_of("0123456789") == std::string::npos,
              "--gpus '" << text << "': expected GPU indices separated by commas, e.g. 0,1,2,3");
    out.push_back(std::stoi(item));
  }
  BTS_CHECK(!out.empty() && text.back() != ',', "--gpus '" << text << "': expected GPU indices separated by commas");
  return out;
}

int visible_gpus(const std::string& bts) {
  char path[] = "/tmp/bts_info_XXXXXX";
  const int fd = ::mkstemp(path);
  if (fd < 0) return 0;
  ::close(fd);
  int n = 0;
  try {
    if (wait_process(spawn_process({bts, "info"}, path)) == 0) {
      // "bts 0.1.0, CUDA: <name>" (one GPU), "..., cuda:0 of N CUDA devices" (several), "..., CPU (no CUDA ...)".
      std::ifstream f(path);
      const std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
      const size_t of = text.find(" of ");
      if (of != std::string::npos && text.find(" CUDA devices", of) != std::string::npos)
        n = std::atoi(text.c_str() + of + 4);
      else if (text.find(", CUDA: ") != std::string::npos)
        n = 1;
    }
  } catch (const std::exception&) {
  }
  ::unlink(path);
  return n;
}

json run_config(const Point& p, const fs::path& dir) {
  json c = p.config;
  c["run_dir"] = dir.string();
  return c;
}

std::vector<std::string> bts_arguments(const fs::path& dir, bool resume) {
  // A resumed run reads its config from the run directory (bts refuses a different one).
  if (resume) return {"train", "--resume", "--run-dir", dir.string(), "--quiet"};
  return {"train", "--config", (dir / "point.json").string(), "--run-dir", dir.string(), "--quiet"};
}

std::string last_lines(const fs::path& file, int n) {
  std::ifstream f(file);
  std::deque<std::string> lines;
  std::string line;
  while (std::getline(f, line)) {
    lines.push_back(line);
    if (static_cast<int>(lines.size()) > n) lines.pop_front();
  }
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

std::string find_bts_next_to_self() {
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return "";
  // Installed side by side, or the build tree (apps/bts beside apps/experiments/<app>).
  for (const fs::path& p : {self.parent_path() / "bts", self.parent_path().parent_path() / "bts"})
    if (fs::is_regular_file(p, ec) && ::access(p.c_str(), X_OK) == 0) return p.string();
  return "";
}

namespace {
// Every config about to run goes through `bts check` (the checks `bts train` makes, each data set read once): a
// missing data set or a bad --set is one error, and nothing is spawned.
void preflight(const std::vector<Point>& points, const std::vector<std::pair<size_t, bool>>& queue,
               const fs::path& root, const RunnerOptions& opt) {
  json list = json::array();
  for (const auto& [i, resume] : queue)
    list.push_back({{"name", points[i].name}, {"config", run_config(points[i], root / points[i].name)}});
  const fs::path file = root / ".preflight.json", out = root / ".preflight.txt";
  write_text_atomic(file.string(), list.dump(1) + "\n");
  std::error_code ec;
  fs::remove(out, ec);
  const int status = wait_process(spawn_process({opt.bts, "check", "--configs", file.string()}, out.string()));
  const std::string said = last_lines(out, 20);
  if (status != 0)
    BTS_FAIL("preflight (" << opt.bts << " check, " << describe_wait_status(status) << "): nothing was started\n"
                           << said);
  fs::remove(file, ec);
  fs::remove(out, ec);
}
}  // namespace

SweepSummary run_sweep(const std::vector<Point>& points, const fs::path& runs_root, const RunnerOptions& opt) {
  BTS_CHECK(opt.jobs >= 1, "--jobs must be >= 1, got " << opt.jobs);
  BTS_CHECK(opt.jobs_per_gpu >= 1, "--jobs-per-gpu must be >= 1, got " << opt.jobs_per_gpu);
  // With GPU placement, a run holds one of jobs_per_gpu slots on one GPU; otherwise one of `jobs` slots.
  std::map<int, int> on_gpu;  // GPU -> runs on it now
  for (int g : opt.gpus) {
    BTS_CHECK(g >= 0, "--gpus: GPU index " << g << " is negative");
    BTS_CHECK(on_gpu.emplace(g, 0).second, "--gpus names GPU " << g << " twice");
  }
  const size_t capacity = opt.gpus.empty() ? static_cast<size_t>(opt.jobs) : opt.gpus.size() * opt.jobs_per_gpu;
  auto free_gpu = [&]() {
    int best = -1;
    for (int g : opt.gpus)  // the least loaded, in the order given
      if (on_gpu[g] < opt.jobs_per_gpu && (best < 0 || on_gpu[g] < on_gpu[best])) best = g;
    return best;
  };
  const auto t0 = std::chrono::steady_clock::now();
  auto since = [](std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
  };
  SweepSummary s;
  s.points = static_cast<int>(points.size());
  const fs::path root = fs::absolute(runs_root);
  fs::create_directories(root);

  // Decide every point first, so the counts are known before anything runs.
  std::vector<std::pair<size_t, bool>> queue;  // (point, resume)
  for (size_t i = 0; i < points.size(); ++i) {
    const fs::path dir = root / points[i].name;
    const RunInspection r = inspect_run(dir, run_config(points[i], dir));
    switch (r.action) {
      case RunAction::Skip: ++s.skipped; break;
      case RunAction::Conflict:
        s.failures.push_back({points[i].name, "conflict: " + r.why + " (remove " + dir.string() + " to rerun it)", ""});
        break;
      case RunAction::Resume: queue.emplace_back(i, true); break;
      case RunAction::Start: queue.emplace_back(i, false); break;
    }
  }
  const std::string placement =
      opt.gpus.empty() ? "" : ", " + std::to_string(opt.jobs_per_gpu) + " per GPU on " + std::to_string(opt.gpus.size()) + " GPU(s)";
  std::fprintf(opt.log, "sweep: %d points, %d already completed, %zu to run (%zu at once%s), runs in %s\n", s.points,
               s.skipped, queue.size(), capacity, placement.c_str(), root.string().c_str());
  for (const auto& f : s.failures) std::fprintf(opt.log, "sweep: %s: %s\n", f.name.c_str(), f.what.c_str());
  std::fflush(opt.log);
  if (!queue.empty()) preflight(points, queue, root, opt);

  // Runs side by side on a CPU would oversubscribe the cores with their OpenMP threads: share them out, unless
  // the caller chose a thread count.
  if (capacity > 1 && !std::getenv("OMP_NUM_THREADS")) {
    const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
    ::setenv("OMP_NUM_THREADS", std::to_string(std::max(1u, cores / static_cast<unsigned>(capacity))).c_str(), 1);
  }

  StopSignals signals;
  std::map<pid_t, Job> running;
  size_t next = 0, finished = 0;
  bool forwarded = false;
  while (true) {
    if (g_stop && !forwarded) {
      forwarded = true;
      s.interrupted = true;
      std::fprintf(opt.log, "sweep: signal %d: no new runs; asking %zu running run(s) to checkpoint and stop\n",
                   static_cast<int>(g_stop), running.size());
      for (auto& [pid, job] : running) ::kill(pid, SIGTERM);
    }
    while (!g_stop && running.size() < capacity && next < queue.size()) {
      const int gpu = opt.gpus.empty() ? -1 : free_gpu();
      if (!opt.gpus.empty() && gpu < 0) break;  // every GPU at its limit (cannot happen below capacity)
      const auto [i, resume] = queue[next++];
      const fs::path dir = root / points[i].name;
      fs::create_directories(dir);
      if (!resume) {
        write_text_atomic((dir / "point.json").string(), run_config(points[i], dir).dump(2) + "\n");
      }
      pid_t pid = -1;
      try {
        pid = spawn_run(opt.bts, dir, resume, gpu);
      } catch (const std::exception& e) {  // e.g. out of processes: this run fails, the others go on
        s.failures.push_back({points[i].name, e.what(), ""});
        std::fprintf(opt.log, "[%7.1f s] FAILED %s: %s\n", since(t0), points[i].name.c_str(), e.what());
        continue;
      }
      running.emplace(pid, Job{i, dir, std::chrono::steady_clock::now(), gpu});
      if (gpu >= 0) ++on_gpu[gpu];
      (resume ? s.resumed : s.started)++;
      const std::string where = gpu >= 0 ? " on GPU " + std::to_string(gpu) : "";
      std::fprintf(opt.log, "[%7.1f s] %-6s %zu/%zu %s%s\n", since(t0), resume ? "resume" : "start", next, queue.size(),
                   points[i].name.c_str(), where.c_str());
      std::fflush(opt.log);
    }
    if (running.empty()) break;
    int status = 0;
    const pid_t pid = ::waitpid(-1, &status, 0);
    if (pid < 0) {
      if (errno == EINTR) continue;
      BTS_FAIL("waitpid failed: " << std::strerror(errno));
    }
    auto it = running.find(pid);
    if (it == running.end()) continue;  // not one of ours
    const Job job = it->second;
    running.erase(it);
    if (job.gpu >= 0) --on_gpu[job.gpu];
    ++finished;
    const std::string& name = points[job.index].name;
    const double secs = since(job.t0);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && completed(job.dir)) {
      ++s.succeeded;
      std::fprintf(opt.log, "[%7.1f s] done   %zu/%zu %s in %.1f s: %s\n", since(t0), finished, queue.size(),
                   name.c_str(), secs, result_summary(job.dir).c_str());
    } else if (g_stop && WIFEXITED(status) && WEXITSTATUS(status) == 130) {
      std::fprintf(opt.log, "[%7.1f s] paused %s (checkpoint written; rerun to resume)\n", since(t0), name.c_str());
    } else {
      RunFailure f{name, describe_wait_status(status), last_lines(job.dir / "stdout.txt", 6)};
      std::fprintf(opt.log, "[%7.1f s] FAILED %s after %.1f s (%s); last lines of %s:\n%s", since(t0), name.c_str(),
                   secs, f.what.c_str(), (job.dir / "stdout.txt").string().c_str(), f.last_lines.c_str());
      s.failures.push_back(std::move(f));
    }
    std::fflush(opt.log);
  }
  s.seconds = since(t0);
  return s;
}

}  // namespace bts::experiments
