// fault_backend.cpp — see vramfit/runtime/fault_backend.hpp.
#include "vramfit/runtime/checkpoint/fault_backend.hpp"

#include <algorithm>
#include <cstring>

namespace vramfit::runtime {

void fault_backend::fail_next_reserves(std::uint64_t count) { std::lock_guard lock(mutex_); reserves_to_fail_ = count; }
void fault_backend::fail_next_events(std::uint64_t count) { std::lock_guard lock(mutex_); events_to_fail_ = count; }
void fault_backend::fail_next_copies(std::uint64_t count) { std::lock_guard lock(mutex_); copies_to_fail_ = count; }
void fault_backend::hold_completions() { std::lock_guard lock(mutex_); holding_ = true; }
void fault_backend::release_completions() {
    std::lock_guard lock(mutex_);
    for (event_state* event : held_) event->complete = true;
    held_.clear();
    holding_ = false;
}
std::uint64_t fault_backend::copies() const { std::lock_guard lock(mutex_); return copies_; }
std::uint64_t fault_backend::failed_copies() const { std::lock_guard lock(mutex_); return failed_copies_; }
std::uint64_t fault_backend::live_events() const { std::lock_guard lock(mutex_); return live_events_; }
std::uint64_t fault_backend::waits() const { std::lock_guard lock(mutex_); return waits_; }

result<void*> fault_backend::do_reserve(bytes size) {
    {
        std::lock_guard lock(mutex_);
        if (reserves_to_fail_ != 0) {
            --reserves_to_fail_;
            return error(errc::backend_error, "injected reservation failure");
        }
    }
    return host_.reserve(size);
}
void fault_backend::do_release(void* base, bytes size) noexcept { host_.release(base, size); }

result<event_handle> fault_backend::do_create_event() {
    std::lock_guard lock(mutex_);
    if (events_to_fail_ != 0) {
        --events_to_fail_;
        return error(errc::backend_error, "injected event creation failure");
    }
    ++live_events_;
    return static_cast<event_handle>(new event_state);
}
void fault_backend::do_destroy_event(event_handle event) noexcept {
    std::lock_guard lock(mutex_);
    auto* state = static_cast<event_state*>(event);
    held_.erase(std::remove(held_.begin(), held_.end(), state), held_.end());
    delete state;
    --live_events_;
}

result<void> fault_backend::do_copy(void* destination, const void* source, bytes size, stream_handle, event_handle done) {
    std::lock_guard lock(mutex_);
    if (copies_to_fail_ != 0) {
        --copies_to_fail_;
        ++failed_copies_;
        return error(errc::backend_error, "injected copy failure");
    }
    std::memcpy(destination, source, size.count());
    ++copies_;
    auto* state = static_cast<event_state*>(done);
    if (holding_) {
        state->complete = false;
        if (std::find(held_.begin(), held_.end(), state) == held_.end()) held_.push_back(state);
    } else {
        state->complete = true;
    }
    return {};
}
bool fault_backend::do_is_complete(event_handle event) {
    std::lock_guard lock(mutex_);
    return static_cast<event_state*>(event)->complete;
}
// A blocking wait completes the event: the host would block until the copy ends.
result<void> fault_backend::do_wait(event_handle event) {
    std::lock_guard lock(mutex_);
    auto* state = static_cast<event_state*>(event);
    if (!state->complete) {
        ++waits_;
        state->complete = true;
        held_.erase(std::remove(held_.begin(), held_.end(), state), held_.end());
    }
    return {};
}
result<void> fault_backend::do_order_after(event_handle, stream_handle) { return {}; }

} // namespace vramfit::runtime
