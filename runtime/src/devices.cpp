// devices.cpp — live device queries through the CUDA runtime (never NVML).
#include "vramfit/core/format.hpp"
#include "vramfit/runtime/devices.hpp"

#include <cstdio>
#include <cstdlib>
#include <string>

#include "vramfit/runtime/checkpoint/cuda_backend.hpp"

#if VRAMFIT_RUNTIME_HAS_CUDA
#include <cuda_runtime_api.h>
#endif

namespace vramfit::runtime {

std::string format_cuda_version(int version) {
    if (version <= 0) return "none";
    return std::to_string(version / 1000) + "." + std::to_string(version % 1000 / 10);
}

#if VRAMFIT_RUNTIME_HAS_CUDA
namespace {
// nvidia-smi's spelling: GPU-8-4-4-4-12 hex digits.
std::string format_uuid(const cudaUUID_t& uuid) {
    std::string text = "GPU-";
    char pair[3];
    for (int i = 0; i < 16; ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10) text += '-';
        std::snprintf(pair, sizeof pair, "%02x", static_cast<unsigned>(static_cast<unsigned char>(uuid.bytes[i])));
        text += pair;
    }
    return text;
}
std::string cuda_reason(const char* call, cudaError_t status) {
    return std::string(call) + " returned " + cudaGetErrorName(status) + " (" + cudaGetErrorString(status) + ")";
}
} // namespace
#endif

device_query query_devices() {
    device_query query;
    const char* visible = std::getenv("CUDA_VISIBLE_DEVICES");
    query.visible_devices = visible != nullptr ? visible : "(unset)";
#if VRAMFIT_RUNTIME_HAS_CUDA
    query.built_with_cuda = true;
    (void)cudaDriverGetVersion(&query.driver_version);
    (void)cudaRuntimeGetVersion(&query.runtime_version);
    int count = 0;
    if (const cudaError_t status = cudaGetDeviceCount(&count); status != cudaSuccess) {
        (void)cudaGetLastError();
        query.unavailable_reason = cuda_reason("cudaGetDeviceCount", status);
        if (status == cudaErrorInsufficientDriver && query.driver_version != 0)
            query.unavailable_reason += "; the driver supports CUDA " + format_cuda_version(query.driver_version)
                + ", this build needs " + format_cuda_version(query.runtime_version);
        else if (query.driver_version == 0)
            query.unavailable_reason += "; no NVIDIA driver is loaded on this machine";
        else if (status == cudaErrorNoDevice && visible != nullptr)
            query.unavailable_reason += "; CUDA_VISIBLE_DEVICES=\"" + query.visible_devices + "\" may hide every device";
        return query;
    }
    if (count == 0) {
        query.unavailable_reason = "cudaGetDeviceCount found no devices";
        return query;
    }
    for (int ordinal = 0; ordinal < count; ++ordinal) {
        cudaDeviceProp properties{};
        if (const cudaError_t status = cudaGetDeviceProperties(&properties, ordinal); status != cudaSuccess) {
            query.unavailable_reason = cuda_reason("cudaGetDeviceProperties", status);
            continue;
        }
        device info;
        info.ordinal = ordinal;
        info.name = std::string_view(properties.name);
        info.uuid = std::string_view(format_uuid(properties.uuid));
        info.cc_major = properties.major;
        info.cc_minor = properties.minor;
        info.sm_count = properties.multiProcessorCount;
        info.total_memory = bytes{properties.totalGlobalMem};
        info.total_from_cuda = true;
        int clock_khz = 0, bus_width = 0;
        (void)cudaDeviceGetAttribute(&clock_khz, cudaDevAttrMemoryClockRate, ordinal);
        (void)cudaDeviceGetAttribute(&bus_width, cudaDevAttrGlobalMemoryBusWidth, ordinal);
        info.memory_clock_khz = clock_khz > 0 ? static_cast<std::uint64_t>(clock_khz) : 0;
        info.memory_bus_width_bits = bus_width;
        info.bandwidth_gb_s = static_cast<double>(peak_bandwidth_bytes_per_second(info.memory_clock_khz, bus_width)) / 1e9;
        char bus_id[32] = {};
        if (cudaDeviceGetPCIBusId(bus_id, static_cast<int>(sizeof bus_id), ordinal) == cudaSuccess) info.pci_bus_id = std::string_view(bus_id);
        std::size_t free_bytes = 0, total_bytes = 0;
        if (cudaSetDevice(ordinal) == cudaSuccess && cudaMemGetInfo(&free_bytes, &total_bytes) == cudaSuccess) {
            info.free_memory = bytes{free_bytes};
            info.total_memory = bytes{total_bytes};
        } else {
            (void)cudaGetLastError();  // no measurement: free_memory stays empty
        }
        query.devices.push_back(info);
    }
#else
    query.unavailable_reason = "vramfit was built without the CUDA toolkit, so it cannot query GPUs";
#endif
    return query;
}

std::string format_device_table(const device_query& query) {
    std::string text;
    char line[512];
    if (query.devices.empty()) {
        text = "No CUDA device is visible: " + query.unavailable_reason + ".";
        if (query.built_with_cuda) {
            text += " (driver CUDA " + format_cuda_version(query.driver_version) + ", runtime CUDA "
                + format_cuda_version(query.runtime_version) + ", CUDA_VISIBLE_DEVICES=" + query.visible_devices + ")";
        }
        return text + "\n";
    }
    std::snprintf(line, sizeof line, "%-3s %-28s %-4s %5s %12s %12s %10s  %-13s %s\n", "#", "name", "cc", "SMs",
                  "total", "free", "GB/s", "pci bus id", "uuid");
    text += line;
    for (const device& device : query.devices) {
        const std::string name(device.name.view());
        std::snprintf(line, sizeof line, "%-3d %-28.28s %d.%-2d %5d %12s %12s %10.1f  %-13s %s\n", device.ordinal, name.c_str(),
                      device.cc_major, device.cc_minor, device.sm_count,
                      format_mib(device.total_memory).c_str(),
                      device.measured() ? format_mib(*device.free_memory).c_str() : "?",
                      device.bandwidth_gb_s,
                      std::string(device.pci_bus_id.view()).c_str(), std::string(device.uuid.view()).c_str());
        text += line;
    }
    text += "driver CUDA " + format_cuda_version(query.driver_version) + ", runtime CUDA "
        + format_cuda_version(query.runtime_version) + ", CUDA_VISIBLE_DEVICES=" + query.visible_devices + "\n";
    return text;
}

} // namespace vramfit::runtime
