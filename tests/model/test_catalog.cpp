// The built-in catalog: lookups, errors, hyper-parameters and descriptions, at compile time
// (static_assert) and the same vectors at run time.
#include <doctest/doctest.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>
#include <vector>
#include <string>
#include <string_view>

#include "vramfit/core/format.hpp"
#include "vramfit/engines/llama_cpp/from_catalog.hpp"
#include "catalog_checks.hpp"

using namespace vramfit;

namespace {

using namespace catalog_checks;  // the helpers both translation units share
// llama-3's 64-element rope_freqs (so 8030261248 + 64 for Llama-3.1-8B). The oracle logs print
// them rounded ("model params = 8.03 B"); the exact sums match the published counts.
constexpr std::uint64_t llama_3_1_8b_params = 8030261312ULL;
constexpr std::uint64_t llama_3_2_1b_params = 1235814432ULL;
// The static_asserts on described catalog models are in static_catalog.cpp.

// general.architecture names (llama-arch.cpp LLM_ARCH_NAMES) round-trip; 11 are supported.
constexpr bool names_round_trip() {
    for (const auto& a : detail::architecture_table) {
        if (architecture_from_name(a.name) != a.arch || architecture_name(a.arch) != a.name) return false;
    }
    return true;
}
static_assert(names_round_trip());
static_assert(architecture_name(architecture::gpt_oss) == "gpt-oss");
static_assert(architecture_name(architecture::command_r) == "command-r");
static_assert(supported_architectures.size() == 15);
static_assert(is_supported(architecture::llama4) && is_supported(architecture::gptneox) && is_supported(architecture::glm4) &&
              is_supported(architecture::command_r));
static_assert(is_supported(architecture::lfm2) && !is_supported(architecture::jamba));
static_assert(supported_architecture("qwen3moe").ok());
static_assert(supported_architecture("granitehybrid").err().code() == errc::unsupported_architecture);
static_assert(!architecture_from_name("LLAMA").has_value(), "names are exact, as in the engine");

static_assert(catalog::llama_3_1_8b::entry.config.num_hidden_layers == 32 && catalog::llama_3_1_8b::entry.key == "llama-3.1-8b");
static_assert(catalog::find("LLAMA-3.1-8B") == &catalog::llama_3_1_8b::entry, "case-insensitive");
static_assert(catalog::find("llama-9") == nullptr);
static_assert(catalog::find("meta-llama/llama-3.1-8b") == &catalog::llama_3_1_8b::entry, "Hub ids find entries too");
static_assert(catalog::find("mistralai/Mistral-7B-Instruct-v0.3") == &catalog::mistral_7b_v0_3::entry, "and the tuned release's");
static_assert(llama_cpp::native_ftype(catalog::gpt_oss_20b::entry) == "MXFP4_MOE" && llama_cpp::native_ftype(catalog::qwen3_8b::entry).empty());
static_assert(llama_cpp::architecture_of(catalog::mistral_7b_v0_3::entry.config).value() == architecture::llama);
static_assert(llama_cpp::architecture_of(catalog::deepseek_v3::entry.config).value() == architecture::deepseek2);
static_assert(llama_cpp::architecture_of(catalog::opt_30b::entry.config).err().code() == errc::unsupported_architecture);
static_assert(catalog::gpt_oss_20b::entry.default_ftype == "MXFP4_MOE");

} // namespace

TEST_CASE("compile-time catalog vectors hold at run time") {
    CHECK(names_round_trip());
    CHECK(supported_architecture("granitehybrid").err().message() ==
          "architecture 'granitehybrid' is known but not modelled yet; supported: llama, qwen2, qwen3, qwen3moe, gemma2, "
          "gemma3, phi3, deepseek2, gpt-oss, mamba2, lfm2, glm4, command-r, gptneox, llama4");
    CHECK(params_of(catalog::llama_3_1_8b::entry) == llama_3_1_8b_params);
    CHECK(params_of(catalog::llama_3_2_1b::entry) == llama_3_2_1b_params);
    CHECK(params_of(catalog::mistral_7b_v0_3::entry) == 7248023552ULL);
    CHECK(params_of(catalog::phi_3_mini_4k::entry) == 3821079552ULL);
    CHECK(params_of(catalog::lfm2_1_2b::entry) == 1170340608ULL);
    CHECK(quantized_bytes("llama-3.1-8b:Q4_K_M") == quantized_bytes("llama-3.1-8b"));
    CHECK(swa_layers(catalog::gemma_3_12b::entry) == 40);
    CHECK(swa_layers(catalog::gemma_2_9b::entry) == 21);
    CHECK(swa_layers(catalog::gpt_oss_20b::entry) == 12);
    CHECK(swa_layers(catalog::phi_3_mini_4k::entry) == 0);
    CHECK(catalog::find("LLAMA-3.1-8B") == &catalog::llama_3_1_8b::entry);
    CHECK(error_of("llama-3-8b") == errc::unknown_name);
    CHECK(error_mentions("llama-3-8b", "did you mean: llama-3.1-8b, llama-3.2-1b, llama-3.3-70b, llama-3.2-3b"));
    CHECK(error_mentions("falcon-7b", "catalog families: llama, mistral, qwen2.5, gemma, phi, qwen3, mixtral, gpt, deepseek, mamba2, lfm2, command, glm, pythia, opt, gpt2 ("));
    CHECK(error_mentions("llama-3.1-8b:Q4_K_X", "unknown quantization 'Q4_K_X'"));
}

