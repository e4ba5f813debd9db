#include "data/fetch.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <sstream>

#ifdef BTS_WITH_CURL
#include <curl/curl.h>
#endif
#ifdef BTS_WITH_LIBARCHIVE
#include <archive.h>
#include <archive_entry.h>
#endif
#ifdef BTS_WITH_OPENSSL
#include <openssl/evp.h>
#endif

#include "data/file_io.h"
#include "kernels/common/check.h"

namespace bts {

namespace fs = std::filesystem;

namespace {

using Log = std::function<void(const std::string&)>;

void say(const Log& log, const std::string& line) {
  if (log) log(line);
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

int64_t file_size_or_zero(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) ? static_cast<int64_t>(st.st_size) : 0;
}

// Fails before anything is downloaded when this build lacks a library the spec needs, naming its package.
void require_libraries(const FetchSpec& spec) {
#ifndef BTS_WITH_CURL
  BTS_FAIL("bts data fetch " << spec.dataset << ": this build has no libcurl to download with (install the Debian "
                                                "package libcurl4-openssl-dev and reconfigure)");
#endif
#ifndef BTS_WITH_OPENSSL
  BTS_FAIL("bts data fetch " << spec.dataset << ": this build has no OpenSSL to check MD5 sums with (install the "
                                                "Debian package libssl-dev and reconfigure)");
#endif
#ifndef BTS_WITH_LIBARCHIVE
  BTS_CHECK(spec.folder.empty(), "bts data fetch " << spec.dataset << ": this build has no libarchive to unpack "
                                                   << spec.files.at(0).name
                                                   << " with (install the Debian package libarchive-dev and "
                                                      "reconfigure)");
#endif
  (void)spec;
}

// ---------------------------------------------------------------- download

#ifdef BTS_WITH_CURL

struct CurlFree {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};

// What a transfer writes into: the `.part` file (opened for appending) and what went wrong writing it.
struct Sink {
  int fd = -1;
  int write_errno = 0;
};

size_t write_to_part(char* data, size_t size, size_t count, void* user) {
  Sink* sink = static_cast<Sink*>(user);
  const size_t total = size * count;
  size_t done = 0;
  while (done < total) {
    const ssize_t n = ::write(sink->fd, data + done, total - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      sink->write_errno = n < 0 ? errno : EIO;
      return 0;  // makes curl stop with CURLE_WRITE_ERROR
    }
    done += static_cast<size_t>(n);
  }
  return total;
}

// Progress every tenth of a large file: a 170 MB download should not look hung.
struct Progress {
  const Log* log;
  std::string name;
  int64_t offset;  // bytes already in the .part before this transfer
  int next_tenth = 1;
};

int report_progress(void* user, curl_off_t total, curl_off_t now, curl_off_t, curl_off_t) {
  Progress* p = static_cast<Progress*>(user);
  const int64_t whole = p->offset + static_cast<int64_t>(total), have = p->offset + static_cast<int64_t>(now);
  if (total <= 0 || whole < (int64_t(1) << 20)) return 0;
  const int tenth = static_cast<int>(have * 10 / whole);
  if (tenth >= p->next_tenth && tenth < 10) {
    say(*p->log, p->name + ": " + std::to_string(tenth * 10) + "% of " + with_commas(static_cast<uint64_t>(whole)) +
                     " bytes");
    p->next_tenth = tenth + 1;
  }
  return 0;
}

void init_curl_once() {
  static const CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);
  BTS_CHECK(rc == CURLE_OK, "libcurl failed to initialise: " << curl_easy_strerror(rc));
}

enum class Transfer { Done, CannotResume };

// Appends url's bytes to `part`, starting at the part's current size (a range request when it is not empty).
// Returns CannotResume when the server (or file://) refuses that range, so the caller can start over.
// Any other failure throws; the bytes received stay in `part` for the next attempt (an empty part is removed).
Transfer append_download(const std::string& url, const std::string& part, const std::string& name, const Log& log) {
  init_curl_once();
  const int fd = ::open(part.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  BTS_CHECK(fd >= 0, "cannot open '" << part << "' for writing: " << std::strerror(errno));
  // Closing the descriptor releases the lock; two fetches appending to one .part would corrupt it.
  std::unique_ptr<int, void (*)(int*)> close_fd(new int(fd), [](int* f) {
    ::close(*f);
    delete f;
  });
  BTS_CHECK(::flock(fd, LOCK_EX | LOCK_NB) == 0,
            "'" << part << "' is being written by another process (another bts data fetch into the same folder?)");
  const int64_t offset = file_size_or_zero(part);

  std::unique_ptr<CURL, CurlFree> curl(curl_easy_init());
  BTS_CHECK(curl != nullptr, "libcurl could not start a transfer for '" << url << "'");
  CURL* c = curl.get();
  Sink sink{fd, 0};
  Progress progress{&log, name, offset};
  char error[CURL_ERROR_SIZE] = "";
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
#if LIBCURL_VERSION_NUM >= 0x075500
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https,file");
  curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#endif
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);  // an HTTP error page must not end up in the .part
  curl_easy_setopt(c, CURLOPT_USERAGENT, "bts-data-fetch");
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);  // give up on a connection silent for a minute
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
  curl_easy_setopt(c, CURLOPT_RESUME_FROM_LARGE, static_cast<curl_off_t>(offset));
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_to_part);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, report_progress);
  curl_easy_setopt(c, CURLOPT_XFERINFODATA, &progress);
  const CURLcode rc = curl_easy_perform(c);
  if (rc == CURLE_RANGE_ERROR || rc == CURLE_BAD_DOWNLOAD_RESUME) return Transfer::CannotResume;
  const bool synced = rc == CURLE_OK && ::fsync(fd) == 0;
  const int64_t have = file_size_or_zero(part);
  if (rc == CURLE_OK && synced) return Transfer::Done;
  std::ostringstream why;
  if (rc == CURLE_WRITE_ERROR || (rc == CURLE_OK && !synced))
    why << "cannot write '" << part << "': " << std::strerror(sink.write_errno ? sink.write_errno : errno);
  else
    why << (error[0] ? error : curl_easy_strerror(rc));
  if (have == 0) ::unlink(part.c_str());
  BTS_FAIL("downloading '" << url << "' failed: " << why.str() << "; "
                           << (have > 0 ? "the " + with_commas(static_cast<uint64_t>(have)) + " bytes received are "
                                              "kept in '" + part + "' and the next fetch resumes from there"
                                        : std::string("nothing was kept")));
}

