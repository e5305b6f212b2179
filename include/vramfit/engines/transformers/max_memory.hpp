// vramfit/engines/transformers/max_memory.hpp — the `max_memory` argument of from_pretrained, as
// accelerate reads it.
//
// Mirrors `accelerate/utils/modeling.py`: `convert_file_size_to_int` (the unit is matched on the
// upper-cased string in the order GIB, MIB, KIB, GB, MB, KB; the number is `int(float(x) · unit)`;
// for GB / MB / KB a final lower-case "b" means bits, so the bytes are divided by 8, while "GiB"
// never does; no unit, a bad number or a negative result is an error) and `get_max_memory` (GPU
// indices sorted first, then "mps", "cpu", "disk"; any other key is an error).
#pragma once

#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <vector>

#include "vramfit/core/bytes.hpp"
#include "vramfit/core/error.hpp"

namespace vramfit::transformers {

// A key of max_memory / a value of the device map: a GPU index, "cpu" or "disk".
struct device_id {
    enum class kind : std::uint8_t { gpu, cpu, disk };
    kind type = kind::gpu;
    std::uint32_t index = 0;  // GPU index

    [[nodiscard]] static constexpr device_id gpu(std::uint32_t i) noexcept { return {kind::gpu, i}; }
    [[nodiscard]] static constexpr device_id cpu() noexcept { return {kind::cpu, 0}; }
    [[nodiscard]] static constexpr device_id disk() noexcept { return {kind::disk, 0}; }
    [[nodiscard]] constexpr bool is_gpu() const noexcept { return type == kind::gpu; }
    friend constexpr bool operator==(device_id, device_id) noexcept = default;
};

// "0", "cpu", "disk".
[[nodiscard]] inline std::string to_string(device_id d) {
    if (d.type == device_id::kind::cpu) return "cpu";
    if (d.type == device_id::kind::disk) return "disk";
    return std::to_string(d.index);
}

// One entry as a user writes it: a string with a unit ("35GB", "8GiB") or a byte count.
struct memory_spec {
    device_id device{};
    std::string text{};        // empty: `amount` is the byte count (an int in Python)
    std::uint64_t amount = 0;
};

struct memory_budget {
    device_id device{};
    bytes amount{};
};

namespace detail {

// Python's float() on a decimal literal ("176.05", " 1e3 ", "+.5"): the correctly rounded
// double. Exact for the fast path (≤ 15 significant digits, |exponent| ≤ 22: one rounding in the
// division or product); longer strings go through std::from_chars, which is correctly rounded too.
[[nodiscard]] constexpr bool parse_python_float(std::string_view s, double& out) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\n')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n')) s.remove_suffix(1);
    if (s.empty()) return false;
    bool negative = false;
    std::string_view body = s;
    if (body.front() == '+' || body.front() == '-') { negative = body.front() == '-'; body.remove_prefix(1); }
    std::uint64_t mantissa = 0;
    int digits = 0, scale = 0, exponent = 0;
    bool any = false, dot = false;
    std::size_t i = 0;
    for (; i < body.size(); ++i) {
        char ch = body[i];
        if (ch == '_') {  // PEP 515: an underscore only between digits
            if (i == 0 || i + 1 >= body.size() || body[i - 1] < '0' || body[i - 1] > '9' || body[i + 1] < '0' ||
                body[i + 1] > '9')
                return false;
            continue;
        }
        if (ch == '.') { if (dot) return false; dot = true; continue; }
        if (ch < '0' || ch > '9') break;
        any = true;
        if (mantissa == 0 && ch == '0') { if (dot) --scale; continue; }
        if (digits < 19) { mantissa = mantissa * 10 + static_cast<std::uint64_t>(ch - '0'); ++digits; if (dot) --scale; }
        else if (!dot) ++scale;
    }
    if (!any) return false;
    if (i < body.size()) {
        if (body[i] != 'e' && body[i] != 'E') return false;
        ++i;
        bool eneg = false;
        if (i < body.size() && (body[i] == '+' || body[i] == '-')) { eneg = body[i] == '-'; ++i; }
        if (i >= body.size()) return false;
        for (; i < body.size(); ++i) {
            if (body[i] < '0' || body[i] > '9') return false;
            if (exponent < 100000) exponent = exponent * 10 + (body[i] - '0');
        }
        if (eneg) exponent = -exponent;
    }
    const int e10 = scale + exponent;
    if (digits <= 15 && e10 >= -22 && e10 <= 22) {
        double value = static_cast<double>(mantissa);
        double p = 1.0;
        for (int k = 0; k < (e10 < 0 ? -e10 : e10); ++k) p *= 10.0;  // exact up to 1e22
        value = e10 < 0 ? value / p : value * p;
        out = negative ? -value : value;
        return true;
    }
    if (std::is_constant_evaluated()) return false;  // beyond the exact fast path
    std::string cleaned;  // the validated literal without underscores or sign
    for (char ch : body) if (ch != '_') cleaned.push_back(ch);
    double value = 0.0;
    auto [ptr, ec] = std::from_chars(cleaned.data(), cleaned.data() + cleaned.size(), value);
    if (ec != std::errc{} || ptr != cleaned.data() + cleaned.size()) return false;
    out = negative ? -value : value;
    return true;
}

