// Compute buffer (CPU backend) against the engine's own numbers: tests/data/compute_oracle.csv
// holds the "sched_reserve: CPU compute buffer size" and "graph nodes" of every oracle run.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "vramfit/engines/llama_cpp/from_catalog.hpp"
#include "vramfit/engines/llama_cpp/compute_buffer.hpp"
#include "compute_checks.hpp"

using namespace vramfit;
using namespace vramfit::llama_cpp;

namespace {

struct oracle_row {
    std::string run_id, model_key;
    resolved_context ctx;
    double compute_mib = 0;
    std::size_t nodes = 0;
};

ggml_type cache_type(const std::string& name) {
    const auto t = ggml_type_from_name(name);
    REQUIRE_MESSAGE(t.has_value(), "unknown cache type " << name);
    return *t;
}

std::vector<oracle_row> load_rows() {
    std::ifstream in(std::string(VRAMFIT_TEST_DATA) + "/compute_oracle.csv");
    REQUIRE(in.good());
    std::string line;
    std::getline(in, line);  // header
    std::vector<oracle_row> rows;
    while (std::getline(in, line)) {
        std::vector<std::string> f;
        std::stringstream ss(line);
        std::string cell;
        while (std::getline(ss, cell, ',')) f.push_back(cell);
        REQUIRE(f.size() == 17);
        oracle_row r;
        r.run_id = f[0];
        r.model_key = f[1];
        auto u = [&](int i) { return static_cast<std::uint32_t>(std::stoul(f[static_cast<std::size_t>(i)])); };
        r.ctx.n_ctx = u(3);
        r.ctx.n_ctx_seq = u(4);
        r.ctx.n_batch = u(5);
        r.ctx.n_ubatch = u(6);
        r.ctx.n_seq = u(7);
        r.ctx.kv_unified = u(8) != 0;
        r.ctx.n_stream = r.ctx.kv_unified ? 1 : r.ctx.n_seq;
        r.ctx.flash_attn = u(9) != 0;
        r.ctx.type_k = cache_type(f[10]);
        r.ctx.type_v = cache_type(f[11]);
        r.ctx.kv_cells = u(12);
        r.ctx.kv_swa_cells = u(13);
        r.ctx.swa_full = u(14) != 0;
        r.compute_mib = std::stod(f[15]);
        r.nodes = std::stoul(f[16]);
        rows.push_back(r);
    }
    return rows;
}

using namespace compute_checks;  // the helpers both translation units share
}  // namespace

constexpr bool prints_as(double mib, double expected) { return mib - expected < 0.005 && expected - mib <= 0.005; }

// FA on: logits (n_vocab x ub f32) + the embeddings input + result_norm: the engine prints 266.50.
// (static_compute_buffer.cpp asserts both figures at compile time.)

// An iSWA mixture of experts with attention sinks, FA off (SWA cache 768 cells): the engine prints 558.39.
constexpr double gpt_oss_fa_off_mib() {
    model_description m{};
    catalog_model("gpt-oss-20b", m);
    resolved_context c = context_4096_512(false);
    c.kv_swa_cells = 768;
    return compute_buffer_bytes(m, c).mib();
}

TEST_CASE("llama-3.1-8b at 4096/512 matches the engine, at run time too") {
    CHECK(prints_as(llama8b_mib(true), 266.50));
    CHECK(prints_as(llama8b_mib(false), 308.01));
    CHECK(prints_as(gpt_oss_fa_off_mib(), 558.39));
}

