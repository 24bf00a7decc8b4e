#pragma once
// Frames of two kinds for the unwinder tests, calling each other: debug_frame is built at -O0 (it
// keeps a frame pointer, its CFA comes from rbp), optimized_frame at -O2 without frame pointers.

namespace unwinder_frames {

using Capture = void (*)(void* out);

// Recurse `depth` frames, alternating kinds in a fixed pattern, then call capture(out).
[[gnu::noinline]] void debug_frame(int depth, Capture capture, void* out);
[[gnu::noinline]] void optimized_frame(int depth, Capture capture, void* out);

}  // namespace unwinder_frames
