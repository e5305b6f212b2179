// Writes the seed corpus of fuzz_gguf_model: the GGUF header (no tensor data, no vocabulary) of
// one catalog model per supported architecture, as `vramfit export` would write it.
//   c++ -std=c++20 -Iinclude fuzz/make_model_corpus.cpp -o /tmp/make && /tmp/make fuzz/corpus/gguf_model
#include <cstdio>
#include <fstream>
#include <string>

#include "vramfit/engines/llama_cpp/from_catalog.hpp"
#include "vramfit/engines/llama_cpp/export.hpp"

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: make_model_corpus DIR\n");
        return 2;
    }
    const char* names[] = {"llama-3.2-1b:Q4_0", "qwen2.5-7b:Q4_K_M", "qwen3-8b:Q8_0", "qwen3-30b-a3b:Q4_K_M",
                           "gemma-2-9b:Q4_K_M", "gemma-3-12b:Q4_K_M", "phi-3-mini-4k:Q4_K_M", "deepseek-v2-lite:Q4_K_M",
                           "gpt-oss-20b", "mixtral-8x7b:Q2_K", "mamba2-2.7b:Q8_0", "lfm2-1.2b:Q4_K_M",
                           "llama-4-scout:Q4_K_M", "pythia-1.4b:Q4_0", "glm-4-9b:IQ4_XS", "command-r-v01:Q4_K_M"};
    for (const char* name : names) {
        const std::string text = name;
        const auto* entry = vramfit::catalog::find(text.substr(0, text.find(':')));
        auto model = vramfit::llama_cpp::describe(text);
        if (entry == nullptr || !model) {
            std::fprintf(stderr, "%s: not in the catalog\n", name);
            return 1;
        }
        const auto header = vramfit::make_gguf_writer(vramfit::llama_cpp::detail::converter_metadata(*entry), *model,
                                                      {.with_vocabulary = false})
                                .header_bytes();
        std::string file = std::string{argv[1]} + "/" + text.substr(0, text.find(':')) + ".gguf";
        std::ofstream out(file, std::ios::binary);
        out.write(reinterpret_cast<const char*>(header.data()), static_cast<std::streamsize>(header.size()));
        std::printf("%s: %zu bytes\n", file.c_str(), header.size());
    }
    return 0;
}
