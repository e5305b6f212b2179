// vramfit/plan/device.hpp — the planner's view of a device: core::device, read through these two
// functions (and plan/speed.hpp's rates: bandwidth, FLOP rate, PCIe and NVLink).
#pragma once

#include <string_view>

#include "vramfit/core/bytes.hpp"
#include "vramfit/core/device.hpp"

namespace vramfit {

using plan_device = device;

// What the device can give to buffers: its measured free memory, else its total.
[[nodiscard]] constexpr bytes device_capacity(const plan_device& d) noexcept { return d.capacity(); }
// Its name in plans: the catalog id ("rtx-3090"), "cudaN-live" for a device this machine reports.
[[nodiscard]] constexpr fixed_string<32> device_id(const plan_device& d) { return device_label(d); }

} // namespace vramfit
