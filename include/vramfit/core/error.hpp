// vramfit/core/error.hpp — errors as values.
//
// Every fallible step (parsing a GGUF header, resolving a catalog name, describing an
// architecture, reserving checkpoint memory) returns `result<T>`. An `error` is a code and
// its payload: the message (owned, growable, never cut: core/text.hpp, which works in
// constant expressions) and the byte offset it concerns, if any. describe() renders the two
// for people and logs on demand. The same code runs in constant expressions and at run time.
//
// Access is checked: value(), * and -> on an error throw vramfit::bad_result_access at run
// time (a std::exception whose what() is the error's describe()), and fail to compile in a
// constant expression, instead of handing back a default T.
#pragma once

#include <cstdint>
#include <exception>
#include <string>
#include <string_view>
#include <utility>

#include "vramfit/core/text.hpp"

namespace vramfit {

enum class errc : std::uint8_t {
    none = 0,
    truncated,            // input ends before the structure it announces
    bad_magic,
    unsupported_version,
    unknown_type,         // a ggml type id or GGUF value type the engine does not know
    removed_type,         // a ggml type id the engine has removed
    limit_exceeded,       // absurd count, length or shape
    out_of_bounds,        // an offset or size outside the file
    missing_key,
    bad_value,            // a key with the wrong type or an impossible value
    unsupported_architecture,
    unknown_name,         // catalog model, GPU or quantization not found
    invalid_argument,
    io,
    // The runtime library (live devices, the checkpoint pool):
    out_of_budget,        // no contiguous block even after evicting every evictable entry
    too_large_for_budget, // the request alone exceeds the pool's budget
    unknown_key,          // no checkpoint under that key
    busy,                 // a copy of this entry is still in flight
    backend_error,        // the backend (CUDA) refused an allocation, copy or event
    no_device,            // no CUDA device, no driver, or an insufficient driver
    not_built_with_cuda,
    malformed,            // text that breaks its format's grammar (JSON)
};

[[nodiscard]] constexpr std::string_view to_string(errc code) noexcept {
    switch (code) {
        case errc::none: return "no error";
        case errc::truncated: return "truncated input";
        case errc::bad_magic: return "bad magic";
        case errc::unsupported_version: return "unsupported version";
        case errc::unknown_type: return "unknown type";
        case errc::removed_type: return "removed type";
        case errc::limit_exceeded: return "limit exceeded";
        case errc::out_of_bounds: return "out of bounds";
        case errc::missing_key: return "missing key";
        case errc::bad_value: return "bad value";
        case errc::unsupported_architecture: return "unsupported architecture";
        case errc::unknown_name: return "unknown name";
        case errc::invalid_argument: return "invalid argument";
        case errc::io: return "i/o error";
        case errc::out_of_budget: return "out of budget";
        case errc::too_large_for_budget: return "too large for budget";
        case errc::unknown_key: return "unknown key";
        case errc::busy: return "busy";
        case errc::backend_error: return "backend error";
        case errc::no_device: return "no device";
        case errc::not_built_with_cuda: return "not built with CUDA";
        case errc::malformed: return "malformed";
    }
    return "unknown error";
}

class error {
public:
    static constexpr std::uint64_t no_offset = ~std::uint64_t{0};

    constexpr error() noexcept = default;
    constexpr error(errc code, std::string_view message, std::uint64_t byte_offset = no_offset)
        : code_(code), message_(message), offset_(byte_offset) {}

    [[nodiscard]] constexpr errc code() const noexcept { return code_; }
    [[nodiscard]] constexpr std::string_view message() const noexcept { return message_.view(); }
    [[nodiscard]] constexpr std::uint64_t byte_offset() const noexcept { return offset_; }
    [[nodiscard]] constexpr bool has_offset() const noexcept { return offset_ != no_offset; }

    // Builders, usable in constant expressions: error{...}.with(" 'name'").with_number(n).
    // On a temporary they hand the temporary on, so a chained `return error{...}.with(...)`
    // moves its message instead of copying it.
    constexpr error& with(std::string_view more) & { message_.append(more); return *this; }
    constexpr error&& with(std::string_view more) && { message_.append(more); return std::move(*this); }
    constexpr error& with_number(unsigned long long value) & { message_.append_number(value); return *this; }
    constexpr error&& with_number(unsigned long long value) && { message_.append_number(value); return std::move(*this); }
    constexpr error& with_signed(long long value) & { message_.append_signed(value); return *this; }
    constexpr error&& with_signed(long long value) && { message_.append_signed(value); return std::move(*this); }

