// bench_gguf — how long reading a GGUF header takes.
//
//   1. a 1,000-tensor header without a tokenizer, parsed from memory;
//   2. the same with a real-sized tokenizer (llama-3: 128,256 tokens, token types, 280,147 merges),
//      from memory and from a sparse file (read_file: open, read the header, parse);
//   3. a 256,000-token SentencePiece vocabulary (gemma: tokens, scores, token types), from memory;
//   4. a ~700 GB DeepSeek-V3-shaped Q8_0 model in 16 sparse split files (read_model).
// Each figure is the median of repeated runs. Sparse files take no disk; they live in a temp
// directory that is removed at the end. Usage: bench_gguf [repetitions]
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <time.h>
#include <unistd.h>

#include "vramfit/formats/gguf/reader.hpp"
#include "vramfit/formats/gguf/file.hpp"
#include "vramfit/formats/gguf/writer.hpp"
#include "vramfit/engines/llama_cpp/from_gguf.hpp"
#include "vramfit/engines/llama_cpp/memory.hpp"

using namespace vramfit;
namespace fs = std::filesystem;

namespace {

struct timing {
    double wall_ms = 0;  // median wall-clock time
    double cpu_ms = 0;   // median CPU time of this thread (user + system): robust on a busy machine
};

double thread_cpu_ms() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

template <class F>
timing median_ms(int repetitions, F&& run) {
    std::vector<double> wall, cpu;
    for (int i = 0; i < repetitions; ++i) {
        const double cpu_start = thread_cpu_ms();
        const auto start = std::chrono::steady_clock::now();
        run();
        const auto stop = std::chrono::steady_clock::now();
        cpu.push_back(thread_cpu_ms() - cpu_start);
        wall.push_back(std::chrono::duration<double, std::milli>(stop - start).count());
    }
    std::sort(wall.begin(), wall.end());
    std::sort(cpu.begin(), cpu.end());
    return {wall[wall.size() / 2], cpu[cpu.size() / 2]};
}

// Token-like strings with the length spread of a BPE vocabulary (2..12 bytes, mean ~7).
std::vector<std::string> fake_tokens(std::size_t n, const char* stem) {
    std::vector<std::string> tokens;
    tokens.reserve(n);
    std::uint64_t state = 88172645463325252ULL;
    for (std::size_t i = 0; i < n; ++i) {
        state ^= state << 13; state ^= state >> 7; state ^= state << 17;
        std::string t = stem + std::to_string(i);
        t.resize(2 + state % 11, 'x');
        tokens.push_back(std::move(t));
    }
    return tokens;
}

// llama-style dense blocks: 9 tensors each, so 111 blocks + token_embd = 1,000 tensors.
gguf::writer dense_model(int blocks) {
    gguf::writer w;
    w.set("general.architecture", "llama").set("general.name", "bench").set("general.file_type", std::uint32_t{15})
        .set("llama.block_count", static_cast<std::uint32_t>(blocks)).set("llama.context_length", std::uint32_t{131072})
        .set("llama.embedding_length", std::uint32_t{4096}).set("llama.feed_forward_length", std::uint32_t{14336})
        .set("llama.attention.head_count", std::uint32_t{32}).set("llama.attention.head_count_kv", std::uint32_t{8})
        .set("llama.rope.freq_base", 500000.0f).set("llama.attention.layer_norm_rms_epsilon", 1e-5f)
        .set("llama.vocab_size", std::uint32_t{128256}).set("tokenizer.ggml.model", "gpt2")
        .set("tokenizer.ggml.pre", "llama-bpe").set("tokenizer.ggml.bos_token_id", std::uint32_t{128000});
    w.add_tensor("token_embd.weight", {4096, 128256}, ggml_type::q4_K);
    for (int b = 0; b < blocks; ++b) {
        const std::string p = "blk." + std::to_string(b) + ".";
        w.add_tensor(p + "attn_norm.weight", {4096}, ggml_type::f32)
            .add_tensor(p + "attn_q.weight", {4096, 4096}, ggml_type::q4_K)
            .add_tensor(p + "attn_k.weight", {4096, 1024}, ggml_type::q4_K)
            .add_tensor(p + "attn_v.weight", {4096, 1024}, ggml_type::q6_K)
            .add_tensor(p + "attn_output.weight", {4096, 4096}, ggml_type::q4_K)
            .add_tensor(p + "ffn_norm.weight", {4096}, ggml_type::f32)
            .add_tensor(p + "ffn_gate.weight", {4096, 14336}, ggml_type::q4_K)
            .add_tensor(p + "ffn_up.weight", {4096, 14336}, ggml_type::q4_K)
            .add_tensor(p + "ffn_down.weight", {14336, 4096}, ggml_type::q6_K);
    }
    return w;
}

void add_bpe_tokenizer(gguf::writer& w, std::size_t vocab, std::size_t merges) {
    w.set_array("tokenizer.ggml.tokens", fake_tokens(vocab, "t"));
    w.set_array("tokenizer.ggml.token_type", std::vector<std::int32_t>(vocab, 1));
    w.set_array("tokenizer.ggml.merges", fake_tokens(merges, "m "));
}

// DeepSeek-V3 shapes (61 blocks, 3 dense, 58 with 256 routed experts of width 2048), Q8_0: ~700 GB.
gguf::writer deepseek_like() {
    gguf::writer w;
    w.set("general.architecture", "deepseek2").set("general.name", "bench-671b")
        .set("deepseek2.block_count", std::uint32_t{61}).set("deepseek2.embedding_length", std::uint32_t{7168})
        .set("deepseek2.expert_count", std::uint32_t{256}).set("deepseek2.expert_used_count", std::uint32_t{8})
        .set("deepseek2.leading_dense_block_count", std::uint32_t{3}).set("tokenizer.ggml.model", "gpt2")
        // DeepSeek-V3 config.json, as convert_hf_to_gguf.py writes it for MLA
        .set("deepseek2.context_length", std::uint32_t{163840}).set("deepseek2.vocab_size", std::uint32_t{129280})
        .set("deepseek2.feed_forward_length", std::uint32_t{18432})
        .set("deepseek2.expert_feed_forward_length", std::uint32_t{2048})
        .set("deepseek2.expert_shared_count", std::uint32_t{1})
        .set("deepseek2.attention.head_count", std::uint32_t{128}).set("deepseek2.attention.head_count_kv", std::uint32_t{1})
        .set("deepseek2.attention.key_length", std::uint32_t{576}).set("deepseek2.attention.value_length", std::uint32_t{512})
        .set("deepseek2.attention.key_length_mla", std::uint32_t{192})
        .set("deepseek2.attention.value_length_mla", std::uint32_t{128})
        .set("deepseek2.attention.q_lora_rank", std::uint32_t{1536}).set("deepseek2.attention.kv_lora_rank", std::uint32_t{512})
        .set("deepseek2.rope.dimension_count", std::uint32_t{64});
    add_bpe_tokenizer(w, 129280, 127741);
    const auto q8 = ggml_type::q8_0;
    w.add_tensor("token_embd.weight", {7168, 129280}, q8);
    for (int b = 0; b < 61; ++b) {
        const std::string p = "blk." + std::to_string(b) + ".";
        w.add_tensor(p + "attn_norm.weight", {7168}, ggml_type::f32)
            .add_tensor(p + "attn_q_a_norm.weight", {1536}, ggml_type::f32)
            .add_tensor(p + "attn_kv_a_norm.weight", {512}, ggml_type::f32)
            .add_tensor(p + "attn_q_a.weight", {7168, 1536}, q8)
            .add_tensor(p + "attn_q_b.weight", {1536, 24576}, q8)
            .add_tensor(p + "attn_kv_a_mqa.weight", {7168, 576}, q8)
            .add_tensor(p + "attn_k_b.weight", {128, 512, 128}, q8)
            .add_tensor(p + "attn_v_b.weight", {512, 128, 128}, q8)
            .add_tensor(p + "attn_output.weight", {16384, 7168}, q8)
            .add_tensor(p + "ffn_norm.weight", {7168}, ggml_type::f32);
        if (b < 3) {
            w.add_tensor(p + "ffn_gate.weight", {7168, 18432}, q8)
                .add_tensor(p + "ffn_up.weight", {7168, 18432}, q8)
                .add_tensor(p + "ffn_down.weight", {18432, 7168}, q8);
        } else {
            w.add_tensor(p + "ffn_gate_inp.weight", {7168, 256}, ggml_type::f32)
                .add_tensor(p + "exp_probs_b.bias", {256}, ggml_type::f32)
                .add_tensor(p + "ffn_gate_exps.weight", {7168, 2048, 256}, q8)
                .add_tensor(p + "ffn_up_exps.weight", {7168, 2048, 256}, q8)
                .add_tensor(p + "ffn_down_exps.weight", {2048, 7168, 256}, q8)
                .add_tensor(p + "ffn_gate_shexp.weight", {7168, 2048}, q8)
                .add_tensor(p + "ffn_up_shexp.weight", {7168, 2048}, q8)
                .add_tensor(p + "ffn_down_shexp.weight", {2048, 7168}, q8);
        }
    }
    w.add_tensor("output_norm.weight", {7168}, ggml_type::f32).add_tensor("output.weight", {7168, 129280}, q8);
    return w;
}

void fail(const error& e) {
    std::fprintf(stderr, "bench_gguf: %s\n", e.describe().c_str());
    std::exit(1);
}

} // namespace

