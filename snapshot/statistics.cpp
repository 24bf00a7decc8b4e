#include "snapshot/statistics.h"

#include <algorithm>
#include <map>
#include <stdexcept>
#include <string>

#include "snapshot/utf8.h"

namespace heapsnap {
namespace {

// tracemalloc never hands out an empty traceback: it substitutes a single "<unknown>":0 frame.
Frame frame_of_file(std::string filename) {
  Frame frame;
  frame.filename = std::move(filename);
  return frame;
}

struct Totals {
  std::uint64_t size = 0;
  std::uint64_t count = 0;
};

using Groups = std::map<Traceback, Totals, TracebackLess>;

Traceback single_frame_key(const Frame& frame, GroupBy group_by) {
  if (group_by == GroupBy::Lineno) return Traceback{{frame}, 1};
  // Filename: the file alone. function/module/address would split or mislabel the group.
  return Traceback{{frame_of_file(frame.filename)}, 1};
}

}  // namespace

Traceback group_key(const Traceback& traceback, GroupBy group_by) {
  const std::vector<Frame>& frames = analysed_frames(traceback);
  if (group_by != GroupBy::Traceback) return single_frame_key(frames.front(), group_by);
  return Traceback{frames, std::max<std::uint32_t>(traceback.total_nframe, static_cast<std::uint32_t>(frames.size()))};
}

namespace {

void add(Groups& groups, Traceback key, const Totals& totals) {
  Totals& group = groups[std::move(key)];  // keeps the first key seen: its module/address are shown
  group.size += totals.size;
  group.count += totals.count;
}

// tracemalloc's Snapshot._group_by.
Groups group(const Snapshot& snapshot, GroupBy group_by, bool cumulative) {
  if (cumulative && group_by == GroupBy::Traceback) {
    throw std::invalid_argument("cumulative mode cannot be used with GroupBy::Traceback");
  }
  // The key depends on the traceback only, so sum each traceback's traces first.
  std::vector<Totals> per_traceback(snapshot.tracebacks.size());
  std::vector<bool> used(snapshot.tracebacks.size(), false);
  for (const Trace& trace : snapshot.traces) {
    const auto index = static_cast<std::uint32_t>(trace.traceback);
    if (index >= snapshot.tracebacks.size()) {
      throw std::out_of_range("trace refers to traceback " + std::to_string(index) + " of " +
                              std::to_string(snapshot.tracebacks.size()));
    }
    per_traceback[index].size += trace.size;
    per_traceback[index].count += trace.count;
    used[index] = true;
  }

  Groups groups;
  for (std::size_t index = 0; index < snapshot.tracebacks.size(); ++index) {
    if (!used[index]) continue;
    const Traceback& traceback = snapshot.tracebacks[index];
    if (!cumulative) {
      add(groups, group_key(traceback, group_by), per_traceback[index]);
    } else {
      for (const Frame& frame : analysed_frames(traceback)) add(groups, single_frame_key(frame, group_by), per_traceback[index]);
    }
  }
  return groups;
}

std::uint64_t magnitude(std::int64_t value) {
  return value < 0 ? 0 - static_cast<std::uint64_t>(value) : static_cast<std::uint64_t>(value);
}

std::int64_t difference(std::uint64_t newer, std::uint64_t older) {
  return static_cast<std::int64_t>(newer - older);  // two's complement: exact while |diff| < 2^63
}

// tracemalloc's _normalize_filename on POSIX: compiled Python files count as their source.
std::string_view normalize_filename(std::string_view filename) {
  if (filename.ends_with(".pyc")) filename.remove_suffix(1);
  return filename;
}

// Python matches code points, not bytes; bytes that are not UTF-8 map to U+DC80..U+DCFF, like
// Python's surrogateescape, so that they still match only themselves.
std::u32string decode_utf8(std::string_view text) {
  std::u32string decoded;
  decoded.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    char32_t code_point = 0;
    const std::size_t length = utf8_sequence_length(text, i, &code_point);
    decoded.push_back(length != 0 ? code_point : 0xDC00 + static_cast<unsigned char>(text[i]));
    i += length != 0 ? length : 1;
  }
  return decoded;
}

struct CharRange {
  char32_t first;
  char32_t last;  // first > last: an empty range, which Python drops
};

struct PatternToken {
  enum class Kind { Literal, AnyChar, AnyRun, Set };
  Kind kind = Kind::Literal;
  char32_t literal = 0;           // Literal
  bool negated = false;           // Set: "[!...]"
  std::vector<CharRange> ranges;  // Set

