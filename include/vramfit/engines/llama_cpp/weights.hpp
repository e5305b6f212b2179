// vramfit/engines/llama_cpp/weights.hpp — where llama.cpp's CPU backend puts the model weights.
//
// Follows llama_model::load_tensors (src/llama-model.cpp) and llama_model_loader
// (src/llama-model-loader.cpp) at llama.cpp 1425386f, CPU backend only:
//
//  1. Buffer type per tensor (create_tensor → select_weight_buft → weight_buft_supported): the
//     CPU buffer-type list is [CPU_REPACK (the ggml-cpu "extra" buffer type), CPU]; a tensor goes
//     to the first type whose device supports the op the tensor is used in. CPU_REPACK supports
//     only MUL_MAT with a 2-D weight and MUL_MAT_ID with a 3-D weight, and only when
//     ggml_repack_get_optimal_repack_type (ggml/src/ggml-cpu/repack.cpp) has a layout for the
//     tensor's type, row count and the CPU's ISA. The op comes from LLM_TENSOR_INFOS
//     (src/llama-arch.cpp); ".bias" tensors are always ADD. A tied output (no output.weight) is
//     created as a duplicate of token_embd but looked up as LLM_TENSOR_OUTPUT (MUL_MAT), so a
//     repackable token_embd is loaded twice: once for GET_ROWS (CPU), once repacked.
//  2. Buffers: with mmap, the CPU tensors of each split file become one "CPU_Mapped" buffer over
//     the file range from the first to the last of them (get_mapping_range: min offset to
//     max offset + nbytes, in file order — repacked tensors in between are still inside it).
//     Without mmap they are copied into one "CPU" buffer, and the repacked ones always get a
//     "CPU_REPACK" buffer; both are allocated with ggml_backend_alloc_ctx_tensors_from_buft
//     (ggml/src/ggml-alloc.c: each tensor's ggml_nbytes padded to the 32-byte alignment of the CPU
//     and CPU_REPACK buffer types; repacking keeps a tensor's size).
//
// Not modelled: the CPU_AMX extra buffer type (Intel AMX builds), KleidiAI, tensor overrides
// (-ot), and tensors the loader skips as unused.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>
#include <type_traits>
#include <vector>

#include "vramfit/engines/llama_cpp/context.hpp"
#include "vramfit/core/error.hpp"
#include "vramfit/engines/llama_cpp/model.hpp"
#include "vramfit/core/bytes.hpp"

namespace vramfit::llama_cpp {

// The ISA facts ggml_repack_get_optimal_repack_type asks about (ggml_cpu_has_avx2(),
// ggml_cpu_has_avx512(), ggml_cpu_has_neon(), _dotprod(), _matmul_int8(), ggml_cpu_has_sve()
// with ggml_cpu_get_sve_cnt() == 32 bytes).
struct cpu_features {
    bool avx2 = false;
    bool avx512 = false;
    bool neon = false;
    bool dotprod = false;
    bool i8mm = false;
    bool sve256 = false;