#endif  // BTS_WITH_CURL

// Downloads one file to `final` through `final.part`: resumes a part left by an interrupted fetch, checks the
// MD5, and renames only a verified file. A part that fails the check after resuming is fetched again once,
// whole; a whole download that fails it is removed and reported.
void download_verified(const std::string& url, const std::string& final_path, const FetchFile& file,
                       const Log& log) {
#ifdef BTS_WITH_CURL
  const std::string part = final_path + ".part", want = lower(file.md5);
  int64_t start = file_size_or_zero(part);
  bool verified = start > 0 && md5_file(part) == want;  // a finished download whose rename was interrupted
  if (verified) {
    say(log, file.name + ": '" + part + "' is already complete (MD5 matches)");
  } else {
    if (start > 0)
      say(log, file.name + ": resuming the interrupted download at byte " + with_commas(static_cast<uint64_t>(start)) +
                   " from " + url);
    else
      say(log, file.name + ": downloading " + url);
    for (int attempt = 0;; ++attempt) {
      if (append_download(url, part, file.name, log) == Transfer::CannotResume) {
        BTS_CHECK(start > 0 && attempt == 0, "downloading '" << url << "' failed: the server refused a transfer "
                                                             "from byte 0");
        say(log, file.name + ": the server cannot resume at byte " + with_commas(static_cast<uint64_t>(start)) +
                     "; downloading again from the start");
      } else {
        const std::string got = md5_file(part);
        if (got == want) break;
        if (start == 0 || attempt > 0) {
          const int64_t size = file_size_or_zero(part);
          ::unlink(part.c_str());
          BTS_FAIL("'" << url << "': MD5 " << got << " does not match the published " << want << " for "
                       << file.name << " (the " << with_commas(static_cast<uint64_t>(size))
                       << " bytes downloaded were removed; check the mirror (--from, BTS_DATA_MIRROR) or fetch "
                          "again)");
        }
        say(log, file.name + ": MD5 does not match after resuming; downloading again from the start");
      }
      ::unlink(part.c_str());
      start = 0;
    }
  }
  std::error_code ec;
  fs::rename(part, final_path, ec);
  BTS_CHECK(!ec, "cannot rename '" << part << "' to '" << final_path << "': " << ec.message());
  say(log, file.name + ": " + with_commas(static_cast<uint64_t>(file_size_or_zero(final_path))) +
               " bytes, MD5 " + want + " ok");
#else
  (void)url, (void)final_path, (void)file, (void)log;
#endif
}

