#ifndef EMULSION_CVULKANCOMPUTE_SHIM_H
#define EMULSION_CVULKANCOMPUTE_SHIM_H
// A minimal Vulkan compute runner for the shader tests, written as static inline functions in this
// header of a system-library shim: only a target that imports it (EmulsionShaderTests) compiles it,
// so `swift build` of the product never does. No Swift API: the typed, throwing facade is
// `VulkanCompute` in the test target. libvulkan.so.1 is opened with dlopen, so nothing links
// against it; without the Vulkan headers every entry point reports that instead.
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct vkc_context vkc_context;




/// Opens libvulkan, creates an instance and a device with a compute queue (any device; a CPU
/// implementation such as Mesa lavapipe is fine). NULL on failure, with the reason in `err`.
static inline vkc_context *vkc_create(char *err, size_t errlen);
static inline void vkc_destroy(vkc_context *context);
/// The device's name and driver (e.g. "llvmpipe (LLVM 15.0.6, 256 bits)").
static inline const char *vkc_device_name(const vkc_context *context);

/// Runs one SPIR-V compute module: buffer i (bytes `sizes[i]`, contents `buffers[i]` or zeros when
/// NULL) is a storage buffer at set 0, binding i; `push` (up to 128 bytes) is the push-constant
/// block; the dispatch is gx × gy × 1 work groups. Buffer `readback` is copied to `out` afterwards.
/// `milliseconds` receives the time from submit to completion. 0 on success; else -1 and `err`.
static inline int vkc_dispatch(vkc_context *context, const uint32_t *code, size_t codeBytes,
                 const void *const *buffers, const size_t *sizes, uint32_t count,
                 const void *push, uint32_t pushBytes, uint32_t gx, uint32_t gy,
                 uint32_t readback, void *out, size_t outBytes, double *milliseconds,
                 char *err, size_t errlen);



#if __has_include(<vulkan/vulkan.h>)
#define VK_NO_PROTOTYPES
#include <vulkan/vulkan.h>
#include <dlfcn.h>
#include <time.h>

#define FUNCTIONS(X) \
    X(vkDestroyInstance) X(vkEnumeratePhysicalDevices) X(vkGetPhysicalDeviceProperties) \
    X(vkGetPhysicalDeviceQueueFamilyProperties) X(vkGetPhysicalDeviceMemoryProperties) X(vkCreateDevice) \
    X(vkGetDeviceProcAddr)
#define DEVICE_FUNCTIONS(X) \
    X(vkDestroyDevice) X(vkGetDeviceQueue) X(vkCreateBuffer) X(vkDestroyBuffer) X(vkGetBufferMemoryRequirements) \
    X(vkAllocateMemory) X(vkFreeMemory) X(vkBindBufferMemory) X(vkMapMemory) X(vkUnmapMemory) \
    X(vkCreateShaderModule) X(vkDestroyShaderModule) X(vkCreateDescriptorSetLayout) X(vkDestroyDescriptorSetLayout) \
    X(vkCreatePipelineLayout) X(vkDestroyPipelineLayout) X(vkCreateComputePipelines) X(vkDestroyPipeline) \
    X(vkCreateDescriptorPool) X(vkDestroyDescriptorPool) X(vkAllocateDescriptorSets) X(vkUpdateDescriptorSets) \
    X(vkCreateCommandPool) X(vkDestroyCommandPool) X(vkAllocateCommandBuffers) X(vkBeginCommandBuffer) \
    X(vkEndCommandBuffer) X(vkCmdBindPipeline) X(vkCmdBindDescriptorSets) X(vkCmdPushConstants) X(vkCmdDispatch) \
    X(vkQueueSubmit) X(vkCreateFence) X(vkDestroyFence) X(vkWaitForFences)

struct vkc_context {
    void *library;
    PFN_vkGetInstanceProcAddr vkGetInstanceProcAddr;
    VkInstance instance;
    VkPhysicalDevice physical;
    VkDevice device;
    VkQueue queue;
    uint32_t family;
    VkPhysicalDeviceMemoryProperties memory;
    char name[300];
    // The last pipeline, kept for the next dispatch of the same module with as many buffers.
    uint32_t *cachedCode;
    size_t cachedBytes;
    uint32_t cachedCount;
    VkShaderModule module;
    VkDescriptorSetLayout setLayout;
    VkPipelineLayout pipelineLayout;
    VkPipeline pipeline;
#define FIELD(f) PFN_##f f;
    FUNCTIONS(FIELD)
    DEVICE_FUNCTIONS(FIELD)
#undef FIELD
};

