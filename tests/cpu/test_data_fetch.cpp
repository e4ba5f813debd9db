// `bts data fetch` (data/fetch.h) without the network: the tests write small archives in the published layouts,
// serve them through file:// URLs with their own checksums, and check what lands where the loaders look, and
// that a bad checksum, an interrupted download or a broken archive never leaves a data set a run would read.
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#ifdef BTS_CAN_FETCH
#include <archive.h>
#include <archive_entry.h>
#endif

#include "data/cifar.h"
#include "data/dataset.h"
#include "data/fetch.h"
#include "data/file_io.h"
#include "tests/cpu/test_data_files.h"

using namespace bts;
using namespace bts::test;

namespace {

std::set<std::string> names_in(const std::string& dir) {
  std::set<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) out.insert(e.path().filename().string());
  return out;
}

std::string joined(const std::vector<std::string>& lines) {
  std::string s;
  for (const std::string& l : lines) s += l + "\n";
  return s;
}

}  // namespace

TEST_SUITE("data_fetch") {

TEST_CASE("official specs: the three data sets, their files and published MD5 sums; unknown names listed") {
  CHECK(fetchable_datasets() == std::vector<std::string>{"cifar10", "cifar100", "svhn"});
  const FetchSpec c10 = official_fetch_spec("cifar10");
  REQUIRE(c10.files.size() == 1);
  CHECK(c10.base_url + "/" + c10.files[0].name == "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz");
  CHECK(c10.files[0].md5 == "c32a1d4ab5d03f1284b67883e8d87530");
  CHECK(c10.folder == "cifar-10-batches-bin");  // the nested folder load_cifar10 looks for under --data-dir
  CHECK(c10.members.size() == 6);
  const FetchSpec c100 = official_fetch_spec("cifar100");
  CHECK(c100.files[0].name == "cifar-100-binary.tar.gz");
  CHECK(c100.files[0].md5 == "03b5dce01913d631647c71ecec9e9cb8");
  CHECK(c100.folder == "cifar-100-binary");
  CHECK(c100.members == std::vector<std::string>{"train.bin", "test.bin"});
  const FetchSpec svhn = official_fetch_spec("svhn");
  REQUIRE(svhn.files.size() == 2);
  CHECK(svhn.base_url + "/" + svhn.files[0].name == "http://ufldl.stanford.edu/housenumbers/train_32x32.mat");
  CHECK(svhn.files[0].md5 == "e26dedcc434d2e4c54c9b2d4a06d8373");
  CHECK(svhn.files[1].name == "test_32x32.mat");
  CHECK(svhn.files[1].md5 == "eb5a983be6a315427106f1b164d9cef3");
  CHECK(svhn.folder.empty());
  check_error([] { official_fetch_spec("mnist"); }, {"unknown data set 'mnist'", "cifar10, cifar100, svhn"});
  check_error([] { official_fetch_spec("miniimagenet"); }, {"convert_miniimagenet"});
}

TEST_CASE("a missing data set's error says how to fetch it") {
  TempDir empty;
  check_error([&] { load_dataset("cifar10", empty.path()); },
              {"not found", "(download it with: bts data fetch cifar10 --to " + empty.path() + ")"});
  check_error([&] { load_dataset("cifar100", empty.path()); }, {"bts data fetch cifar100 --to " + empty.path()});
  check_error([&] { load_dataset("svhn", empty.path()); },
              {"cannot open", empty.file("train_32x32.mat"), "bts data fetch svhn --to " + empty.path()});
}

#ifdef BTS_CAN_FETCH

TEST_CASE("md5_file: RFC 1321's test vectors") {
  TempDir dir;
  write_text(dir.file("empty"), "");
  CHECK(md5_file(dir.file("empty")) == "d41d8cd98f00b204e9800998ecf8427e");
  write_text(dir.file("abc"), "abc");
  CHECK(md5_file(dir.file("abc")) == "900150983cd24fb0d6963f7d28e17f72");
  write_text(dir.file("million"), std::string(1000000, 'a'));
  CHECK(md5_file(dir.file("million")) == "7707d6ae4e027c70eea2a935c2296f21");
  check_error([&] { md5_file(dir.file("missing")); }, {"cannot open", dir.file("missing")});
}

namespace {

// `n` CIFAR-10 records (label byte + R, G, B planes), sample ids first.., labels id % 10.
Bytes cifar10_records(int64_t first, int n) {
  Bytes b;
  for (int64_t i = first; i < first + n; ++i) {
    b.push_back(static_cast<uint8_t>(i % 10));
    for (int c = 0; c < 3; ++c)
      for (int y = 0; y < 32; ++y)
        for (int x = 0; x < 32; ++x) b.push_back(pattern_pixel(i, c, y, x));
  }
  return b;
}

// The members of a tiny cifar-10-binary.tar.gz: six batches of 3 records each, plus the meta file.
std::map<std::string, Bytes> tiny_cifar10() {
  std::map<std::string, Bytes> m;
  for (int k = 1; k <= 5; ++k) m["data_batch_" + std::to_string(k) + ".bin"] = cifar10_records(10 * k, 3);
  m["test_batch.bin"] = cifar10_records(100, 3);
  const std::string meta = "airplane\nautomobile\n";
  m["batches.meta.txt"] = Bytes(meta.begin(), meta.end());
  return m;
}

// A tar.gz holding `folder/` and `folder/<name>` for each member (or `<name>` itself when it has a '/'), written
// with libarchive the way tar(1) writes the published archives.
void write_tar_gz(const std::string& path, const std::string& folder, const std::map<std::string, Bytes>& members) {
  struct archive* a = archive_write_new();
  REQUIRE(a != nullptr);
  REQUIRE(archive_write_add_filter_gzip(a) == ARCHIVE_OK);
  REQUIRE(archive_write_set_format_pax_restricted(a) == ARCHIVE_OK);
  REQUIRE(archive_write_open_filename(a, path.c_str()) == ARCHIVE_OK);
  struct archive_entry* e = archive_entry_new();
  archive_entry_set_pathname(e, (folder + "/").c_str());
  archive_entry_set_filetype(e, AE_IFDIR);
  archive_entry_set_perm(e, 0755);
  REQUIRE(archive_write_header(a, e) == ARCHIVE_OK);
  for (const auto& [name, bytes] : members) {
    archive_entry_clear(e);
    const std::string p = name.find('/') == std::string::npos ? folder + "/" + name : name;
    archive_entry_set_pathname(e, p.c_str());
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_size(e, static_cast<la_int64_t>(bytes.size()));
    REQUIRE(archive_write_header(a, e) == ARCHIVE_OK);
    REQUIRE(archive_write_data(a, bytes.data(), bytes.size()) == static_cast<la_ssize_t>(bytes.size()));
  }
  archive_entry_free(e);
  REQUIRE(archive_write_close(a) == ARCHIVE_OK);
  archive_write_free(a);
}

// A source folder served as file://, holding a tiny cifar-10-binary.tar.gz, and the spec that points at it
// with that archive's own MD5 (names, folder and members stay the official ones).
struct Cifar10Source {
  TempDir dir;
  std::map<std::string, Bytes> members = tiny_cifar10();
  FetchSpec spec = official_fetch_spec("cifar10");
  std::string archive = dir.file("cifar-10-binary.tar.gz");
  std::vector<std::string> log;
  FetchOptions options;

  explicit Cifar10Source(const std::map<std::string, Bytes>& m = tiny_cifar10()) : members(m) {
    write_tar_gz(archive, "cifar-10-batches-bin", members);
    spec.base_url = "file://" + dir.path();
    spec.files[0].md5 = md5_file(archive);
    options.log = [this](const std::string& line) { log.push_back(line); };
  }
  std::string fetch(const std::string& to) { return fetch_dataset(spec, to, options); }
  // Every member landed byte for byte where load_cifar10 reads, and nothing else is left in `to`.
  void check_in_place(const std::string& to) const {
    CHECK(names_in(to) == std::set<std::string>{"cifar-10-batches-bin"});
    for (const auto& [name, bytes] : members)
      CHECK_MESSAGE(read_bytes(to + "/cifar-10-batches-bin/" + name) == bytes, name);
  }
};

}  // namespace

TEST_CASE("fetch cifar10 from file://: the files land where --data-dir finds them, the reader reads them") {
  Cifar10Source src;
  TempDir to;
  const std::string data_dir = to.file("data");  // created by the fetch
  CHECK(src.fetch(data_dir) == data_dir);
  src.check_in_place(data_dir);
  CHECK(joined(src.log).find("downloading file://" + src.archive) != std::string::npos);
  CHECK(joined(src.log).find("MD5 " + src.spec.files[0].md5 + " ok") != std::string::npos);
  CHECK(joined(src.log).find("unpacked into " + data_dir + "/cifar-10-batches-bin") != std::string::npos);

  const std::string d = data_dir + "/cifar-10-batches-bin";
  ImageSet s = read_cifar_files({d + "/data_batch_1.bin", d + "/data_batch_5.bin"}, CifarKind::Cifar10);
  REQUIRE(s.labels.dim(0) == 6);
  CHECK(s.labels.data<int32_t>()[1] == 1);  // sample 11
  CHECK(s.labels.data<int32_t>()[5] == 2);  // sample 52
  // load_dataset(--data-dir D) finds the folder and reads it; only the tiny record counts stop it.
  check_error([&] { load_dataset("cifar10", data_dir); },
              {d + "/data_batch_1.bin", "expected 10,000 CIFAR-10 records", "found 3"});

  // Fetching again finds it in place and downloads nothing (the source is gone).
  std::filesystem::remove(src.archive);
  src.log.clear();
  src.fetch(data_dir);
  CHECK(joined(src.log).find("already in " + d) != std::string::npos);
  src.check_in_place(data_dir);
}

TEST_CASE("an unpacking folder left by a killed fetch is cleared, and the loaders never look there") {
  Cifar10Source src;
  TempDir to;
  const std::string stale = to.file(".cifar-10-batches-bin.unpacking");
  std::filesystem::create_directories(stale + "/cifar-10-batches-bin");
  write_bytes(stale + "/cifar-10-batches-bin/data_batch_1.bin", Bytes{1, 2});
  check_error([&] { load_dataset("cifar10", to.path()); }, {"not found"});
  src.fetch(to.path());
  src.check_in_place(to.path());
}

TEST_CASE("the mirror replaces the base URL; the checksums stay") {
  Cifar10Source src;
  src.spec.base_url = "http://bts-test.invalid/never-contacted";
  src.options.mirror = "file://" + src.dir.path() + "/";
  TempDir to;
  src.fetch(to.path());
  src.check_in_place(to.path());
}

TEST_CASE("a checksum mismatch is one clear error and leaves nothing in the folder") {
  Cifar10Source src;
  Bytes bytes = read_bytes(src.archive);
  bytes[bytes.size() / 2] ^= 0x40;  // the server's copy is corrupt; the spec keeps the true MD5
  write_bytes(src.archive, bytes);
  TempDir to;
  check_error([&] { src.fetch(to.path()); },
              {"file://" + src.archive, "does not match the published " + src.spec.files[0].md5,
               "cifar-10-binary.tar.gz", with_commas(bytes.size()) + " bytes downloaded were removed"});
  CHECK(names_in(to.path()).empty());
}

TEST_CASE("an interrupted download is resumed at its end, and never used unless it verifies") {
  Cifar10Source src;
  const Bytes whole = read_bytes(src.archive);
  const std::string part_name = "cifar-10-binary.tar.gz.part";

  SUBCASE("a good prefix is resumed") {
    TempDir to;
    write_bytes(to.file(part_name), Bytes(whole.begin(), whole.begin() + whole.size() / 3));
    src.fetch(to.path());
    CHECK(joined(src.log).find("resuming the interrupted download at byte " + with_commas(whole.size() / 3)) !=
          std::string::npos);
    CHECK(joined(src.log).find("from the start") == std::string::npos);
    src.check_in_place(to.path());
  }
  SUBCASE("a corrupt prefix fails the check after resuming and is downloaded again, whole") {
    TempDir to;
    Bytes prefix(whole.begin(), whole.begin() + whole.size() / 2);
    prefix[10] ^= 1;
    write_bytes(to.file(part_name), prefix);
    src.fetch(to.path());
    CHECK(joined(src.log).find("MD5 does not match after resuming; downloading again from the start") !=
          std::string::npos);
    src.check_in_place(to.path());
  }
  SUBCASE("a part longer than the file cannot be resumed and is downloaded again") {
    TempDir to;
    Bytes longer = whole;
    longer.resize(whole.size() + 100, 7);
    write_bytes(to.file(part_name), longer);
    src.fetch(to.path());
    CHECK(joined(src.log).find("cannot resume") != std::string::npos);
    src.check_in_place(to.path());
  }
  SUBCASE("a complete part whose rename was interrupted is used without downloading") {
    TempDir to;
    write_bytes(to.file(part_name), whole);
    std::filesystem::remove(src.archive);
    src.fetch(to.path());
    CHECK(joined(src.log).find("already complete (MD5 matches)") != std::string::npos);
    src.check_in_place(to.path());
  }
  SUBCASE("a failed transfer keeps the part for the next fetch, and puts nothing in place") {
    TempDir to;
    const Bytes prefix(whole.begin(), whole.begin() + 1000);
    write_bytes(to.file(part_name), prefix);
    std::filesystem::rename(src.archive, src.archive + ".away");  // the server loses the file
    check_error([&] { src.fetch(to.path()); },
                {"downloading 'file://" + src.archive + "' failed", "the 1,000 bytes received are kept in '" +
                                                                        to.file(part_name) + "'",
                 "resumes from there"});
    CHECK(names_in(to.path()) == std::set<std::string>{part_name});
    CHECK(read_bytes(to.file(part_name)) == prefix);
    std::filesystem::rename(src.archive + ".away", src.archive);  // back: the next fetch resumes and finishes
    src.fetch(to.path());
    src.check_in_place(to.path());
  }
  SUBCASE("a failed first transfer leaves nothing") {
    TempDir to;
    std::filesystem::remove(src.archive);
    check_error([&] { src.fetch(to.path()); }, {"downloading 'file://" + src.archive + "' failed", "nothing was kept"});
    CHECK(names_in(to.path()).empty());
  }
  SUBCASE("a part another fetch is writing is refused") {
    TempDir to;
    write_bytes(to.file(part_name), Bytes(whole.begin(), whole.begin() + 100));
    const int fd = ::open(to.file(part_name).c_str(), O_RDONLY);
    REQUIRE(fd >= 0);
    REQUIRE(::flock(fd, LOCK_EX | LOCK_NB) == 0);
    check_error([&] { src.fetch(to.path()); }, {to.file(part_name), "being written by another process"});
    ::close(fd);
  }
}

TEST_CASE("a verified archive that lacks a member or strays outside its folder is never put in place") {
  std::map<std::string, Bytes> m = tiny_cifar10();
  SUBCASE("a member is missing: the verified archive is kept to unpack again, nothing else") {
    m.erase("test_batch.bin");
    Cifar10Source src(m);
    TempDir to;
    check_error([&] { src.fetch(to.path()); },
                {"holds no cifar-10-batches-bin/test_batch.bin", "is kept: the next fetch unpacks it again"});
    CHECK(names_in(to.path()) == std::set<std::string>{"cifar-10-binary.tar.gz"});
    CHECK(read_bytes(to.file("cifar-10-binary.tar.gz")) == read_bytes(src.archive));
  }
  SUBCASE("an entry outside the folder") {
    m["../evil.bin"] = Bytes{1, 2, 3};
    Cifar10Source src(m);
    TempDir to;
    check_error([&] { src.fetch(to.path()); }, {"entry '../evil.bin' is outside cifar-10-batches-bin/"});
    CHECK(names_in(to.path()) == std::set<std::string>{"cifar-10-binary.tar.gz"});
    CHECK(!std::filesystem::exists(to.path() + "/../evil.bin"));
  }
}

TEST_CASE("an existing folder or file that is not the data set is reported, never replaced") {
  Cifar10Source src;
  TempDir to;
  std::filesystem::create_directories(to.file("cifar-10-batches-bin"));
  write_bytes(to.file("cifar-10-batches-bin/data_batch_1.bin"), Bytes{1});
  check_error([&] { src.fetch(to.path()); },
              {to.file("cifar-10-batches-bin") + "' exists but holds no data_batch_2.bin", "remove that folder"});
  std::filesystem::remove_all(to.file("cifar-10-batches-bin"));
  write_bytes(to.file("cifar-10-binary.tar.gz"), Bytes{1, 2, 3});
  check_error([&] { src.fetch(to.path()); }, {to.file("cifar-10-binary.tar.gz") + "' exists but its MD5 is",
                                              "expected " + src.spec.files[0].md5});
  CHECK(read_bytes(to.file("cifar-10-binary.tar.gz")) == (Bytes{1, 2, 3}));
}

TEST_CASE("svhn-style files are fetched as they are, each renamed into place once verified") {
  TempDir src, to;
  const Bytes train{1, 2, 3, 4, 5}, test{9, 8, 7};
  write_bytes(src.file("train_32x32.mat"), train);
  write_bytes(src.file("test_32x32.mat"), test);
  FetchSpec spec = official_fetch_spec("svhn");
  spec.base_url = "file://" + src.path();
  spec.files[0].md5 = md5_file(src.file("train_32x32.mat"));
  spec.files[1].md5 = md5_file(src.file("test_32x32.mat"));
  fetch_dataset(spec, to.path());
  CHECK(names_in(to.path()) == std::set<std::string>{"train_32x32.mat", "test_32x32.mat"});
  CHECK(read_bytes(to.file("train_32x32.mat")) == train);
  CHECK(read_bytes(to.file("test_32x32.mat")) == test);

  // The test file is corrupt on the server: the train file is kept (verified), the test file never appears.
  TempDir to2;
  write_bytes(src.file("test_32x32.mat"), Bytes{9, 8, 6});
  check_error([&] { fetch_dataset(spec, to2.path()); }, {"test_32x32.mat", "does not match the published"});
  CHECK(names_in(to2.path()) == std::set<std::string>{"train_32x32.mat"});
}

#else

TEST_CASE("a build without libcurl, libarchive or OpenSSL says which package to install") {
  TempDir to;
  check_error([&] { fetch_dataset(official_fetch_spec("cifar10"), to.path()); }, {"install the Debian package"});
}

#endif

}  // TEST_SUITE
