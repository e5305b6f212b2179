// cuda_backend.cpp — the CUDA runtime behind the pool, or clear refusals without it.
#include "vramfit/runtime/checkpoint/cuda_backend.hpp"

#include <string>

#if VRAMFIT_RUNTIME_HAS_CUDA
#include <cuda_runtime_api.h>
#endif

namespace vramfit::runtime {

#if VRAMFIT_RUNTIME_HAS_CUDA

namespace {
std::string cuda_text(cudaError_t status) {
    return std::string(cudaGetErrorName(status)) + ": " + cudaGetErrorString(status);
}
error cuda_failure(const char* call, cudaError_t status) {
    const bool no_device = status == cudaErrorNoDevice || status == cudaErrorInsufficientDriver
        || status == cudaErrorInvalidDevice;
    return error(no_device ? errc::no_device : errc::backend_error,
                 std::string(call) + " failed: " + cuda_text(status));
}
cudaStream_t as_stream(stream_handle stream) { return static_cast<cudaStream_t>(stream); }
cudaEvent_t as_event(event_handle event) { return static_cast<cudaEvent_t>(event); }
} // namespace

bool built_with_cuda() noexcept { return true; }

result<int> cuda_device_count() {
    int count = 0;
    const cudaError_t status = cudaGetDeviceCount(&count);
    if (status != cudaSuccess) {
        (void)cudaGetLastError();  // reset the last-error state so later calls start clean
        return cuda_failure("cudaGetDeviceCount", status);
    }
    if (count == 0) return error(errc::no_device, "cudaGetDeviceCount reports 0 devices");
    return count;
}

result<std::unique_ptr<cuda_backend>> cuda_backend::create(int device) {
    auto count = cuda_device_count();
    if (!count) return count.err();
    if (device < 0 || device >= *count)
        return error(errc::no_device, "CUDA device " + std::to_string(device) + " does not exist ("
                                                  + std::to_string(*count) + " visible)");
    if (const cudaError_t status = cudaSetDevice(device); status != cudaSuccess) return cuda_failure("cudaSetDevice", status);
    return std::unique_ptr<cuda_backend>(new cuda_backend(device));
}

result<void*> cuda_backend::do_reserve(bytes size) {
    if (const cudaError_t status = cudaSetDevice(device_); status != cudaSuccess) return cuda_failure("cudaSetDevice", status);
    void* base = nullptr;
    if (const cudaError_t status = cudaMalloc(&base, size.count()); status != cudaSuccess)
        return cuda_failure("cudaMalloc", status);
    return base;
}
void cuda_backend::do_release(void* base, bytes) noexcept {
    (void)cudaSetDevice(device_);
    (void)cudaFree(base);
}
result<event_handle> cuda_backend::do_create_event() {
    if (const cudaError_t status = cudaSetDevice(device_); status != cudaSuccess) return cuda_failure("cudaSetDevice", status);
    cudaEvent_t event = nullptr;
    if (const cudaError_t status = cudaEventCreateWithFlags(&event, cudaEventDisableTiming); status != cudaSuccess)
        return cuda_failure("cudaEventCreateWithFlags", status);
    return static_cast<event_handle>(event);
}
void cuda_backend::do_destroy_event(event_handle event) noexcept { (void)cudaEventDestroy(as_event(event)); }
result<void> cuda_backend::do_copy(void* destination, const void* source, bytes size, stream_handle stream, event_handle done) {
    if (const cudaError_t status = cudaMemcpyAsync(destination, source, size.count(), cudaMemcpyDefault, as_stream(stream));
        status != cudaSuccess)
        return cuda_failure("cudaMemcpyAsync", status);
    if (const cudaError_t status = cudaEventRecord(as_event(done), as_stream(stream)); status != cudaSuccess)
        return cuda_failure("cudaEventRecord", status);
    return {};
}
bool cuda_backend::do_is_complete(event_handle event) { return cudaEventQuery(as_event(event)) != cudaErrorNotReady; }
result<void> cuda_backend::do_wait(event_handle event) {
    if (const cudaError_t status = cudaEventSynchronize(as_event(event)); status != cudaSuccess)
        return cuda_failure("cudaEventSynchronize", status);
    return {};
}
result<void> cuda_backend::do_order_after(event_handle event, stream_handle stream) {
    if (const cudaError_t status = cudaStreamWaitEvent(as_stream(stream), as_event(event), 0); status != cudaSuccess)
        return cuda_failure("cudaStreamWaitEvent", status);
    return {};
}

namespace cuda {
result<void*> device_allocate(bytes size) {
    void* pointer = nullptr;
    if (const cudaError_t status = cudaMalloc(&pointer, size.count()); status != cudaSuccess) return cuda_failure("cudaMalloc", status);
    return pointer;
}
void device_free(void* pointer) noexcept { (void)cudaFree(pointer); }
result<void*> host_allocate_pinned(bytes size) {
    void* pointer = nullptr;
    if (const cudaError_t status = cudaMallocHost(&pointer, size.count()); status != cudaSuccess)
        return cuda_failure("cudaMallocHost", status);
    return pointer;
}
void host_free_pinned(void* pointer) noexcept { (void)cudaFreeHost(pointer); }
result<stream_handle> create_stream() {
    cudaStream_t stream = nullptr;
    if (const cudaError_t status = cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking); status != cudaSuccess)
        return cuda_failure("cudaStreamCreateWithFlags", status);
    return static_cast<stream_handle>(stream);
}
void destroy_stream(stream_handle stream) noexcept { (void)cudaStreamDestroy(as_stream(stream)); }
result<void> synchronize(stream_handle stream) {
    if (const cudaError_t status = cudaStreamSynchronize(as_stream(stream)); status != cudaSuccess)
        return cuda_failure("cudaStreamSynchronize", status);
    return {};
}
result<void> copy_async(void* destination, const void* source, bytes size, stream_handle stream) {
    if (const cudaError_t status = cudaMemcpyAsync(destination, source, size.count(), cudaMemcpyDefault, as_stream(stream));
        status != cudaSuccess)
        return cuda_failure("cudaMemcpyAsync", status);
    return {};
}
result<void> copy(void* destination, const void* source, bytes size, stream_handle stream) {
    if (auto enqueued = copy_async(destination, source, size, stream); !enqueued) return enqueued;
    return synchronize(stream);
}
} // namespace cuda

