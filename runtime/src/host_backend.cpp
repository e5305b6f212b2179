// host_backend.cpp — plain memory; copies complete before they return.
#include <cstring>
#include <new>

#include "vramfit/runtime/checkpoint/backend.hpp"

namespace vramfit::runtime {

namespace {
constexpr std::align_val_t pool_alignment{256};
unsigned char completed_event = 0;  // every host event is the same, always-complete one
} // namespace

result<void*> host_backend::do_reserve(bytes size) {
    void* base = ::operator new(size.count(), pool_alignment, std::nothrow);
    if (base == nullptr)
        return error(errc::backend_error, "host allocation of " + std::to_string(size.count()) + " B failed");
    return base;
}
void host_backend::do_release(void* base, bytes) noexcept { ::operator delete(base, pool_alignment); }
result<event_handle> host_backend::do_create_event() { return static_cast<event_handle>(&completed_event); }
void host_backend::do_destroy_event(event_handle) noexcept {}
result<void> host_backend::do_copy(void* destination, const void* source, bytes size, stream_handle, event_handle) {
    std::memcpy(destination, source, size.count());
    return {};
}
bool host_backend::do_is_complete(event_handle) { return true; }
result<void> host_backend::do_wait(event_handle) { return {}; }
result<void> host_backend::do_order_after(event_handle, stream_handle) { return {}; }

} // namespace vramfit::runtime