TEST_CASE("unsupported architectures are a named error") {
    model_description m{};
    catalog_model("llama-3.1-8b", m);
    m.hparams.arch = architecture::jamba;
    const auto r = try_compute_buffer_bytes(m, context_4096_512(true));
    CHECK_FALSE(r.ok());
    CHECK(r.err().code() == errc::unsupported_architecture);
    m.hparams.arch = architecture::mistral3;  // llama-like, but its graph is not rebuilt here
    CHECK(try_compute_buffer_bytes(m, context_4096_512(true)).err().code() == errc::unsupported_architecture);
    m.hparams.arch = architecture::llama;
    resolved_context bad = context_4096_512(true);
    bad.kv_cells = 0;
    CHECK(try_compute_buffer_bytes(m, bad).err().code() == errc::invalid_argument);
    bad = context_4096_512(true);
    bad.n_ubatch = (1u << 20) + 1;
    CHECK(try_compute_buffer_bytes(m, bad).err().code() == errc::limit_exceeded);
    bad = context_4096_512(true);
    bad.n_seq = 257;
    CHECK(try_compute_buffer_bytes(m, bad).err().code() == errc::limit_exceeded);
    // The throwing form throws a std::exception (vramfit::exception) that carries the error.
    CHECK_THROWS_AS((void)compute_buffer_bytes(m, bad), std::exception);
    try {
        (void)compute_buffer_bytes(m, bad);
    } catch (const vramfit::exception& thrown) {
        CHECK(thrown.err().code() == errc::limit_exceeded);
        CHECK(std::string{thrown.what()} == thrown.err().describe());
    }
    model_description gemma{};
    REQUIRE(catalog_model("gemma-3-12b", gemma));
    CHECK(try_compute_buffer_bytes(gemma, context_4096_512(true)).err().code() == errc::invalid_argument);  // no SWA cells
    m.hparams.layers.clear();
    CHECK(try_compute_buffer_bytes(m, context_4096_512(true)).err().code() == errc::bad_value);
}

TEST_CASE("mamba2 (no KV cache, recurrent states) builds and holds at least the output phase") {
    model_description m{};
    REQUIRE(catalog_model("mamba2-2.7b", m));
    auto& hp = m.hparams;
    resolved_context c = context_4096_512(true);
    c.kv_cells = 0;
    const auto r = try_compute_buffer_bytes(m, c);
    REQUIRE(r.ok());
    // logits, result_norm and the embeddings input are all live at the end of the graph
    const std::uint64_t output_phase = (50288ull + 2 * 2560ull) * 512 * 4;
    CHECK(r.value().count() >= output_phase);
    c.n_ubatch = 128;
    const auto smaller = try_compute_buffer_bytes(m, c);
    REQUIRE(smaller.ok());
    CHECK(smaller.value() < r.value());
    MESSAGE("mamba2-2.7b ub512: " << r.value().mib() << " MiB, ub128: " << smaller.value().mib() << " MiB");
    hp.ssm_d_state = 0;
    CHECK(try_compute_buffer_bytes(m, c).err().code() == errc::bad_value);
}

TEST_CASE("lfm2 (hybrid: attention layers and short convolutions) builds and holds at least the output phase") {
    model_description m{};
    REQUIRE(catalog_model("lfm2-1.2b", m));
    const resolved_context c = context_4096_512(true);
    const auto r = try_compute_buffer_bytes(m, c);
    REQUIRE(r.ok());
    const std::uint64_t output_phase = (65536ull + 2 * 2048ull) * 512 * 4;
    CHECK(r.value().count() >= output_phase);
    resolved_context off = c;
    off.flash_attn = false;
    const auto r_off = try_compute_buffer_bytes(m, off);
    REQUIRE(r_off.ok());
    // without flash attention the KQ scores (32 heads x 4096 cells x 512 tokens, f32) are live
    CHECK(r_off.value().count() >= 32ull * 4096 * 512 * 4);
    MESSAGE("lfm2-1.2b 4096/512: FA on " << r.value().mib() << " MiB, FA off " << r_off.value().mib() << " MiB");
    m.hparams.ssm_d_conv = 1;
    CHECK(try_compute_buffer_bytes(m, c).err().code() == errc::bad_value);
}

