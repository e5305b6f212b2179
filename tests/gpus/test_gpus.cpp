#include <doctest/doctest.h>

#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "gpus_command.hpp"
#include "vramfit/catalog/gpus.hpp"
#include "vramfit/catalog/models.hpp"  // both catalogs in one translation unit: no name clashes

using namespace vramfit;
using namespace vramfit::catalog;

namespace {

constexpr bool ids_are_lowercase_and_unique() {
    for (std::size_t i = 0; i < gpus.size(); ++i) {
        if (gpus[i].id.empty()) return false;
        for (char c : gpus[i].id) {
            const bool allowed = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
            if (!allowed) return false;
        }
        for (std::size_t j = i + 1; j < gpus.size(); ++j) {
            if (gpus[i].id == gpus[j].id) return false;
        }
    }
    return true;
}

constexpr bool every_entry_is_complete() {
    for (const auto& gpu : gpus) {
        if (gpu.memory == bytes{} || gpu.datasheet_gb == 0 || gpu.sm_count <= 0 || gpu.bandwidth_gb_s <= 0) return false;
        if (gpu.fp32_tflops <= 0 || gpu.pcie_gen < 3 || gpu.pcie_lanes <= 0 || gpu.dies_per_board < 1) return false;
        if (gpu.cc_major < 3 || gpu.name.empty() || gpu.vendor != "NVIDIA" || gpu.architecture.empty()) return false;
        if (!gpu.source.starts_with("https://") || gpu.memory_source.empty()) return false;
        // The reported total sits within 10% of the marketed capacity (GB = 10^9 bytes):
        // a figure read from the wrong device or typed in the wrong unit would not.
        const double datasheet_bytes = static_cast<double>(gpu.datasheet_gb) * 1e9;
        const double reported = static_cast<double>(gpu.memory.count());
        if (reported < 0.9 * datasheet_bytes || reported > 1.1 * datasheet_bytes) return false;
        // Tensor parts have an FP16 rate at least as high as FP32; BF16 never exceeds FP16.
        if (gpu.cc_major >= 7 && gpu.fp16_tflops < gpu.fp32_tflops) return false;
        if (gpu.bf16_tflops > gpu.fp16_tflops) return false;
        // BF16 exists from Ampere (compute capability 8.0) on.
        if ((gpu.cc_major >= 8) != (gpu.bf16_tflops > 0)) return false;
    }
    return true;
}

constexpr bool has_error(std::string_view text, errc code) {
    const auto parsed = parse_gpu_argument(text);
    return !parsed.ok() && parsed.err().code() == code;
}

} // namespace

// --- Compile time -------------------------------------------------------------------------
static_assert(gpus.size() >= 30, "the issue asks for at least 30 GPUs");
static_assert(ids_are_lowercase_and_unique());
static_assert(every_entry_is_complete());

// Issue 4: tesla-k80 is one GK210 die, compute capability 3.7, 12 GB; two on a board.
static_assert(gpu<"tesla-k80">::spec.id == "tesla-k80");
static_assert(gpu<"tesla-k80">::spec.cc_major == 3 && gpu<"tesla-k80">::spec.cc_minor == 7);
static_assert(gpu<"tesla-k80">::spec.datasheet_gb == 12 && gpu<"tesla-k80">::spec.dies_per_board == 2);
static_assert(gpu<"tesla-k80">::spec.memory == bytes{11441ULL * 1048576});
// The nvidia-smi totals the catalog is built on.
static_assert(gpu<"rtx-3090">::spec.memory == bytes{24576ULL * 1048576});
static_assert(gpu<"rtx-4090">::spec.memory == bytes{24564ULL * 1048576});
static_assert(gpu<"a100-80gb">::spec.memory == bytes{81920ULL * 1048576});
static_assert(gpu<"h100-sxm">::spec.memory == bytes{81559ULL * 1048576});
static_assert(gpu<"h200">::spec.memory == bytes{143771ULL * 1048576});
// GDDR ECC costs exactly 1/16: an A40 (ECC on) holds 15/16 of an RTX A6000 (ECC off), same board.
static_assert(gpu<"a40">::spec.memory.count() / 1048576 == gpu<"rtx-a6000">::spec.memory.count() / 1048576 * 15 / 16);
static_assert(gpu<"a40">::spec.ecc == ecc_memory::inline_on && gpu<"rtx-a6000">::spec.ecc == ecc_memory::inline_off);
static_assert(gpu<"h100-sxm">::spec.sm_count == 132 && gpu<"h100-sxm">::spec.nvlink_gb_s == 900);
static_assert(gpu<"rtx-4060-ti-16gb">::spec.pcie_lanes == 8);
static_assert(gpu<"b200">::spec.cc_major == 10 && gpu<"rtx-5090">::spec.cc_major == 12);
static_assert(find_gpu("rtx-3090") == &gpu<"rtx-3090">::spec);
static_assert(find_gpu("RTX-3090") == &gpu<"rtx-3090">::spec, "ids match case-insensitively");
static_assert(find_gpu("rtx-3090x2") == nullptr);
static_assert(to_device(gpu<"rtx-4080">::spec).bandwidth_gb_s == 716.8);
static_assert(!to_device(gpu<"rtx-4080">::spec).measured());
static_assert(to_device(gpu<"rtx-4080">::spec).capacity() == gpu<"rtx-4080">::spec.memory);
static_assert(to_device(gpu<"rtx-4080">::spec).catalog_id == std::string_view{"rtx-4080"});
static_assert(to_device(gpu<"rtx-4080">::spec).name == std::string_view{"GeForce RTX 4080"});

