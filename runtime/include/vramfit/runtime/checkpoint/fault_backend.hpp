// vramfit/runtime/fault_backend.hpp — a host backend that fails and delays on request (tests).
//
// Shows that a failed reservation, event or copy leaves the pool consistent: no other entry
// lost, statistics true. "Holding" completions keeps every event recorded from then on
// incomplete until release_completions(), which stands in for a GPU copy still in flight
// (RMM provokes its races the same way with a delaying upstream resource).
#pragma once

#include <cstdint>
#include <mutex>
#include <vector>

#include "vramfit/runtime/checkpoint/backend.hpp"

namespace vramfit::runtime {

class fault_backend final : public memory_backend {
public:
    [[nodiscard]] std::string_view name() const noexcept override { return "fault-injecting host"; }

    void fail_next_reserves(std::uint64_t count);
    void fail_next_events(std::uint64_t count);
    void fail_next_copies(std::uint64_t count);
    void hold_completions();      // events recorded from now on stay incomplete
    void release_completions();   // completes every held event and stops holding

    [[nodiscard]] std::uint64_t copies() const;         // copies performed
    [[nodiscard]] std::uint64_t failed_copies() const;
    [[nodiscard]] std::uint64_t live_events() const;    // created and not destroyed
    [[nodiscard]] std::uint64_t waits() const;          // blocking waits on incomplete events

private:
    struct event_state { bool complete = true; };

    result<void*> do_reserve(bytes size) override;
    void do_release(void* base, bytes size) noexcept override;
    result<event_handle> do_create_event() override;
    void do_destroy_event(event_handle event) noexcept override;
    result<void> do_copy(void* destination, const void* source, bytes size, stream_handle stream, event_handle done) override;
    bool do_is_complete(event_handle event) override;
    result<void> do_wait(event_handle event) override;
    result<void> do_order_after(event_handle event, stream_handle stream) override;

    mutable std::mutex mutex_;
    host_backend host_;
    std::uint64_t reserves_to_fail_ = 0, events_to_fail_ = 0, copies_to_fail_ = 0;
    bool holding_ = false;
    std::vector<event_state*> held_;
    std::uint64_t copies_ = 0, failed_copies_ = 0, live_events_ = 0, waits_ = 0;
};

} // namespace vramfit::runtime
