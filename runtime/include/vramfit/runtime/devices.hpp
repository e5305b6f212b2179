// vramfit/runtime/devices.hpp — what GPUs this process can see, measured live (no NVML).
//
// Everything comes from the CUDA runtime: cudaGetDeviceCount, cudaGetDeviceProperties,
// cudaDeviceGetAttribute (memory clock and bus width: CUDA 13 dropped them from
// cudaDeviceProp), cudaDeviceGetPCIBusId and cudaMemGetInfo after cudaSetDevice. The runtime
// applies CUDA_VISIBLE_DEVICES itself, so ordinals are the process's view. No device, no
// driver or an old driver is a result with a reason, never a crash.
#pragma once

#include <string>
#include <vector>

#include "vramfit/core/device.hpp"

namespace vramfit::runtime {

struct device_query {
    std::vector<device> devices;
    std::string unavailable_reason;     // why `devices` is empty; empty when devices were found
    std::string visible_devices;        // CUDA_VISIBLE_DEVICES as set, or "(unset)"
    int driver_version = 0;             // cudaDriverGetVersion: 13000 = 13.0; 0 = no driver
    int runtime_version = 0;            // cudaRuntimeGetVersion
    bool built_with_cuda = false;
};

[[nodiscard]] device_query query_devices();

// The `vramfit devices` output: a table (ordinal, name, compute capability, SMs, total and free
// memory, bandwidth, PCI bus id, UUID) or one plain sentence saying no CUDA device is visible
// and why.
[[nodiscard]] std::string format_device_table(const device_query& query);

// "12.4" from 12040.
[[nodiscard]] std::string format_cuda_version(int version);

} // namespace vramfit::runtime
