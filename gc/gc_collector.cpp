#include "gc/gc_collector.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <exception>
#include <iostream>
#include <stdexcept>
#include <string>

#include "gc/gc_unreachable.h"

namespace heapsnap::gc {

using detail::GcHeader;
using detail::GcList;
using detail::header_of;
using detail::object_of;

namespace {

// Sets a flag for the scope of a collection, and clears it however the scope is left.
class ScopedFlag {
 public:
  explicit ScopedFlag(bool& flag) : flag_(flag) { flag_ = true; }
  ~ScopedFlag() { flag_ = false; }
  ScopedFlag(const ScopedFlag&) = delete;
  ScopedFlag& operator=(const ScopedFlag&) = delete;

 private:
  bool& flag_;
};

std::string describe_object(const Object& object) {
  char address[32];
  std::snprintf(address, sizeof address, "%p", address_of(object));
  return "<" + type_name(object) + " " + address + ">";
}

}  // namespace

std::string_view to_string(Phase phase) { return phase == Phase::Start ? "start" : "stop"; }

Collector::Collector() : debug_output_(&std::cerr) {
  // CPython's defaults.
  generations_[0].threshold = 700;
  generations_[1].threshold = 10;
  generations_[2].threshold = 10;
}

Collector::~Collector() {
  std::lock_guard guard(mutex_);
  if (!collecting_) {
    ScopedFlag collecting(collecting_);
    collect_main_unlocked(kGenerations - 1);
  }
  print_shutdown_stats_unlocked();
  // Let the survivors go: they no longer refer to this collector, so they can outlive it.
  auto orphan = [](GcList& list) {
    while (!list.empty()) {
      GcHeader& header = *list.first();
      GcList::unlink(header);
      header.gc_collector = nullptr;
      header.gc_flags &= static_cast<std::uint8_t>(~(detail::kTracked | detail::kWasTracked));
    }
  };
  for (Generation& generation : generations_) orphan(generation.objects);
  orphan(permanent_);
  orphan(untracked_);
  garbage_.clear();  // what it held, now unowned, is freed by refcount alone
}

// --- tracking ---------------------------------------------------------------------------------

void Collector::count_allocation() {
  std::lock_guard guard(mutex_);
  Generation& young = generations_[0];
  ++young.count;
  if (young.count > young.threshold && enabled_ && young.threshold != 0 && !collecting_) {
    ScopedFlag collecting(collecting_);
    collect_generations_unlocked();
  }
}

void Collector::adopt(Object& object, std::uint32_t size, std::uint8_t hook_flags) {
  detail::init_header(object, size, hook_flags);
  std::lock_guard guard(mutex_);
  GcHeader& header = header_of(object);
  header.gc_collector = this;
  header.gc_flags |= detail::kTracked;
  generations_[0].objects.push_back(header);
}

GcHeader& Collector::owned_header(Object& object, const char* operation) const {
  GcHeader& header = header_of(object);
  if (header.gc_collector != this)
    throw std::invalid_argument(std::string("gc: ") + operation + "() of an object this collector did not make");
  return header;
}

void Collector::track(Object& object) {
  std::lock_guard guard(mutex_);
  GcHeader& header = owned_header(object, "track");
  if ((header.gc_flags & detail::kTracked) != 0) return;
  header.gc_flags |= detail::kTracked;
  generations_[0].objects.move_in(header);
}

void Collector::untrack(Object& object) {
  std::lock_guard guard(mutex_);
  untrack_unlocked(owned_header(object, "untrack"));
}

void Collector::untrack_unlocked(GcHeader& header) {
  if ((header.gc_flags & detail::kTracked) == 0) return;
  header.gc_flags &= static_cast<std::uint8_t>(~(detail::kTracked | detail::kCollecting | detail::kUnreachable));
  untracked_.move_in(header);
}

void Collector::forget(Object& object) noexcept {
  std::lock_guard guard(mutex_);
  GcList::unlink(header_of(object));
  // PyObject_GC_Del: a deallocation makes up for an allocation not yet collected.
  if (generations_[0].count > 0) --generations_[0].count;
}

bool Collector::is_tracked(const Object& object) const {
  std::lock_guard guard(mutex_);
  const GcHeader& header = header_of(object);
  return header.gc_collector == this && (header.gc_flags & detail::kTracked) != 0;
}

bool Collector::is_finalized(const Object& object) const {
  std::lock_guard guard(mutex_);
  return (header_of(object).gc_flags & detail::kFinalized) != 0;
}

// --- collection -------------------------------------------------------------------------------

void Collector::enable() {
  std::lock_guard guard(mutex_);
  enabled_ = true;
}

void Collector::disable() {
  std::lock_guard guard(mutex_);
  enabled_ = false;
}

bool Collector::isenabled() const {
  std::lock_guard guard(mutex_);
  return enabled_;
}

int Collector::checked_generation(int generation) {
  if (generation < 0 || generation >= kGenerations) throw std::invalid_argument("gc: invalid generation");
  return generation;
}

std::size_t Collector::collect(int generation) {
  checked_generation(generation);
  std::lock_guard guard(mutex_);
  if (collecting_) return 0;
  ScopedFlag collecting(collecting_);
  return collect_with_callback_unlocked(generation);
}

// The oldest generation whose count exceeds its threshold is collected with all younger ones; but the
// oldest only when the objects that reached it since its last collection are at least a quarter of
// those it kept then, which keeps full collections linear overall as the heap grows (CPython #4074).
void Collector::collect_generations_unlocked() {
  for (int i = kGenerations - 1; i >= 0; --i) {
    if (generations_[i].count <= generations_[i].threshold) continue;
    if (i == kGenerations - 1 && long_lived_pending_ < long_lived_total_ / 4) continue;
    collect_with_callback_unlocked(i);
    return;
  }
}

std::size_t Collector::collect_with_callback_unlocked(int generation) {
  invoke_callbacks_unlocked(Phase::Start, {generation, 0, 0});
  const Collected result = collect_main_unlocked(generation);
  invoke_callbacks_unlocked(Phase::Stop, {generation, result.collected, result.uncollectable});
  return result.collected + result.uncollectable;
}

Collector::Collected Collector::collect_main_unlocked(int generation) {
  const auto start = std::chrono::steady_clock::now();
  if ((debug_ & kDebugStats) != 0) {
    *debug_output_ << "gc: collecting generation " << generation << "...\n"
                   << "gc: objects in each generation:";
    for (Generation& g : generations_) *debug_output_ << ' ' << g.objects.size();
    *debug_output_ << "\ngc: objects in permanent generation: " << permanent_.size() << '\n';
  }

  if (generation + 1 < kGenerations) ++generations_[generation + 1].count;
  for (int i = 0; i <= generation; ++i) generations_[i].count = 0;
  GcList& young = generations_[generation].objects;
  for (int i = 0; i < generation; ++i) young.splice_back(generations_[i].objects);
  GcList& old = generation + 1 < kGenerations ? generations_[generation + 1].objects : young;

  GcList unreachable;
  detail::deduce_unreachable(young, unreachable);
  if (record_cycles_) last_cycles_ = detail::find_cycles(unreachable, traceback_of_);

  // The survivors age by one generation.
  if (&young != &old) {
    if (generation == kGenerations - 2) long_lived_pending_ += static_cast<std::int64_t>(young.size());
    old.splice_back(young);
  } else {
    long_lived_pending_ = 0;
    long_lived_total_ = static_cast<std::int64_t>(young.size());
  }

  GcList finalizers;
  detail::move_legacy_finalizers(unreachable, finalizers);
  if ((debug_ & kDebugCollectable) != 0)
    unreachable.for_each([&](Object& object) { print_object_unlocked("collectable", object); });

  detail::finalize_garbage(unreachable);
  GcList final_unreachable;
  detail::handle_resurrected_objects(unreachable, final_unreachable, old);

  Collected result;
  result.collected = final_unreachable.size();
  detail::delete_garbage(final_unreachable, old, (debug_ & kDebugSaveAll) != 0 ? &garbage_ : nullptr);

  finalizers.for_each([&](Object& object) {
    ++result.uncollectable;
    if ((debug_ & kDebugUncollectable) != 0) print_object_unlocked("uncollectable", object);
  });
  if ((debug_ & kDebugStats) != 0) {
    const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
    char seconds[32];
    std::snprintf(seconds, sizeof seconds, "%.4f", elapsed.count());
    *debug_output_ << "gc: done, " << result.collected + result.uncollectable << " unreachable, "
                   << result.uncollectable << " uncollectable, " << seconds << "s elapsed\n";
  }

  // handle_legacy_finalizers: the program has to deal with the uncollectable objects.
  finalizers.for_each([&](Object& object) {
    if ((debug_ & kDebugSaveAll) != 0 || (header_of(object).gc_flags & detail::kHasLegacyFinalizer) != 0)
      garbage_.emplace_back(&object);
  });
  old.splice_back(finalizers);

  GenerationStats& stats = stats_[generation];
  ++stats.collections;
  stats.collected += result.collected;
  stats.uncollectable += result.uncollectable;
  return result;
}

void Collector::invoke_callbacks_unlocked(Phase phase, const CallbackInfo& info) {
  // A copy: a callback may add or remove callbacks.
  const std::vector<std::pair<CallbackId, Callback>> callbacks = callbacks_;
  for (const auto& [id, callback] : callbacks) {
    try {
      callback(phase, info);
    } catch (const std::exception& error) {
      *debug_output_ << "gc: exception in callback (" << to_string(phase) << "): " << error.what() << '\n';
    } catch (...) {
      *debug_output_ << "gc: exception in callback (" << to_string(phase) << ")\n";
    }
  }
}

void Collector::print_object_unlocked(std::string_view what, const Object& object) const {
  *debug_output_ << "gc: " << what << ' ' << describe_object(object) << '\n';
}

// _PyGC_DumpShutdownStats.
void Collector::print_shutdown_stats_unlocked() const {
  if (garbage_.empty() || (debug_ & kDebugSaveAll) != 0) return;
  *debug_output_ << "gc: " << garbage_.size() << " uncollectable objects at shutdown";
  if ((debug_ & kDebugUncollectable) == 0) {
    *debug_output_ << "; use set_debug(kDebugUncollectable) to list them\n";
    return;
  }
  *debug_output_ << ":";
  for (const Ref<Object>& object : garbage_) *debug_output_ << ' ' << describe_object(*object);
  *debug_output_ << '\n';
}

// --- configuration and introspection ------------------------------------------------------------

std::array<std::int64_t, kGenerations> Collector::get_threshold() const {
  std::lock_guard guard(mutex_);
  return {generations_[0].threshold, generations_[1].threshold, generations_[2].threshold};
}

void Collector::set_threshold(std::int64_t threshold0, std::optional<std::int64_t> threshold1,
                              std::optional<std::int64_t> threshold2) {
  std::lock_guard guard(mutex_);
  generations_[0].threshold = threshold0;
  if (threshold1) generations_[1].threshold = *threshold1;
  if (threshold2) generations_[2].threshold = *threshold2;
}

std::array<std::int64_t, kGenerations> Collector::get_count() const {
  std::lock_guard guard(mutex_);
  return {generations_[0].count, generations_[1].count, generations_[2].count};
}

std::array<GenerationStats, kGenerations> Collector::get_stats() const {
  std::lock_guard guard(mutex_);
  return stats_;
}

void Collector::set_debug(unsigned flags) {
  std::lock_guard guard(mutex_);
  debug_ = flags;
}

unsigned Collector::get_debug() const {
  std::lock_guard guard(mutex_);
  return debug_;
}

void Collector::set_debug_output(std::ostream& out) {
  std::lock_guard guard(mutex_);
  debug_output_ = &out;
}

std::vector<Ref<Object>>& Collector::garbage() { return garbage_; }

std::vector<Ref<Object>> Collector::get_objects(std::optional<int> generation) const {
  if (generation && *generation < 0) throw std::invalid_argument("gc: generation parameter cannot be negative");
  if (generation && *generation >= kGenerations)
    throw std::invalid_argument("gc: generation parameter must be less than the number of available generations (3)");
  std::lock_guard guard(mutex_);
  std::vector<Ref<Object>> objects;
  for (int i = 0; i < kGenerations; ++i) {
    if (generation && *generation != i) continue;
    generations_[i].objects.for_each([&](Object& object) { objects.emplace_back(&object); });
  }
  return objects;
}

namespace {

class FindsAny final : public Visitor {
 public:
  explicit FindsAny(std::initializer_list<const Object*> wanted) : wanted_(wanted) {}
  bool found = false;

