#pragma once
// gzip compression (RFC 1952) through zlib, for the pprof export: profile.pb.gz is how pprof files
// are written by Go's runtime and read by every pprof tool.

#include <string>
#include <string_view>

namespace heapsnap {

// `data` as one gzip member. Throws std::runtime_error if zlib fails (it only does when out of memory).
std::string gzip(std::string_view data);

}  // namespace heapsnap
