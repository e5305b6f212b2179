// The transformers memory model against data/hf/transformers_memory.csv: PyTorch's live
// storage bytes while the real transformers code runs prefill and decode on fake CUDA tensors
// (see data/hf/README-memory.md). KV bytes must match exactly; the activation peaks of the
// modelled architectures within 2 %.
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "vramfit/engines/transformers/activations.hpp"
#include "vramfit/engines/transformers/generate_memory.hpp"
#include "vramfit/engines/transformers/kv_cache.hpp"
#include "config_json.hpp"

using namespace vramfit;
using namespace vramfit::transformers;

namespace {

using row = std::map<std::string, std::string>;

std::vector<std::string> split_csv_line(const std::string& line) {
    std::vector<std::string> out;
    std::string cur;
    bool quoted = false;
    for (char c : line) {
        if (c == '"') { quoted = !quoted; continue; }
        if (c == ',' && !quoted) { out.push_back(cur); cur.clear(); } else { cur += c; }
    }
    out.push_back(cur);
    return out;
}

const std::vector<row>& rows() {
    static const std::vector<row> all = [] {
        std::vector<row> out;
        const std::string text = test::read_text(std::string(VRAMFIT_TEST_DATA) + "/hf/transformers_memory.csv");
        std::size_t start = 0;
        std::vector<std::string> header;
        while (start < text.size()) {
            std::size_t end = text.find('\n', start);
            if (end == std::string::npos) end = text.size();
            const auto fields = split_csv_line(text.substr(start, end - start));
            start = end + 1;
            if (header.empty()) { header = fields; continue; }
            row r;
            for (std::size_t i = 0; i < header.size() && i < fields.size(); ++i) r[header[i]] = fields[i];
            out.push_back(r);
        }
        return out;
    }();
    return all;
}

model_config config_of(const row& r) {
    std::string dir = r.at("model");
    if (const auto slash = dir.find('/'); slash != std::string::npos) dir.replace(slash, 1, "--");
    return test::config_from_json(test::read_text(std::string(VRAMFIT_TEST_DATA) + "/hf/memory_configs/" + dir + "/config.json"));
}

std::uint64_t num(const row& r, const char* key) { return std::stoull(r.at(key)); }

activation_request request_of(const row& r) {
    activation_request q{};
    q.attn = r.at("attn_implementation") == "eager" ? attn_implementation::eager : attn_implementation::sdpa;
    q.type = r.at("dtype") == "float16" ? dtype::f16 : r.at("dtype") == "float32" ? dtype::f32 : dtype::bf16;
    q.batch = static_cast<std::uint32_t>(num(r, "batch"));
    q.prompt = num(r, "prompt_len");
    return q;
}

double relative_error(std::uint64_t model, std::uint64_t measured) {
    return (static_cast<double>(model) - static_cast<double>(measured)) / static_cast<double>(measured);
}

struct error_stats {
    std::vector<double> errors;
    void add(double e) { errors.push_back(std::fabs(e)); }
    [[nodiscard]] double max() const { return errors.empty() ? 0 : *std::max_element(errors.begin(), errors.end()); }
    [[nodiscard]] double median() const {
        if (errors.empty()) return 0;
        auto v = errors;
        std::sort(v.begin(), v.end());
        return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
    }
};

void report(const char* what, const error_stats& s) {
    std::printf("%-34s rows %3zu  max %.4f %%  median %.4f %%\n", what, s.errors.size(), 100 * s.max(), 100 * s.median());
}

}  // namespace

TEST_CASE("the measured rows are there") {
    CHECK(rows().size() >= 128);
}

TEST_CASE("KV cache bytes are exact on every row, after the prefill and after generate()") {
    for (const auto& r : rows()) {
        CAPTURE(r.at("model"));
        CAPTURE(r.at("batch"));
        CAPTURE(r.at("prompt_len"));
        const auto c = config_of(r);
        const auto q = request_of(r);
        CHECK(kv_cache_bytes(c, generate_cache(q.type, q.batch, q.prompt, 1)).count() == num(r, "kv_cache_bytes"));
        CHECK(kv_cache_bytes(c, generate_cache(q.type, q.batch, q.prompt, num(r, "new_tokens"))).count() ==
              num(r, "kv_cache_bytes_after_generate"));
    }
}

