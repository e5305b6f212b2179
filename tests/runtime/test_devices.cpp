// Device queries: a clear result whatever the machine has; the table renders every field.
#include <doctest/doctest.h>

#include <string>

#include "vramfit/core/device.hpp"
#include "vramfit/runtime/checkpoint/cuda_backend.hpp"
#include "vramfit/runtime/devices.hpp"

using namespace vramfit;
using namespace vramfit::runtime;

// A100-SXM4-40GB: 1215 MHz HBM2, 5120-bit bus → 1555.2 GB/s (NVIDIA's datasheet figure: 1555 GB/s).
static_assert(peak_bandwidth_bytes_per_second(1215000, 5120) == 1555200000000ULL);
static_assert(peak_bandwidth_bytes_per_second(1000, 0) == 0);

TEST_CASE("query_devices returns devices or a reason, never crashes") {
    const device_query query = query_devices();
    CHECK(query.built_with_cuda == built_with_cuda());
    const std::string table = format_device_table(query);
    MESSAGE(table);
    if (query.devices.empty()) {
        CHECK_FALSE(query.unavailable_reason.empty());
        CHECK(table.rfind("No CUDA device is visible: ", 0) == 0);
        CHECK(table.find(query.unavailable_reason) != std::string::npos);
        CHECK_FALSE(cuda_device_count().ok());
    } else {
        for (const auto& device : query.devices) {
            CHECK(device.total_memory > 0_B);
            CHECK(device.capacity() <= device.total_memory);
            CHECK(device.cc_major > 0);
            CHECK(table.find(std::string(device.name.view()).substr(0, 20)) != std::string::npos);
        }
        CHECK(cuda_device_count().ok());
    }
}

TEST_CASE("the table shows every field of a device") {
    device_query query;
    query.built_with_cuda = true;
    query.driver_version = 13000;
    query.runtime_version = 12040;
    query.visible_devices = "1";
    device device;
    device.ordinal = 0;
    device.name = "NVIDIA H100 80GB HBM3";
    device.uuid = "GPU-12345678-9abc-def0-1234-56789abcdef0";
    device.pci_bus_id = "0000:65:00.0";
    device.cc_major = 9;
    device.sm_count = 132;
    device.total_memory = 80_GiB;
    device.free_memory = 79_GiB;
    device.bandwidth_gb_s = 3352;
    query.devices.push_back(device);
    const std::string table = format_device_table(query);
    for (const char* expected : {"NVIDIA H100 80GB HBM3", "9.0", "132", "81920.00 MiB", "80896.00 MiB", "3352.0",
                                 "0000:65:00.0", "GPU-12345678-9abc-def0-1234-56789abcdef0", "driver CUDA 13.0",
                                 "runtime CUDA 12.4", "CUDA_VISIBLE_DEVICES=1"})
        CHECK_MESSAGE(table.find(expected) != std::string::npos, expected);
    CHECK(format_cuda_version(0) == "none");
}
