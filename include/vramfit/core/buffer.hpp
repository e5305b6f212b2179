// vramfit/core/buffer.hpp — what an engine allocates, in one vocabulary: buffers on devices, and
// per device the totals against its capacity.
//
// Every engine reports through these types (llama.cpp's CPU buffers and per-device CUDA fit, the
// planner's rows), so a reader, a table printer or a CI check handles any engine the same way.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "vramfit/core/bytes.hpp"
#include "vramfit/core/fixed_string.hpp"

namespace vramfit {

// What a buffer holds. `overhead` is memory no buffer line shows (driver reserve, CUDA context,
// the engine's unlogged pools); `reserve` is what the user keeps free.
enum class buffer_kind : std::uint8_t { model, kv, kv_swa, recurrent, compute, output, overhead, reserve };

[[nodiscard]] constexpr std::string_view to_string(buffer_kind kind) noexcept {
    switch (kind) {
        case buffer_kind::model: return "model";
        case buffer_kind::kv: return "kv";
        case buffer_kind::kv_swa: return "kv_swa";
        case buffer_kind::recurrent: return "recurrent";
        case buffer_kind::compute: return "compute";
        case buffer_kind::output: return "output";
        case buffer_kind::overhead: return "overhead";
        case buffer_kind::reserve: return "reserve";
    }
    return "unknown";
}

// One allocation as the engine names it.
struct buffer {
    std::string_view device;       // "CPU", "CUDA0" (the engine's static names)
    buffer_kind kind = buffer_kind::model;
    std::string_view buffer_type;  // "CPU_Mapped", "CPU", "CPU_REPACK", "CUDA0_Split"
    bytes size{};
    std::uint16_t part = 0;        // which part of a multi-part source it maps (a split GGUF file)
};

// One device's memory: what each kind of buffer takes on it, against what it can give.
struct device_memory {
    std::string_view name;     // "CUDA0", "RPC1.CUDA0", "CPU" (the engine's static names)
    fixed_string<32> device_id{};  // catalog id ("rtx-3090"); empty for a live or host device
    bytes capacity{};
    bytes model{};
    bytes kv{};
    bytes compute{};
    bytes overhead{};          // memory no buffer shows, when charged
    bytes overhead_low{};      // its bounds (reported even when not charged)
    bytes overhead_high{};
    bytes reserve{};
    std::uint32_t layers = 0;  // repeating layers placed here
    bool output_layer = false;

    [[nodiscard]] constexpr bytes total() const noexcept { return model + kv + compute + overhead + reserve; }
    [[nodiscard]] constexpr bool fits() const noexcept { return total() <= capacity; }
    // Does it still fit at the high end of the overhead's range?
    [[nodiscard]] constexpr bool fits_at_high_overhead() const noexcept {
        return total() - overhead + overhead_high <= capacity;
    }
    // capacity - total when it fits, else 0 (see over()).
    [[nodiscard]] constexpr bytes margin() const noexcept { return fits() ? capacity - total() : bytes{}; }
    [[nodiscard]] constexpr bytes over() const noexcept { return fits() ? bytes{} : total() - capacity; }
    // The largest of model, kv, compute, overhead and reserve (the first on a tie).
    [[nodiscard]] constexpr buffer_kind largest() const noexcept {
        buffer_kind b = buffer_kind::model;
        bytes size = model;
        if (kv > size) { b = buffer_kind::kv; size = kv; }
        if (compute > size) { b = buffer_kind::compute; size = compute; }
        if (overhead > size) { b = buffer_kind::overhead; size = overhead; }
        if (reserve > size) b = buffer_kind::reserve;
        return b;
    }
};

// Devices in the engine's order; fits when every one does.
[[nodiscard]] constexpr bool all_fit(const std::vector<device_memory>& devices) noexcept {
    for (const auto& d : devices) if (!d.fits()) return false;
    return true;
}
// The first device that does not fit, or devices.size().
[[nodiscard]] constexpr std::size_t first_over(const std::vector<device_memory>& devices) noexcept {
    for (std::size_t i = 0; i < devices.size(); ++i) if (!devices[i].fits()) return i;
    return devices.size();
}

} // namespace vramfit
