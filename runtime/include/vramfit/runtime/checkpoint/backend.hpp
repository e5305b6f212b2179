// vramfit/runtime/backend.hpp — where a checkpoint pool's memory lives and how bytes move.
//
// Non-virtual public calls over private virtual do_* members (the NVI shape of RMM's
// device_memory_resource), so the pool's contract is checked in one place whatever the backend.
// The pool reserves its budget once; after that only copies and completion events are used,
// never allocation (CUB's allocator notes that cudaFree synchronises the whole device).
#pragma once

#include <string_view>

#include "vramfit/core/error.hpp"
#include "vramfit/core/bytes.hpp"

namespace vramfit::runtime {

using stream_handle = void*;  // cudaStream_t for the CUDA backend (nullptr: the default stream)
using event_handle = void*;   // cudaEvent_t for the CUDA backend

class memory_backend {
public:
    memory_backend() = default;
    memory_backend(const memory_backend&) = delete;
    memory_backend& operator=(const memory_backend&) = delete;
    virtual ~memory_backend() = default;

    // One block of `size` bytes, 256-byte aligned; called once per pool.
    result<void*> reserve(bytes size) {
        if (size == bytes{0}) return error(errc::invalid_argument, "reserve of 0 bytes");
        return do_reserve(size);
    }
    void release(void* base, bytes size) noexcept { if (base != nullptr) do_release(base, size); }

    result<event_handle> create_event() { return do_create_event(); }
    void destroy_event(event_handle event) noexcept { if (event != nullptr) do_destroy_event(event); }

    // Enqueue a copy on `stream`, then record `done` on the same stream.
    result<void> copy(void* destination, const void* source, bytes size, stream_handle stream, event_handle done) {
        if (destination == nullptr || source == nullptr)
            return error(errc::invalid_argument, "copy with a null pointer");
        return do_copy(destination, source, size, stream, done);
    }
    // True when everything recorded on `event` has finished.
    [[nodiscard]] bool is_complete(event_handle event) { return do_is_complete(event); }
    // Block the calling thread until `event` completes.
    result<void> wait(event_handle event) { return do_wait(event); }
    // Make later work on `stream` wait for `event` without blocking the host.
    result<void> order_after(event_handle event, stream_handle stream) { return do_order_after(event, stream); }

    [[nodiscard]] virtual std::string_view name() const noexcept = 0;

private:
    virtual result<void*> do_reserve(bytes size) = 0;
    virtual void do_release(void* base, bytes size) noexcept = 0;
    virtual result<event_handle> do_create_event() = 0;
    virtual void do_destroy_event(event_handle event) noexcept = 0;
    virtual result<void> do_copy(void* destination, const void* source, bytes size, stream_handle stream, event_handle done) = 0;
    virtual bool do_is_complete(event_handle event) = 0;
    virtual result<void> do_wait(event_handle event) = 0;
    virtual result<void> do_order_after(event_handle event, stream_handle stream) = 0;
};

// Plain host memory, std::memcpy, events that are complete at once. Runs everywhere; the pool's
// logic is the same as on a GPU, so its test suite runs here.
class host_backend final : public memory_backend {
public:
    [[nodiscard]] std::string_view name() const noexcept override { return "host"; }

private:
    result<void*> do_reserve(bytes size) override;
    void do_release(void* base, bytes size) noexcept override;
    result<event_handle> do_create_event() override;
    void do_destroy_event(event_handle event) noexcept override;
    result<void> do_copy(void* destination, const void* source, bytes size, stream_handle stream, event_handle done) override;
    bool do_is_complete(event_handle event) override;
    result<void> do_wait(event_handle event) override;
    result<void> do_order_after(event_handle event, stream_handle stream) override;
};

} // namespace vramfit::runtime
