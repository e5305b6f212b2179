// vramfit/engines/llama_cpp/offload.hpp — which device llama.cpp's CUDA build puts each weight and
// each layer's KV cache on, and the per-device buffers that follow.
//
// Mirrors llama_model::load_tensors (src/llama-model.cpp) and the llama_kv_cache constructor
// (src/llama-kv-cache.cpp) at llama.cpp 1425386f:
//
//  * Layers: with n_layer repeating layers plus the output layer (index n_layer),
//    i_gpu_start = max(n_layer + 1 - n_gpu_layers, 0) and act_gpu_layers = min(n_gpu_layers,
//    n_layer + 1). Layer il is on the CPU if il < i_gpu_start or il - i_gpu_start >= act;
//    otherwise on device upper_bound(splits, float(il - i_gpu_start) / act), where splits is the
//    cumulative -ts split normalised to 1 (all zero: the engine splits by each device's free memory
//    at load time, which vramfit cannot know; it then assumes equal free memory, i.e. an equal
//    split). So the output layer is offloaded only when n_gpu_layers > n_layer.
//  * The input layer (token_embd) always stays on the CPU ("very little benefit to offloading").
//  * -sm none: the model sees only the main GPU (llama_model_load_from_file_impl keeps
//    devices[main_gpu]). -sm row (CUDA_Split buffers) is not modelled: an error says so.
//  * Buffer types: a GPU layer's weights go to "CUDA<i>" (ggml-cuda.cu: 128-byte alignment, and
//    ggml_backend_cuda_buffer_type_get_alloc_size adds one row of MATRIX_ROW_PADDING = 512
//    elements' worth of padding to a quantized tensor whose ne[0] is not a multiple of 512).
//    A CPU layer's weights take the first of make_cpu_buft_list's "ACCEL -> GPU host -> CPU extra
//    -> CPU": the host type CUDA_Host comes before CPU_REPACK, so nothing is repacked while a GPU
//    is in use (and host buffers are on). With mmap the loader demotes the host type to CPU ("avoid
//    using a host buffer when using mmap"), so those tensors end up in "CPU_Mapped" (one range
//    per split file, as on the CPU backend); without mmap they are a "CUDA_Host" buffer.
//  * Tensor overrides (-ot PATTERN=BUFT, --cpu-moe, --n-cpu-moe N) are applied before the layer's
//    list: create_tensor (src/llama-model-loader.cpp) tries each override in order with
//    std::regex_search(tensor_name, std::regex(pattern)) and the first match wins; an override to
//    "CPU" uses ggml_backend_cpu_buffer_type() directly, so those tensors are CPU_Mapped with mmap
//    and a plain "CPU" buffer without. Patterns are ECMAScript regexes, matched here by
//    detail/regex.hpp (same answers, linear time). --cpu-moe is the single override
//    LLM_FFN_EXPS_REGEX = "\.ffn_(up|down|gate|gate_up)_(ch|)exps" to CPU, and --n-cpu-moe N the
//    N overrides llm_ffn_exps_block_regex(i) = "blk\.<i>" + LLM_FFN_EXPS_REGEX, i < N
//    (common/common.h, common/arg.cpp).
//  * A tied output (no output.weight) is created as a duplicate of token_embd in the output
//    layer's buffer, so with the output layer on a GPU that device holds a second token_embd.
//  * KV: each cached layer's K and V live on its layer's device (model.dev_layer(il)) when
//    offload_kqv is on (default; -nkvo turns it off), else in a CPU buffer; a CPU layer's KV is a
//    CPU buffer.
//
// Not modelled yet: device compute buffers, -sm row, --no-host, the output buffer's placement.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

#include "vramfit/detail/fixed_string.hpp"
#include "vramfit/detail/regex.hpp"
#include "vramfit/engines/llama_cpp/context.hpp"
#include "vramfit/engines/llama_cpp/kv_cache.hpp"
#include "vramfit/error.hpp"
#include "vramfit/ggml_types.hpp"
#include "vramfit/model_description.hpp"
#include "vramfit/units.hpp"

