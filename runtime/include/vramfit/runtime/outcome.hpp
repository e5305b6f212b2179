// vramfit/runtime/outcome.hpp — errors of the runtime library, as values.
//
// The header-only core's `vramfit::error` keeps its message in a fixed buffer so it works in
// constant expressions; the runtime has no such constraint and its messages carry numbers the
// caller must act on (budget, bytes in use, largest free block, pinned keys, CUDA error text),
// so it owns a small string-backed error type with its own codes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

namespace vramfit::runtime {

enum class runtime_errc : std::uint8_t {
    out_of_budget,          // no contiguous block even after evicting every evictable entry
    too_large_for_budget,   // the request alone exceeds the pool's budget
    unknown_key,
    busy,                   // a copy of this entry is still in flight
    backend_error,          // the backend (CUDA) refused an allocation, copy or event
    no_device,              // no CUDA device, no driver, or an insufficient driver
    not_built_with_cuda,
    invalid_argument,
};

[[nodiscard]] constexpr std::string_view to_string(runtime_errc code) noexcept {
    switch (code) {
        case runtime_errc::out_of_budget: return "out of budget";
        case runtime_errc::too_large_for_budget: return "too large for budget";
        case runtime_errc::unknown_key: return "unknown key";
        case runtime_errc::busy: return "busy";
        case runtime_errc::backend_error: return "backend error";
        case runtime_errc::no_device: return "no device";
        case runtime_errc::not_built_with_cuda: return "not built with CUDA";
        case runtime_errc::invalid_argument: return "invalid argument";
    }
    return "unknown error";
}

class failure {
public:
    failure() = default;
    failure(runtime_errc code, std::string message) : code_(code), message_(std::move(message)) {}
    [[nodiscard]] runtime_errc code() const noexcept { return code_; }
    [[nodiscard]] std::string_view message() const noexcept { return message_; }
    [[nodiscard]] std::string describe() const { return std::string(to_string(code_)) + ": " + message_; }

private:
    runtime_errc code_ = runtime_errc::invalid_argument;
    std::string message_;
};

// A value or a failure (T default-constructible), shaped like vramfit::result so code written
// against one (the checkpoint executor) works with the other: ok(), operator bool, *, ->, err().
template <class T>
class outcome {
public:
    outcome(T value) : value_(std::move(value)), ok_(true) {}              // NOLINT: implicit by design
    outcome(failure problem) : failure_(std::move(problem)), ok_(false) {}  // NOLINT
    [[nodiscard]] bool ok() const noexcept { return ok_; }
    explicit operator bool() const noexcept { return ok_; }
    [[nodiscard]] T& value() & { return value_; }
    [[nodiscard]] const T& value() const& { return value_; }
    [[nodiscard]] T&& value() && { return std::move(value_); }
    [[nodiscard]] T* operator->() { return &value_; }
    [[nodiscard]] const T* operator->() const { return &value_; }
    [[nodiscard]] T& operator*() & { return value_; }
    [[nodiscard]] const T& operator*() const& { return value_; }
    [[nodiscard]] const failure& err() const noexcept { return failure_; }

private:
    T value_{};
    failure failure_{};
    bool ok_ = false;
};

template <>
class outcome<void> {
public:
    outcome() : ok_(true) {}
    outcome(failure problem) : failure_(std::move(problem)), ok_(false) {}  // NOLINT
    [[nodiscard]] bool ok() const noexcept { return ok_; }
    explicit operator bool() const noexcept { return ok_; }
    [[nodiscard]] const failure& err() const noexcept { return failure_; }

private:
    failure failure_{};
    bool ok_ = false;
};

} // namespace vramfit::runtime