  static PatternToken of(Kind kind, char32_t literal = 0) {
    PatternToken token;
    token.kind = kind;
    token.literal = literal;
    return token;
  }

  bool matches(char32_t c) const {
    switch (kind) {
      case Kind::Literal: return c == literal;
      case Kind::AnyChar: return true;
      case Kind::AnyRun: return true;
      case Kind::Set: break;
    }
    const bool in_set = std::any_of(ranges.begin(), ranges.end(),
                                    [c](const CharRange& r) { return r.first <= c && c <= r.last; });
    return in_set != negated;
  }
};

// Mirrors fnmatch.translate: the bracket rules ("[]...]", "[!...]", ranges, a literal trailing '-').
std::vector<PatternToken> compile_pattern(const std::u32string& pattern) {
  std::vector<PatternToken> tokens;
  const std::size_t n = pattern.size();
  for (std::size_t i = 0; i < n;) {
    const char32_t c = pattern[i++];
    if (c == U'*') {
      if (tokens.empty() || tokens.back().kind != PatternToken::Kind::AnyRun) {
        tokens.push_back(PatternToken::of(PatternToken::Kind::AnyRun));
      }
    } else if (c == U'?') {
      tokens.push_back(PatternToken::of(PatternToken::Kind::AnyChar));
    } else if (c == U'[') {
      std::size_t j = i;
      if (j < n && pattern[j] == U'!') ++j;
      if (j < n && pattern[j] == U']') ++j;
      while (j < n && pattern[j] != U']') ++j;
      if (j >= n) {
        tokens.push_back(PatternToken::of(PatternToken::Kind::Literal, U'['));
        continue;
      }
      PatternToken set = PatternToken::of(PatternToken::Kind::Set);
      std::u32string_view content(pattern.data() + i, j - i);
      i = j + 1;
      if (!content.empty() && content.front() == U'!') {
        set.negated = true;
        content.remove_prefix(1);
      }
      for (std::size_t k = 0; k < content.size();) {
        if (k + 2 < content.size() && content[k + 1] == U'-') {
          set.ranges.push_back({content[k], content[k + 2]});
          k += 3;
        } else {
          set.ranges.push_back({content[k], content[k]});
          k += 1;
        }
      }
      tokens.push_back(std::move(set));
    } else {
      tokens.push_back(PatternToken::of(PatternToken::Kind::Literal, c));
    }
  }
  return tokens;
}

}  // namespace

const std::vector<Frame>& analysed_frames(const Traceback& traceback) {
  static const std::vector<Frame> kUnknownStack{frame_of_file("<unknown>")};
  return traceback.frames.empty() ? kUnknownStack : traceback.frames;
}

std::strong_ordering compare_tracebacks(const Traceback& a, const Traceback& b) {
  return std::lexicographical_compare_three_way(a.frames.rbegin(), a.frames.rend(), b.frames.rbegin(),
                                                b.frames.rend());
}

std::vector<Statistic> statistics(const Snapshot& snapshot, GroupBy group_by, bool cumulative) {
  std::vector<Statistic> result;
  for (auto& [key, totals] : group(snapshot, group_by, cumulative)) {
    result.push_back(Statistic{key, totals.size, totals.count});
  }
  std::sort(result.begin(), result.end(), [](const Statistic& a, const Statistic& b) {
    if (a.size != b.size) return a.size > b.size;
    if (a.count != b.count) return a.count > b.count;
    return compare_tracebacks(a.traceback, b.traceback) > 0;
  });
  return result;
}

