// vramfit/engines/llama_cpp/cuda/offload.hpp — which device llama.cpp's CUDA build puts each weight and
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
//    devices[main_gpu]).
//  * -sm row: layers go to devices exactly as with -sm layer (load_tensors computes the same
//    split points; only -sm none changes the device list), but each GPU's buffer-type list starts
//    with that device's split buffer type (make_gpu_buft_list: ggml_backend_split_buffer_type,
//    named "CUDA<i>_Split" by ggml_backend_cuda_split_buffer_type). select_weight_buft takes it
//    for a weight the CUDA device accepts there: ggml_backend_cuda_device_supports_op allows a
//    split src only in GGML_OP_MUL_MAT with ne[2] == ne[3] == 1, and only when the layer's own
//    device gets rows of it — so the 2-D matmul weights of the GPU layers and the output
//    matrix (a tied output too), not biases, norms or the 3-D expert tensors (MUL_MAT_ID),
//    which stay in "CUDA<i>". A split tensor's rows are spread over ALL devices by
//    get_row_split (ggml-cuda.cu): device d gets rows [nrows * start[d], nrows * start[d+1]),
//    both ends rounded down to a multiple of get_row_rounding = the largest get_mmq_y_host(cc)
//    among the devices with a non-empty share (128 from Volta on, 64 before), the last device up
//    to nrows; start[] is the normalised cumulative -ts, or without -ts
//    ggml_cuda_info().default_tensor_split, which splits by each device's totalGlobalMem (NOT by
//    free memory, as the layer split does). Each device then holds nrows_d * row_size, plus one
//    row of MATRIX_ROW_PADDING - ne0 % 512 elements when ne0 % 512 != 0 (for every type, unlike
//    the plain CUDA buffer type), each a cudaMalloc of its own in init_tensor. The
//    "CUDA<i>_Split model buffer size" line prints the sum over devices of those sizes
//    (get_alloc_size), each padded to 128 bytes, for the tensors of the layers on device i.
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
// The device compute buffers are cuda/compute.hpp's. Not modelled: --no-host, the output
// buffer's placement, and the cudaMalloc granularity of the per-tensor -sm row allocations.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

#include "vramfit/core/fixed_string.hpp"
#include "vramfit/core/detail/regex.hpp"
#include "vramfit/engines/llama_cpp/context.hpp"
#include "vramfit/formats/gguf/reader.hpp"
#include "vramfit/engines/llama_cpp/version.hpp"
#include "vramfit/engines/llama_cpp/kv_cache.hpp"
#include "vramfit/engines/llama_cpp/weights.hpp"
#include "vramfit/core/error.hpp"
#include "vramfit/model/dtype.hpp"
#include "vramfit/engines/llama_cpp/model.hpp"
#include "vramfit/core/bytes.hpp"

