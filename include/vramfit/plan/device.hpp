// vramfit/plan/device.hpp — the planner's view of a device: a name, its capacity, memory bandwidth,
// FLOP rate and links (PCIe, NVLink). Today that is a catalog::gpu_spec, read only through the
// functions here (and plan/speed.hpp's rates), so that moving to one device type touches this file.
#pragma once

#include <string_view>

#include "vramfit/catalog/gpus.hpp"
#include "vramfit/core/bytes.hpp"

namespace vramfit {

using plan_device = catalog::gpu_spec;

// What the device can give to buffers.
[[nodiscard]] constexpr bytes device_capacity(const plan_device& d) noexcept { return d.memory; }
// Its catalog id ("rtx-3090").
[[nodiscard]] constexpr std::string_view device_id(const plan_device& d) noexcept { return d.id; }

} // namespace vramfit
