// vramfit/engines/llama_cpp/plan_costs.hpp — llama.cpp's CUDA build as a planner engine
// (plan/engine.hpp): what each layer costs where, the KV ladder, and the exact check.
//
//  * Weights (once per quantization): per layer il (n_layer = the output layer) the bytes its
//    weights take in a CUDA buffer (cuda_tensor_alloc), the routed-expert share of that (the
//    tensors --n-cpu-moe moves, is_routed_expert), the bytes in host memory when the layer stays
//    on the CPU (the tensor sizes, which an mmap'ed file pages in), and what decoding one token
//    reads and computes there (plan/speed.hpp). Tensors are placed by the rules offload_buffers
//    uses (cuda/offload.hpp: weight_slot_of, tied_output): rope_freqs is charged to every GPU
//    layer, a tied output duplicates token_embd into the output layer's buffer, and token_embd
//    itself stays on the CPU.
//  * KV (once per context): per layer the K+V buffer bytes on a GPU (128-byte alignment) and on
//    the host (32-byte), from for_each_kv_layer (kv_cache.hpp), the formula the KV buffers use.
//  * The fixed per-device cost is the CUDA compute buffer. Its first figure is the graph's
//    compute buffer with every layer on one device (compute_buffer.hpp, once per context); the
//    scheduler's buffers depend on the layer split, so verify() (check_fit, cuda/fit.hpp) gives
//    the figure for the placement, which the planner places again with when it is larger.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "vramfit/core/bytes.hpp"
#include "vramfit/core/error.hpp"
#include "vramfit/core/text.hpp"
#include "vramfit/engines/llama_cpp/compute_buffer.hpp"
#include "vramfit/engines/llama_cpp/context.hpp"
#include "vramfit/engines/llama_cpp/cuda/fit.hpp"
#include "vramfit/engines/llama_cpp/cuda/offload.hpp"
#include "vramfit/engines/llama_cpp/kv_cache.hpp"
#include "vramfit/engines/llama_cpp/model.hpp"
#include "vramfit/plan/device.hpp"
#include "vramfit/plan/engine.hpp"