static_assert(parse_gpu_argument("rtx-3090")->gpu == &gpu<"rtx-3090">::spec);
static_assert(parse_gpu_argument("rtx-3090")->count == 1);
static_assert(parse_gpu_argument("rtx-3090x2")->count == 2);
static_assert(parse_gpu_argument("a100-80gbx8")->gpu == &gpu<"a100-80gb">::spec);
static_assert(parse_gpu_argument("a100-80gbx8")->count == 8);
static_assert(parse_gpu_argument("H100-SXMX16")->count == 16);
static_assert(parse_gpu_argument("rtx-3090x2")->total_memory() == bytes{2 * 24576ULL * 1048576});
static_assert(has_error("rtx-3090x0", errc::invalid_argument));
static_assert(has_error("rtx-3090x-1", errc::invalid_argument));
static_assert(has_error("rtx-3090x", errc::invalid_argument));
static_assert(has_error("rtx-3090x2a", errc::invalid_argument));
static_assert(has_error("rtx-3090x17", errc::limit_exceeded));
static_assert(has_error("rtx-3090x999999", errc::limit_exceeded));
static_assert(has_error("rtx-3090x99999999999999999999999999", errc::limit_exceeded));
static_assert(has_error("", errc::invalid_argument));
static_assert(has_error("rtx-3091", errc::unknown_name));
static_assert(has_error("x2", errc::unknown_name));
// The library names the close ids; pointing at `vramfit gpus` is the CLI's part (tools/).
static_assert(parse_gpu_argument("rtx-3091").err().message() ==
              "unknown GPU 'rtx-3091'; did you mean rtx-3090, rtx-3070, rtx-3080, rtx-4090, rtx-5090?");
static_assert(parse_gpu_argument("h100x8").err().message() == "unknown GPU 'h100x8'; did you mean h100-pcie, h100-sxm, h200?");

constexpr std::string_view mixed_rig[] = {"rtx-4090", "rtx-3090x2"};
static_assert(parse_gpu_arguments(mixed_rig)->count == 3);
static_assert(parse_gpu_arguments(mixed_rig)->devices[0] == &gpu<"rtx-4090">::spec);
static_assert(parse_gpu_arguments(mixed_rig)->devices[2] == &gpu<"rtx-3090">::spec);
static_assert(parse_gpu_arguments(mixed_rig)->total_memory() == bytes{(24564ULL + 2 * 24576ULL) * 1048576});
constexpr std::string_view too_many[] = {"h100-sxmx8", "h100-sxmx8", "t4"};
static_assert(parse_gpu_arguments(too_many).err().code() == errc::limit_exceeded);
constexpr std::string_view one_bad[] = {"h100-sxmx8", "h100-sxm-96gb"};
static_assert(parse_gpu_arguments(one_bad).err().code() == errc::unknown_name);
static_assert(parse_gpu_arguments({}).ok() && parse_gpu_arguments({})->count == 0);

