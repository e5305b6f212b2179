// vramfit/core/error.hpp — errors as values.
//
// Every fallible step (parsing a GGUF header, resolving a catalog name, describing an
// architecture) returns `result<T>`. The message is built in a fixed buffer so the same code
// runs in constant expressions; it names what is wrong and where (a byte offset, a metadata
// key, a tensor name).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "vramfit/core/fixed_string.hpp"

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
    }
    return "unknown error";
}

class error {
public:
    static constexpr std::uint64_t no_offset = ~std::uint64_t{0};
    using message_text = fixed_string<320>;

    constexpr error() noexcept = default;
    constexpr error(errc code, std::string_view message, std::uint64_t byte_offset = no_offset) noexcept
        : code_(code), message_(message), offset_(byte_offset) {}

    [[nodiscard]] constexpr errc code() const noexcept { return code_; }
    [[nodiscard]] constexpr std::string_view message() const noexcept { return message_.view(); }
    [[nodiscard]] constexpr std::uint64_t byte_offset() const noexcept { return offset_; }
    [[nodiscard]] constexpr bool has_offset() const noexcept { return offset_ != no_offset; }

    // Builders, usable in constant expressions: error(...).with(" 'name'").with_number(n)
    constexpr error& with(std::string_view text) noexcept { message_.append(text); return *this; }
    constexpr error& with_number(unsigned long long value) noexcept { message_.append_number(value); return *this; }

    // "at byte 1234: tensor 'x': shape overflows" — for people and logs.
    [[nodiscard]] std::string describe() const {
        std::string text;
        if (has_offset()) text += "at byte " + std::to_string(offset_) + ": ";
        text += message_.view();
        return text;
    }

private:
    errc code_ = errc::none;
    message_text message_{};
    std::uint64_t offset_ = no_offset;
};

// A value or an error. T must be default-constructible (keeps the type literal and simple
// enough for Clang 14 constant evaluation, where std::expected is not available).
template <class T>
class result {
public:
    constexpr result(T value) : value_(std::move(value)), ok_(true) {}        // NOLINT: implicit by design
    constexpr result(error failure) : error_(std::move(failure)), ok_(false) {}  // NOLINT

    [[nodiscard]] constexpr bool ok() const noexcept { return ok_; }
    constexpr explicit operator bool() const noexcept { return ok_; }

    [[nodiscard]] constexpr T& value() & { return value_; }
    [[nodiscard]] constexpr const T& value() const& { return value_; }
    [[nodiscard]] constexpr T&& value() && { return std::move(value_); }
    [[nodiscard]] constexpr T* operator->() { return &value_; }
    [[nodiscard]] constexpr const T* operator->() const { return &value_; }
    [[nodiscard]] constexpr T& operator*() & { return value_; }
    [[nodiscard]] constexpr const T& operator*() const& { return value_; }

    [[nodiscard]] constexpr const error& err() const noexcept { return error_; }

private:
    T value_{};
    error error_{};
    bool ok_ = false;
};

} // namespace vramfit