namespace vramfit::llama_cpp {

// The settings of a plan that are llama.cpp's (flags in brackets).
struct plan_settings {
    std::uint32_t n_batch = 2048;          // -b
    std::uint32_t n_ubatch = 512;          // -ub
    bool kv_unified = false;               // -kvu
    std::optional<ggml_type> type_k;       // -ctk; unset: the planner picks
    std::optional<ggml_type> type_v;       // -ctv
    std::optional<bool> flash_attn;        // -fa; unset: on
    bool use_mmap = true;                  // --no-mmap turns it off (and disk paging with it)
    bool blas = false;                     // a GGML_BLAS build (offload_params::blas)
};

// One step of the KV ladder.
struct plan_kv {
    ggml_type k = ggml_type::f16;
    ggml_type v = ggml_type::f16;
    bool flash_attn = true;
};

// What llama.cpp is told for a placement.
struct plan_choice {
    ggml_type type_k = ggml_type::f16;
    ggml_type type_v = ggml_type::f16;
    bool flash_attn = true;
    std::uint32_t n_gpu_layers = 0;  // -ngl (n_layer + 1 = everything)
    std::uint32_t n_cpu_moe = 0;     // --n-cpu-moe
    context_params context{};        // the context settings
};

[[nodiscard]] constexpr context_params plan_context_params(const context_wish& wish, const plan_kv& kv, const plan_settings& s) {
    context_params p{};
    p.n_ctx = wish.n_ctx;
    p.n_batch = s.n_batch;
    p.n_ubatch = s.n_ubatch;
    p.n_seq = wish.n_seq;
    p.kv_unified = s.kv_unified;
    p.flash_attn = kv.flash_attn ? flash_attention::on : flash_attention::off;
    p.type_k = kv.k;
    p.type_v = kv.v;
    p.use_mmap = s.use_mmap;
    p.repack = repack_mode::off;  // a GPU build puts CPU layers in host buffers, not CPU_REPACK
    return p;
}

// Per-layer weight costs (see the header).
[[nodiscard]] constexpr result<weight_costs> plan_weight_costs(const model_description& model) {
    const auto& hp = model.hparams;
    weight_costs w{};
    w.n_embd = hp.n_embd;
    for (std::uint32_t i = 0; i <= hp.n_layer; ++i) w.layers.push_back({});  // push_back: see cuda/offload.hpp on Clang 14
    const double expert_share = hp.n_expert > 0 ? static_cast<double>(hp.n_expert_used) / hp.n_expert : 1.0;
    for (const auto& t : model.tensors) {
        const auto name = t.name.view();
        const std::uint64_t host = t.size().count();
        w.weight_bytes += host;
        const detail::weight_slot slot = detail::weight_slot_of(name);
        if (slot.home == detail::weight_home::every_layer) {
            const std::uint64_t gpu = detail::cuda_tensor_alloc(t).count();
            for (std::uint32_t il = 0; il < hp.n_layer; ++il) w.layers[il].on_device += gpu;
            w.host_fixed += host;
            continue;
        }
        if (slot.home == detail::weight_home::input) { w.host_fixed += host; continue; }
        if (slot.home == detail::weight_home::block && slot.block >= hp.n_layer) {
            return error{errc::invalid_argument, "a tensor's block is beyond n_layer: "}.with(name);
        }
        layer_cost& l = w.layers[slot.home == detail::weight_home::block ? slot.block : hp.n_layer];
        const std::uint64_t gpu = detail::cuda_tensor_alloc(t).count();
        const bool expert = is_routed_expert(name);
        const double share = expert ? expert_share : 1.0;
        l.on_device += gpu;
        l.on_host += host;
        l.read += static_cast<double>(host) * share;
        if (t.n_dims >= 2) l.flops += 2.0 * static_cast<double>(t.n_elements()) * share;
        if (expert) {
            w.has_splittable = true;
            l.splittable += gpu;
            l.host_splittable += host;
            l.read_splittable += static_cast<double>(host) * share;
        }
    }
    if (const tensor_info* tied = detail::tied_output(model); tied != nullptr) {
        layer_cost& out = w.layers[hp.n_layer];
        out.on_device += detail::cuda_tensor_alloc(*tied).count();
        out.read += static_cast<double>(tied->size().count());
        out.flops += 2.0 * static_cast<double>(tied->n_elements());
    }
    return w;
}

// Per-layer KV costs of a resolved context (see the header); the fixed costs are the caller's.
[[nodiscard]] constexpr context_costs plan_kv_costs(const hyperparameters& hp, const resolved_context& ctx) {
    context_costs c{};
    c.n_ctx = ctx.n_ctx;
    c.n_ubatch = ctx.n_ubatch;
    for (std::uint32_t i = 0; i <= hp.n_layer; ++i) c.layers.push_back({});
    const auto add = [&](bool want_swa, std::uint32_t cells) {
        detail::for_each_kv_layer(hp, ctx, want_swa, cells, [&](const detail::kv_layer& kv) {
            kv_cost& l = c.layers[kv.il];
            l.device += kv.buffer(cuda_buffer_alignment).count();
            l.host += kv.buffer(cpu_buffer_alignment).count();
            l.read += static_cast<double>((kv.k + kv.v).count()) / ctx.n_stream / 2.0;
            l.flops += 4.0 * hp.layers[kv.il].n_head * static_cast<double>(hp.n_embd_head_k) * cells / 2.0;
        });
    };
    add(false, ctx.kv_cells);
    add(true, ctx.kv_swa_cells);
    return c;
}

// The compute buffer by context: the graph replay runs once per distinct context (it does not
// depend on the quantization: compute_buffer.hpp builds the graph from the hyper-parameters).
struct compute_cache {
    struct entry {
        resolved_context ctx;
        std::uint64_t bytes = 0;
        bool ok = false;
    };
    std::vector<entry> entries;

    [[nodiscard]] static constexpr bool same(const resolved_context& a, const resolved_context& b) noexcept {
        return a.n_ctx_seq == b.n_ctx_seq && a.n_stream == b.n_stream && a.n_ubatch == b.n_ubatch && a.n_batch == b.n_batch &&
               a.flash_attn == b.flash_attn && a.type_k == b.type_k && a.type_v == b.type_v && a.kv_cells == b.kv_cells &&
               a.kv_swa_cells == b.kv_swa_cells && a.n_seq == b.n_seq;
    }
    constexpr const entry& get(const model_description& model, const resolved_context& ctx) {
        for (const auto& en : entries) {
            if (same(en.ctx, ctx)) return en;
        }
        const auto r = try_compute_buffer_bytes(model, ctx);
        entries.push_back({ctx, r.ok() ? r.value().count() : 0, r.ok()});
        return entries.back();
    }
};

// llama.cpp's CUDA build, for plan<Engine> (plan/plan.hpp).
struct engine {
    using model = model_description;
    using settings = plan_settings;
    using kv_choice = plan_kv;
    using choice = plan_choice;

    // -sm layer, -ngl / --n-cpu-moe, mmap paging, RPC servers listed before the local GPUs.
    static constexpr plan_capabilities capabilities{true, true, true, true, true, static_cast<std::uint32_t>(max_cuda_devices)};

    compute_cache compute;

    [[nodiscard]] static constexpr std::string_view model_name(const model& m) noexcept { return m.name.view(); }
    [[nodiscard]] static constexpr std::uint32_t training_context(const model& m) noexcept { return m.hparams.n_ctx_train; }
    [[nodiscard]] static constexpr std::string_view device_name(std::uint32_t index) noexcept { return cuda_device_name(index); }
    [[nodiscard]] static constexpr result<weight_costs> weights(const model& m) { return plan_weight_costs(m); }
    [[nodiscard]] static constexpr bool disk_paging(const settings& s) noexcept { return s.use_mmap; }

