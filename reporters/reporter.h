#pragma once
// The shape every reporter has: built from the data it presents and its options, then rendered onto a
// stream. The CLI picks a reporter for --format and calls render(); nothing else is shared.

#include <ostream>

namespace heapsnap {

class Reporter {
 public:
  virtual ~Reporter() = default;
  virtual void render(std::ostream& out) const = 0;
};

}  // namespace heapsnap
