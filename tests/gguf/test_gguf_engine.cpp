// The GGUF reader against what llama.cpp printed when it loaded the same file.
//
// tests/data/mixtral-8x7b.Q4_K_M.header.gguf is the header (everything before the data
// section) of the shape-only Mixtral-8x7B Q4_K_M file that the CPU oracle runs loaded
// (llama.cpp 1425386f; see tests/data/README.md). The expected figures are the engine's own
// lines from that run's log (llama_model_loader, print_info, load_tensors).
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "vramfit/core/format.hpp"
#include "vramfit/formats/gguf/reader.hpp"
#include "vramfit/formats/gguf/writer.hpp"

using namespace vramfit;

namespace {

constexpr std::uint64_t mixtral_file_size = 28448505824;  // cpu_oracle.csv file_size_bytes

std::vector<unsigned char> load(const char* name) {
    std::ifstream in(std::filesystem::path{VRAMFIT_TEST_DATA} / name, std::ios::binary);
    REQUIRE(in.good());
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string printf_2(const char* format, double value) {
    char text[64];
    std::snprintf(text, sizeof text, format, value);
    return text;
}

} // namespace

TEST_CASE("mixtral-8x7b Q4_K_M: the header reads as llama.cpp read it") {
    const auto bytes = load("mixtral-8x7b.Q4_K_M.header.gguf");
    const auto h = gguf::parse(bytes, {mixtral_file_size});
    REQUIRE(h.ok());

    // "loaded meta data with 28 key-value pairs and 323 tensors from ... (version GGUF V3 (latest))"
    CHECK(h->version() == 3);
    CHECK(h->size() == 28);
    REQUIRE(h->tensors().size() == 323);

    // "- type  f32: 97 tensors", "q8_0: 64", "q4_K: 113", "q5_K: 32", "q6_K: 17"
    std::map<ggml_type, int> per_type;
    std::uint64_t elements = 0, nbytes = 0;
    for (const auto& t : h->tensors()) {
        ++per_type[t.type];
        elements += static_cast<std::uint64_t>(t.n_elements());
        nbytes += t.size().count();
    }
    CHECK(per_type == std::map<ggml_type, int>{{ggml_type::f32, 97}, {ggml_type::q8_0, 64}, {ggml_type::q4_K, 113},
                                               {ggml_type::q5_K, 32}, {ggml_type::q6_K, 17}});

    // print_info: "file size = 26.49 GiB (4.87 BPW)" (llama_model_loader::n_bytes, the sum of
    // ggml_nbytes) and "model params = 46.70 B" (n_elements).
    CHECK(printf_2("%.2f", static_cast<double>(nbytes) / 1073741824.0) == "26.49");
    CHECK(printf_2("%.2f", static_cast<double>(nbytes) * 8.0 / static_cast<double>(elements)) == "4.87");
    CHECK(printf_2("%.2f", static_cast<double>(elements) / 1e9) == "46.70");

    // The data section ends exactly at the end of the file the engine loaded …
    CHECK(h->expected_file_size().count() == mixtral_file_size);
    CHECK(h->data_offset() == bytes.size());
    // … and "CPU_Mapped model buffer size = 27129.87 MiB" is the mapped range from the first
    // tensor's data to the last one's end (llama_model_loader::get_mapping_range).
    std::uint64_t first = ~std::uint64_t{0}, last = 0;
    for (const auto& t : h->tensors()) {
        first = std::min(first, h->data_offset() + t.offset);
        last = std::max(last, h->data_offset() + t.offset + t.size().count());
    }
    CHECK(format_mib(vramfit::bytes{last - first}) == "27129.87 MiB");

    // "- kv N: key type = value" lines of the log.
    CHECK(h->get_string("general.architecture") == std::string_view{"llama"});
    CHECK(h->get_uint("general.file_type") == 15u);
    CHECK(h->get_uint("general.alignment") == 32u);
    CHECK(h->get_uint("llama.vocab_size") == 32000u);
    CHECK(h->get_uint("llama.block_count") == 32u);
    CHECK(h->get_uint("llama.expert_count") == 8u);
    CHECK(h->get_uint("llama.expert_used_count") == 2u);
    CHECK(h->get_float("llama.rope.freq_base") == 1000000.0);
    CHECK(h->array_size("tokenizer.ggml.tokens") == 32000u);
    CHECK(h->element_type_of("tokenizer.ggml.scores") == gguf::value_type::float32);
    CHECK(h->element_type_of("tokenizer.ggml.token_type") == gguf::value_type::int32);
    CHECK(h->get_bool("tokenizer.ggml.add_bos_token") == true);
    CHECK(gguf::format_value(*h, 20).rfind("[str x 32000] \"<unk>\", \"<s>\", \"</s>\"", 0) == 0);

    // Layers and shapes as the loader names them.
    const auto* experts = h->find_tensor("blk.31.ffn_down_exps.weight");
    REQUIRE(experts != nullptr);
    CHECK(experts->layer == 31);
    CHECK(experts->ne == std::array<std::int64_t, 4>{14336, 4096, 8, 1});
}

TEST_CASE("a real header rebuilt by the writer is byte-identical, and can be varied") {
    const auto bytes = load("mixtral-8x7b.Q4_K_M.header.gguf");
    const auto h = gguf::parse(bytes, {mixtral_file_size});
    REQUIRE(h.ok());
    auto w = gguf::writer::from(*h);
    CHECK(w.header_bytes() == bytes);
    CHECK(w.file_size().count() == mixtral_file_size);

    w.set("llama.expert_used_count", std::uint32_t{3});
    const auto changed = w.header_bytes();
    const auto h2 = gguf::parse(changed);
    REQUIRE(h2.ok());
    CHECK(h2->get_uint("llama.expert_used_count") == 3u);
    CHECK(h2->tensors().size() == 323);
}
