// vramfit/runtime/cuda_backend.hpp — the checkpoint pool on a GPU, through the CUDA runtime.
//
// One cudaMalloc of the whole budget at creation, cudaMemcpyAsync (cudaMemcpyDefault, so host
// or device pointers both work under unified addressing) for every save and restore, and one
// cudaEvent per entry, recorded after each copy; cudaStreamWaitEvent orders a restore after a
// save made on another stream. No CUDA header leaks into this interface: streams and events
// travel as opaque handles. Built without the toolkit, every call reports not_built_with_cuda.
#pragma once

#include <memory>
#include <string>

#include "vramfit/runtime/checkpoint/backend.hpp"
#include "vramfit/core/error.hpp"

namespace vramfit::runtime {

// True when this library was compiled against the CUDA runtime.
[[nodiscard]] bool built_with_cuda() noexcept;

// The number of visible CUDA devices, or why there are none: the CUDA error name and string
// from cudaGetDeviceCount (no driver, insufficient driver, no device, CUDA_VISIBLE_DEVICES
// hiding all of them), mapped to errc::no_device.
[[nodiscard]] result<int> cuda_device_count();

class cuda_backend final : public memory_backend {
public:
    static result<std::unique_ptr<cuda_backend>> create(int device = 0);
    [[nodiscard]] int device() const noexcept { return device_; }
    [[nodiscard]] std::string_view name() const noexcept override { return "cuda"; }

private:
    explicit cuda_backend(int device) : device_(device) {}
    result<void*> do_reserve(bytes size) override;
    void do_release(void* base, bytes size) noexcept override;
    result<event_handle> do_create_event() override;
    void do_destroy_event(event_handle event) noexcept override;
    result<void> do_copy(void* destination, const void* source, bytes size, stream_handle stream, event_handle done) override;
    bool do_is_complete(event_handle event) override;
    result<void> do_wait(event_handle event) override;
    result<void> do_order_after(event_handle event, stream_handle stream) override;

    int device_ = 0;
};

// Small helpers for tests, benchmarks and examples that need device buffers and streams.
namespace cuda {
result<void*> device_allocate(bytes size);
void device_free(void* pointer) noexcept;
result<void*> host_allocate_pinned(bytes size);
void host_free_pinned(void* pointer) noexcept;
result<stream_handle> create_stream();
void destroy_stream(stream_handle stream) noexcept;
result<void> synchronize(stream_handle stream);
// cudaMemcpyAsync (cudaMemcpyDefault): the baseline the pool's throughput is compared with.
result<void> copy_async(void* destination, const void* source, bytes size, stream_handle stream);
// copy_async, then cudaStreamSynchronize.
result<void> copy(void* destination, const void* source, bytes size, stream_handle stream);
} // namespace cuda

} // namespace vramfit::runtime
