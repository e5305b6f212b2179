// Catalog layouts against the real engine's tensor lists: tests/data/quant_tensor_types.csv
// (the oracle's llama-quantize --dry-run listings: for 7
// models x 8 ftypes, every tensor in the order the quantizer writes it, its shape, the
// converter's type and the quantizer's choice) and the engine's totals
// (tests/data/catalog_totals.csv).
#include <doctest/doctest.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "vramfit/engines/llama_cpp/from_catalog.hpp"
#include "vramfit/engines/llama_cpp/quantize.hpp"
#include "vramfit/engines/llama_cpp/convert.hpp"

using namespace vramfit;

namespace {

struct csv_tensor {
    std::string name;
    std::string ne;        // "4096x1024x1x1"
    std::string type_in;   // the converter's type: f32 / f16
    std::string type_out;  // llama-quantize's choice
};

std::vector<std::string> split(const std::string& line, char sep) {
    std::vector<std::string> fields;
    std::stringstream stream(line);
    std::string field;
    while (std::getline(stream, field, sep)) fields.push_back(field);
    return fields;
}

// (model_key, ftype) -> tensors in file order
std::map<std::pair<std::string, std::string>, std::vector<csv_tensor>> read_quantizer_listings() {
    std::map<std::pair<std::string, std::string>, std::vector<csv_tensor>> listings;
    std::ifstream in(VRAMFIT_TEST_DATA "/quant_tensor_types.csv");
    REQUIRE(in.good());
    std::string line;
    std::getline(in, line);
    REQUIRE(line == "model_key,ftype,tensor,ne,type_in,type_out");
    while (std::getline(in, line)) {
        const auto f = split(line, ',');
        REQUIRE(f.size() == 6);
        listings[{f[0], f[1]}].push_back({f[2], f[3], f[4], f[5]});
    }
    return listings;
}

std::string shape_text(const tensor_info& t) {
    return std::to_string(t.ne[0]) + "x" + std::to_string(t.ne[1]) + "x" + std::to_string(t.ne[2]) + "x" + std::to_string(t.ne[3]);
}

} // namespace

TEST_CASE("catalog layouts match the engine's tensor lists for every (model, ftype): names, order, shapes, types") {
    const auto listings = read_quantizer_listings();
    REQUIRE(listings.size() == 56);
    for (const auto& listing : listings) {
        const std::string& key = listing.first.first;
        const std::string& ftype_text = listing.first.second;
        const auto& expected = listing.second;
        CAPTURE(key);
        CAPTURE(ftype_text);
        const auto* entry = catalog::find(key);
        REQUIRE(entry != nullptr);
        const auto converted = llama_cpp::describe_f16(*entry);
        REQUIRE_MESSAGE(converted.ok(), converted.err().describe());
        const auto ftype = ftype_from_name(ftype_text);
        REQUIRE(ftype.has_value());
        const auto quantized = llama_cpp::describe(*entry, *ftype);
        REQUIRE_MESSAGE(quantized.ok(), quantized.err().describe());
        REQUIRE(converted->tensors.size() == expected.size());
        REQUIRE(quantized->tensors.size() == expected.size());
        std::size_t mismatches = 0;
        for (std::size_t i = 0; i < expected.size(); ++i) {
            const auto& t = converted->tensors[i];
            const auto& q = quantized->tensors[i];
            const bool same = t.name == std::string_view{expected[i].name} && shape_text(t) == expected[i].ne &&
                              type_name(t.type) == expected[i].type_in && q.name == t.name &&
                              type_name(q.type) == expected[i].type_out;
            if (!same && mismatches++ < 5) {
                FAIL_CHECK(i << ": got " << std::string{t.name.view()} << " " << shape_text(t) << " " << type_name(t.type)
                              << " -> " << type_name(q.type) << ", engine " << expected[i].name << " " << expected[i].ne
                              << " " << expected[i].type_in << " -> " << expected[i].type_out);
            }
        }
        CHECK(mismatches == 0);
    }
}

TEST_CASE("catalog F16 sizes and parameter counts match the engine's figures") {
    std::ifstream in(VRAMFIT_TEST_DATA "/catalog_totals.csv");
    REQUIRE(in.good());
    std::string line;
    std::getline(in, line);
    int rows = 0;
    while (std::getline(in, line)) {
        const auto f = split(line, ',');
        REQUIRE(f.size() == 4);
        CAPTURE(f[0]);
        const auto* entry = catalog::find(f[0]);
        REQUIRE(entry != nullptr);
        const auto model = llama_cpp::describe_f16(*entry);
        REQUIRE(model.ok());
        CHECK(model->tensors.size() == std::stoul(f[1]));
        // llama-quantize prints the input size as "%.2f MiB" of the tensor byte total.
        char mib[32];
        std::snprintf(mib, sizeof mib, "%.2f", model->weight_bytes().mib());
        CHECK(std::string{mib} == f[2]);
        // print_info: "model params = %.2f B" of ml.n_elements (all tensors' elements).
        char params[32];
        std::snprintf(params, sizeof params, "%.2f B", static_cast<double>(model->parameter_count()) * 1e-9);
        CHECK(std::string{params} == f[3]);
        ++rows;
    }
    CHECK(rows == 7);
}

