#pragma once
// A few of Python's object types as gc::Object subclasses, so that the scenarios of CPython's
// Lib/test/test_gc.py can be written here with the same shapes and expected counts. Instances keep
// their attributes inline, as CPython 3.11 does (no separate __dict__ object), so the counts are those
// CPython 3.11 gives; a class is the 5 objects a CPython 3.11 class is: the type, its dict, the dict's
// __dict__ and __weakref__ descriptors (each pointing back to the type), and the mro tuple.

#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "gc/gc_collector.h"

namespace pymodel {

using heapsnap::gc::Collector;
using heapsnap::gc::Object;
using heapsnap::gc::Ref;
using heapsnap::gc::Visitor;

// Objects of this model alive now: tests compare it before and after to see what was freed.
inline int live_objects = 0;

class PyObject : public Object {
 protected:
  PyObject() { ++live_objects; }
  ~PyObject() override { --live_objects; }
};

// Atoms: never tracked (make them with gc::make_atomic), and not counted in live_objects.
class Int final : public Object {
 public:
  explicit Int(long v) : value(v) {}
  const long value;
};
class Str final : public Object {
 public:
  explicit Str(std::string s) : value(std::move(s)) {}
  const std::string value;
};

class List : public PyObject {
 public:
  List() = default;
  explicit List(std::vector<Ref<Object>> initial) : items(std::move(initial)) {}
  void append(Ref<Object> item) { items.push_back(std::move(item)); }
  void traverse(Visitor& visit) const noexcept override {
    for (const Ref<Object>& item : items) visit(item);
  }
  void clear() noexcept override {
    std::vector<Ref<Object>> old;  // released after the list is already empty
    old.swap(items);
  }
  std::vector<Ref<Object>> items;
};

// Immutable, and without clear(), like CPython's tuple: a cycle through a tuple is broken elsewhere.
class Tuple final : public PyObject {
 public:
  explicit Tuple(std::vector<Ref<Object>> initial) : items(std::move(initial)) {}
  void traverse(Visitor& visit) const noexcept override {
    for (const Ref<Object>& item : items) visit(item);
  }
  const std::vector<Ref<Object>> items;
};

// Keys compare by value when both are Int or both are Str, by identity otherwise.
class Dict : public PyObject {
 public:
  void set(Ref<Object> key, Ref<Object> value);
  Ref<Object> get(const Object& key) const;
  void traverse(Visitor& visit) const noexcept override {
    for (const auto& [key, value] : items) {
      visit(key);
      visit(value);
    }
  }
  void clear() noexcept override {
    std::vector<std::pair<Ref<Object>, Ref<Object>>> old;
    old.swap(items);
  }
  std::vector<std::pair<Ref<Object>, Ref<Object>>> items;
};

class Type;

// An instance of a user class: a reference to its class (heap types are referenced by their
// instances) and inline attributes.
class Instance : public PyObject {
 public:
  explicit Instance(Ref<Type> type_) : type(std::move(type_)) {}
  void set(const std::string& name, Ref<Object> value) { attrs[name] = std::move(value); }
  void del(const std::string& name) {
    auto node = attrs.extract(name);  // the value is released after the attribute is gone
  }
  Ref<Object> get(const std::string& name) const {
    const auto it = attrs.find(name);
    return it == attrs.end() ? Ref<Object>() : it->second;
  }
  void traverse(Visitor& visit) const noexcept override;
  void clear() noexcept override {
    std::map<std::string, Ref<Object>> old;
    old.swap(attrs);
  }
  Ref<Type> type;
  std::map<std::string, Ref<Object>> attrs;
};

// An instance whose class defines __del__: on_del runs as its finalizer (at most once).
class DelInstance : public Instance {
 public:
  DelInstance(Ref<Type> type_, std::function<void(DelInstance&)> on_del_)
      : Instance(std::move(type_)), on_del(std::move(on_del_)) {}
  void finalize() noexcept override {
    if (on_del) on_del(*this);
  }
  std::function<void(DelInstance&)> on_del;
};

// An instance whose class has a legacy tp_del (_testcapi.with_tp_del): uncollectable in a cycle.
class LegacyInstance : public Instance {
 public:
  using Instance::Instance;
  void legacy_finalize() noexcept override { ++tp_del_calls; }
  static inline int tp_del_calls = 0;
};

// A subclass of list with a __dict__ (a separate dict object, as CPython gives list subclasses).
class ListInstance : public List {
 public:
  ListInstance(Ref<Type> type_, Ref<Dict> dict_) : type(std::move(type_)), dict(std::move(dict_)) {}
  void traverse(Visitor& visit) const noexcept override;
  void clear() noexcept override {
    List::clear();
    dict.reset();
  }
  Ref<Type> type;
  Ref<Dict> dict;
};

class Type final : public PyObject {
 public:
  explicit Type(std::string name_) : name(std::move(name_)) {}
  void traverse(Visitor& visit) const noexcept override {
    visit(dict);
    visit(mro);
  }
  void clear() noexcept override {
    dict.reset();
    mro.reset();
  }
  const std::string name;
  Ref<Dict> dict;
  Ref<Tuple> mro;  // (self, bases...)
};

// A getset_descriptor: class attributes __dict__ and __weakref__ point back to their class.
class Descriptor final : public PyObject {
 public:
  explicit Descriptor(Ref<Type> owner_) : owner(std::move(owner_)) {}
  void traverse(Visitor& visit) const noexcept override { visit(owner); }
  void clear() noexcept override { owner.reset(); }
  Ref<Type> owner;
};

class Function final : public PyObject {
 public:
  explicit Function(Ref<Dict> globals_) : globals(std::move(globals_)) {}
  void traverse(Visitor& visit) const noexcept override { visit(globals); }
  void clear() noexcept override { globals.reset(); }
  Ref<Dict> globals;
};

class BoundMethod final : public PyObject {
 public:
  BoundMethod(Ref<Object> self_, Ref<Object> function_) : self(std::move(self_)), function(std::move(function_)) {}
  void traverse(Visitor& visit) const noexcept override {
    visit(self);
    visit(function);
  }
  void clear() noexcept override {
    self.reset();
    function.reset();
  }
  Ref<Object> self;
  Ref<Object> function;
};

// `class name(bases...): pass`: the type, its dict with two descriptors, and its mro tuple.
Ref<Type> make_class(Collector& gc, const std::string& name, const std::vector<Ref<Type>>& bases = {});
Ref<Object> make_int(long value);
Ref<Object> make_str(const std::string& value);
long int_value(const Object& object);  // of an Int; throws otherwise

}  // namespace pymodel