namespace vramfit::llama_cpp {

// ggml_backend_cuda_buffer_type_get_alignment (ggml/src/ggml-cuda/ggml-cuda.cu).
inline constexpr std::uint64_t cuda_buffer_alignment = 128;
// MATRIX_ROW_PADDING (ggml/src/ggml-cuda/common.cuh).
inline constexpr std::int64_t cuda_matrix_row_padding = 512;
// GGML_CUDA_MAX_DEVICES (ggml/include/ggml-cuda.h).
inline constexpr std::size_t max_cuda_devices = 16;

enum class split_mode : std::uint8_t { none, layer, row };  // -sm none|layer|row

// llama.cpp's LLM_FFN_EXPS_REGEX (common/common.h): the routed-expert tensors.
inline constexpr std::string_view ffn_exps_regex = "\\.ffn_(up|down|gate|gate_up)_(ch|)exps";

// One tensor override, as llama_model_tensor_buft_override {pattern, buft}: tensors whose name
// the ECMAScript regex `pattern` matches anywhere go to `device` (-1 = the CPU buffer type,
// else CUDA<device>). With `block` >= 0 the pattern is "blk\.<block>" followed by `pattern`,
// which is how --n-cpu-moe's per-block patterns are held without owning a string each.
// `pattern` is a view: the text must outlive the offload_params (argv, a literal).
struct tensor_override {
    std::string_view pattern;
    int device = -1;
    std::int32_t block = -1;
};

struct offload_params {
    std::uint32_t n_devices = 1;        // CUDA devices visible
    std::int32_t n_gpu_layers = -1;     // -ngl; negative: every layer and the output layer
    split_mode mode = split_mode::layer;
    std::array<float, max_cuda_devices> tensor_split{};  // -ts; all zero: equal split (see above)
    std::uint32_t main_gpu = 0;         // -mg
    bool offload_kqv = true;            // -nkvo turns it off
    std::vector<tensor_override> overrides;  // first match wins, like the engine's -ot list
};

// --cpu-moe (common/arg.cpp): llm_ffn_exps_cpu_override(), the expert tensors of every block to
// the CPU.
constexpr void add_cpu_moe(offload_params& params) { params.overrides.push_back({ffn_exps_regex, -1, -1}); }

// --n-cpu-moe N (common/arg.cpp): one override llm_ffn_exps_block_regex(i) to the CPU for each
// block i < N.
constexpr void add_n_cpu_moe(offload_params& params, std::uint32_t n_blocks) {
    for (std::uint32_t i = 0; i < n_blocks && i < 0x7FFFFFFFu; ++i) {
        params.overrides.push_back({ffn_exps_regex, -1, static_cast<std::int32_t>(i)});
    }
}

// The name a device's buffers print under.
[[nodiscard]] constexpr std::string_view cuda_device_name(std::size_t index) noexcept {
    constexpr std::array<std::string_view, max_cuda_devices> names{
        "CUDA0", "CUDA1", "CUDA2", "CUDA3", "CUDA4", "CUDA5", "CUDA6", "CUDA7",
        "CUDA8", "CUDA9", "CUDA10", "CUDA11", "CUDA12", "CUDA13", "CUDA14", "CUDA15"};
    return index < names.size() ? names[index] : std::string_view{"CUDA?"};
}

// What one CUDA device holds.
struct device_buffers {
    std::string_view name;        // "CUDA0"
    std::uint32_t layers = 0;     // repeating layers assigned to it
    bool output_layer = false;
    bytes model{};                // "CUDA<i> model buffer size"
    bytes kv{};                   // "CUDA<i> KV buffer size" (full + SWA caches)
    std::uint32_t kv_layers = 0;
};

struct offload_estimate {
    std::vector<device_buffers> devices;  // one per CUDA device, in order
    std::vector<int> layer_device;        // per layer 0..n_layer (n_layer = output): -1 CPU
    // Host side.
    std::vector<std::uint64_t> mapped;    // "CPU_Mapped" per split file (mmap on; 0 = none)
    bytes cpu{};                          // "CPU" model buffer (overrides to CPU, mmap off)
    bytes cuda_host{};                    // "CUDA_Host" model buffer (CPU layers, mmap off)
    bytes cpu_kv{};                       // "CPU KV buffer size"
    std::uint32_t cpu_kv_layers = 0;