TEST_CASE("the quantizer's order: outside tensors by name, then block by block (numerically), by name") {
    std::vector<tensor_info> tensors(5);
    tensors[0].name = "blk.10.attn_q.weight"; tensors[0].layer = 10;
    tensors[1].name = "token_embd.weight";
    tensors[2].name = "blk.2.ffn_up.weight"; tensors[2].layer = 2;
    tensors[3].name = "output.weight";
    tensors[4].name = "blk.2.attn_k.weight"; tensors[4].layer = 2;
    sort_in_quantizer_order(tensors);
    CHECK(tensors[0].name == std::string_view{"output.weight"});
    CHECK(tensors[1].name == std::string_view{"token_embd.weight"});
    CHECK(tensors[2].name == std::string_view{"blk.2.attn_k.weight"});
    CHECK(tensors[3].name == std::string_view{"blk.2.ffn_up.weight"});
    CHECK(tensors[4].name == std::string_view{"blk.10.attn_q.weight"});
}

TEST_CASE("converter typing: 1-D, norms, biases, router and conv are F32; matrices F16") {
    CHECK(detail::converter_type("blk.0.attn_q.weight", 2) == ggml_type::f16);
    CHECK(detail::converter_type("blk.0.ffn_up_exps.weight", 3) == ggml_type::f16);
    CHECK(detail::converter_type("blk.0.attn_q.bias", 1) == ggml_type::f32);
    CHECK(detail::converter_type("blk.0.ffn_gate_exps.bias", 2) == ggml_type::f32);
    CHECK(detail::converter_type("blk.0.ffn_gate_inp.weight", 2) == ggml_type::f32);
    CHECK(detail::converter_type("blk.0.ssm_norm.weight", 2) == ggml_type::f32);
    CHECK(detail::converter_type("blk.0.ssm_a", 2) == ggml_type::f32);
    CHECK(detail::converter_type("blk.0.ssm_conv1d.weight", 2) == ggml_type::f32);
    CHECK(detail::converter_type("rope_freqs.weight", 1) == ggml_type::f32);
}