// --- Run time: the same vectors, then the messages ------------------------------------------
TEST_CASE("catalog invariants hold at run time") {
    CHECK(gpus.size() >= 30);
    CHECK(ids_are_lowercase_and_unique());
    CHECK(every_entry_is_complete());
    std::set<std::string_view> ids;
    for (const auto& entry : gpus) ids.insert(entry.id);
    CHECK(ids.size() == gpus.size());
    for (std::string_view wanted : {"tesla-k80", "tesla-p40", "gtx-1080-ti", "rtx-2080-ti", "rtx-3060-12gb", "rtx-3070",
                                    "rtx-3080", "rtx-3090", "rtx-4060-ti-16gb", "rtx-4070", "rtx-4080", "rtx-4090",
                                    "rtx-5090", "rtx-a4000", "rtx-a5000", "rtx-a6000", "rtx-6000-ada", "t4", "v100-16gb",
                                    "v100-32gb", "a10", "a30", "a40", "a100-40gb", "a100-80gb", "l4", "l40s", "h100-pcie",
                                    "h100-sxm", "h200", "b200"}) {
        CAPTURE(wanted);
        CHECK(ids.contains(wanted));
    }
}

TEST_CASE("tag types point at their entries") {
    volatile std::size_t index = 0;  // defeat constant folding
    CHECK(&gpus[index] == &gpu<"tesla-k80">::spec);
    CHECK(gpu<"tesla-k80">::spec.memory.mib() == doctest::Approx(11441));
    CHECK(gpu<"rtx-3090">::spec.memory.mib() == doctest::Approx(24576));
    CHECK(gpu<"h100-sxm">::spec.memory.mib() == doctest::Approx(81559));
    CHECK(gpu<"a40">::spec.memory.mib() == doctest::Approx(gpu<"rtx-a6000">::spec.memory.mib() * 15 / 16).epsilon(1e-4));
    CHECK(gpu<"rtx-4060-ti-16gb">::spec.pcie_lanes == 8);
    const device device = to_device(gpus[index], 3);
    CHECK(device.ordinal == 3);
    CHECK(device.name.view() == "Tesla K80 (one GK210 die)");
    CHECK(device.total_memory == gpu<"tesla-k80">::spec.memory);
    CHECK(device.bandwidth_gb_s == 240);
    CHECK_FALSE(device.measured());
    CHECK(device.capacity() == gpu<"tesla-k80">::spec.memory);
}

TEST_CASE("parse_gpu_argument: names and counts") {
    std::string text = "rtx-3090x2";  // a run-time string
    auto two = parse_gpu_argument(text);
    REQUIRE(two.ok());
    CHECK(two->gpu == &gpu<"rtx-3090">::spec);
    CHECK(two->count == 2);
    CHECK(two->total_memory() == gpu<"rtx-3090">::spec.memory * 2);

    text = "a100-80gbx8";
    auto eight = parse_gpu_argument(text);
    REQUIRE(eight.ok());
    CHECK(eight->gpu->id == "a100-80gb");
    CHECK(eight->count == 8);

    text = "tesla-k80";
    auto one = parse_gpu_argument(text);
    REQUIRE(one.ok());
    CHECK(one->count == 1);
    CHECK(one->gpu->dies_per_board == 2);

    text = "b200x16";
    CHECK(parse_gpu_argument(text)->count == 16);
}

TEST_CASE("parse_gpu_arguments: repeated --gpu flags become one ordered device list") {
    std::vector<std::string> words{"rtx-4090", "rtx-3090x2"};  // run-time strings
    std::vector<std::string_view> arguments(words.begin(), words.end());
    const auto fleet = parse_gpu_arguments(arguments);
    REQUIRE(fleet.ok());
    CHECK(fleet->count == 3);
    CHECK(fleet->devices[0]->id == "rtx-4090");
    CHECK(fleet->devices[1]->id == "rtx-3090");
    CHECK(fleet->devices[2]->id == "rtx-3090");
    CHECK(fleet->total_memory() == gpu<"rtx-4090">::spec.memory + gpu<"rtx-3090">::spec.memory * 2);

    words = {"h100-sxmx8", "h100-sxmx8", "t4"};
    arguments.assign(words.begin(), words.end());
    const auto too_many = parse_gpu_arguments(arguments);
    REQUIRE_FALSE(too_many.ok());
    CHECK(too_many.err().code() == errc::limit_exceeded);
    CHECK(std::string{too_many.err().message()} ==
          "--gpu asks for 17 GPUs or more (at 't4'); llama.cpp addresses at most 16 CUDA devices (GGML_CUDA_MAX_DEVICES)");

    words = {"h100-sxmx16"};
    arguments.assign(words.begin(), words.end());
    CHECK(parse_gpu_arguments(arguments)->count == 16);
}