TEST_CASE("leaving repeated layers out never changes the measured plan") {
    // every catalog model (all architectures, held-out models included), over a grid of contexts
    std::size_t folded = 0, total = 0;
    for (const auto& entry : catalog::models) {
        if (!llama_cpp::architecture_of(entry.config)) continue;  // OPT, GPT-2: llama.cpp cannot load them
        const std::string key(entry.key);
        model_description m{};
        REQUIRE(catalog_model(key, m));
        REQUIRE(compute_graph_nodes(m, context_4096_512(true)) > 0);
        for (const bool fa : {true, false})
        for (const std::uint32_t n_ctx : {512u, 4096u, 32768u})
        for (const std::uint32_t ub : {128u, 512u, 2048u})
        for (const std::uint32_t n_seq : {1u, 4u})
        for (const bool quantized : {false, true}) {
            if (quantized && (!fa || n_seq != 1)) continue;
            resolved_context c{};
            c.n_ctx = n_ctx; c.n_batch = 2048; c.n_ubatch = std::min(ub, n_ctx); c.n_seq = n_seq; c.n_stream = n_seq;
            c.n_ctx_seq = n_ctx / n_seq; c.kv_cells = c.n_ctx_seq; c.flash_attn = fa;
            c.type_k = c.type_v = quantized ? ggml_type::q8_0 : ggml_type::f16;
            const std::uint32_t swa = ((m.hparams.n_swa + c.n_ubatch + 255) / 256) * 256;
            c.kv_swa_cells = std::min(c.n_ctx_seq, swa);
            const auto ub_pp = llama_cpp::detail::prompt_ubatch(c);
            const auto full = llama_cpp::detail::reserve_graph(m.hparams, c, ub_pp, false);
            const auto fold = llama_cpp::detail::reserve_graph(m.hparams, c, ub_pp, true);
            CHECK_MESSAGE(full.size == fold.size, key << " fa " << fa << " ctx " << n_ctx << " ub " << ub << " seq " << n_seq);
            folded += fold.folded ? 1 : 0;
            ++total;
        }
    }
    MESSAGE("folded " << folded << " of " << total << " grid points");
    CHECK(folded > total / 2);
}

TEST_CASE("compute buffer follows the engine on every oracle row") {
    const auto rows = load_rows();
    std::map<std::string, std::vector<double>> errors;
    std::map<std::string, double> max_abs_mib;
    std::size_t node_mismatches = 0;
    std::size_t folded_rows = 0;
    for (const auto& row : rows) {
        model_description m{};
        REQUIRE_MESSAGE(catalog_model(row.model_key, m), row.model_key);
        const double est = compute_buffer_bytes(m, row.ctx).mib();
        const double rel = std::abs(est - row.compute_mib) / row.compute_mib;
        errors[row.model_key].push_back(rel);
        max_abs_mib[row.model_key] = std::max(max_abs_mib[row.model_key], std::abs(est - row.compute_mib));
        // the folded measurement (repeated layers left out) must equal the full graph's
        const auto full = llama_cpp::detail::reserve_graph(m.hparams, row.ctx, llama_cpp::detail::prompt_ubatch(row.ctx), false);
        const auto folded = llama_cpp::detail::reserve_graph(m.hparams, row.ctx, llama_cpp::detail::prompt_ubatch(row.ctx), true);
        CHECK_MESSAGE(full.size == folded.size, row.run_id << ": folded " << folded.size.count() << " vs full " << full.size.count());
        if (folded.folded) ++folded_rows;
        const std::size_t nodes = compute_graph_nodes(m, row.ctx);
        if (nodes != row.nodes) ++node_mismatches;
        CHECK_MESSAGE(nodes == row.nodes, row.run_id << ": graph nodes " << nodes << " vs engine " << row.nodes);
        // the target is 2 % or 1 MiB; the model is exact: it prints as the engine prints (two decimals)
        CHECK_MESSAGE(std::abs(est - row.compute_mib) <= 0.005,
                      row.run_id << ": estimate " << est << " MiB vs engine " << row.compute_mib << " MiB");
    }
    for (auto& [key, errs] : errors) {
        std::sort(errs.begin(), errs.end());
        char text[200];
        std::snprintf(text, sizeof text, "%-16s rows %3zu  max %6.3f %% (%.4f MiB)  median %6.3f %%", key.c_str(), errs.size(),
                      errs.back() * 100.0, max_abs_mib[key], errs[errs.size() / 2] * 100.0);
        MESSAGE(text);
    }
    CHECK(node_mismatches == 0);
    MESSAGE("rows measured on a folded graph: " << folded_rows << " of " << rows.size());
    CHECK(folded_rows > rows.size() / 2);
}