namespace vramfit::llama_cpp {

// ggml_backend_cuda_buffer_type_get_alignment (ggml/src/ggml-cuda/ggml-cuda.cu).
inline constexpr std::uint64_t cuda_buffer_alignment = 128;
// MATRIX_ROW_PADDING (ggml/src/ggml-cuda/common.cuh).
inline constexpr std::int64_t cuda_matrix_row_padding = 512;

enum class split_mode : std::uint8_t { none, layer, row };  // -sm none|layer|row

// llama.cpp's LLM_FFN_EXPS_REGEX (common/common.h): the routed-expert tensors.
inline constexpr std::string_view ffn_exps_regex = "\\.ffn_(up|down|gate|gate_up)_(ch|)exps";

// Does ffn_exps_regex match `name` (std::regex_search)? The tensors --cpu-moe and --n-cpu-moe
// move, without compiling the regex: ".ffn_" then up, down, gate or gate_up, "_", then "exps"
// or "chexps", anywhere in the name.
[[nodiscard]] constexpr bool is_routed_expert(std::string_view name) noexcept {
    for (std::size_t at = name.find(".ffn_"); at != std::string_view::npos; at = name.find(".ffn_", at + 1)) {
        const std::string_view rest = name.substr(at + 5);
        for (const std::string_view kind : {std::string_view{"up_"}, std::string_view{"down_"}, std::string_view{"gate_"},
                                            std::string_view{"gate_up_"}}) {
            if (rest.substr(0, kind.size()) != kind) continue;
            const std::string_view tail = rest.substr(kind.size());
            if (tail.substr(0, 4) == "exps" || tail.substr(0, 6) == "chexps") return true;
        }
    }
    return false;
}

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
    // A GGML_BLAS=ON build: its BLAS backend, between the GPUs and the CPU, takes the large
    // matrix products whose weight is in host memory, which the first GPU would otherwise take
    // (cuda/compute.hpp); its compute buffer prints as "CPU". Weights and caches are unaffected.
    bool blas = false;
    std::vector<tensor_override> overrides;  // first match wins, like the engine's -ot list
    // -sm row only (see the header): each device's compute capability as ggml writes it
    // (100 * major + 10 * minor; 0 = unknown, taken as Volta or newer), for the row rounding,
    // and its totalGlobalMem for the default row split (all zero = equal).
    std::array<int, max_cuda_devices> compute_capability{};
    std::array<std::uint64_t, max_cuda_devices> device_memory{};
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

// The split buffer type of device i under -sm row (ggml_backend_cuda_split_buffer_type).
[[nodiscard]] constexpr std::string_view cuda_split_name(std::size_t index) noexcept {
    constexpr std::array<std::string_view, max_cuda_devices> names{
        "CUDA0_Split", "CUDA1_Split", "CUDA2_Split", "CUDA3_Split", "CUDA4_Split", "CUDA5_Split",
        "CUDA6_Split", "CUDA7_Split", "CUDA8_Split", "CUDA9_Split", "CUDA10_Split", "CUDA11_Split",
        "CUDA12_Split", "CUDA13_Split", "CUDA14_Split", "CUDA15_Split"};
    return index < names.size() ? names[index] : std::string_view{"CUDA?_Split"};
}

// What one CUDA device holds.
struct device_buffers {
    std::string_view name;        // "CUDA0"
    std::uint32_t layers = 0;     // repeating layers assigned to it
    bool output_layer = false;
    // Every weight byte on this device: the "CUDA<i> model buffer size" line, plus under -sm row
    // this device's rows of all split tensors (`split`).
    bytes model{};
    bytes kv{};                   // "CUDA<i> KV buffer size" (full + SWA caches)
    std::uint32_t kv_layers = 0;
    // -sm row (zero otherwise): this device's share of ALL split tensors (what its per-tensor
    // cudaMallocs take, included in `model`), and the "CUDA<i>_Split model buffer size" line
    // (the split tensors of the layers on this device, whose rows lie on every device).
    bytes split{};
    bytes split_buffer{};

