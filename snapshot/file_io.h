#pragma once
// Files written so that nothing is lost: a reader sees the old file or the whole new one, never half
// of one, and a file that must not be replaced is not (heapsnap's outputs and snapshots).

#include <filesystem>
#include <functional>
#include <iosfwd>
#include <stdexcept>
#include <string>
#include <utility>

#include <unistd.h>

namespace heapsnap {

class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  ~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  // Closes now and reports close's error, which for a written file can be the write error.
  int close() { return ::close(std::exchange(fd_, -1)); }

 private:
  int fd_;
};

enum class ExistingFile { Replace, Keep };
// Atomic: a reader sees the old file or the whole new one, even if the writer dies midway.
// Flushed: that, and fsync of the file and its directory, so it also survives a machine crash.
enum class Durability { Atomic, Flushed };

// ExistingFile::Keep found a file at the path: nothing was written. what() is "<path>: already exists".
class FileExistsError : public std::runtime_error {
 public:
  explicit FileExistsError(const std::filesystem::path& path) : std::runtime_error(path.string() + ": already exists") {}
};

// Writes what `write` produces to `path` so that readers see either the old file or the complete new
// one: a temporary file in the same directory (created with O_EXCL|O_NOFOLLOW, so a symlink planted at
// its name is never followed; mode 0600), fsync (Durability::Flushed), then rename over `path`
// (ExistingFile::Replace) or link to `path`, failing if it exists (ExistingFile::Keep: FileExistsError),
// and fsync of the directory (Flushed).
// Throws std::runtime_error "<path>: <reason>"; exceptions from `write` propagate. The temporary file
// never outlives the call.
void write_file_atomically(const std::filesystem::path& path, const std::function<void(std::ostream&)>& write,
                           ExistingFile existing, Durability durability = Durability::Flushed);

}  // namespace heapsnap
