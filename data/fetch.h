// `bts data fetch`: downloads a data set's official files, checks their published MD5, and puts them where
// `--data-dir <to>` finds them (docs/DATA.md, "Fetching the data sets").
//
// Nothing a run would read is ever half written: each file is downloaded to `<to>/<file>.part`, checked, then
// renamed; an archive is unpacked into a temporary folder that is renamed into place only once it holds every
// expected member. An interrupted download leaves its `.part`, which the next fetch resumes (an HTTP range
// request); a `.part` that does not verify after resuming is downloaded again from the start.
//
// libcurl downloads, libarchive unpacks, OpenSSL computes MD5. A build without one of them compiles, and fetching
// throws naming the Debian package to install.
#pragma once
#include <functional>
#include <string>
#include <vector>

namespace bts {

struct FetchFile {
  std::string name;  // the file's name on the server and on disk
  std::string md5;   // lowercase hex, as published
};

// Where one data set's files come from and how they are laid out once fetched. The CLI uses
// official_fetch_spec(); tests fill one with their own small files, URLs and checksums.
struct FetchSpec {
  std::string dataset;   // "cifar10", for messages
  std::string base_url;  // each file is fetched from base_url + "/" + name (http, https or file)
  std::vector<FetchFile> files;
  // For a data set published as one .tar.gz: the folder the archive unpacks to, and the files that folder must
  // hold. Empty folder: the downloaded files are the data set, used as they are (SVHN).
  std::string folder;
  std::vector<std::string> members;
};

// "cifar10", "cifar100", "svhn".
const std::vector<std::string>& fetchable_datasets();
// The official files, URLs and checksums; throws listing fetchable_datasets() for any other name.
FetchSpec official_fetch_spec(const std::string& dataset);

struct FetchOptions {
  std::string mirror;                            // replaces spec.base_url when not empty
  std::function<void(const std::string&)> log;  // progress lines (one or a few per file); null: silent
};

// Fetches spec's files into `to` (created if missing) and returns `to`: the folder to give as --data-dir.
// A data set already in place is left alone. Throws bts::Error naming the file or URL on any failure; only a
// `.part` from an interrupted download (kept to resume) or a verified archive that failed to unpack remains.
std::string fetch_dataset(const FetchSpec& spec, const std::string& to, const FetchOptions& options = {});

// Lowercase hex MD5 of a file's bytes; throws naming the file when it cannot be read or this build has no OpenSSL.
std::string md5_file(const std::string& path);

// "(download it with: bts data fetch <dataset> --to <dir>)": the hint the readers add to a missing-file error.
std::string fetch_hint(const std::string& dataset, const std::string& dir);

}  // namespace bts