// ---------------------------------------------------------------- unpacking

#ifdef BTS_WITH_LIBARCHIVE

struct ArchiveFree {
  void operator()(struct archive* a) const { archive_read_free(a); }
};

// The entry's path without leading "./", or "" when it is absolute or climbs out with "..".
std::string safe_relative_path(const std::string& raw) {
  if (raw.empty() || raw[0] == '/') return "";
  std::string out;
  std::stringstream parts(raw);
  for (std::string p; std::getline(parts, p, '/');) {
    if (p.empty() || p == ".") continue;
    if (p == "..") return "";
    out += (out.empty() ? "" : "/") + p;
  }
  return out;
}

// Unpacks `archive_path` (tar.gz) into `into`, which must be empty. Only plain files and folders under
// `folder/` are accepted: the published archives hold nothing else.
void unpack(const std::string& archive_path, const std::string& into, const std::string& folder) {
  std::unique_ptr<struct archive, ArchiveFree> a(archive_read_new());
  BTS_CHECK(a != nullptr, "libarchive could not start reading '" << archive_path << "'");
  archive_read_support_filter_gzip(a.get());
  archive_read_support_format_tar(a.get());
  BTS_CHECK(archive_read_open_filename(a.get(), archive_path.c_str(), size_t(1) << 16) == ARCHIVE_OK,
            "'" << archive_path << "': not a tar.gz archive libarchive can read ("
                << archive_error_string(a.get()) << ")");
  for (;;) {
    struct archive_entry* entry = nullptr;
    const int rc = archive_read_next_header(a.get(), &entry);
    if (rc == ARCHIVE_EOF) break;
    BTS_CHECK(rc >= ARCHIVE_WARN, "'" << archive_path << "': corrupt archive (" << archive_error_string(a.get())
                                      << ")");
    const char* raw = archive_entry_pathname(entry);
    const std::string name = safe_relative_path(raw ? raw : "");
    BTS_CHECK(name == folder || name.rfind(folder + "/", 0) == 0,
              "'" << archive_path << "': entry '" << (raw ? raw : "") << "' is outside " << folder
                  << "/, expected only that folder's files");
    const std::string out = join_path(into, name);
    const auto type = archive_entry_filetype(entry);
    if (type == AE_IFDIR) {
      fs::create_directories(out);
      continue;
    }
    BTS_CHECK(type == AE_IFREG, "'" << archive_path << "': entry '" << name
                                    << "' is a link or special file, expected only files and folders");
    fs::create_directories(fs::path(out).parent_path());
    std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(out.c_str(), "wbx"), std::fclose);
    BTS_CHECK(f != nullptr, "cannot create '" << out << "': " << std::strerror(errno));
    char buf[1 << 16];
    for (;;) {
      const la_ssize_t n = archive_read_data(a.get(), buf, sizeof buf);
      BTS_CHECK(n >= 0, "'" << archive_path << "': corrupt data in entry '" << name << "' ("
                            << archive_error_string(a.get()) << ")");
      if (n == 0) break;
      BTS_CHECK(std::fwrite(buf, 1, static_cast<size_t>(n), f.get()) == static_cast<size_t>(n),
                "cannot write '" << out << "': " << std::strerror(errno));
    }
    BTS_CHECK(std::fflush(f.get()) == 0 && ::fsync(::fileno(f.get())) == 0,
              "cannot write '" << out << "': " << std::strerror(errno));
  }
}

