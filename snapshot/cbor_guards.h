#pragma once
// Guards for reading CBOR with nlohmann, whose binary reader recurses once per nesting level: a
// builder that stops at a depth no snapshot has, and a walk that finds what nlohmann would recurse
// into unseen (an indefinite-length string inside another).

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace heapsnap::cbor_guards {

using Json = nlohmann::json;


// Builds the document from a SAX parse and stops it at a nesting depth no snapshot has: nlohmann's
// binary readers recurse once per level, so a few hundred kilobytes of nested CBOR arrays would
// otherwise overflow the stack.
class DepthLimitedBuilder {
 public:
  static constexpr std::size_t kMaxDepth = 32;  // a snapshot nests 5 levels deep

  bool null() { return add(Json(nullptr)); }
  bool boolean(bool value) { return add(Json(value)); }
  bool number_integer(Json::number_integer_t value) { return add(Json(value)); }
  bool number_unsigned(Json::number_unsigned_t value) { return add(Json(value)); }
  bool number_float(Json::number_float_t value, const std::string&) { return add(Json(value)); }
  bool string(std::string& value) { return add(Json(std::move(value))); }
  bool binary(Json::binary_t& value) { return add(Json(std::move(value))); }
  bool start_object(std::size_t) { return open(Json::object()); }
  bool key(std::string& name) {
    key_ = std::move(name);
    return true;
  }
  bool end_object() { return close(); }
  bool start_array(std::size_t) { return open(Json::array()); }
  bool end_array() { return close(); }
  bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception& error) {
    error_at_ = position;
    error_ = error.what();
    if (const auto end = error_.find("] "); end != std::string::npos) error_.erase(0, end + 2);
    return false;
  }

  Json& document() { return root_; }
  bool too_deep() const { return too_deep_; }
  const std::string& error() const { return error_; }
  std::size_t error_at() const { return error_at_; }

 private:
  bool add(Json value) {
    if (open_.empty()) {
      root_ = std::move(value);
      return true;
    }
    Json& parent = *open_.back();
    if (parent.is_array()) {
      parent.push_back(std::move(value));
    } else {
      parent[key_] = std::move(value);
    }
    return true;
  }
  bool open(Json container) {
    if (open_.size() >= kMaxDepth) {
      too_deep_ = true;
      return false;
    }
    Json* placed = nullptr;
    if (open_.empty()) {
      root_ = std::move(container);
      placed = &root_;
    } else if (Json& parent = *open_.back(); parent.is_array()) {
      parent.push_back(std::move(container));
      placed = &parent.back();
    } else {
      placed = &(parent[key_] = std::move(container));
    }
    open_.push_back(placed);
    return true;
  }
  bool close() {
    open_.pop_back();
    return true;
  }

  Json root_;
  std::vector<Json*> open_;  // the containers being filled, outermost first
  std::string key_;
  bool too_deep_ = false;
  std::string error_;
  std::size_t error_at_ = 0;
};

// nlohmann's CBOR reader also recurses where the builder cannot see it: into the chunks of an
// indefinite-length string, which it lets be indefinite strings themselves (RFC 8949 3.2.3 forbids
// that), so a megabyte of 0x7f bytes overflowed the stack. This walk finds such a chunk before nlohmann
// reads anything and returns its offset. Whatever else is malformed it leaves for nlohmann to report,
// which reads the bytes in the same order: the walk stops where nlohmann would fail, or earlier. Returns std::nullopt when there is none.
std::optional<std::size_t> nested_indefinite_string(std::string_view cbor);

}  // namespace heapsnap::cbor_guards
