// Fit checks (cuda/fit.hpp): the compile-time form, the run-time report, and the seed case.
#include <doctest/doctest.h>

#include <exception>
#include <string>

#include "vramfit/engines/llama_cpp/from_catalog.hpp"
#include "vramfit/engines/llama_cpp/cuda/fit.hpp"

using namespace vramfit;
using namespace vramfit::literals;

// The compile-time form of the first two checks below is in static_fit.cpp.

TEST_CASE("seed case: gemma-3-12b Q4_K_M, 4096 tokens, fits on one K80 die; a second die is not needed") {
    const auto model = llama_cpp::describe("gemma-3-12b:Q4_K_M");
    REQUIRE(model.ok());
    fit_params params{};
    params.context.n_ctx = 4096;
    params.offload.n_gpu_layers = 99;
    const std::array<catalog::gpu_spec, 1> one_die{catalog::gpu<"tesla-k80">::spec};
    const auto report = check_fit(*model, one_die, params);
    REQUIRE(report.ok());
    REQUIRE(report->devices.size() == 1);
    const auto& die = report->devices[0];
    CHECK(die.fits());
    CHECK(report->fits());
    CHECK(die.layers == 48);
    CHECK(die.output_layer);
    CHECK(die.capacity == 11441_MiB);
    // every weight but the input token_embd is on the die (the tied output is a second copy)
    CHECK(die.model > 6000_MiB);
    CHECK(die.model < 9000_MiB);
    CHECK(die.kv > 0_B);
    CHECK(report->compute_modelled);
    CHECK(die.margin() > 1024_MiB);

    // -sm none: with two dies visible, everything stays on the main die and the other holds nothing.
    const std::array<catalog::gpu_spec, 2> board{catalog::gpu<"tesla-k80">::spec, catalog::gpu<"tesla-k80">::spec};
    params.offload.mode = llama_cpp::split_mode::none;
    const auto pinned = check_fit(*model, board, params);
    REQUIRE(pinned.ok());
    CHECK(pinned->devices[0].model == die.model);
    CHECK(pinned->devices[0].kv == die.kv);
    CHECK(pinned->devices[1].total() == 0_B);
    CHECK(pinned->fits());
}

TEST_CASE("run-time fits() with impossible settings throws a std::exception naming the problem") {
    fit_params impossible{};
    impossible.context.n_batch = 0;
    const auto check = [&] { return fits<catalog::llama_3_1_8b, quant::Q4_K_M, catalog::gpu<"rtx-3090">>(ctx_size{4096}, impossible); };
    CHECK_THROWS_AS((void)check(), std::exception);
    try {
        (void)check();
        FAIL("fits() returned for impossible settings");
    } catch (const vramfit::exception& thrown) {
        CHECK(thrown.err().code() == errc::invalid_argument);
        CHECK(std::string{thrown.what()} == "n_batch (-b) must be at least 1");
    }
}

TEST_CASE("run-time fits() and the report when it does not fit") {
    CHECK(fits<catalog::llama_3_1_8b, quant::Q4_K_M, catalog::gpu<"rtx-3090">>(ctx_size{32768}));
    // 131072 tokens of f16 KV are 16 GiB on top of 15 GiB of F16 weights: too much for one 3090 ...
    CHECK_FALSE(fits<catalog::llama_3_1_8b, quant::F16, catalog::gpu<"rtx-3090">>(ctx_size{131072}));
    // ... but two share it (layer split: each keeps half of the layers' KV).
    CHECK(fits<catalog::llama_3_1_8b, quant::F16, catalog::gpu<"rtx-3090">, catalog::gpu<"rtx-3090">>(ctx_size{131072}));

    const auto model = llama_cpp::describe("llama-3.1-8b:F16");
    REQUIRE(model.ok());
    fit_params params{};
    params.context.n_ctx = 131072;
    const std::array<catalog::gpu_spec, 1> one{catalog::gpu<"rtx-3090">::spec};
    const auto report = check_fit(*model, one, params);
    REQUIRE(report.ok());
    CHECK_FALSE(report->fits());
    CHECK(report->first_over() == 0);
    CHECK(report->devices[0].largest() == buffer_kind::kv);
    CHECK(report->devices[0].kv == 16384_MiB);
    CHECK(report->devices[0].over() > 0_B);
    CHECK(report->devices[0].margin() == 0_B);

    // a user reserve is charged to every device
    params.context.n_ctx = 4096;
    params.reserve_per_device = 512_MiB;
    const auto reserved = check_fit(*model, one, params);
    REQUIRE(reserved.ok());
    CHECK(reserved->devices[0].reserve == 512_MiB);
    CHECK(reserved->devices[0].total() ==
          reserved->devices[0].model + reserved->devices[0].kv + reserved->devices[0].compute +
              reserved->devices[0].overhead + 512_MiB);
    // the overhead is its own line: the estimate, inside its bounds, and can be left out
    CHECK(reserved->devices[0].overhead == cuda_overhead_for(catalog::gpu<"rtx-3090">::spec).estimate);
    CHECK(reserved->devices[0].overhead_low < reserved->devices[0].overhead);
    CHECK(reserved->devices[0].overhead < reserved->devices[0].overhead_high);
    params.count_overhead = false;
    const auto without = check_fit(*model, one, params);
    REQUIRE(without.ok());
    CHECK(without->devices[0].overhead == 0_B);
    CHECK(without->devices[0].total() + reserved->devices[0].overhead == reserved->devices[0].total());
}

TEST_CASE("fit errors") {
    const auto model = llama_cpp::describe("llama-3.1-8b:Q4_K_M");
    REQUIRE(model.ok());
    CHECK_FALSE(check_fit(*model, std::span<const catalog::gpu_spec>{}, fit_params{}).ok());
}
