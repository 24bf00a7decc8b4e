#pragma once
// Ref<T>: an owning reference to a gc::Object (one refcount), like a PyObject* that is a new reference.
//
//   Ref<T>(p)          takes a new reference: increfs p
//   Ref<T>::adopt(p)   takes over a reference the caller owns (what make<T> returns)
//   r = other; r.reset()  the old referent is released only after r points to the new one, so the old
//                      referent's destruction never sees r half-assigned (CPython's Py_SETREF)

#include <concepts>
#include <cstddef>
#include <utility>

namespace heapsnap::gc {

class Object;

template <class T>
class Ref {
 public:
  Ref() noexcept = default;
  Ref(std::nullptr_t) noexcept {}
  explicit Ref(T* object) noexcept : object_(object) {
    if (object_ != nullptr) object_->incref();
  }
  static Ref adopt(T* object) noexcept {
    Ref ref;
    ref.object_ = object;
    return ref;
  }

  Ref(const Ref& other) noexcept : Ref(other.object_) {}
  Ref(Ref&& other) noexcept : object_(std::exchange(other.object_, nullptr)) {}
  template <class U>
    requires std::convertible_to<U*, T*>
  Ref(const Ref<U>& other) noexcept : Ref(other.get()) {}
  template <class U>
    requires std::convertible_to<U*, T*>
  Ref(Ref<U>&& other) noexcept : object_(other.release()) {}

  ~Ref() { reset(); }

  Ref& operator=(Ref other) noexcept {  // by value: the old referent dies with `other`, after the swap
    std::swap(object_, other.object_);
    return *this;
  }
  void reset() noexcept {
    if (T* old = std::exchange(object_, nullptr); old != nullptr) old->decref();
  }
  // Gives up ownership without a decref: the caller now owns the reference.
  [[nodiscard]] T* release() noexcept { return std::exchange(object_, nullptr); }

  T* get() const noexcept { return object_; }
  T& operator*() const noexcept { return *object_; }
  T* operator->() const noexcept { return object_; }
  explicit operator bool() const noexcept { return object_ != nullptr; }

  template <class U>
  friend bool operator==(const Ref& a, const Ref<U>& b) noexcept {
    return static_cast<const Object*>(a.get()) == static_cast<const Object*>(b.get());
  }
  friend bool operator==(const Ref& a, std::nullptr_t) noexcept { return a.get() == nullptr; }

 private:
  T* object_ = nullptr;
};

}  // namespace heapsnap::gc