    // The "CUDA<i> model buffer size" line.
    [[nodiscard]] constexpr bytes cuda_buffer() const noexcept { return model - split; }
};

struct offload_estimate {
    std::vector<device_buffers> devices;  // one per CUDA device, in order
    std::vector<int> layer_device;        // per layer 0..n_layer (n_layer = output): -1 CPU
    std::vector<std::int8_t> tensor_device;  // per model tensor, in order: its CUDA device, -1 a host buffer
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
    // Weights (its share of -sm row split tensors included) and KV on device `index`.
    [[nodiscard]] constexpr bytes device_total(std::size_t index) const noexcept {
        return index < devices.size() ? devices[index].model + devices[index].kv : bytes{};
    }
    [[nodiscard]] constexpr bytes split_total() const noexcept {
        bytes sum{};
        for (const auto& d : devices) sum += d.split_buffer;
        return sum;
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


// Where load_tensors creates a weight, before tensor overrides: in block N ("blk.N."), in the
// input layer (token_embd: always on the CPU, "there is very little benefit to offloading the
// input layer"), in the output layer (index n_layer: output, output_norm and every other tensor
// outside a block, LLM_TENSOR_LAYER_OUTPUT), or in every repeating layer (rope_freqs,
// LLM_TENSOR_ROPE_FREQS: each layer creates it in its own buffer, layers after the first as
// TENSOR_DUPLICATED, so every GPU layer holds a copy). offload_buffers and the planner's
// per-layer costs (plan_costs.hpp) both place weights by it.
enum class weight_home : std::uint8_t { block, input, output, every_layer };

struct weight_slot {
    weight_home home = weight_home::output;
    std::uint32_t block = 0;  // for weight_home::block
};

[[nodiscard]] constexpr weight_slot weight_slot_of(std::string_view name) noexcept {
    const std::int64_t block = gguf::block_index(name);
    if (block >= 0) return {weight_home::block, static_cast<std::uint32_t>(block)};
    if (name == "rope_freqs.weight") return {weight_home::every_layer, 0};
    if (name.substr(0, 10) == "token_embd") return {weight_home::input, 0};
    return {weight_home::output, 0};
}

// A tied output (no output.weight): load_tensors creates token_embd a second time, as the output
// matrix, in the output layer's buffer. The tensor duplicated, or nullptr.
[[nodiscard]] constexpr const tensor_info* tied_output(const model_description& model) noexcept {
    const tensor_info* token_embd = nullptr;
    for (const auto& t : model.tensors) {
        if (t.name.view() == "output.weight") return nullptr;
        if (t.name.view() == "token_embd.weight") token_embd = &t;
    }
    return token_embd;
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
            vramfit::fixed_string<16> digits{};
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

// -sm row: ggml_backend_cuda_split_buffer_type's tensor_split (the start of each device's share)
// and get_row_rounding / get_row_split (ggml/src/ggml-cuda/ggml-cuda.cu).
struct row_split {
    std::array<float, max_cuda_devices> start{};
    std::uint32_t n_devices = 0;
    std::int64_t rounding = 0;

    // Rows [low, high) of a tensor with `nrows` rows on device `id`.
    [[nodiscard]] constexpr std::array<std::int64_t, 2> rows(std::int64_t nrows, std::uint32_t id) const noexcept {
        std::int64_t low = id == 0 ? 0 : static_cast<std::int64_t>(static_cast<float>(nrows) * start[id]);
        low -= low % rounding;
        std::int64_t high = nrows;
        if (id + 1 != n_devices) {
            high = static_cast<std::int64_t>(static_cast<float>(nrows) * start[id + 1]);
            high -= high % rounding;
        }
        return {low, high};
    }
};

[[nodiscard]] constexpr row_split make_row_split(const offload_params& params) noexcept {
    row_split r{};
    r.n_devices = params.n_devices;
    bool ts_zero = true;
    for (std::uint32_t i = 0; i < params.n_devices; ++i) if (params.tensor_split[i] != 0.0f) ts_zero = false;
    if (ts_zero) {
        // ggml_cuda_init: default_tensor_split[id] = (totalGlobalMem of devices before id) / total
        bool mem_zero = true;
        for (std::uint32_t i = 0; i < params.n_devices; ++i) if (params.device_memory[i] != 0) mem_zero = false;
        std::uint64_t total = 0;
        for (std::uint32_t i = 0; i < params.n_devices; ++i) {
            r.start[i] = static_cast<float>(total);
            total += mem_zero ? 1 : params.device_memory[i];
        }
        for (std::uint32_t i = 0; i < params.n_devices; ++i) r.start[i] /= static_cast<float>(total);
    } else {
        float split_sum = 0.0f;
        for (std::uint32_t i = 0; i < params.n_devices; ++i) {
            r.start[i] = split_sum;
            split_sum += params.tensor_split[i];
        }
        for (std::uint32_t i = 0; i < params.n_devices; ++i) r.start[i] /= split_sum;
    }
    for (std::uint32_t id = 0; id < params.n_devices; ++id) {
        const float next = id + 1 < params.n_devices ? r.start[id + 1] : 1.0f;
        if (r.start[id] >= next) continue;
        const int cc = params.compute_capability[id];
        const std::int64_t mmq_y = cc == 0 || cc >= 700 ? 128 : 64;  // get_mmq_y_host, NVIDIA
        if (mmq_y > r.rounding) r.rounding = mmq_y;
    }
    if (r.rounding == 0) r.rounding = 128;  // unreachable: some device always has a share
    return r;
}

// Is this weight one the split buffer type takes (MUL_MAT, 2-D)? See the header.
[[nodiscard]] constexpr bool row_splittable(const tensor_info& t, std::string_view looked_up_as = {}) noexcept {
    const auto role = split_tensor_name(t.name.view());
    const std::string_view base = looked_up_as.empty() ? role.base : looked_up_as;
    return role.suffix == "weight" && weight_op_for(base) == weight_op::mul_mat && t.ne[2] == 1 && t.ne[3] == 1;
}

// One split tensor's bytes on device `id` (init_tensor: rows plus the padding row).
[[nodiscard]] constexpr bytes split_share(const tensor_info& t, const row_split& r, std::uint32_t id) {
    const auto [low, high] = r.rows(t.ne[1] * t.ne[2] * t.ne[3], id);
    if (high <= low) return bytes{};
    bytes size = row_size(t.type, t.ne[0]) * static_cast<std::uint64_t>(high - low);
    if (t.ne[0] % cuda_matrix_row_padding != 0) size += row_size(t.type, cuda_matrix_row_padding - t.ne[0] % cuda_matrix_row_padding);
    return size;
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

    // -sm row: a weight of a GPU layer that the split buffer type takes goes there (see the
    // header); returns whether it did.
    const detail::row_split rows = detail::make_row_split(params);
    const auto place_split = [&](const tensor_info& t, int layer_device, std::string_view looked_up_as) {
        if (params.mode != split_mode::row || !detail::row_splittable(t, looked_up_as)) return false;
        const auto dev = static_cast<std::uint32_t>(layer_device);
        const auto [low, high] = rows.rows(t.ne[1], dev);
        if (low == high) return false;  // the layer's device would get no rows: CUDA<i> instead
        bytes total{};
        for (std::uint32_t d = 0; d < params.n_devices; ++d) {
            const bytes share = detail::split_share(t, rows, d);
            out.devices[d].split += share;
            out.devices[d].model += share;
            total += share;
        }
        out.devices[dev].split_buffer += pad_to(total, cuda_buffer_alignment);
        return true;
    };

    // Weights.
    const std::size_t n_files = model.files.empty() ? 1 : model.files.size();
    std::vector<std::uint64_t> first;
    std::vector<std::uint64_t> last;
    for (std::size_t f = 0; f < n_files; ++f) {
        first.push_back(~std::uint64_t{0});
        last.push_back(0);
    }
    for (const auto& t : model.tensors) {
        if (t.file_index >= n_files) return error{errc::out_of_bounds, "a tensor names a split file the model does not have: "}.with(t.name.view());
        const auto name = t.name.view();

        int device = -1;
        bool overridden = false;
        for (std::size_t i = 0; i < overrides->size(); ++i) {
            if ((*overrides)[i].search(name)) { device = params.overrides[i].device; overridden = true; break; }
        }
        const detail::weight_slot slot = detail::weight_slot_of(name);
        if (!overridden) {
            if (slot.home == detail::weight_home::block && slot.block >= static_cast<std::uint32_t>(n_layer)) {
                return error{errc::invalid_argument, "a tensor's block is beyond n_layer: "}.with(name);
            }
            if (slot.home == detail::weight_home::block) device = out.layer_device[slot.block];
            else if (slot.home == detail::weight_home::input) device = -1;
            else device = output_device;
        }
        out.tensor_device.push_back(static_cast<std::int8_t>(device));
        if (!overridden && slot.home == detail::weight_home::every_layer) {
            for (int il = 0; il < n_layer; ++il) {
                const int dev = out.layer_device[static_cast<std::size_t>(il)];
                if (dev >= 0) out.devices[static_cast<std::size_t>(dev)].model += detail::cuda_tensor_alloc(t);
            }
            device = out.layer_device.front();  // the CPU copy, if layer 0 is on the CPU, is mapped below
            out.tensor_device.back() = static_cast<std::int8_t>(device);
            if (device >= 0) continue;
        }
        if (device >= 0 && !overridden && place_split(t, device, {})) continue;
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
    const tensor_info* token_embd = detail::tied_output(model);
    if (token_embd != nullptr && output_device >= 0 && !place_split(*token_embd, output_device, "output")) {
        out.devices[static_cast<std::size_t>(output_device)].model += detail::cuda_tensor_alloc(*token_embd);
    }
    if (ctx.use_mmap) {
        for (std::size_t f = 0; f < n_files; ++f) out.mapped.push_back(first[f] < last[f] ? last[f] - first[f] : 0);
    }

    // KV cache: per cached layer, K and V on that layer's device.
    const auto add_kv = [&](bool want_swa, std::uint32_t cells) {
        detail::for_each_kv_layer(hp, ctx, want_swa, cells, [&](const detail::kv_layer& kv) {
            const int dev = params.offload_kqv ? out.layer_device[kv.il] : -1;
            const bytes layer = kv.buffer(dev >= 0 ? cuda_buffer_alignment : cpu_buffer_alignment);
            if (dev >= 0) {
                out.devices[static_cast<std::size_t>(dev)].kv += layer;
                ++out.devices[static_cast<std::size_t>(dev)].kv_layers;
            } else {
                out.cpu_kv += layer;
                ++out.cpu_kv_layers;
            }
        });
    };
    add_kv(false, ctx.kv_cells);
    if (ctx.kv_swa_cells != 0) add_kv(true, ctx.kv_swa_cells);
    return out;
}

} // namespace vramfit::llama_cpp