    friend constexpr bool operator==(const cpu_features&, const cpu_features&) = default;
};

// The features of the machine running vramfit. In a constant expression this is "as compiled":
// the compiler's predefined macros (__AVX2__, __AVX512F__, __ARM_NEON, __ARM_FEATURE_DOTPROD,
// __ARM_FEATURE_MATMUL_INT8, __ARM_FEATURE_SVE_BITS), which is also what a GGML_NATIVE build of
// ggml sees. At run time on x86 the CPU is asked (__builtin_cpu_supports), like the
// best-variant selection of a GGML_CPU_ALL_VARIANTS build; on Arm the compile-time facts are used.
[[nodiscard]] constexpr cpu_features host_cpu_features() noexcept {
    cpu_features f{};
#if defined(__AVX2__)
    f.avx2 = true;
#endif
#if defined(__AVX512F__)
    f.avx512 = true;
#endif
#if defined(__ARM_NEON)
    f.neon = true;
#endif
#if defined(__ARM_FEATURE_DOTPROD)
    f.dotprod = true;
#endif
#if defined(__ARM_FEATURE_MATMUL_INT8)
    f.i8mm = true;
#endif
#if defined(__ARM_FEATURE_SVE_BITS) && __ARM_FEATURE_SVE_BITS == 256
    f.sve256 = true;
#endif
#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
    if (!std::is_constant_evaluated()) {
        f.avx2 = __builtin_cpu_supports("avx2");
        f.avx512 = __builtin_cpu_supports("avx512f");
    }
#endif
    return f;
}

// The features a repack mode stands for: `host` detects, `off` has none, a named ISA describes
// another machine (avx512 implies avx2; neon_i8mm implies dotprod; sve means a 256-bit SVE core
// with i8mm, e.g. Graviton 3).
[[nodiscard]] constexpr cpu_features repack_features(repack_mode mode) noexcept {
    switch (mode) {
        case repack_mode::host: return host_cpu_features();
        case repack_mode::off: return {};
        case repack_mode::avx2: return {.avx2 = true};
        case repack_mode::avx512: return {.avx2 = true, .avx512 = true};
        case repack_mode::neon_dotprod: return {.neon = true, .dotprod = true};
        case repack_mode::neon_i8mm: return {.neon = true, .dotprod = true, .i8mm = true};
        case repack_mode::sve: return {.neon = true, .dotprod = true, .i8mm = true, .sve256 = true};
    }
    return {};
}

namespace detail {

// "blk.12.attn_q.weight" → {"attn_q", "weight"}; "token_embd.weight" → {"token_embd", "weight"}.
struct tensor_role {
    std::string_view base;
    std::string_view suffix;
};

[[nodiscard]] constexpr tensor_role split_tensor_name(std::string_view name) noexcept {
    if (name.substr(0, 4) == "blk.") {
        const auto dot = name.find('.', 4);
        name = dot == std::string_view::npos ? std::string_view{} : name.substr(dot + 1);
    }
    const auto last = name.rfind('.');
    if (last == std::string_view::npos) return {name, {}};
    return {name.substr(0, last), name.substr(last + 1)};
}

// Which op a weight is used in, from LLM_TENSOR_INFOS (src/llama-arch.cpp), by GGUF name
// (LLM_TENSOR_NAMES). Only the matrix-multiplication weights matter for repacking.
enum class weight_op : std::uint8_t { other, mul_mat, mul_mat_id };

[[nodiscard]] constexpr weight_op weight_op_for(std::string_view base) noexcept {
    constexpr std::string_view mul_mat[] = {
        "output", "attn_q", "attn_k", "attn_v", "attn_qkv", "attn_output", "attn_gate",
        "attn_q_a", "attn_q_b", "attn_kv_a_mqa", "attn_kv_b", "attn_k_b", "attn_v_b",
        "ffn_gate", "ffn_down", "ffn_up", "ffn_gate_shexp", "ffn_down_shexp", "ffn_up_shexp",
        "ffn_gate_inp", "ffn_gate_inp_shexp",
        "ssm_in", "ssm_x", "ssm_dt", "ssm_out", "shortconv.in_proj", "shortconv.out_proj",
        "nextn.eh_proj", "nextn.shared_head_head",
    };
    constexpr std::string_view mul_mat_id[] = {
        "ffn_gate_exps", "ffn_down_exps", "ffn_up_exps", "ffn_gate_up_exps",
        "ffn_gate_chexps", "ffn_down_chexps", "ffn_up_chexps",
    };
    for (auto n : mul_mat) if (n == base) return weight_op::mul_mat;
    for (auto n : mul_mat_id) if (n == base) return weight_op::mul_mat_id;
    return weight_op::other;
}

// ggml_n_dims: dimensions up to the last one larger than 1.
[[nodiscard]] constexpr int n_dims(const std::array<std::int64_t, 4>& ne) noexcept {
    for (int i = 3; i >= 1; --i) {
        if (ne[static_cast<std::size_t>(i)] > 1) return i + 1;
    }
    return 1;
}

// ggml_repack_get_optimal_repack_type (ggml/src/ggml-cpu/repack.cpp): is there an interleaved
// layout for this type, row count (ne[1]) and ISA? The x86 rules are checked against the CPU
// oracle (q4_0, q4_K, iq4_nl, mxfp4 with AVX2, q2_K with AVX-512; nothing else). The Arm layouts
// for q8_0 (llama.cpp PR #18096), q5_K (#18860), q6_K (#18888 i8mm, #19360 dotprod) were merged
// before the target commit; the q1_0 one was read from a newer copy of repack.cpp and is not
// confirmed at 1425386f.
[[nodiscard]] constexpr bool has_repack_layout(ggml_type type, std::int64_t rows, const cpu_features& f) noexcept {
    const bool rows8 = rows % 8 == 0;
    const bool rows4 = rows % 4 == 0;
    switch (type) {
        case ggml_type::q4_0:
            return ((f.avx2 || (f.sve256 && f.i8mm)) && rows8) || (f.neon && (f.i8mm || f.dotprod) && rows4);
        case ggml_type::q4_K:
            return (f.avx2 || (f.neon && (f.i8mm || f.dotprod))) && rows8;
        case ggml_type::q2_K:
            return f.avx512 && rows8;
        case ggml_type::q5_K:
        case ggml_type::q6_K:
            return f.neon && (f.i8mm || f.dotprod) && rows8;
        case ggml_type::iq4_nl:
            return (f.avx2 && rows8) || (f.neon && rows4);
        case ggml_type::mxfp4:
            return (f.avx2 && rows8) || (f.neon && f.dotprod && rows4);
        case ggml_type::q8_0:
        case ggml_type::q1_0:
            return f.neon && (f.i8mm || f.dotprod) && rows4;
        default:
            return false;
    }
}

// The repack extra buffer type's supports_op for the op the tensor is used in.
[[nodiscard]] constexpr bool repack_supports(weight_op op, const std::array<std::int64_t, 4>& ne, ggml_type type,
                                             const cpu_features& f) noexcept {
    if (op == weight_op::mul_mat && n_dims(ne) != 2) return false;
    if (op == weight_op::mul_mat_id && n_dims(ne) != 3) return false;
    if (op == weight_op::other) return false;
    return has_repack_layout(type, ne[1], f);
}

// Built statement by statement and out of line: GCC 12 at -O3 reports a false
// -Wstringop-overflow when a chain of message builders is inlined into the caller's loop.
[[gnu::noinline]] constexpr error split_file_error(const tensor_info& t, std::size_t n_files) {
    error e{errc::out_of_bounds, "a tensor names a split file the model does not have (file "};
    e.with_number(t.file_index);
    e.with(" of ");
    e.with_number(n_files);
    e.with("): ");
    e.with(t.name.view());
    return e;
}

} // namespace detail

// Does this tensor land in CPU_REPACK (as loaded for its own op)?
[[nodiscard]] constexpr bool is_repacked(const tensor_info& tensor, const cpu_features& features) noexcept {
    const auto role = detail::split_tensor_name(tensor.name.view());
    if (role.suffix != "weight") return false;  // biases are ADD / ADD_ID
    return detail::repack_supports(detail::weight_op_for(role.base), tensor.ne, tensor.type, features);
}

// One CPU_Mapped buffer: the mapped range of one split file.
struct mapped_range {
    std::uint16_t file_index = 0;
    bytes size{};
};

struct model_buffers {
    std::vector<mapped_range> mapped;  // "CPU_Mapped", one per split file with CPU tensors (mmap on)
    bytes cpu{};                       // "CPU" (mmap off)
    bytes repack{};                    // "CPU_REPACK"
    std::uint32_t repacked_tensors = 0;

