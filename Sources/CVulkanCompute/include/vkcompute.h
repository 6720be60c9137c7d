#ifndef EMULSION_VKCOMPUTE_H
#define EMULSION_VKCOMPUTE_H

#include <stddef.h>
#include <stdint.h>

/// A minimal Vulkan compute runner for the shader tests (no Swift API: the typed, throwing facade
/// is `VulkanCompute` in the test target). libvulkan is opened at run time (dlopen), so building
/// needs only the headers, and without them this compiles to a stub that reports so.

typedef struct vkc_context vkc_context;

/// Opens libvulkan, creates an instance and a device with a compute queue (any device; a CPU
/// implementation such as Mesa lavapipe is fine). NULL on failure, with the reason in `err`.
vkc_context *vkc_create(char *err, size_t errlen);
void vkc_destroy(vkc_context *context);
/// The device's name and driver (e.g. "llvmpipe (LLVM 15.0.6, 256 bits)").
const char *vkc_device_name(const vkc_context *context);

/// Runs one SPIR-V compute module: buffer i (bytes `sizes[i]`, contents `buffers[i]` or zeros when
/// NULL) is a storage buffer at set 0, binding i; `push` (up to 128 bytes) is the push-constant
/// block; the dispatch is gx × gy × 1 work groups. Buffer `readback` is copied to `out` afterwards.
/// `milliseconds` receives the time from submit to completion. 0 on success; else -1 and `err`.
int vkc_dispatch(vkc_context *context, const uint32_t *code, size_t codeBytes,
                 const void *const *buffers, const size_t *sizes, uint32_t count,
                 const void *push, uint32_t pushBytes, uint32_t gx, uint32_t gy,
                 uint32_t readback, void *out, size_t outBytes, double *milliseconds,
                 char *err, size_t errlen);

#endif
