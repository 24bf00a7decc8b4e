#include "reporters/html/flame_tree.h"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <tuple>
#include <utility>

#include "snapshot/statistics.h"

namespace heapsnap {
namespace {

// The tree while it grows: nodes in one vector, each child found by (parent, frame) in one map, so
// that adding a trace costs a lookup per frame however wide the tree is.
struct FlatNode {
  FlameNode node;                    // without children yet
  std::vector<std::size_t> children;
};

class TreeBuilder {
 public:
  TreeBuilder() : nodes_(1) {}

  void add(const std::vector<std::uint32_t>& path, const Trace& trace) {
    std::size_t at = 0;
    charge(at, trace);
    for (const std::uint32_t frame : path) {
      at = child(at, frame);
      charge(at, trace);
    }
    nodes_[at].node.self_size += trace.size;
    nodes_[at].node.self_count += trace.count;
  }

  FlameNode finish() { return nest(0); }

 private:
  void charge(std::size_t at, const Trace& trace) {
    nodes_[at].node.size += trace.size;
    nodes_[at].node.count += trace.count;
  }

  std::size_t child(std::size_t parent, std::uint32_t frame) {
    const auto [it, inserted] = index_.try_emplace({parent, frame}, nodes_.size());
    if (inserted) {
      nodes_.push_back({});
      nodes_.back().node.frame = frame;
      nodes_[parent].children.push_back(it->second);
    }
    return it->second;
  }

  FlameNode nest(std::size_t at) {
    FlameNode node = std::move(nodes_[at].node);
    for (const std::size_t child : nodes_[at].children) node.children.push_back(nest(child));
    std::sort(node.children.begin(), node.children.end(), [](const FlameNode& a, const FlameNode& b) {
      return std::tie(b.size, b.count, a.frame) < std::tie(a.size, a.count, b.frame);
    });
    return node;
  }

  std::vector<FlatNode> nodes_;
  std::map<std::pair<std::size_t, std::uint32_t>, std::size_t> index_;
};

}  // namespace

std::uint32_t FrameTable::intern(const Frame& frame) {
  const auto [it, inserted] = index_.try_emplace(frame, static_cast<std::uint32_t>(frames_.size()));
  if (inserted) frames_.push_back(frame);
  return it->second;
}

Frame older_frames_not_captured() {
  Frame frame;
  frame.filename = "<older frames not captured>";
  return frame;
}

bool cut_at_limit(const Traceback& traceback, std::uint32_t traceback_limit) {
  return traceback_limit != 0 && traceback.frames.size() >= traceback_limit &&
         traceback.total_nframe > traceback.frames.size();
}

bool FlameNode::sums_add_up() const {
  std::uint64_t sizes = self_size;
  std::uint64_t counts = self_count;
  for (const FlameNode& child : children) {
    if (!child.sums_add_up()) return false;
    sizes += child.size;
    counts += child.count;
  }
  return sizes == size && counts == count;
}

FlameNode build_flame_tree(const Snapshot& snapshot, FrameTable& frames) {
  TreeBuilder builder;
  std::vector<std::uint32_t> path;
  for (const Trace& trace : snapshot.traces) {
    const auto index = static_cast<std::uint32_t>(trace.traceback);
    if (index >= snapshot.tracebacks.size()) {
      throw std::out_of_range("trace names traceback " + std::to_string(index) + " of " +
                              std::to_string(snapshot.tracebacks.size()));
    }
    const Traceback& traceback = snapshot.tracebacks[index];
    path.clear();
    if (cut_at_limit(traceback, snapshot.traceback_limit)) path.push_back(frames.intern(older_frames_not_captured()));
    const std::vector<Frame>& stack = analysed_frames(traceback);
    for (auto frame = stack.rbegin(); frame != stack.rend(); ++frame) path.push_back(frames.intern(*frame));
    builder.add(path, trace);
  }
  return builder.finish();
}

}  // namespace heapsnap