static inline void fail(char *err, size_t errlen, const char *what, int code) {
    if (err && errlen) snprintf(err, errlen, "%s (VkResult %d)", what, code);
}

static inline vkc_context *vkc_create(char *err, size_t errlen) {
    vkc_context *c = calloc(1, sizeof *c);
    if (!c) { fail(err, errlen, "out of memory", 0); return NULL; }
    c->library = dlopen("libvulkan.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!c->library) c->library = dlopen("libvulkan.so", RTLD_NOW | RTLD_LOCAL);
    if (!c->library) { fail(err, errlen, "libvulkan.so.1 not found (install libvulkan1 and a driver, e.g. mesa-vulkan-drivers)", 0); free(c); return NULL; }
    c->vkGetInstanceProcAddr = (PFN_vkGetInstanceProcAddr)dlsym(c->library, "vkGetInstanceProcAddr");
    PFN_vkCreateInstance create = c->vkGetInstanceProcAddr ? (PFN_vkCreateInstance)c->vkGetInstanceProcAddr(NULL, "vkCreateInstance") : NULL;
    if (!create) { fail(err, errlen, "libvulkan has no vkCreateInstance", 0); vkc_destroy(c); return NULL; }
    VkApplicationInfo app = { .sType = VK_STRUCTURE_TYPE_APPLICATION_INFO, .pApplicationName = "emulsion-shader-tests",
                              .apiVersion = VK_API_VERSION_1_1 };
    VkInstanceCreateInfo info = { .sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO, .pApplicationInfo = &app };
    VkResult r = create(&info, NULL, &c->instance);
    if (r != VK_SUCCESS) { fail(err, errlen, "vkCreateInstance failed (no Vulkan driver installed?)", r); c->instance = NULL; vkc_destroy(c); return NULL; }
#define LOAD(f) c->f = (PFN_##f)c->vkGetInstanceProcAddr(c->instance, #f); \
    if (!c->f) { fail(err, errlen, "missing Vulkan function " #f, 0); vkc_destroy(c); return NULL; }
    FUNCTIONS(LOAD)
#undef LOAD
    uint32_t n = 0;
    c->vkEnumeratePhysicalDevices(c->instance, &n, NULL);
    if (n == 0) { fail(err, errlen, "no Vulkan physical device", 0); vkc_destroy(c); return NULL; }
    VkPhysicalDevice devices[16];
    if (n > 16) n = 16;
    c->vkEnumeratePhysicalDevices(c->instance, &n, devices);
    int chosen = -1;
    uint32_t chosenFamily = 0;
    for (uint32_t i = 0; i < n && chosen < 0; i++) {
        uint32_t families = 0;
        c->vkGetPhysicalDeviceQueueFamilyProperties(devices[i], &families, NULL);
        VkQueueFamilyProperties props[16];
        if (families > 16) families = 16;
        c->vkGetPhysicalDeviceQueueFamilyProperties(devices[i], &families, props);
        for (uint32_t f = 0; f < families; f++) {
            if (props[f].queueFlags & VK_QUEUE_COMPUTE_BIT) { chosen = (int)i; chosenFamily = f; break; }
        }
    }
    if (chosen < 0) { fail(err, errlen, "no Vulkan device with a compute queue", 0); vkc_destroy(c); return NULL; }
    c->physical = devices[chosen];
    c->family = chosenFamily;
    VkPhysicalDeviceProperties properties;
    c->vkGetPhysicalDeviceProperties(c->physical, &properties);
    snprintf(c->name, sizeof c->name, "%s", properties.deviceName);
    c->vkGetPhysicalDeviceMemoryProperties(c->physical, &c->memory);
    float priority = 1;
    VkDeviceQueueCreateInfo queue = { .sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO, .queueFamilyIndex = c->family,
                                      .queueCount = 1, .pQueuePriorities = &priority };
    VkDeviceCreateInfo dinfo = { .sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO, .queueCreateInfoCount = 1, .pQueueCreateInfos = &queue };
    r = c->vkCreateDevice(c->physical, &dinfo, NULL, &c->device);
    if (r != VK_SUCCESS) { fail(err, errlen, "vkCreateDevice failed", r); c->device = NULL; vkc_destroy(c); return NULL; }
#define LOADD(f) c->f = (PFN_##f)c->vkGetDeviceProcAddr(c->device, #f); \
    if (!c->f) { fail(err, errlen, "missing Vulkan device function " #f, 0); vkc_destroy(c); return NULL; }
    DEVICE_FUNCTIONS(LOADD)
#undef LOADD
    c->vkGetDeviceQueue(c->device, c->family, 0, &c->queue);
    return c;
}

static inline void dropPipeline(vkc_context *c) {
    if (c->pipeline) c->vkDestroyPipeline(c->device, c->pipeline, NULL);
    if (c->pipelineLayout) c->vkDestroyPipelineLayout(c->device, c->pipelineLayout, NULL);
    if (c->setLayout) c->vkDestroyDescriptorSetLayout(c->device, c->setLayout, NULL);
    if (c->module) c->vkDestroyShaderModule(c->device, c->module, NULL);
    c->pipeline = VK_NULL_HANDLE; c->pipelineLayout = VK_NULL_HANDLE; c->setLayout = VK_NULL_HANDLE; c->module = VK_NULL_HANDLE;
    free(c->cachedCode);
    c->cachedCode = NULL; c->cachedBytes = 0; c->cachedCount = 0;
}

static inline void vkc_destroy(vkc_context *c) {
    if (!c) return;
    if (c->device && c->vkDestroyDevice) dropPipeline(c);
    if (c->device && c->vkDestroyDevice) c->vkDestroyDevice(c->device, NULL);
    if (c->instance && c->vkDestroyInstance) c->vkDestroyInstance(c->instance, NULL);
    if (c->library) dlclose(c->library);
    free(c);
}

static inline const char *vkc_device_name(const vkc_context *c) { return c->name; }

static inline int memoryType(const vkc_context *c, uint32_t bits, VkMemoryPropertyFlags wanted) {
    for (uint32_t i = 0; i < c->memory.memoryTypeCount; i++) {
        if ((bits & (1u << i)) && (c->memory.memoryTypes[i].propertyFlags & wanted) == wanted) return (int)i;
    }
    return -1;
}

#define MAXBUFFERS 8

static inline int vkc_dispatch(vkc_context *c, const uint32_t *code, size_t codeBytes,
                 const void *const *buffers, const size_t *sizes, uint32_t count,
                 const void *push, uint32_t pushBytes, uint32_t gx, uint32_t gy,
                 uint32_t readback, void *out, size_t outBytes, double *milliseconds,
                 char *err, size_t errlen) {
    if (count == 0 || count > MAXBUFFERS || readback >= count || pushBytes > 128 || outBytes > sizes[readback]) {
        fail(err, errlen, "bad arguments to vkc_dispatch", 0);
        return -1;
    }
    int status = -1;
    VkResult r = VK_SUCCESS;
    VkBuffer buf[MAXBUFFERS] = {0};
    VkDeviceMemory mem[MAXBUFFERS] = {0};
    VkDescriptorPool pool = VK_NULL_HANDLE;
    VkCommandPool commandPool = VK_NULL_HANDLE;
    VkFence fence = VK_NULL_HANDLE;
#define CHECK(call, what) do { r = (call); if (r != VK_SUCCESS) { fail(err, errlen, what, r); goto done; } } while (0)
    for (uint32_t i = 0; i < count; i++) {
        VkBufferCreateInfo binfo = { .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO, .size = sizes[i] ? sizes[i] : 4,
                                     .usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT, .sharingMode = VK_SHARING_MODE_EXCLUSIVE };
        CHECK(c->vkCreateBuffer(c->device, &binfo, NULL, &buf[i]), "vkCreateBuffer");
        VkMemoryRequirements req;
        c->vkGetBufferMemoryRequirements(c->device, buf[i], &req);
        int type = memoryType(c, req.memoryTypeBits, VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT);
        if (type < 0) { fail(err, errlen, "no host-visible coherent memory type", 0); goto done; }
        VkMemoryAllocateInfo ainfo = { .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO, .allocationSize = req.size,
                                       .memoryTypeIndex = (uint32_t)type };
        CHECK(c->vkAllocateMemory(c->device, &ainfo, NULL, &mem[i]), "vkAllocateMemory");
        CHECK(c->vkBindBufferMemory(c->device, buf[i], mem[i], 0), "vkBindBufferMemory");
        void *mapped = NULL;
        CHECK(c->vkMapMemory(c->device, mem[i], 0, VK_WHOLE_SIZE, 0, &mapped), "vkMapMemory");
        if (buffers[i] && sizes[i]) memcpy(mapped, buffers[i], sizes[i]); else memset(mapped, 0, sizes[i] ? sizes[i] : 4);
        c->vkUnmapMemory(c->device, mem[i]);
    }
    if (!(c->pipeline && c->cachedCount == count && c->cachedBytes == codeBytes && memcmp(c->cachedCode, code, codeBytes) == 0)) {
        dropPipeline(c);
        VkShaderModuleCreateInfo sinfo = { .sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO, .codeSize = codeBytes, .pCode = code };
        CHECK(c->vkCreateShaderModule(c->device, &sinfo, NULL, &c->module), "vkCreateShaderModule");
        VkDescriptorSetLayoutBinding bindings[MAXBUFFERS];
        for (uint32_t i = 0; i < count; i++) {
            bindings[i] = (VkDescriptorSetLayoutBinding){ .binding = i, .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
                                                          .descriptorCount = 1, .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT };
        }
        VkDescriptorSetLayoutCreateInfo linfo = { .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO, .bindingCount = count, .pBindings = bindings };
        CHECK(c->vkCreateDescriptorSetLayout(c->device, &linfo, NULL, &c->setLayout), "vkCreateDescriptorSetLayout");
        VkPushConstantRange range = { .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT, .offset = 0, .size = 128 };
        VkPipelineLayoutCreateInfo pinfo = { .sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO, .setLayoutCount = 1, .pSetLayouts = &c->setLayout,
                                             .pushConstantRangeCount = 1, .pPushConstantRanges = &range };
        CHECK(c->vkCreatePipelineLayout(c->device, &pinfo, NULL, &c->pipelineLayout), "vkCreatePipelineLayout");
        VkComputePipelineCreateInfo cinfo = { .sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO,
            .stage = { .sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO, .stage = VK_SHADER_STAGE_COMPUTE_BIT,
                       .module = c->module, .pName = "main" },
            .layout = c->pipelineLayout };
        CHECK(c->vkCreateComputePipelines(c->device, VK_NULL_HANDLE, 1, &cinfo, NULL, &c->pipeline), "vkCreateComputePipelines");
        c->cachedCode = malloc(codeBytes);
        if (!c->cachedCode) { fail(err, errlen, "out of memory", 0); goto done; }
        memcpy(c->cachedCode, code, codeBytes);
        c->cachedBytes = codeBytes;
        c->cachedCount = count;
    }
    VkPipeline pipeline = c->pipeline;
    VkPipelineLayout pipelineLayout = c->pipelineLayout;
    VkDescriptorSetLayout setLayout = c->setLayout;
    VkDescriptorPoolSize poolSize = { .type = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, .descriptorCount = count };
    VkDescriptorPoolCreateInfo dpinfo = { .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO, .maxSets = 1, .poolSizeCount = 1, .pPoolSizes = &poolSize };
    CHECK(c->vkCreateDescriptorPool(c->device, &dpinfo, NULL, &pool), "vkCreateDescriptorPool");
    VkDescriptorSet set;
    VkDescriptorSetAllocateInfo dsinfo = { .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO, .descriptorPool = pool,
                                           .descriptorSetCount = 1, .pSetLayouts = &setLayout };
    CHECK(c->vkAllocateDescriptorSets(c->device, &dsinfo, &set), "vkAllocateDescriptorSets");
    VkDescriptorBufferInfo binfos[MAXBUFFERS];
    VkWriteDescriptorSet writes[MAXBUFFERS];
    for (uint32_t i = 0; i < count; i++) {
        binfos[i] = (VkDescriptorBufferInfo){ .buffer = buf[i], .offset = 0, .range = VK_WHOLE_SIZE };
        writes[i] = (VkWriteDescriptorSet){ .sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET, .dstSet = set, .dstBinding = i,
                                            .descriptorCount = 1, .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, .pBufferInfo = &binfos[i] };
    }
    c->vkUpdateDescriptorSets(c->device, count, writes, 0, NULL);
    VkCommandPoolCreateInfo cpinfo = { .sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO, .queueFamilyIndex = c->family };
    CHECK(c->vkCreateCommandPool(c->device, &cpinfo, NULL, &commandPool), "vkCreateCommandPool");
    VkCommandBuffer cmd;
    VkCommandBufferAllocateInfo cbinfo = { .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO, .commandPool = commandPool,
                                           .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY, .commandBufferCount = 1 };
    CHECK(c->vkAllocateCommandBuffers(c->device, &cbinfo, &cmd), "vkAllocateCommandBuffers");
    VkCommandBufferBeginInfo begin = { .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO, .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT };
    CHECK(c->vkBeginCommandBuffer(cmd, &begin), "vkBeginCommandBuffer");
    c->vkCmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, pipeline);
    c->vkCmdBindDescriptorSets(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, pipelineLayout, 0, 1, &set, 0, NULL);
    unsigned char pushBlock[128] = {0};
    if (push && pushBytes) memcpy(pushBlock, push, pushBytes);
    c->vkCmdPushConstants(cmd, pipelineLayout, VK_SHADER_STAGE_COMPUTE_BIT, 0, 128, pushBlock);
    c->vkCmdDispatch(cmd, gx, gy, 1);
    CHECK(c->vkEndCommandBuffer(cmd), "vkEndCommandBuffer");
    VkFenceCreateInfo finfo = { .sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO };
    CHECK(c->vkCreateFence(c->device, &finfo, NULL, &fence), "vkCreateFence");
    VkSubmitInfo submit = { .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO, .commandBufferCount = 1, .pCommandBuffers = &cmd };
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CHECK(c->vkQueueSubmit(c->queue, 1, &submit, fence), "vkQueueSubmit");
    CHECK(c->vkWaitForFences(c->device, 1, &fence, VK_TRUE, UINT64_MAX), "vkWaitForFences");
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (milliseconds) *milliseconds = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    void *mapped = NULL;
    CHECK(c->vkMapMemory(c->device, mem[readback], 0, VK_WHOLE_SIZE, 0, &mapped), "vkMapMemory (read back)");
    memcpy(out, mapped, outBytes);
    c->vkUnmapMemory(c->device, mem[readback]);
    status = 0;
done:
    if (fence) c->vkDestroyFence(c->device, fence, NULL);
    if (commandPool) c->vkDestroyCommandPool(c->device, commandPool, NULL);
    if (pool) c->vkDestroyDescriptorPool(c->device, pool, NULL);
    if (status != 0) dropPipeline(c);
    for (uint32_t i = 0; i < count; i++) {
        if (buf[i]) c->vkDestroyBuffer(c->device, buf[i], NULL);
        if (mem[i]) c->vkFreeMemory(c->device, mem[i], NULL);
    }
    return status;
#undef CHECK
}

#else  // no Vulkan headers at build time

struct vkc_context { int unused; };

static inline vkc_context *vkc_create(char *err, size_t errlen) {
    if (err && errlen) snprintf(err, errlen, "built without the Vulkan headers (install libvulkan-dev and rebuild)");
    return NULL;
}
static inline void vkc_destroy(vkc_context *context) { (void)context; }
static inline const char *vkc_device_name(const vkc_context *context) { (void)context; return ""; }
static inline int vkc_dispatch(vkc_context *context, const uint32_t *code, size_t codeBytes,
                 const void *const *buffers, const size_t *sizes, uint32_t count,
                 const void *push, uint32_t pushBytes, uint32_t gx, uint32_t gy,
                 uint32_t readback, void *out, size_t outBytes, double *milliseconds,
                 char *err, size_t errlen) {
    (void)context; (void)code; (void)codeBytes; (void)buffers; (void)sizes; (void)count; (void)push; (void)pushBytes;
    (void)gx; (void)gy; (void)readback; (void)out; (void)outBytes; (void)milliseconds;
    if (err && errlen) snprintf(err, errlen, "built without the Vulkan headers");
    return -1;
}

#endif

#endif