[[nodiscard]] constexpr bool ends_with_upper(std::string_view s, std::string_view suffix) {
    if (s.size() < suffix.size()) return false;
    auto tail = s.substr(s.size() - suffix.size());
    for (std::size_t i = 0; i < tail.size(); ++i) {
        char c = tail[i];
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
        if (c != suffix[i]) return false;
    }
    return true;
}

} // namespace detail

// convert_file_size_to_int.
[[nodiscard]] constexpr result<bytes> convert_file_size_to_int(std::string_view size) {
    auto bad = [&] {
        return error{errc::bad_value, "max_memory size '"}.with(size).with(
            "' is not an integer byte count or a number with a unit (GiB, MiB, KiB, GB, MB, KB)");
    };
    struct unit { std::string_view suffix; double factor; bool bits_allowed; };
    constexpr unit units[] = {{"GIB", 1073741824.0, false}, {"MIB", 1048576.0, false}, {"KIB", 1024.0, false},
                              {"GB", 1e9, true},            {"MB", 1e6, true},         {"KB", 1e3, true}};
    for (const auto& u : units) {
        if (!detail::ends_with_upper(size, u.suffix)) continue;
        double number = 0.0;
        if (!detail::parse_python_float(size.substr(0, size.size() - u.suffix.size()), number)) return bad();
        const double product = number * u.factor;
        // int() of a product: inf or nan raise in Python; below zero is refused afterwards.
        if (!(product > -1.0) || product >= 18446744073709551616.0) return bad();
        std::uint64_t value = product < 0.0 ? 0 : static_cast<std::uint64_t>(product);  // truncation, as int()
        if (u.bits_allowed && size.back() == 'b') value /= 8;
        return bytes{value};
    }
    return bad();
}

// get_max_memory(max_memory) for an explicit dict: strings converted, GPUs sorted by index, then
// cpu, then disk. A repeated key is refused (a Python dict cannot hold one).
[[nodiscard]] constexpr result<std::vector<memory_budget>> get_max_memory(const std::vector<memory_spec>& specs) {
    std::vector<memory_budget> gpus, rest;
    for (std::size_t i = 0; i < specs.size(); ++i) {
        const auto& s = specs[i];
        for (std::size_t j = 0; j < i; ++j)
            if (specs[j].device == s.device) return error{errc::invalid_argument, "max_memory repeats a device"};
        bytes amount{s.amount};
        if (!s.text.empty()) {
            auto parsed = convert_file_size_to_int(s.text);
            if (!parsed) return parsed.err();
            amount = *parsed;
        }
        (s.device.is_gpu() ? gpus : rest).push_back(memory_budget{s.device, amount});
    }
    for (std::size_t i = 1; i < gpus.size(); ++i)  // insertion sort: a handful of GPUs
        for (std::size_t j = i; j > 0 && gpus[j].device.index < gpus[j - 1].device.index; --j) std::swap(gpus[j], gpus[j - 1]);
    for (auto kind : {device_id::kind::cpu, device_id::kind::disk})
        for (const auto& r : rest) if (r.device.type == kind) gpus.push_back(r);
    return gpus;
}

} // namespace vramfit::transformers
