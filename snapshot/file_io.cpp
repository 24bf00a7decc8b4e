#include "snapshot/file_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <ostream>
#include <streambuf>
#include <string>
#include <utility>

namespace heapsnap {
namespace {

std::string errno_text(int error) { return std::strerror(error); }


// A minimal output streambuf over a file descriptor; keeps the errno of the first failed write.
class FdOutputBuffer : public std::streambuf {
 public:
  // The buffer is on the heap: this may run on a small thread stack in the profiled process. Left
  // uninitialized: clearing 64 KiB cost a small process's exit snapshot more than writing it.
  explicit FdOutputBuffer(int fd) : fd_(fd), buffer_(new char[kBufferBytes]) { setp(buffer_.get(), buffer_.get() + kBufferBytes); }
  int error() const { return error_; }

 protected:
  int_type overflow(int_type ch) override {
    if (!flush_buffer()) return traits_type::eof();
    if (!traits_type::eq_int_type(ch, traits_type::eof())) {
      *pptr() = traits_type::to_char_type(ch);
      pbump(1);
    }
    return traits_type::not_eof(ch);
  }
  int sync() override { return flush_buffer() ? 0 : -1; }

 private:
  bool flush_buffer() {
    for (const char* data = pbase(); data < pptr();) {
      const ssize_t written = ::write(fd_, data, static_cast<std::size_t>(pptr() - data));
      if (written < 0 && errno == EINTR) continue;
      if (written <= 0) {
        error_ = written < 0 ? errno : EIO;
        return false;
      }
      data += written;
    }
    setp(buffer_.get(), buffer_.get() + kBufferBytes);
    return true;
  }

  int fd_;
  int error_ = 0;
  static constexpr std::size_t kBufferBytes = 64 * 1024;
  std::unique_ptr<char[]> buffer_;
};

std::runtime_error file_error(const std::filesystem::path& path, const std::string& reason) {
  return std::runtime_error(path.string() + ": " + reason);
}

// Flushes the directory entry of a rename or link to disk; filesystems that cannot are ignored.
void sync_directory(const std::filesystem::path& directory) {
  const FileDescriptor fd(::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() >= 0) ::fsync(fd.get());
}


}  // namespace

void write_file_atomically(const std::filesystem::path& path, const std::function<void(std::ostream&)>& write,
                           ExistingFile existing, Durability durability) {
  if (!path.has_filename()) throw file_error(path, "not a file name");
  const std::filesystem::path directory = path.has_parent_path() ? path.parent_path() : ".";

  // pid + attempt makes the name unique among writers; O_EXCL makes a stale or planted entry (file or
  // symlink) a collision to step over rather than something to follow or truncate.
  std::filesystem::path temporary;
  int raw_fd = -1;
  for (int attempt = 0; attempt < 100 && raw_fd < 0; ++attempt) {
    temporary = directory / ("." + path.filename().string() + ".tmp." + std::to_string(::getpid()) + "." +
                             std::to_string(attempt));
    raw_fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (raw_fd < 0 && errno != EEXIST) {
      throw file_error(path, "cannot create a temporary file in " + directory.string() + ": " + errno_text(errno));
    }
  }
  if (raw_fd < 0) throw file_error(path, "cannot create a temporary file: too many stale temporary files");
  FileDescriptor fd(raw_fd);

  bool published = false;
  struct RemoveTemporary {
    const std::filesystem::path& temporary;
    const bool& published;
    ~RemoveTemporary() {
      if (!published) ::unlink(temporary.c_str());
    }
  } remove_temporary{temporary, published};

  ::fchmod(fd.get(), 0600);  // exactly 0600 whatever the umask
  FdOutputBuffer buffer(fd.get());
  std::ostream out(&buffer);
  write(out);
  out.flush();
  if (!out) {
    throw file_error(path, "write failed: " + errno_text(buffer.error() != 0 ? buffer.error() : EIO));
  }
  if (durability == Durability::Flushed && ::fsync(fd.get()) != 0) throw file_error(path, "fsync failed: " + errno_text(errno));
  if (fd.close() != 0) throw file_error(path, "close failed: " + errno_text(errno));

  if (existing == ExistingFile::Replace) {
    if (::rename(temporary.c_str(), path.c_str()) != 0) throw file_error(path, errno_text(errno));
    published = true;
  } else {
    // link() fails with EEXIST instead of replacing: no window in which a file created by someone
    // else since our caller's check could be overwritten.
    if (::link(temporary.c_str(), path.c_str()) != 0) {
      if (errno == EEXIST) throw FileExistsError(path);
      throw file_error(path, errno_text(errno));
    }
  }
  if (durability == Durability::Flushed) sync_directory(directory);
}


}  // namespace heapsnap
