#include "py_model.h"

#include <stdexcept>

namespace pymodel {
namespace {

bool same_key(const Object& a, const Object& b) {
  if (&a == &b) return true;
  const auto* int_a = dynamic_cast<const Int*>(&a);
  const auto* int_b = dynamic_cast<const Int*>(&b);
  if (int_a != nullptr && int_b != nullptr) return int_a->value == int_b->value;
  const auto* str_a = dynamic_cast<const Str*>(&a);
  const auto* str_b = dynamic_cast<const Str*>(&b);
  return str_a != nullptr && str_b != nullptr && str_a->value == str_b->value;
}

}  // namespace

void Dict::set(Ref<Object> key, Ref<Object> value) {
  for (auto& [k, v] : items) {
    if (same_key(*k, *key)) {
      v = std::move(value);
      return;
    }
  }
  items.emplace_back(std::move(key), std::move(value));
}

Ref<Object> Dict::get(const Object& key) const {
  for (const auto& [k, v] : items)
    if (same_key(*k, key)) return v;
  return {};
}

void Instance::traverse(Visitor& visit) const noexcept {
  visit(type);
  for (const auto& [name, value] : attrs) visit(value);
}

void ListInstance::traverse(Visitor& visit) const noexcept {
  List::traverse(visit);
  visit(type);
  visit(dict);
}

Ref<Type> make_class(Collector& gc, const std::string& name, const std::vector<Ref<Type>>& bases) {
  Ref<Type> type = gc.make<Type>(name);
  type->dict = gc.make<Dict>();
  type->dict->set(make_str("__dict__"), gc.make<Descriptor>(type));
  type->dict->set(make_str("__weakref__"), gc.make<Descriptor>(type));
  std::vector<Ref<Object>> mro{type};
  for (const Ref<Type>& base : bases) mro.emplace_back(base);
  type->mro = gc.make<Tuple>(std::move(mro));
  return type;
}

Ref<Object> make_int(long value) { return heapsnap::gc::make_atomic<Int>(value); }
Ref<Object> make_str(const std::string& value) { return heapsnap::gc::make_atomic<Str>(value); }

long int_value(const Object& object) {
  const auto* i = dynamic_cast<const Int*>(&object);
  if (i == nullptr) throw std::invalid_argument("not an Int");
  return i->value;
}

}  // namespace pymodel