#endif  // BTS_WITH_LIBARCHIVE

// Removes a folder (with everything in it) when it goes out of scope, unless released.
class RemoveOnExit {
 public:
  explicit RemoveOnExit(std::string path) : path_(std::move(path)) {}
  ~RemoveOnExit() {
    std::error_code ec;
    if (!path_.empty()) fs::remove_all(path_, ec);
  }
  RemoveOnExit(const RemoveOnExit&) = delete;
  RemoveOnExit& operator=(const RemoveOnExit&) = delete;

 private:
  std::string path_;
};

// Unpacks a verified archive into a temporary folder next to its destination, checks that every member is
// there, and only then renames the folder into place; the archive is removed afterwards. On failure the
// temporary folder goes and the verified archive stays, so the next fetch unpacks it without downloading.
void unpack_into_place(const std::string& archive_path, const FetchSpec& spec, const std::string& to,
                       const Log& log) {
#ifdef BTS_WITH_LIBARCHIVE
  const std::string tmp = join_path(to, "." + spec.folder + ".unpacking");
  std::error_code ec;
  fs::remove_all(tmp, ec);  // left by a fetch that was killed while unpacking
  fs::create_directories(tmp);
  RemoveOnExit cleanup(tmp);
  try {
    unpack(archive_path, tmp, spec.folder);
    const std::string unpacked = join_path(tmp, spec.folder);
    for (const std::string& m : spec.members)
      BTS_CHECK(fs::is_regular_file(join_path(unpacked, m)),
                "'" << archive_path << "' holds no " << spec.folder << "/" << m << ", expected " << spec.dataset
                    << "'s files there");
    const std::string dest = join_path(to, spec.folder);
    fs::rename(unpacked, dest, ec);
    BTS_CHECK(!ec, "cannot rename '" << unpacked << "' to '" << dest << "': " << ec.message());
  } catch (const Error& e) {
    throw Error(std::string(e.what()) + " (the verified download '" + archive_path +
                "' is kept: the next fetch unpacks it again without downloading)");
  } catch (const fs::filesystem_error& e) {
    throw Error("unpacking '" + archive_path + "' failed: " + e.what() + " (the verified download is kept: the " +
                "next fetch unpacks it again without downloading)");
  }
  fs::remove(archive_path, ec);
  say(log, spec.dataset + ": unpacked into " + join_path(to, spec.folder));
#else
  (void)archive_path, (void)spec, (void)to, (void)log;
#endif
}

// True when the unpacked folder is complete; throws when it exists but lacks a member (it is not ours to fix).
bool folder_in_place(const FetchSpec& spec, const std::string& to) {
  const std::string dest = join_path(to, spec.folder);
  if (!fs::exists(dest)) return false;
  for (const std::string& m : spec.members)
    BTS_CHECK(fs::is_regular_file(join_path(dest, m)), "'" << dest << "' exists but holds no " << m
                                                           << "; remove that folder and fetch " << spec.dataset
                                                           << " again");
  return true;
}

std::string url_of(const std::string& base, const std::string& name) {
  return base.empty() || base.back() == '/' ? base + name : base + "/" + name;
}

}  // namespace

const std::vector<std::string>& fetchable_datasets() {
  static const std::vector<std::string> names{"cifar10", "cifar100", "svhn"};
  return names;
}

FetchSpec official_fetch_spec(const std::string& dataset) {
  // The files and MD5 sums published on the data sets' pages (the CIFAR page's table; torchvision's SVHN class).
  if (dataset == "cifar10")
    return {"cifar10", "https://www.cs.toronto.edu/~kriz",
            {{"cifar-10-binary.tar.gz", "c32a1d4ab5d03f1284b67883e8d87530"}}, "cifar-10-batches-bin",
            {"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin",
             "test_batch.bin"}};
  if (dataset == "cifar100")
    return {"cifar100", "https://www.cs.toronto.edu/~kriz",
            {{"cifar-100-binary.tar.gz", "03b5dce01913d631647c71ecec9e9cb8"}}, "cifar-100-binary",
            {"train.bin", "test.bin"}};
  if (dataset == "svhn")
    return {"svhn", "http://ufldl.stanford.edu/housenumbers",
            {{"train_32x32.mat", "e26dedcc434d2e4c54c9b2d4a06d8373"},
             {"test_32x32.mat", "eb5a983be6a315427106f1b164d9cef3"}},
            "",
            {}};
  std::string valid;
  for (const std::string& n : fetchable_datasets()) valid += (valid.empty() ? "" : ", ") + n;
  BTS_FAIL("bts data fetch: unknown data set '" << dataset << "', expected one of " << valid
                                                 << " (mini-ImageNet needs convert_miniimagenet; Fashion-MNIST "
                                                    "comes with apt-get install dataset-fashion-mnist)");
}