    [[nodiscard]] constexpr bytes mapped_total() const noexcept {
        bytes sum{};
        for (auto m : mapped) sum += bytes{m};
        return sum;
    }
    [[nodiscard]] constexpr bytes host_model() const noexcept { return mapped_total() + cpu + cuda_host; }
    [[nodiscard]] constexpr bytes device_total(std::size_t index) const noexcept {
        return index < devices.size() ? devices[index].model + devices[index].kv : bytes{};
    }
};

namespace detail {

// ggml_backend_cuda_buffer_type_get_alloc_size, then the allocator's alignment padding.
[[nodiscard]] constexpr bytes cuda_tensor_alloc(const tensor_info& t) {
    bytes size = t.size();
    if (is_quantized(t.type) && t.ne[0] % cuda_matrix_row_padding != 0) {
        size += row_size(t.type, cuda_matrix_row_padding - t.ne[0] % cuda_matrix_row_padding);
    }
    return pad_to(size, cuda_buffer_alignment);
}

// N of "blk.N.", -1 outside any block (read from the name: hand-built descriptions leave
// tensor_info::layer unset).
[[nodiscard]] constexpr std::int64_t block_of(std::string_view name) noexcept {
    if (name.substr(0, 4) != "blk.") return -1;
    std::int64_t n = 0;
    std::size_t i = 4;
    for (; i < name.size() && name[i] >= '0' && name[i] <= '9' && n < 0x7FFFFFFF; ++i) n = n * 10 + (name[i] - '0');
    return i > 4 && i < name.size() && name[i] == '.' ? n : -1;
}

// The compiled overrides, in order. An override whose block is past the model's last block is
// dropped: no tensor name of this model carries that block number, so it can never match.
[[nodiscard]] constexpr result<std::vector<vramfit::detail::regex>> compile_overrides(const std::vector<tensor_override>& overrides,
                                                                     std::uint32_t n_layer) {
    std::vector<vramfit::detail::regex> out;
    for (std::size_t i = 0; i < overrides.size(); ++i) {
        const auto& o = overrides[i];
        if (o.block >= 0 && static_cast<std::uint32_t>(o.block) >= n_layer) {
            out.push_back(vramfit::detail::regex{});  // matches nothing
            continue;
        }
        auto re = [&]() -> result<vramfit::detail::regex> {
            if (o.block < 0) return vramfit::detail::regex::compile(o.pattern);
            std::vector<char> text;  // "blk\.<block>" + pattern (llm_ffn_exps_block_regex)
            for (char c : std::string_view{"blk\\."}) text.push_back(c);
            vramfit::detail::fixed_string<16> digits{};
            digits.append_number(static_cast<unsigned long long>(o.block));
            for (char c : digits.view()) text.push_back(c);
            for (char c : o.pattern) text.push_back(c);
            return vramfit::detail::regex::compile(std::string_view{text.data(), text.size()});
        }();
        if (!re) return error{errc::invalid_argument, "tensor override "}.with_number(i + 1).with(": ").with(re.err().message());
        out.push_back(std::move(*re));
    }
    return out;
}

// llama_model::load_tensors' get_layer_buft_list: the device of layer il (n_layer = output).
[[nodiscard]] constexpr int layer_device_of(int il, int n_layer, int n_gpu_layers, const std::vector<float>& splits) noexcept {
    if (splits.empty()) return -1;
    const int i_gpu_start = n_layer + 1 - n_gpu_layers > 0 ? n_layer + 1 - n_gpu_layers : 0;
    const int act_gpu_layers = n_gpu_layers < n_layer + 1 ? n_gpu_layers : n_layer + 1;
    if (il < i_gpu_start || il - i_gpu_start >= act_gpu_layers) return -1;
    const float point = static_cast<float>(il - i_gpu_start) / static_cast<float>(act_gpu_layers);
    std::size_t device = 0;  // std::upper_bound: the first split strictly greater than point
    while (device < splits.size() && !(point < splits[device])) ++device;
    return device < splits.size() ? static_cast<int>(device) : static_cast<int>(splits.size()) - 1;
}

[[gnu::noinline]] constexpr error bad_device_error(std::string_view what, std::uint32_t value, std::uint32_t n_devices) {
    error e{errc::invalid_argument, what};
    e.with_number(value);
    e.with(" is out of range for ");
    e.with_number(n_devices);
    e.with(" CUDA device(s)");
    return e;
}

} // namespace detail

// Per-device model and KV buffers for `model` with `ctx` (resolve_context) and `params`.
[[nodiscard]] constexpr result<offload_estimate> offload_buffers(const model_description& model, const resolved_context& ctx,
                                                                 const offload_params& params) {
    const auto& hp = model.hparams;
    if (params.n_devices == 0 || params.n_devices > max_cuda_devices) {
        return detail::bad_device_error("device count ", params.n_devices, static_cast<std::uint32_t>(max_cuda_devices));
    }
    if (params.main_gpu >= params.n_devices) return detail::bad_device_error("main GPU ", params.main_gpu, params.n_devices);
    if (params.mode == split_mode::row) {
        return error{errc::invalid_argument, "-sm row (CUDA_Split buffers) is not modelled yet; use -sm layer or none"};
    }
    if (hp.layers.size() != hp.n_layer) return error{errc::invalid_argument, "per-layer parameters do not match n_layer"};
    for (const auto& o : params.overrides) {
        if (o.device >= static_cast<int>(params.n_devices)) {
            return detail::bad_device_error("override device CUDA", static_cast<std::uint32_t>(o.device), params.n_devices);
        }
    }
    auto overrides = detail::compile_overrides(params.overrides, hp.n_layer);
    if (!overrides) return overrides.err();

    // The devices the model sees, and the cumulative normalised split over them.
    const bool single = params.mode == split_mode::none;
    const std::uint32_t n_model_devices = single ? 1 : params.n_devices;
    // (push_back throughout: Clang 14 with libstdc++ 12 rejects vector fill constructors and
    // resize in constant expressions)
    std::vector<float> splits;
    bool all_zero = true;
    for (std::uint32_t i = 0; i < n_model_devices; ++i) {
        splits.push_back(single ? 1.0f : params.tensor_split[i]);
        if (splits[i] < 0.0f) return error{errc::invalid_argument, "a tensor split (-ts) entry is negative"};
        if (splits[i] != 0.0f) all_zero = false;
    }
    if (all_zero) for (auto& s : splits) s = 1.0f;
    float sum = 0.0f;
    for (auto& s : splits) { sum += s; s = sum; }
    for (auto& s : splits) s /= sum;

    const int n_layer = static_cast<int>(hp.n_layer);
    const int n_gpu_layers = params.n_gpu_layers < 0 ? n_layer + 1 : params.n_gpu_layers;
    // Model device index -> CUDA index (-sm none: the main GPU only).
    const auto to_cuda = [&](int model_device) { return model_device < 0 ? -1 : (single ? static_cast<int>(params.main_gpu) : model_device); };

    offload_estimate out{};
    for (std::uint32_t i = 0; i < params.n_devices; ++i) out.devices.push_back({.name = cuda_device_name(i)});
    for (int il = 0; il <= n_layer; ++il) {
        const int dev = to_cuda(detail::layer_device_of(il, n_layer, n_gpu_layers, splits));
        out.layer_device.push_back(dev);
        if (dev < 0) continue;
        if (il < n_layer) ++out.devices[static_cast<std::size_t>(dev)].layers;
        else out.devices[static_cast<std::size_t>(dev)].output_layer = true;
    }
    const int output_device = out.layer_device[static_cast<std::size_t>(n_layer)];

    // Weights.
    const std::size_t n_files = model.files.empty() ? 1 : model.files.size();
    std::vector<std::uint64_t> first;
    std::vector<std::uint64_t> last;
    for (std::size_t f = 0; f < n_files; ++f) {
        first.push_back(~std::uint64_t{0});
        last.push_back(0);
    }
    bool has_output = false;
    const tensor_info* token_embd = nullptr;
    for (const auto& t : model.tensors) {
        if (t.file_index >= n_files) return error{errc::out_of_bounds, "a tensor names a split file the model does not have: "}.with(t.name.view());
        const auto name = t.name.view();
        if (name == "output.weight") has_output = true;
        if (name == "token_embd.weight") token_embd = &t;

        int device = -1;
        bool overridden = false;
        for (std::size_t i = 0; i < overrides->size(); ++i) {
            if ((*overrides)[i].search(name)) { device = params.overrides[i].device; overridden = true; break; }
        }
        if (!overridden) {
            const std::int64_t block = detail::block_of(name);
            if (block >= n_layer) return error{errc::invalid_argument, "a tensor's block is beyond n_layer: "}.with(name);
            if (block >= 0) device = out.layer_device[static_cast<std::size_t>(block)];
            else if (name.substr(0, 10) == "token_embd") device = -1;  // the input layer stays on the CPU
            else device = output_device;  // output, output_norm (LLM_TENSOR_LAYER_OUTPUT)
        }
        if (!overridden && name == "rope_freqs.weight") {
            // LLM_TENSOR_ROPE_FREQS is a repeating-layer tensor: every layer creates it (layers
            // after the first as TENSOR_DUPLICATED) in its own buffer, one copy per GPU layer.
            for (int il = 0; il < n_layer; ++il) {
                const int dev = out.layer_device[static_cast<std::size_t>(il)];
                if (dev >= 0) out.devices[static_cast<std::size_t>(dev)].model += detail::cuda_tensor_alloc(t);
            }
            device = out.layer_device.front();  // the CPU copy, if layer 0 is on the CPU, is mapped below
            if (device >= 0) continue;
        }
        if (device >= 0) {
            out.devices[static_cast<std::size_t>(device)].model += detail::cuda_tensor_alloc(t);
            continue;
        }
        const bytes size = t.size();
        if (ctx.use_mmap) {
            const std::uint64_t end = t.offset + size.count();
            if (end < t.offset) return error{errc::out_of_bounds, "offset plus size overflows for tensor "}.with(name);
            if (t.offset < first[t.file_index]) first[t.file_index] = t.offset;
            if (end > last[t.file_index]) last[t.file_index] = end;
        } else if (overridden) {
            out.cpu += pad_to(size, cpu_buffer_alignment);
        } else {
            out.cuda_host += pad_to(size, cpu_buffer_alignment);
        }
    }
    // Tied output: a duplicate of token_embd created in the output layer's buffer.
    if (!has_output && token_embd != nullptr && output_device >= 0) {
        out.devices[static_cast<std::size_t>(output_device)].model += detail::cuda_tensor_alloc(*token_embd);
    }
    if (ctx.use_mmap) {
        for (std::size_t f = 0; f < n_files; ++f) out.mapped.push_back(first[f] < last[f] ? last[f] - first[f] : 0);
    }

    // KV cache: per cached layer, K and V on that layer's device.
    const auto add_kv = [&](bool want_swa, std::uint32_t cells) {
        if (cells == 0) return;
        const bool mla = detail::is_mla(hp);
        const bool v_trans = !ctx.flash_attn;
        const std::uint32_t v_width_max = detail::n_embd_v_gqa_max(hp);
        const std::uint64_t rows = static_cast<std::uint64_t>(cells) * ctx.n_stream;
        for (std::uint32_t il = 0; il < hp.n_layer; ++il) {
            if (!detail::layer_in_cache(hp, il, want_swa)) continue;
            const int dev = params.offload_kqv ? out.layer_device[il] : -1;
            const std::uint64_t alignment = dev >= 0 ? cuda_buffer_alignment : cpu_buffer_alignment;
            bytes layer = pad_to(row_size(ctx.type_k, hp.n_embd_k_gqa(il)) * rows, alignment);
            if (!mla) {
                const std::uint32_t v_width = v_trans ? v_width_max : hp.n_embd_v_gqa(il);
                layer += pad_to(row_size(ctx.type_v, v_width) * rows, alignment);
            }
            if (dev >= 0) {
                out.devices[static_cast<std::size_t>(dev)].kv += layer;
                ++out.devices[static_cast<std::size_t>(dev)].kv_layers;
            } else {
                out.cpu_kv += layer;
                ++out.cpu_kv_layers;
            }
        }
    };
    add_kv(false, ctx.kv_cells);
    if (ctx.kv_swa_cells != 0) add_kv(true, ctx.kv_swa_cells);
    return out;
}

} // namespace vramfit::llama_cpp
