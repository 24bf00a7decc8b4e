#include "snapshot/glob_pattern.h"

#include "snapshot/utf8.h"

namespace heapsnap {
namespace {

// The length of the character at subject[i]: its UTF-8 sequence, or one byte when that is invalid.
std::size_t character_length(std::string_view subject, std::size_t i) {
  const std::size_t length = utf8_sequence_length(subject, i);
  return length == 0 ? 1 : length;
}

}  // namespace

void GlobPattern::add_literal(std::string_view text) {
  for (const char byte : text) elements_.push_back({Element::Kind::Byte, byte});
}

void GlobPattern::add_any_character() { elements_.push_back({Element::Kind::AnyCharacter, 0}); }

void GlobPattern::add_any_run() {
  if (!elements_.empty() && elements_.back().kind == Element::Kind::AnyRun) return;
  elements_.push_back({Element::Kind::AnyRun, 0});
}

bool GlobPattern::matches(std::string_view subject) const {
  // The classic two-pointer match: between stars the pattern matches deterministically, so on a
  // mismatch it suffices to let the last star swallow one more character and retry from there.
  constexpr std::size_t kNoStar = static_cast<std::size_t>(-1);
  std::size_t p = 0;
  std::size_t s = 0;
  std::size_t star = kNoStar;     // element index of the last star seen
  std::size_t star_subject = 0;   // where the subject stood after it
  while (s < subject.size()) {
    if (p < elements_.size()) {
      const Element& element = elements_[p];
      if (element.kind == Element::Kind::AnyRun) {
        star = p++;
        star_subject = s;
        continue;
      }
      if (element.kind == Element::Kind::AnyCharacter) {
        s += character_length(subject, s);
        ++p;
        continue;
      }
      if (element.byte == subject[s]) {
        ++s;
        ++p;
        continue;
      }
    }
    if (star == kNoStar) return false;
    star_subject += character_length(subject, star_subject);
    s = star_subject;
    p = star + 1;
  }
  while (p < elements_.size() && elements_[p].kind == Element::Kind::AnyRun) ++p;
  return p == elements_.size();
}

bool matches_path(const GlobPattern& glob, std::string_view path, std::string_view tail) {
  if (path.empty()) return false;
  const std::string subject = std::string(path) + std::string(tail);
  const std::string_view view = subject;
  if (glob.matches(view)) return true;
  for (std::size_t slash = path.find('/'); slash != std::string_view::npos; slash = path.find('/', slash + 1)) {
    if (glob.matches(view.substr(slash + 1))) return true;
  }
  return false;
}

}  // namespace heapsnap