std::string fetch_dataset(const FetchSpec& spec, const std::string& to, const FetchOptions& options) {
  BTS_CHECK(!to.empty(), "bts data fetch " << spec.dataset << ": --to must name a folder");
  BTS_CHECK(!spec.files.empty(), "bts data fetch " << spec.dataset << ": no files to fetch");
  BTS_CHECK(spec.folder.empty() || spec.files.size() == 1,
            "bts data fetch " << spec.dataset << ": a data set unpacked from an archive must come as one file");
  require_libraries(spec);
  const Log& log = options.log;
  const std::string base = options.mirror.empty() ? spec.base_url : options.mirror;
  std::error_code ec;
  fs::create_directories(to, ec);
  BTS_CHECK(fs::is_directory(to), "cannot create the folder '" << to << "'" << (ec ? ": " + ec.message() : ""));

  if (!spec.folder.empty() && folder_in_place(spec, to)) {
    say(log, spec.dataset + ": already in " + join_path(to, spec.folder) + " (remove it to fetch again)");
    return to;
  }
  for (const FetchFile& file : spec.files) {
    const std::string final_path = join_path(to, file.name);
    if (fs::exists(final_path)) {
      // Only a verified download is ever renamed to this name; anything else there is not ours to replace.
      const std::string got = md5_file(final_path);
      BTS_CHECK(got == lower(file.md5), "'" << final_path << "' exists but its MD5 is " << got << ", expected "
                                            << lower(file.md5) << "; remove it and fetch " << spec.dataset
                                            << " again");
      say(log, file.name + ": already in " + to + " (MD5 ok)");
      continue;
    }
    download_verified(url_of(base, file.name), final_path, file, log);
  }
  if (!spec.folder.empty()) unpack_into_place(join_path(to, spec.files[0].name), spec, to, log);
  return to;
}

std::string md5_file(const std::string& path) {
#ifdef BTS_WITH_OPENSSL
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  BTS_CHECK(fd >= 0, "cannot open '" << path << "': " << std::strerror(errno));
  std::unique_ptr<int, void (*)(int*)> close_fd(new int(fd), [](int* f) {
    ::close(*f);
    delete f;
  });
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  BTS_CHECK(ctx != nullptr && EVP_DigestInit_ex(ctx.get(), EVP_md5(), nullptr) == 1,
            "OpenSSL cannot compute MD5 (to check '" << path << "')");
  std::vector<unsigned char> buf(size_t(1) << 20);
  for (;;) {
    const ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    BTS_CHECK(n >= 0, "cannot read '" << path << "': " << std::strerror(errno));
    if (n == 0) break;
    EVP_DigestUpdate(ctx.get(), buf.data(), static_cast<size_t>(n));
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  BTS_CHECK(EVP_DigestFinal_ex(ctx.get(), digest, &len) == 1, "OpenSSL failed to finish the MD5 of '" << path << "'");
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out += hex[digest[i] >> 4];
    out += hex[digest[i] & 15];
  }
  return out;
#else
  BTS_FAIL("cannot check the MD5 of '" << path << "': this build has no OpenSSL (install the Debian package "
                                          "libssl-dev and reconfigure)");
#endif
}

std::string fetch_hint(const std::string& dataset, const std::string& dir) {
  return "(download it with: bts data fetch " + dataset + " --to " + (dir.empty() ? "<dir>" : dir) + ")";
}

}  // namespace bts