std::vector<StatisticDiff> compare_to(const Snapshot& newer, const Snapshot& older, GroupBy group_by,
                                      bool cumulative) {
  Groups new_groups = group(newer, group_by, cumulative);
  Groups old_groups = group(older, group_by, cumulative);
  std::vector<StatisticDiff> result;
  for (auto& [key, now] : new_groups) {
    const auto previous = old_groups.find(key);
    const Totals before = previous == old_groups.end() ? Totals{} : previous->second;
    if (previous != old_groups.end()) old_groups.erase(previous);
    result.push_back(StatisticDiff{key, now.size, difference(now.size, before.size), now.count,
                                   difference(now.count, before.count)});
  }
  for (auto& [key, before] : old_groups) {
    result.push_back(StatisticDiff{key, 0, difference(0, before.size), 0, difference(0, before.count)});
  }
  std::sort(result.begin(), result.end(), [](const StatisticDiff& a, const StatisticDiff& b) {
    if (magnitude(a.size_diff) != magnitude(b.size_diff)) return magnitude(a.size_diff) > magnitude(b.size_diff);
    if (a.size != b.size) return a.size > b.size;
    if (magnitude(a.count_diff) != magnitude(b.count_diff)) {
      return magnitude(a.count_diff) > magnitude(b.count_diff);
    }
    if (a.count != b.count) return a.count > b.count;
    return compare_tracebacks(a.traceback, b.traceback) > 0;
  });
  return result;
}

bool fnmatch(std::string_view name, std::string_view pattern) {
  const std::u32string text = decode_utf8(name);
  const std::vector<PatternToken> tokens = compile_pattern(decode_utf8(pattern));
  // Every token but '*' consumes exactly one character, so backtracking to the last '*' is enough:
  // O(|name| * |pattern|) at worst, whatever the input.
  constexpr std::size_t kNone = static_cast<std::size_t>(-1);
  std::size_t t = 0, p = 0, star = kNone, star_t = 0;
  while (t < text.size()) {
    if (p < tokens.size() && tokens[p].kind == PatternToken::Kind::AnyRun) {
      star = p++;
      star_t = t;
    } else if (p < tokens.size() && tokens[p].matches(text[t])) {
      ++p;
      ++t;
    } else if (star != kNone) {
      p = star + 1;
      t = ++star_t;
    } else {
      return false;
    }
  }
  while (p < tokens.size() && tokens[p].kind == PatternToken::Kind::AnyRun) ++p;
  return p == tokens.size();
}

bool frame_matches(const Filter& filter, const Frame& frame) {
  const bool matched =
      fnmatch(normalize_filename(frame.filename), normalize_filename(filter.filename_pattern)) &&
      (!filter.lineno || frame.lineno == *filter.lineno);
  return matched != !filter.inclusive;
}

bool traceback_matches(const Filter& filter, const Traceback& traceback) {
  const std::vector<Frame>& frames = analysed_frames(traceback);
  if (!filter.all_frames) return frame_matches(filter, frames.front());
  Filter inclusive_filter = filter;
  inclusive_filter.inclusive = true;
  const bool any = std::any_of(frames.begin(), frames.end(),
                               [&](const Frame& frame) { return frame_matches(inclusive_filter, frame); });
  return any == filter.inclusive;
}

namespace {

// tracemalloc's BaseFilter._match: true when the filter lets the trace through.
bool lets_through(const TraceFilter& trace_filter, const Trace& trace, const Traceback& traceback) {
  if (const auto* domain_filter = std::get_if<DomainFilter>(&trace_filter)) {
    return (trace.domain == domain_filter->domain) == domain_filter->inclusive;
  }
  const auto& filter = std::get<Filter>(trace_filter);
  const bool result = traceback_matches(filter, traceback);
  if (!filter.domain) return result;
  if (filter.inclusive) return result && trace.domain == *filter.domain;
  return result || trace.domain != *filter.domain;
}

bool is_inclusive(const TraceFilter& trace_filter) {
  return std::visit([](const auto& filter) { return filter.inclusive; }, trace_filter);
}

}  // namespace

Snapshot filter_traces(const Snapshot& snapshot, const std::vector<TraceFilter>& filters) {
  Snapshot filtered = snapshot;
  filtered.traces.clear();
  const bool has_inclusive = std::any_of(filters.begin(), filters.end(), is_inclusive);
  for (const Trace& trace : snapshot.traces) {
    const Traceback& traceback = snapshot.tracebacks.at(static_cast<std::uint32_t>(trace.traceback));
    bool keep = !has_inclusive;
    for (const TraceFilter& filter : filters) {
      if (is_inclusive(filter)) {
        keep = keep || lets_through(filter, trace, traceback);
      }
    }
    for (const TraceFilter& filter : filters) {
      if (!keep) break;
      if (!is_inclusive(filter)) keep = lets_through(filter, trace, traceback);
    }
    if (keep) filtered.traces.push_back(trace);
  }
  return filtered;
}

}  // namespace heapsnap