TEST_CASE("layouts of the held-out architectures follow the engine's create_tensor shapes") {
    SUBCASE("phi3: fused qkv and gate+up, untied") {
        const auto m = llama_cpp::describe_f16(catalog::phi_3_mini_4k::entry);
        REQUIRE(m.ok());
        CHECK(m->tensors.size() == 3 + 32 * 6);
        CHECK(m->tensors[0].name == std::string_view{"output.weight"});
        CHECK(m->tensors[3].name == std::string_view{"blk.0.attn_norm.weight"});
        CHECK(m->tensors[4].name == std::string_view{"blk.0.attn_output.weight"});
        CHECK(m->tensors[5].name == std::string_view{"blk.0.attn_qkv.weight"});
        CHECK(m->tensors[5].ne[1] == 3072 * 3);
        CHECK(m->tensors[8].name == std::string_view{"blk.0.ffn_up.weight"});
        CHECK(m->tensors[8].ne[1] == 2 * 8192);
    }
    SUBCASE("gemma2: tied, post norms, no q/k norms") {
        const auto m = llama_cpp::describe_f16(catalog::gemma_2_9b::entry);
        REQUIRE(m.ok());
        CHECK(m->tensors.size() == 2 + 42 * 11);
        CHECK(m->tensors[0].name == std::string_view{"output_norm.weight"});
        CHECK(m->tensors[1].name == std::string_view{"token_embd.weight"});
        CHECK(m->tensors[1].ne[1] == 256000);
    }
    SUBCASE("deepseek2 lite: MLA split k_b/v_b, one dense lead layer, shared experts") {
        const auto m = llama_cpp::describe_f16(catalog::deepseek_v2_lite::entry);
        REQUIRE(m.ok());
        // 3 outside + layer 0 (dense: 11) + 26 MoE layers (15 each)
        CHECK(m->tensors.size() == 3 + 11 + 26 * 15);
        const auto find = [&](std::string_view name) -> const tensor_info* {
            for (const auto& t : m->tensors) if (t.name == name) return &t;
            return nullptr;
        };
        const auto* q = find("blk.0.attn_q.weight");
        REQUIRE(q != nullptr);
        CHECK(q->ne[1] == 16 * 192);
        const auto* kv_a = find("blk.0.attn_kv_a_mqa.weight");
        REQUIRE(kv_a != nullptr);
        CHECK(kv_a->ne[1] == 512 + 64);
        const auto* k_b = find("blk.3.attn_k_b.weight");
        REQUIRE(k_b != nullptr);
        CHECK((k_b->ne[0] == 128 && k_b->ne[1] == 512 && k_b->ne[2] == 16 && k_b->n_dims == 3));
        const auto* v_b = find("blk.3.attn_v_b.weight");
        REQUIRE(v_b != nullptr);
        CHECK((v_b->ne[0] == 512 && v_b->ne[1] == 128 && v_b->ne[2] == 16));
        const auto* shexp = find("blk.1.ffn_up_shexp.weight");
        REQUIRE(shexp != nullptr);
        CHECK(shexp->ne[1] == 2 * 1408);
        CHECK(find("blk.0.ffn_gate.weight") != nullptr);
        CHECK(find("blk.0.ffn_gate_exps.weight") == nullptr);
        CHECK(find("blk.26.ffn_down_exps.weight") != nullptr);
        CHECK(find("output.weight") != nullptr);
    }
    SUBCASE("lfm2: token_embd_norm as the final norm, short-conv blocks, F32 conv kernel") {
        const auto m = llama_cpp::describe_f16(catalog::lfm2_1_2b::entry);
        REQUIRE(m.ok());
        CHECK(m->tensors.size() == 2 + 10 * 8 + 6 * 11);
        CHECK(m->tensors[0].name == std::string_view{"token_embd.weight"});
        CHECK(m->tensors[1].name == std::string_view{"token_embd_norm.weight"});
        const auto find = [&](std::string_view name) -> const tensor_info* {
            for (const auto& t : m->tensors) if (t.name == name) return &t;
            return nullptr;
        };
        const auto* conv = find("blk.0.shortconv.conv.weight");
        REQUIRE(conv != nullptr);
        CHECK((conv->ne[0] == 3 && conv->ne[1] == 2048 && conv->type == ggml_type::f32));
        const auto* in_proj = find("blk.0.shortconv.in_proj.weight");
        REQUIRE(in_proj != nullptr);
        CHECK((in_proj->ne[1] == 3 * 2048 && in_proj->type == ggml_type::f16));
        CHECK(find("blk.2.attn_k.weight") != nullptr);
        CHECK(find("blk.2.shortconv.conv.weight") == nullptr);
        CHECK(find("blk.3.attn_q.weight") == nullptr);
    }
    SUBCASE("mamba2: ssm tensors with the converter's shapes") {
        const auto m = llama_cpp::describe_f16(catalog::mamba2_2_7b::entry);
        REQUIRE(m.ok());
        CHECK(m->tensors.size() == 2 + 64 * 9);
        const auto find = [&](std::string_view name) -> const tensor_info* {
            for (const auto& t : m->tensors) if (t.name == name) return &t;
            return nullptr;
        };
        const auto* in = find("blk.0.ssm_in.weight");
        REQUIRE(in != nullptr);
        CHECK(in->ne[1] == 5120 + (5120 + 2 * 128) + 80);
        const auto* a = find("blk.0.ssm_a");
        REQUIRE(a != nullptr);
        CHECK((a->ne[0] == 1 && a->ne[1] == 80 && a->n_dims == 2 && a->type == ggml_type::f32));
        const auto* norm = find("blk.0.ssm_norm.weight");
        REQUIRE(norm != nullptr);
        CHECK((norm->ne[0] == 5120 && norm->ne[1] == 1 && norm->n_dims == 2));
    }
    SUBCASE("deepseek2 with q LoRA and the router bias (DeepSeek-V3)") {
        const auto m = llama_cpp::describe_f16(catalog::deepseek_v3::entry);
        REQUIRE(m.ok());
        // 3 outside + 3 dense layers (13 each) + 58 MoE layers (18 each)
        CHECK(m->tensors.size() == 3 + 3 * 13 + 58 * 18);
        const auto find = [&](std::string_view name) -> const tensor_info* {
            for (const auto& t : m->tensors) if (t.name == name) return &t;
            return nullptr;
        };
        const auto* q_a = find("blk.0.attn_q_a.weight");
        REQUIRE(q_a != nullptr);
        CHECK(q_a->ne[1] == 1536);
        const auto* q_b = find("blk.0.attn_q_b.weight");
        REQUIRE(q_b != nullptr);
        CHECK((q_b->ne[0] == 1536 && q_b->ne[1] == 128 * 192));
        CHECK(find("blk.0.attn_q.weight") == nullptr);
        const auto* bias = find("blk.3.exp_probs_b.bias");
        REQUIRE(bias != nullptr);
        CHECK((bias->ne[0] == 256 && bias->type == ggml_type::f32));
        CHECK(find("blk.2.exp_probs_b.bias") == nullptr);
    }
    SUBCASE("mistral: llama without rope_freqs, untied") {
        const auto m = llama_cpp::describe_f16(catalog::mistral_7b_v0_3::entry);
        REQUIRE(m.ok());
        CHECK(m->tensors.size() == 3 + 32 * 9);
        CHECK(m->tensors[2].name == std::string_view{"token_embd.weight"});
        CHECK(m->tensors[2].ne[1] == 32768);
    }
}