    // f16; then, with flash attention (a quantized V cache needs it: llama_context refuses it
    // otherwise), q8_0 and q4_0. The largest-context search tries f16 and q8_0 first.
    [[nodiscard]] static constexpr kv_ladder<kv_choice> ladder(const settings& s) {
        kv_ladder<kv_choice> l{};
        const bool fa = s.flash_attn.value_or(true);
        l.fixed = s.type_k.has_value() || s.type_v.has_value();
        if (l.fixed) {
            l.steps.push_back({s.type_k.value_or(ggml_type::f16), s.type_v.value_or(ggml_type::f16), fa});
            l.widen = 1;
            return l;
        }
        l.steps.push_back({ggml_type::f16, ggml_type::f16, fa});
        if (fa) {
            l.steps.push_back({ggml_type::q8_0, ggml_type::q8_0, fa});
            l.steps.push_back({ggml_type::q4_0, ggml_type::q4_0, fa});
        }
        l.widen = 2;
        return l;
    }

    [[nodiscard]] constexpr result<context_costs> context(const model& m, const context_wish& wish, const kv_choice& kv, const settings& s) {
        auto ctx = resolve_context(m, plan_context_params(wish, kv, s));
        if (!ctx) return ctx.err();
        auto c = plan_kv_costs(m.hparams, *ctx);
        const auto& buffer = compute.get(m, *ctx);
        c.device_fixed = buffer.bytes;
        c.host_fixed = buffer.bytes;  // the CPU graph's buffer, where layers run on the CPU
        c.modelled = buffer.ok;
        return c;
    }

    [[nodiscard]] static constexpr offload_params offload_of(const settings& s, const plan_layout& layout) {
        offload_params o{};
        o.blas = s.blas;
        o.n_gpu_layers = static_cast<std::int32_t>(layout.on_devices);
        for (std::size_t j = 0; j < layout.counts.size(); ++j) o.tensor_split[j] = static_cast<float>(layout.counts[j]);
        if (layout.split_on_host != 0) add_n_cpu_moe(o, layout.split_on_host);
        return o;
    }

    // check_fit on the devices of the layout (memory and reserves are the planner's to compare).
    [[nodiscard]] constexpr result<verification> verify(const model& m, const context_wish& wish, const kv_choice& kv, const settings& s,
                                                        const plan_layout& layout, std::span<const plan_device> devices,
                                                        std::span<const bytes> /*reserves*/) const {
        fit_params fp{};
        fp.context = plan_context_params(wish, kv, s);
        fp.offload = offload_of(s, layout);
        fp.count_overhead = false;  // the planner holds the CUDA overhead back through its reserves
        auto report = check_fit(m, devices, fp);
        if (!report) return report.err();
        verification v{};
        for (const auto& d : report->devices) v.devices.push_back({d.layers, d.output_layer, d.model, d.kv, d.compute});
        v.host_fixed = report->host_compute + report->blas_compute;
        v.host_fixed_known = true;
        return v;
    }

    [[nodiscard]] static constexpr choice choice_of(const model&, const context_wish& wish, const kv_choice& kv, const settings& s,
                                                    const plan_layout& layout) {
        return {kv.k, kv.v, kv.flash_attn, layout.on_devices, layout.split_on_host, plan_context_params(wish, kv, s)};
    }

    // "-ts 40,41"
    static constexpr void explain_split(text& n, const plan_layout& layout) {
        n.append("-ts ");
        for (std::size_t j = 0; j < layout.counts.size(); ++j) {
            if (j) n.append(",");
            n.append_number(layout.counts[j]);
        }
    }

    static constexpr void explain_offload(text& n, const plan_layout& layout, std::uint32_t n_layer) {
        if (layout.split_on_host != 0 && layout.on_devices == n_layer + 1) {
            n.append("expert tensors of blocks 0..");
            n.append_number(layout.split_on_host - 1);
            n.append(" on the CPU (--n-cpu-moe ");
            n.append_number(layout.split_on_host);
            n.append("); attention, shared weights and KV stay on the GPU");
        } else {
            n.append_number(n_layer + 1 - layout.on_devices);
            n.append(" layers on the CPU (-ngl ");
            n.append_number(layout.on_devices);
            n.append(layout.split_on_host != 0 ? ", experts of the GPU layers on the CPU as well" : "");
            n.append("), the output layer stays on a GPU");
        }
    }

    static constexpr void explain_kv(text& n, const kv_choice& kv, const settings&, bool fixed, std::size_t step) {
        n.append("KV ");
        n.append(type_name(kv.k));
        if (kv.v != kv.k) { n.append("/"); n.append(type_name(kv.v)); }
        n.append(fixed ? " as asked" : step == 0 ? " (full precision fits)" : " (f16 does not fit here)");
        n.append(kv.flash_attn ? ", flash attention on" : ", flash attention off");
    }

    static constexpr void explain_nodes(text& n) {
        n.append(" machines, the others as llama.cpp RPC servers (--rpc); activations cross the network");
    }
};

static_assert(planner_engine<engine>);

} // namespace vramfit::llama_cpp
