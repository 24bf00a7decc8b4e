#pragma once
// Keeps the optimizer from removing an allocation whose result the sample never reads: it may not
// elide a malloc/new whose pointer escapes into an asm statement.
template <typename T>
inline void escape(T* p) {
  asm volatile("" : : "g"(p) : "memory");
}
