// From what vLLM printed about its KV memory to what it printed next: blocks, "GPU KV cache size",
// "Maximum concurrency" and the start-up errors, character for character, for every row of
// tests/data/vllm/startup_rows.tsv whose model the engine describes (README.md there).
//
// An "Available KV cache memory" figure has two decimals, so every block count within ±0.005 GiB is
// tried; a row passes when one count reproduces every printed figure of it (the printed block count
// too, where the log has it). Rows without an available figure ("consistent") and rows whose figure
// belongs to another worker than the one that decided ("implied": vLLM takes the minimum over
// workers) start from the block count their printed lines imply.
#include <doctest/doctest.h>

#include <cstdio>
#include <string>

#include "rows.hpp"

using namespace vramfit;
using namespace vllm_rows;

namespace {

vllm::kv_cache_plan plan_of(const row& r, const model& m, const device& gpu) {
    const auto s = kv_settings_of(r, m, gpu);
    auto plan = vllm::plan_kv_cache(m.config, gpu, s, 0, m.config.num_hidden_layers, true, m.linear_ptr());
    REQUIRE_MESSAGE(plan.ok(), r.id() << ": " << plan.err().describe());
    return *plan;
}

// What the release prints for `blocks` blocks.
std::string rendered_capacity(const row& r, const vllm::kv_cache_plan& p, std::uint64_t blocks, std::uint64_t length) {
    const auto cap = vllm::capacity(p, blocks, length);
    std::string out;
    if (p.engine == vllm::engine_kind::v0) {
        const auto cpu = vllm::num_cpu_blocks(p, bytes{4ULL << 30});
        out += vllm::v0_blocks_line(blocks, cpu, p.version).str() + "\n";
        if (blocks * p.min_block_size < length) out += vllm::v0_too_long_error(length, blocks * p.min_block_size).str() + "\n";
    }
    (void)r;
    out += vllm::capacity_lines(cap.tokens, cap.concurrency, length, p.version, p.engine).str();
    return out;
}

struct outcome {
    bool reproduced = false;
    std::uint64_t first = 0, last = 0;  // the block counts that reproduce the row
};

outcome from_blocks(const row& r, const vllm::kv_cache_plan& p, std::uint64_t lo, std::uint64_t hi) {
    outcome o{};
    const auto verbatim = lines_of(r);
    const std::uint64_t length = r.count("max_model_len");
    for (std::uint64_t n = lo; n <= hi; ++n) {
        if (r.has("gpu_blocks") && r.count("gpu_blocks") != n) continue;
        if (!renders(rendered_capacity(r, p, n, length), verbatim)) continue;
        if (!o.reproduced) o.first = n;
        o.reproduced = true;
        o.last = n;
    }
    return o;
}

// Block counts the printed available memory allows (±0.005 GiB, or the exact bytes).
std::pair<std::uint64_t, std::uint64_t> block_range(const row& r, const vllm::kv_cache_plan& p) {
    if (r.has("available_bytes")) {
        const auto n = vllm::num_blocks(p, bytes{r.count("available_bytes")});
        return {n, n};
    }
    const double a = r.real("available_gib");
    const auto lo = vllm::num_blocks(p, bytes{static_cast<std::uint64_t>((a - 0.005) * gib)});
    const auto hi = vllm::num_blocks(p, bytes{static_cast<std::uint64_t>((a + 0.005) * gib)});
    return {lo, hi};
}

} // namespace

