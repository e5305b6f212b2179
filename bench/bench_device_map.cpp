// bench_device_map — the transformers device map of a 70B model, timed.
//
// Llama-3.3-70B-Instruct (80 layers, hidden 8192, vocab 128256), bfloat16,
// max_memory {0: "35GB", 1: "35GB", cpu: "120GB"}, device_map="auto": building the module tree
// (what `cls(config)` on the meta device is), compute_module_sizes and the whole
// _get_device_map (balanced budgets, infer_auto_device_map, clean_device_map), each the median of
// repeated runs. Usage: bench_device_map [repetitions]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "vramfit/engines/transformers/device_map.hpp"

namespace tf = vramfit::transformers;

namespace {

vramfit::model_config llama_70b() {
    vramfit::model_config c{};
    c.model_type = "llama";
    c.num_hidden_layers = 80;
    c.hidden_size = 8192;
    c.num_attention_heads = 64;
    c.num_key_value_heads = 8;
    c.head_dim = 128;
    c.intermediate_size = 28672;
    c.vocab_size = 128256;
    return c;
}

template <class F>
double median_us(int reps, F&& f) {
    std::vector<double> t;
    for (int i = 0; i < reps; ++i) {
        auto a = std::chrono::steady_clock::now();
        f();
        auto b = std::chrono::steady_clock::now();
        t.push_back(std::chrono::duration<double, std::micro>(b - a).count());
    }
    std::sort(t.begin(), t.end());
    return t[t.size() / 2];
}

} // namespace

int main(int argc, char** argv) {
    const int reps = argc > 1 ? std::max(1, std::atoi(argv[1])) : 50;
    const auto config = llama_70b();
    const tf::load_options load{vramfit::dtype::bf16, tf::quantization::none, false};
    const std::vector<tf::memory_spec> budget{{tf::device_id::gpu(0), "35GB", 0},
                                              {tf::device_id::gpu(1), "35GB", 0},
                                              {tf::device_id::cpu(), "120GB", 0}};
    auto tree = tf::build_module_tree(config, load);
    if (!tree) { std::fprintf(stderr, "%s\n", tree.err().describe().c_str()); return 1; }
    std::size_t sink = 0;
    const double build = median_us(reps, [&] { sink += tf::build_module_tree(config, load)->nodes.size(); });
    const double sizes = median_us(reps, [&] { sink += tf::compute_module_sizes(*tree).total.size(); });
    const double map = median_us(reps, [&] { sink += tf::compute_device_map(*tree, budget, tf::placement_strategy::auto_)->map.size(); });
    auto result = tf::compute_device_map(*tree, budget, tf::placement_strategy::auto_);
    std::printf("Llama-3.3-70B bf16, {0: 35GB, 1: 35GB, cpu: 120GB}, auto: %zu modules, %zu map keys\n",
                tree->nodes.size(), result->map.size());
    for (const auto& d : result->bytes_per_device)
        std::printf("  %-4s %.2f GB\n", tf::to_string(d.device).c_str(), static_cast<double>(d.amount.count()) / 1e9);
    std::printf("median of %d: module tree %.1f us, module sizes %.1f us, device map (sizes + placement) %.1f us\n",
                reps, build, sizes, map);
    return sink == 0 ? 1 : 0;
}