TEST_CASE("parse_gpu_argument: bad counts name the count and the limit") {
    for (std::string text : {"rtx-3090x0", "rtx-3090x-1", "rtx-3090x", "rtx-3090x2a"}) {
        CAPTURE(text);
        const auto parsed = parse_gpu_argument(text);
        REQUIRE_FALSE(parsed.ok());
        CHECK(parsed.err().code() == errc::invalid_argument);
        const std::string message{parsed.err().message()};
        CHECK(message.find("bad GPU count") != std::string::npos);
        CHECK(message.find("from 1 to 16") != std::string::npos);
    }
    for (std::string text : {"rtx-3090x17", "rtx-3090x999999", "h200x18446744073709551617"}) {
        CAPTURE(text);
        const auto parsed = parse_gpu_argument(text);
        REQUIRE_FALSE(parsed.ok());
        CHECK(parsed.err().code() == errc::limit_exceeded);
        CHECK(std::string{parsed.err().message()}.find("GGML_CUDA_MAX_DEVICES") != std::string::npos);
    }
    CHECK(parse_gpu_argument(std::string{}).err().code() == errc::invalid_argument);
}

TEST_CASE("unknown GPUs come back with close catalog ids") {
    const auto typo = parse_gpu_argument(std::string{"rtx-3091"});
    REQUIRE_FALSE(typo.ok());
    CHECK(typo.err().code() == errc::unknown_name);
    const std::string typo_message{typo.err().message()};
    CHECK(typo_message.find("unknown GPU 'rtx-3091'") != std::string::npos);
    CHECK(typo_message.find("did you mean rtx-3090") != std::string::npos);
    // No command-line advice from the library: programs other than the CLI have no `vramfit gpus`.
    CHECK(typo_message.find("vramfit gpus") == std::string::npos);
    CHECK(typo_message == "unknown GPU 'rtx-3091'; did you mean rtx-3090, rtx-3070, rtx-3080, rtx-4090, rtx-5090?");
    const std::string family{parse_gpu_argument(std::string{"h100x8"}).err().message()};
    CHECK(family == "unknown GPU 'h100x8'; did you mean h100-pcie, h100-sxm, h200?");

    // A family name suggests every member.
    const std::string h100{parse_gpu_argument(std::string{"h100"}).err().message()};
    CHECK(h100.find("h100-pcie") != std::string::npos);
    CHECK(h100.find("h100-sxm") != std::string::npos);
    const std::string a6000{parse_gpu_argument(std::string{"a6000x2"}).err().message()};
    CHECK(a6000.find("rtx-a6000") != std::string::npos);
    // Spelling without the dash still finds the card.
    const std::string no_dash{parse_gpu_argument(std::string{"rtx4090"}).err().message()};
    CHECK(no_dash.find("rtx-4090") != std::string::npos);

    // Nothing close: no suggestion, just where to look.
    const std::string far{parse_gpu_argument(std::string{"quantum-accelerator-9000"}).err().message()};
    CHECK(far.find("did you mean") == std::string::npos);
    CHECK(far == "unknown GPU 'quantum-accelerator-9000'");

    // Absurdly long input is cut in the message and costs no more than a short one.
    const std::string long_name(5000, 'z');
    const auto huge = parse_gpu_argument(long_name);
    REQUIRE_FALSE(huge.ok());
    CHECK(huge.err().message().size() < 320);
    CHECK(std::string{huge.err().message()}.find("...'") != std::string::npos);
}

TEST_CASE("vramfit gpus lists every entry, as a table and as JSON") {
    const std::string table = cli::render_gpu_table();
    const std::string json = cli::render_gpu_json();
    for (const auto& entry : gpus) {
        CAPTURE(entry.id);
        CHECK(table.find(std::string{entry.id} + " ") != std::string::npos);
        CHECK(json.find("\"id\":\"" + std::string{entry.id} + "\"") != std::string::npos);
    }
    CHECK(table.find("24576 MiB") != std::string::npos);
    CHECK(json.find("\"memory_mib\":81559") != std::string::npos);
    CHECK(json.find("\"compute_capability\":\"3.7\"") != std::string::npos);
    CHECK(json.front() == '{');
    CHECK(json.find("}\n") == json.size() - 2);
}