    [[nodiscard]] constexpr bytes mapped_total() const noexcept {
        bytes sum{};
        for (const auto& m : mapped) sum += m.size;
        return sum;
    }
    [[nodiscard]] constexpr bytes total() const noexcept { return mapped_total() + cpu + repack; }
};

// The model buffers for a given mmap / repack setting. A description without files (hand-built)
// is one file. Errors: a tensor that names a split file the description does not have, or whose
// range overflows.
[[nodiscard]] constexpr result<model_buffers> model_buffer_bytes(const model_description& model, bool use_mmap,
                                                                 repack_mode repack) {
    const cpu_features features = repack_features(repack);
    const bool any_repack = repack != repack_mode::off;
    const std::size_t n_files = model.files.empty() ? 1 : model.files.size();

    model_buffers out{};
    std::vector<std::uint64_t> first(n_files, ~std::uint64_t{0});
    std::vector<std::uint64_t> last(n_files, 0);
    bool has_output = false;
    const tensor_info* token_embd = nullptr;

    for (const auto& t : model.tensors) {
        if (t.file_index >= n_files) {
            return detail::split_file_error(t, n_files);
        }
        const auto name = t.name.view();
        if (name == "output.weight") has_output = true;
        if (name == "token_embd.weight") token_embd = &t;

        const bytes size = t.size();
        if (any_repack && is_repacked(t, features)) {
            out.repack += pad_to(size, cpu_buffer_alignment);
            ++out.repacked_tensors;
            continue;
        }
        if (use_mmap) {
            const std::uint64_t end = t.offset + size.count();
            if (end < t.offset) {
                return error{errc::out_of_bounds, "offset plus size overflows for tensor "}.with(name);
            }
            if (t.offset < first[t.file_index]) first[t.file_index] = t.offset;
            if (end > last[t.file_index]) last[t.file_index] = end;
        } else {
            out.cpu += pad_to(size, cpu_buffer_alignment);
        }
    }

    // tied output: token_embd is created a second time for the output layer as LLM_TENSOR_OUTPUT
    if (any_repack && !has_output && token_embd != nullptr &&
        detail::repack_supports(detail::weight_op::mul_mat, token_embd->ne, token_embd->type, features)) {
        out.repack += pad_to(token_embd->size(), cpu_buffer_alignment);
        ++out.repacked_tensors;
    }

    if (use_mmap) {
        for (std::size_t idx = 0; idx < n_files; ++idx) {
            if (first[idx] < last[idx]) {
                out.mapped.push_back({static_cast<std::uint16_t>(idx), bytes{last[idx] - first[idx]}});
            }
        }
    }
    return out;
}

} // namespace vramfit::llama_cpp