 private:
  void visit(Object& referent, const void*) override {
    found = found || std::find(wanted_.begin(), wanted_.end(), &referent) != wanted_.end();
  }
  std::initializer_list<const Object*> wanted_;
};

class CollectReferents final : public Visitor {
 public:
  explicit CollectReferents(std::vector<Ref<Object>>& out) : out_(out) {}

 private:
  void visit(Object& referent, const void*) override { out_.emplace_back(&referent); }
  std::vector<Ref<Object>>& out_;
};

}  // namespace

std::vector<Ref<Object>> Collector::get_referrers(std::initializer_list<const Object*> objects) const {
  std::lock_guard guard(mutex_);
  std::vector<Ref<Object>> referrers;
  for (const Generation& generation : generations_) {
    generation.objects.for_each([&](Object& object) {
      FindsAny finds(objects);
      object.traverse(finds);
      if (finds.found) referrers.emplace_back(&object);
    });
  }
  return referrers;
}

std::vector<Ref<Object>> Collector::get_referents(std::initializer_list<const Object*> objects) const {
  std::lock_guard guard(mutex_);
  std::vector<Ref<Object>> referents;
  CollectReferents collect(referents);
  for (const Object* object : objects) object->traverse(collect);
  return referents;
}

void Collector::freeze() {
  std::lock_guard guard(mutex_);
  for (Generation& generation : generations_) permanent_.splice_back(generation.objects);
  generations_[0].count = 0;
}

void Collector::unfreeze() {
  std::lock_guard guard(mutex_);
  generations_[kGenerations - 1].objects.splice_back(permanent_);
}

std::size_t Collector::get_freeze_count() const {
  std::lock_guard guard(mutex_);
  return permanent_.size();
}

CallbackId Collector::add_callback(Callback callback) {
  std::lock_guard guard(mutex_);
  const CallbackId id{next_callback_id_++};
  callbacks_.emplace_back(id, std::move(callback));
  return id;
}

bool Collector::remove_callback(CallbackId id) {
  std::lock_guard guard(mutex_);
  const auto it = std::find_if(callbacks_.begin(), callbacks_.end(), [&](const auto& entry) { return entry.first == id; });
  if (it == callbacks_.end()) return false;
  callbacks_.erase(it);
  return true;
}

void Collector::record_cycles(bool on, TracebackHook traceback_of) {
  std::lock_guard guard(mutex_);
  record_cycles_ = on;
  traceback_of_ = std::move(traceback_of);
  if (!on) last_cycles_.clear();
}

std::vector<GcCycle> Collector::last_cycles() const {
  std::lock_guard guard(mutex_);
  return last_cycles_;
}

std::unique_lock<std::recursive_mutex> Collector::lock() const { return std::unique_lock(mutex_); }

void Collector::validate() const {
  std::lock_guard guard(mutex_);
  if (collecting_) return;  // the collection's own lists are not visible from here
  auto check_list = [&](const GcList& list, bool tracked, const char* name) {
    const GcHeader* previous = list.end();
    for (const GcHeader* h = previous->gc_next; h != list.end(); previous = h, h = h->gc_next) {
      const std::string where = std::string("gc: validate: ") + name + ": ";
      if (h->gc_prev != previous) throw std::logic_error(where + "broken back link");
      if (h->gc_collector != this) throw std::logic_error(where + "object owned by another collector");
      if (((h->gc_flags & detail::kTracked) != 0) != tracked) throw std::logic_error(where + "wrong tracked flag");
      if ((h->gc_flags & (detail::kCollecting | detail::kUnreachable)) != 0)
        throw std::logic_error(where + "collection flag left set");
      if (h->gc_next == nullptr) throw std::logic_error(where + "null link");
    }
    if (list.end()->gc_prev != previous) throw std::logic_error(std::string("gc: validate: ") + name + ": broken tail");
  };
  const char* names[kGenerations] = {"generation 0", "generation 1", "generation 2"};
  for (int i = 0; i < kGenerations; ++i) check_list(generations_[i].objects, true, names[i]);
  check_list(permanent_, true, "permanent generation");
  check_list(untracked_, false, "untracked");
}

Collector& global() {
  static Collector* const collector = new Collector;  // never destroyed: objects may outlive main()
  return *collector;
}

}  // namespace heapsnap::gc
