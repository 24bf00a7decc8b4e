#include "reporters/export/gzip.h"

#include <algorithm>
#include <stdexcept>

#include <zlib.h>

namespace heapsnap {

std::string gzip(std::string_view data) {
  z_stream stream{};
  constexpr int kGzipWindowBits = 15 + 16;  // the largest window, with a gzip header and trailer
  constexpr int kMemoryLevel = 8;           // zlib's default
  if (deflateInit2(&stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, kGzipWindowBits, kMemoryLevel, Z_DEFAULT_STRATEGY) !=
      Z_OK) {
    throw std::runtime_error("gzip: cannot start zlib");
  }
  // zlib's own loop (zpipe.c): input in chunks that fit its 32-bit counts, output drained until
  // deflate leaves room in the buffer, Z_FINISH with the last chunk.
  constexpr std::size_t kInputChunk = std::size_t{1} << 30;
  std::string buffer(std::size_t{1} << 18, '\0');
  std::string compressed;
  std::size_t consumed = 0;
  int flush = Z_NO_FLUSH;
  int status = Z_OK;
  do {
    const std::size_t input = std::min(kInputChunk, data.size() - consumed);
    stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data() + consumed));  // zlib's API is not const
    stream.avail_in = static_cast<uInt>(input);
    consumed += input;
    flush = consumed == data.size() ? Z_FINISH : Z_NO_FLUSH;
    do {
      stream.next_out = reinterpret_cast<Bytef*>(buffer.data());
      stream.avail_out = static_cast<uInt>(buffer.size());
      status = deflate(&stream, flush);
      compressed.append(buffer.data(), buffer.size() - stream.avail_out);
    } while (stream.avail_out == 0);
  } while (flush != Z_FINISH);
  deflateEnd(&stream);
  if (status != Z_STREAM_END) throw std::runtime_error("gzip: zlib failed to compress");
  return compressed;
}

}  // namespace heapsnap