TEST_CASE("vllm: blocks, GPU KV cache size and maximum concurrency from the printed available memory") {
    int exact = 0, checked = 0;
    for (const auto& r : read_rows()) {
        const std::string check = r.at("check");
        if (check != "exact" && check != "implied" && check != "consistent") continue;
        if (r.id() == "V29") continue;  // block-size lines only: the next test case
        const auto m = model_of(r);
        const auto gpu = device_of(r);
        const auto p = plan_of(r, m, gpu);
        ++checked;
        if (check == "exact") {
            const auto range = block_range(r, p);  // (no structured binding: Clang 14's lambdas cannot capture one)
            const std::uint64_t lo = range.first, hi = range.second;
            const auto o = from_blocks(r, p, lo, hi);
            CHECK_MESSAGE(o.reproduced, r.id() << ": blocks " << lo << ".." << hi << " do not print " << r.at("lines"));
            if (o.reproduced) ++exact;
            std::printf("  %-4s %-12s exact      blocks %llu..%llu of %llu..%llu print the row (%llu B per block)\n", r.id().c_str(),
                        r.at("vllm").c_str(), static_cast<unsigned long long>(o.first), static_cast<unsigned long long>(o.last),
                        static_cast<unsigned long long>(lo), static_cast<unsigned long long>(hi),
                        static_cast<unsigned long long>(p.bytes_per_block.count()));
        } else {
            const auto n = r.count("gpu_blocks");
            const auto o = from_blocks(r, p, n, n);
            CHECK_MESSAGE(o.reproduced, r.id() << ": " << n << " blocks do not print " << r.at("lines"));
            if (o.reproduced) ++exact;
            std::string quoted;
            if (r.has("available_gib")) {
                // the quoted worker's own count differs: the engine sizes every worker to the minimum
                const auto range = block_range(r, p);
                const std::uint64_t lo = range.first, hi = range.second;
                CHECK_MESSAGE((n < lo || n > hi), r.id() << ": the quoted figure would decide");
                quoted = " (the quoted " + r.at("available_gib") + " GiB gives " + std::to_string(lo) + ".." + std::to_string(hi) + ")";
            }
            std::printf("  %-4s %-12s %-10s %llu blocks print the row%s\n", r.id().c_str(), r.at("vllm").c_str(), check.c_str(),
                        static_cast<unsigned long long>(n), quoted.c_str());
        }
    }
    std::printf("vllm KV lines: %d of %d rows reproduced exactly\n", exact, checked);
    CHECK(exact == checked);
}

TEST_CASE("vllm: the start-up errors, with their figures") {
    for (const auto& r : read_rows()) {
        if (r.at("check") != "error") continue;
        const auto m = model_of(r);
        const auto gpu = device_of(r);
        const auto p = plan_of(r, m, gpu);
        const auto verbatim = lines_of(r);
        const double a = r.real("available_gib");
        const std::uint64_t length = r.count("max_model_len");
        std::string rendered;
        if (a <= 0) {
            // "No available memory for the cache blocks", after the negative figure
            rendered = vllm::available_line(a, p.version, p.engine).str() + "\n" + vllm::no_memory_error().str();
        } else {
            // The available memory within the printed figure's rounding that leaves the estimate
            // the error prints (or the printed figure itself where it prints none).
            bytes available{static_cast<std::uint64_t>(a * gib)};
            const std::string text = r.at("lines");
            const auto at = text.find("estimated maximum model length is ");
            if (at != std::string::npos) {
                const std::uint64_t printed = std::stoull(text.substr(at + 34));
                available = vllm::request_bytes(p, printed) + p.bytes_per_block;
                CHECK(available.gib() >= a - 0.005);
                CHECK(available.gib() < a + 0.005);
            }
            CHECK_FALSE(vllm::request_fits(p, length, available));
            const auto estimate = vllm::largest_fitting_length(p, available, length);
            rendered = vllm::too_long_error(length, vllm::request_bytes(p, length), available, estimate, p.version).str();
        }
        CHECK_MESSAGE(renders(rendered, verbatim), r.id() << ":\n  rendered " << rendered << "\n  printed  " << r.at("lines"));
        std::printf("  %-4s %-12s error      reproduced: %s\n", r.id().c_str(), r.at("vllm").c_str(), verbatim.back().substr(0, 70).c_str());
    }
}

TEST_CASE("vllm: hybrid block sizes and the Mamba page padding") {
    for (const auto& r : read_rows()) {
        const auto m = model_of(r);
        if (!m.linear) continue;
        const auto gpu = device_of(r);
        const auto p = plan_of(r, m, gpu);
        const auto page = p.groups[0].spec.page_bytes;
        const std::string rendered = vllm::hybrid_block_line(p.min_block_size).str() + "\n" + vllm::mamba_padding_line(page, p.mamba_page_unpadded).str();
        if (r.id() == "V29") {
            CHECK_MESSAGE(renders(rendered, lines_of(r)), rendered);
        }
        std::printf("  %-4s attention block %u tokens, %u groups of %u layers, %llu B per block\n", r.id().c_str(), p.min_block_size,
                    p.group_count, p.group_size, static_cast<unsigned long long>(p.bytes_per_block.count()));
    }
    // The worked figures of Qwen3-Next (0.10.2, TP 2): attention block 544 tokens, page 557,056 B,
    // 1 attention + 3 Gated-DeltaNet groups of 12 layers.
    for (const auto& r : read_rows()) {
        if (r.id() != "V23") continue;
        const auto m = model_of(r);
        const auto p = plan_of(r, m, device_of(r));
        CHECK(p.min_block_size == 544);
        CHECK(p.groups[0].spec.page_bytes == 557056);
        CHECK(p.group_count == 4);
        CHECK(p.group_size == 12);
        CHECK(p.mamba_page_unpadded == 548864);
    }
}