TEST_CASE("catalog parameter counts equal the published ones (model cards' safetensors totals)") {
    // Llama-3 files also carry rope_freqs.weight (head_dim / 2 elements), which the engine counts.
    const struct { std::string_view key; std::uint64_t params; } published[] = {
        {"llama-3.1-8b", 8030261248ULL + 64}, {"llama-3.2-1b", 1235814400ULL + 32}, {"llama-3.2-3b", 3212749824ULL + 64},
        {"llama-3.3-70b", 70553706496ULL + 64}, {"mistral-7b-v0.3", 7248023552ULL}, {"mistral-nemo-12b", 12247782400ULL},
        {"qwen2.5-7b", 7615616512ULL}, {"qwen2.5-14b", 14770033664ULL}, {"qwen2.5-32b", 32763876352ULL},
        {"qwen2.5-72b", 72706203648ULL}, {"qwen3-4b", 4022468096ULL}, {"qwen3-8b", 8190735360ULL},
        {"qwen3-14b", 14768307200ULL}, {"qwen3-32b", 32762123264ULL}, {"qwen3-30b-a3b", 30532122624ULL},
        {"qwen3-235b-a22b", 235093634560ULL}, {"gemma-2-9b", 9241705984ULL}, {"gemma-2-27b", 27227128320ULL},
        {"phi-3-mini-4k", 3821079552ULL}, {"phi-4", 14659507200ULL}, {"mixtral-8x7b", 46702792704ULL},
        {"gpt-oss-20b", 20914757184ULL}, {"gpt-oss-120b", 116829156672ULL}, {"deepseek-v2-lite", 15706484224ULL},
        {"lfm2-1.2b", 1170340608ULL},
        {"llama-3.1-70b", 70553706496ULL + 64}, {"llama-3.1-405b", 405853388800ULL + 64}, {"qwen3-0.6b", 596049920ULL},
        {"qwen3-1.7b", 1720574976ULL}, {"qwen2.5-0.5b", 494032768ULL}, {"qwen2.5-1.5b", 1543714304ULL},
        {"qwen2.5-3b", 3085938688ULL}, {"gemma-3-1b", 999885952ULL}, {"mistral-small-24b", 23572403200ULL},
        {"command-r-v01", 34980831232ULL}, {"glm-4-9b", 9400094720ULL}, {"glm-4-32b", 32566081536ULL},
        {"pythia-1.4b", 1414647808ULL}, {"pythia-2.8b", 2775208960ULL},
    };
    for (const auto& p : published) {
        CAPTURE(std::string{p.key});
        const auto* entry = catalog::find(p.key);
        REQUIRE(entry != nullptr);
        CHECK(params_of(*entry) == p.params);
    }
}

TEST_CASE("llama-quantize's quant size for Llama-3.1-8B Q4_K_M is 4685.30 MiB") {
    const auto model = llama_cpp::describe("llama-3.1-8b:Q4_K_M");
    REQUIRE(model.ok());
    CHECK(format_mib(model->weight_bytes()) == "4685.30 MiB");
    CHECK(model->files.size() == 1);
    // Offsets are laid out in file order, each tensor aligned to 32 bytes.
    for (std::size_t i = 1; i < model->tensors.size(); ++i) {
        const auto& prev = model->tensors[i - 1];
        CHECK(model->tensors[i].offset == pad_to(bytes{prev.offset} + prev.size(), 32).count());
    }
}