    // "at byte 1234: tensor 'x': shape overflows", rendered when asked for.
    [[nodiscard]] constexpr text render() const {
        text out;
        if (has_offset()) out.append("at byte ").append_number(offset_).append(": ");
        out.append(message_.view());
        return out;
    }
    // render() as a std::string, for people and logs.
    [[nodiscard]] std::string describe() const { return render().str(); }

private:
    errc code_ = errc::none;
    text message_{};
    std::uint64_t offset_ = no_offset;
};

// An error thrown rather than returned: by the compile-time forms (fits<>, plan<>,
// compute_buffer_bytes), where a throw is what turns a failure into a compile error, and at
// run time by the same calls. what() is the error's describe().
class exception : public std::exception {
public:
    explicit exception(error failure) : error_(std::move(failure)), what_(error_.describe()) {}
    [[nodiscard]] const char* what() const noexcept override { return what_.c_str(); }
    [[nodiscard]] const error& err() const noexcept { return error_; }

private:
    error error_;
    std::string what_;
};

// value(), * or -> on a result that holds an error.
class bad_result_access : public exception {
public:
    using exception::exception;
};

// Throws vramfit::exception carrying `failure`. Not constexpr: reached in a constant
// expression, it makes the expression ill-formed, which is how the compile-time forms fail.
[[noreturn]] inline void throw_error(const error& failure) { throw exception{failure}; }

namespace detail {
[[noreturn]] [[gnu::noinline, gnu::cold]] inline void throw_bad_result_access(const error& failure) {
    throw bad_result_access{failure};
}
} // namespace detail

// A value or an error. T must be default-constructible: the value and the error are kept side
// by side, which keeps the type literal and simple enough for Clang 14 constant evaluation
// (std::expected is not available there).
template <class T>
class result {
public:
    constexpr result(T value) : value_(std::move(value)), ok_(true) {}        // NOLINT: implicit by design
    constexpr result(error failure) : error_(std::move(failure)), ok_(false) {}  // NOLINT

    [[nodiscard]] constexpr bool ok() const noexcept { return ok_; }
    constexpr explicit operator bool() const noexcept { return ok_; }

    // Checked: an error throws bad_result_access (a compile error in a constant expression).
    [[nodiscard]] constexpr T& value() & { check(); return value_; }
    [[nodiscard]] constexpr const T& value() const& { check(); return value_; }
    [[nodiscard]] constexpr T&& value() && { check(); return std::move(value_); }
    [[nodiscard]] constexpr T* operator->() { check(); return &value_; }
    [[nodiscard]] constexpr const T* operator->() const { check(); return &value_; }
    [[nodiscard]] constexpr T& operator*() & { check(); return value_; }
    [[nodiscard]] constexpr const T& operator*() const& { check(); return value_; }
    [[nodiscard]] constexpr T&& operator*() && { check(); return std::move(value_); }

    // The value, or `fallback` when this holds an error.
    template <class U>
    [[nodiscard]] constexpr T value_or(U&& fallback) const& {
        return ok_ ? value_ : static_cast<T>(std::forward<U>(fallback));
    }
    template <class U>
    [[nodiscard]] constexpr T value_or(U&& fallback) && {
        return ok_ ? std::move(value_) : static_cast<T>(std::forward<U>(fallback));
    }

    // The error; errc::none with an empty message when this holds a value.
    [[nodiscard]] constexpr const error& err() const noexcept { return error_; }

private:
    constexpr void check() const {
        if (!ok_) detail::throw_bad_result_access(error_);
    }

    T value_{};
    error error_{};
    bool ok_ = false;
};

// Success or an error, nothing else: `return {};` is success.
template <>
class result<void> {
public:
    constexpr result() noexcept : ok_(true) {}
    constexpr result(error failure) : error_(std::move(failure)), ok_(false) {}  // NOLINT: implicit by design

    [[nodiscard]] constexpr bool ok() const noexcept { return ok_; }
    constexpr explicit operator bool() const noexcept { return ok_; }
    // Checked like result<T>::value(): throws bad_result_access on an error.
    constexpr void value() const {
        if (!ok_) detail::throw_bad_result_access(error_);
    }
    [[nodiscard]] constexpr const error& err() const noexcept { return error_; }

private:
    error error_{};
    bool ok_ = false;
};

} // namespace vramfit