int main(int argc, char** argv) {
    const int repetitions = argc > 1 ? std::max(1, std::atoi(argv[1])) : 21;
    std::string dir_pattern = (fs::temp_directory_path() / "vramfit-bench-XXXXXX").string();
    if (mkdtemp(dir_pattern.data()) == nullptr) { std::perror("mkdtemp"); return 1; }
    const fs::path dir = dir_pattern;

    std::printf("%-58s %8s %12s %11s %11s\n", "case", "tensors", "size", "wall", "cpu");

    {   // 1: 1,000 tensors, no tokenizer
        const auto w = dense_model(111);
        const auto bytes = w.header_bytes();
        std::size_t n = 0;
        const timing ms = median_ms(repetitions, [&] {
            auto h = gguf::parse(bytes);
            if (!h) fail(h.err());
            n = h->tensors().size();
        });
        std::printf("%-58s %8zu %8.2f MiB %8.3f ms %8.3f ms\n", "1,000 tensors, no tokenizer: parse from memory", n,
                    static_cast<double>(bytes.size()) / 1048576.0, ms.wall_ms, ms.cpu_ms);
    }
    {   // 2: 1,000 tensors + llama-3 tokenizer, memory and sparse file
        auto w = dense_model(111);
        add_bpe_tokenizer(w, 128256, 280147);
        const auto bytes = w.header_bytes();
        std::size_t n = 0;
        timing ms = median_ms(repetitions, [&] {
            auto h = gguf::parse(bytes);
            if (!h) fail(h.err());
            n = h->tensors().size();
        });
        std::printf("%-58s %8zu %8.2f MiB %8.3f ms %8.3f ms\n", "1,000 tensors + llama-3 tokenizer: parse from memory", n,
                    static_cast<double>(bytes.size()) / 1048576.0, ms.wall_ms, ms.cpu_ms);
        const fs::path path = dir / "dense.gguf";
        const auto written = w.write_sparse(path);
        if (!written) fail(written.err());
        ms = median_ms(repetitions, [&] {
            auto f = gguf::read_file(path);
            if (!f) fail(f.err());
            n = f->tensors().size();
        });
        std::printf("%-58s %8zu %8.2f GiB %8.3f ms %8.3f ms\n", "  same, read_file from a sparse file (file size)", n,
                    written->gib(), ms.wall_ms, ms.cpu_ms);
    }
    {   // 3: 256k SentencePiece vocabulary
        auto w = dense_model(111);
        const std::size_t vocab = 256000;
        w.set_array("tokenizer.ggml.tokens", fake_tokens(vocab, "p"));
        w.set_array("tokenizer.ggml.scores", std::vector<float>(vocab, -1.0f));
        w.set_array("tokenizer.ggml.token_type", std::vector<std::int32_t>(vocab, 1));
        const auto bytes = w.header_bytes();
        std::size_t n = 0;
        const timing ms = median_ms(repetitions, [&] {
            auto h = gguf::parse(bytes);
            if (!h) fail(h.err());
            n = h->tensors().size();
        });
        std::printf("%-58s %8zu %8.2f MiB %8.3f ms %8.3f ms\n", "1,000 tensors + 256k-token SPM vocabulary: parse from memory", n,
                    static_cast<double>(bytes.size()) / 1048576.0, ms.wall_ms, ms.cpu_ms);
    }
    {   // 4: ~700 GB in 16 sparse split files
        const auto w = deepseek_like();
        const auto paths = w.write_sparse_split(dir / "DeepSeek-like-Q8_0", 16);
        if (!paths) fail(paths.err());
        std::size_t n = 0;
        bytes total{};
        const timing ms = median_ms(repetitions, [&] {
            auto m = gguf::read_model(paths->front());
            if (!m) fail(m.err());
            n = m->tensors.size();
            total = m->total_size();
        });
        std::printf("%-58s %8zu %8.1f GB  %8.3f ms %8.3f ms\n", "DeepSeek-V3-shaped Q8_0, 16 sparse split files: read_model", n,
                    static_cast<double>(total.count()) / 1e9, ms.wall_ms, ms.cpu_ms);
    }
    // 5: what `vramfit estimate FILE` does end to end: read the header(s), describe the model,
    // and compute every buffer llama.cpp allocates (32k context, flash attention).
    auto estimate_file = [&](const fs::path& path, const char* label) {
        std::size_t n = 0;
        bytes total{};
        const timing ms = median_ms(repetitions, [&] {
            auto model = load_model_description(path);
            if (!model) fail(model.err());
            auto e = llama_cpp::estimate(*model, {.n_ctx = 32768});
            if (!e) fail(e.err());
            n = model->tensors.size();
            total = e->total();
        });
        std::printf("%-58s %8zu %8.1f GiB %8.3f ms %8.3f ms\n", label, n, total.gib(), ms.wall_ms, ms.cpu_ms);
    };
    {
        auto w = dense_model(111);
        add_bpe_tokenizer(w, 128256, 280147);
        const fs::path path = dir / "dense-estimate.gguf";
        if (auto written = w.write_sparse(path); !written) fail(written.err());
        estimate_file(path, "1,000 tensors + tokenizer: read + estimate (total buffers)");
        const auto paths = deepseek_like().write_sparse_split(dir / "DeepSeek-estimate-Q8_0", 16);
        if (!paths) fail(paths.err());
        estimate_file(paths->front(), "DeepSeek-V3-shaped, 16 split files: read + estimate");
    }
    std::error_code ec;
    fs::remove_all(dir, ec);
    std::printf("(median of %d runs each)\n", repetitions);
    return 0;
}