TEST_CASE("every catalog entry is unique, cites its config.json and describes at its default ftype") {
    std::set<std::string> keys;
    for (const auto& entry : catalog::models) {
        CAPTURE(std::string{entry.key});
        CHECK(keys.insert(std::string{entry.key}).second);
        CHECK(entry.source.substr(0, 23) == "https://huggingface.co/");
        CHECK(entry.source.find("config.json") != std::string_view::npos);
        CHECK(entry.source.find(entry.hf_id) != std::string_view::npos);
        const auto arch = llama_cpp::architecture_of(entry.config);
        if (!arch) {
            // llama.cpp has no conversion for these (OPT) or vramfit does not model it (GPT-2):
            // refused by class name, never described with another architecture's rules.
            CHECK((entry.config.model_type.view() == "opt" || entry.config.model_type.view() == "gpt2"));
            CHECK(arch.err().message().find(entry.config.architecture.view()) != std::string_view::npos);
            CHECK(llama_cpp::describe(entry.key).err().code() == errc::unsupported_architecture);
            continue;
        }
        CHECK(is_supported(*arch));
        const auto model = llama_cpp::describe(entry.key);
        REQUIRE_MESSAGE(model.ok(), model.err().describe());
        CHECK(model->name == entry.key);
        CHECK(model->hparams.n_layer == entry.config.num_hidden_layers);
        const std::uint32_t pad = entry.config.pad_vocab_size_multiple;  // Mamba2Model.set_vocab pads
        CHECK(model->hparams.n_vocab == (pad == 0 ? entry.config.vocab_size : (entry.config.vocab_size + pad - 1) / pad * pad));
        CHECK(model->weight_bytes() < llama_cpp::describe_f16(entry)->weight_bytes());
    }
}

TEST_CASE("gpt-oss's default is its native MXFP4_MOE: the converter's output, MXFP4 experts") {
    const auto model = llama_cpp::describe("gpt-oss-20b");
    REQUIRE(model.ok());
    int mxfp4 = 0;
    int f16 = 0;
    for (const auto& t : model->tensors) {
        mxfp4 += t.type == ggml_type::mxfp4 ? 1 : 0;
        f16 += t.type == ggml_type::f16 ? 1 : 0;
    }
    CHECK(mxfp4 == 24 * 3);
    CHECK(f16 == 2 + 24 * 4);  // token_embd, output, and q/k/v/o of each block stay as converted
    // The oracle's gpt-oss-20b.MXFP4_MOE file (made this way) maps 13141.28 MiB with --no-repack.
    CHECK(format_mib(model->weight_bytes()) == "13141.28 MiB");
    const auto explicit_native = llama_cpp::describe("gpt-oss-20b:MXFP4_MOE");
    REQUIRE(explicit_native.ok());
    CHECK(explicit_native->weight_bytes() == model->weight_bytes());
    // Any other ftype is llama-quantize's re-typing of the F16 conversion.
    const auto q8 = llama_cpp::describe("gpt-oss-20b:Q8_0");
    REQUIRE(q8.ok());
    for (const auto& t : q8->tensors) CHECK(t.type != ggml_type::mxfp4);
}

TEST_CASE("real published files: print_info's model params and file size (mainline llama.cpp logs)") {
    // tests/data/catalog_validation.csv: rows of the project's validation set whose log printed
    // `model params = ... B` and `file size = ... GiB` for a file llama-quantize made from a
    // model in the catalog (mainline llama.cpp builds only; see tests/data/README.md).
    std::ifstream in(VRAMFIT_TEST_DATA "/catalog_validation.csv");
    REQUIRE(in.good());
    std::string line;
    std::getline(in, line);
    int rows = 0;
    while (std::getline(in, line)) {
        std::vector<std::string> f;
        std::stringstream stream(line);
        for (std::string field; std::getline(stream, field, ',');) f.push_back(field);
        REQUIRE(f.size() == 6);
        CAPTURE(f[0]);
        const auto model = llama_cpp::describe(f[1] + ":" + f[2]);
        REQUIRE_MESSAGE(model.ok(), model.err().describe());
        char params[32];
        std::snprintf(params, sizeof params, "%.2f B", static_cast<double>(model->parameter_count()) * 1e-9);
        CHECK(std::string{params} == f[3]);
        char gib[32];  // print_info: "file size = %.2f GiB" of the tensor byte total
        std::snprintf(gib, sizeof gib, "%.2f", model->weight_bytes().gib());
        CHECK(std::string{gib} == f[4]);
        ++rows;
    }
    CHECK(rows == 6);
}