#else  // built without the CUDA toolkit

namespace {
error not_built() {
    return error(errc::not_built_with_cuda,
                 "vramfit-runtime was built without the CUDA toolkit (Meson did not find it; see -Dcuda)");
}
} // namespace

bool built_with_cuda() noexcept { return false; }
result<int> cuda_device_count() { return not_built(); }
result<std::unique_ptr<cuda_backend>> cuda_backend::create(int) { return not_built(); }
result<void*> cuda_backend::do_reserve(bytes) { return not_built(); }
void cuda_backend::do_release(void*, bytes) noexcept {}
result<event_handle> cuda_backend::do_create_event() { return not_built(); }
void cuda_backend::do_destroy_event(event_handle) noexcept {}
result<void> cuda_backend::do_copy(void*, const void*, bytes, stream_handle, event_handle) { return not_built(); }
bool cuda_backend::do_is_complete(event_handle) { return true; }
result<void> cuda_backend::do_wait(event_handle) { return not_built(); }
result<void> cuda_backend::do_order_after(event_handle, stream_handle) { return not_built(); }

namespace cuda {
result<void*> device_allocate(bytes) { return not_built(); }
void device_free(void*) noexcept {}
result<void*> host_allocate_pinned(bytes) { return not_built(); }
void host_free_pinned(void*) noexcept {}
result<stream_handle> create_stream() { return not_built(); }
void destroy_stream(stream_handle) noexcept {}
result<void> synchronize(stream_handle) { return not_built(); }
result<void> copy_async(void*, const void*, bytes, stream_handle) { return not_built(); }
result<void> copy(void*, const void*, bytes, stream_handle) { return not_built(); }
} // namespace cuda

#endif

} // namespace vramfit::runtime