TEST_CASE("activation peaks within 2 % on every row") {
    error_stats prefill, rounded, decode, full, total;
    std::size_t unmodelled = 0;
    for (const auto& r : rows()) {
        CAPTURE(r.at("model"));
        CAPTURE(r.at("attn_implementation"));
        CAPTURE(r.at("batch"));
        CAPTURE(r.at("prompt_len"));
        const auto c = config_of(r);
        auto q = request_of(r);
        const auto p = prefill_peak(c, q);
        if (!p.modelled) { ++unmodelled; continue; }
        // the largest decode step: the last, or the first where a full sliding window is trimmed
        const auto d = largest_decode_peak(c, q, num(r, "new_tokens"));
        const auto f = full_logits_peak(c, q);
        q.round512 = true;
        const auto pr = prefill_peak(c, q);

        const double ep = relative_error(p.above_weights.count(), num(r, "prefill_peak_bytes_above_weights"));
        const double er = relative_error(pr.above_weights.count(), num(r, "prefill_peak_bytes_above_weights_rounded512"));
        const double ed = relative_error(d.above_weights.count(), num(r, "decode_peak_bytes_above_weights_and_cache"));
        const double ef = relative_error(f.above_weights.count(), num(r, "prefill_all_logits_peak_bytes_above_weights"));
        CHECK(std::fabs(ep) <= 0.02);
        CHECK(std::fabs(er) <= 0.02);
        CHECK(std::fabs(ed) <= 0.02);
        CHECK(std::fabs(ef) <= 0.02);
        CHECK(p.kv_part.count() == num(r, "prefill_peak_kv_part_bytes"));
        prefill.add(ep);
        rounded.add(er);
        decode.add(ed);
        full.add(ef);

        // the whole generate() on one GPU: weights exact, the total within 2 %
        const generate_request g{q.attn, q.type, q.batch, q.prompt, num(r, "new_tokens"), false};
        const auto m = generate_memory_on_one_gpu(c, g);
        REQUIRE(m.modelled);
        CHECK(m.gpus[0].weights.count() == num(r, "weights_bytes"));
        const double et = relative_error((m.gpus[0].weights + m.gpus[0].kv_cache + m.gpus[0].activations).count(),
                                         num(r, "generate_peak_bytes_total"));
        CHECK(std::fabs(et) <= 0.02);
        total.add(et);
    }
    report("prefill peak above weights", prefill);
    report("prefill peak, 512-byte rounding", rounded);
    report("decode peak above weights+cache", decode);
    report("full-logits forward peak", full);
    report("generate() peak total (1 GPU)", total);
    std::printf("rows of architectures not modelled: %zu\n", unmodelled);
    CHECK(unmodelled == 0);  // every measured architecture is replayed
    CHECK(prefill.errors.size() == rows().size());
}

TEST_CASE("a placement splits weights, cache and activations by device") {
    auto c = test::config_from_json(test::read_text(std::string(VRAMFIT_TEST_DATA) +
                                                    "/hf/memory_configs/meta-llama--Llama-3.1-8B-Instruct/config.json"));
    const generate_request g{attn_implementation::sdpa, dtype::bf16, 1, 2048, 4, false};
    const auto one = generate_memory_on_one_gpu(c, g);

    const std::array<layer_block, 2> halves{{{{location_kind::gpu, 0}, 0, 16}, {{location_kind::gpu, 1}, 16, 16}}};
    const placement two{halves, {location_kind::gpu, 0}, {location_kind::gpu, 1}, {location_kind::gpu, 1}, 0};
    const auto tree = build_module_tree(c, {});
    REQUIRE(tree.ok());
    const auto weights = weights_of(*tree, compute_module_sizes(*tree));
    REQUIRE(weights.layers.size() == 32);
    CHECK(weights.total() == one.gpus[0].weights);
    const auto split = generate_memory(c, g, two, weights);
    CHECK(split.gpus[0].used);
    CHECK(split.gpus[1].used);
    CHECK(!split.gpus[2].used);
    CHECK(split.gpus[0].weights + split.gpus[1].weights == one.gpus[0].weights);
    CHECK(split.gpus[0].kv_cache == split.gpus[1].kv_cache);
    CHECK(split.gpus[0].kv_cache + split.gpus[1].kv_cache == one.gpus[0].kv_cache);
    // each half carries its own last layer's peak: neither more than the whole model's
    const auto peak = [](const device_memory& d) { return d.kv_cache + d.activations; };
    CHECK(peak(split.gpus[0]) <= peak(one.gpus[0]));
    CHECK(peak(split.gpus[1]) <= peak(one.gpus[0]));
    CHECK(split.gpus[1].activations > bytes{});

    // the last eight layers on the CPU: they run on GPU 0, which stages one layer's weights
    const std::array<layer_block, 2> offload{{{{location_kind::gpu, 0}, 0, 24}, {{location_kind::cpu, 0}, 24, 8}}};
    const location gpu0{location_kind::gpu, 0};
    const auto off = generate_memory(c, g, {offload, gpu0, gpu0, gpu0, 0}, weights);
    CHECK(off.gpus[0].offload_staging == weights.layers[24]);
    CHECK(off.offloaded_weights == weights.layers[24] * 8);
    CHECK(off.gpus[0].kv_cache == one.gpus[0].kv_cache);
    CHECK(off.gpus[0].weights + off.offloaded_weights == one.gpus[0].weights);
}

TEST_CASE("the CUDA context line comes from cuda_overhead.hpp") {
    auto c = test::config_from_json(test::read_text(std::string(VRAMFIT_TEST_DATA) +
                                                    "/hf/memory_configs/meta-llama--Llama-3.1-8B-Instruct/config.json"));
    device h100{};
    h100.cc_major = 9;
    h100.sm_count = 132;
    const std::array<device, 1> gpus{h100};
    const auto m = generate_memory_on_one_gpu(c, {attn_implementation::sdpa, dtype::bf16, 1, 128, 4, false}, 0, gpus);
    CHECK(m.gpus[0].cuda_context == cuda_process_overhead(h100).estimate);
    CHECK(m.gpus[0].total == m.gpus[0].weights + m.gpus[0].kv_cache + m.gpus[0].activations + m.gpus[0].cuda_context);
}
