// vramfit/engines/llama_cpp/detail/model_graph.hpp — the graphs llama.cpp builds, per architecture.
//
// Rebuilds, shape for shape and in the same expansion order, the graph that
// llama_model::build_graph produces for a reservation ubatch (llama_context::graph_reserve), at
// llama.cpp 1425386f. `llama_graph_builder` mirrors llm_graph_context (src/llama-graph.cpp):
// build_inp_embd, build_inp_pos, build_inp_out_ids, build_attn_inp_kv / _kv_iswa / _k, build_norm,
// build_attn + build_attn_mha (flash-attention and plain paths, multi-stream views, the Hadamard
// rotation of quantized caches), build_ffn, build_moe_ffn; the KV cache views and stores mirror
// llama_kv_cache::get_k/get_v/cpy_k/cpy_v and build_input_k_idxs/v_idxs/k_rot/v_rot
// (src/llama-kv-cache.cpp). The per-architecture layer bodies mirror src/models/<arch>.cpp.
//
// Weights and KV cache tensors are leafs with external memory; only their shapes matter (a
// matrix product's output is F32 whatever the weight type), so the weight types of the file do
// not change the compute buffer. The graph's node count is exposed so tests can check the
// rebuilt graph against the engine's "graph nodes = N" line.
#pragma once

#include <cstdint>

#include "vramfit/engines/llama_cpp/context_params.hpp"
#include "vramfit/engines/llama_cpp/detail/graph_ops.hpp"
#include "vramfit/engines/llama_cpp/model.hpp"

namespace vramfit::llama_cpp::detail {

// The ubatch a reservation builds its graph for (llama_context::graph_reserve).
struct reserve_ubatch {
    std::uint32_t n_tokens = 0;
    std::uint32_t n_seqs = 1;
    std::uint32_t n_outputs = 0;
};

// Where the weights and caches of a model live, for building a graph that a multi-backend
// scheduler (detail/backend_sched.hpp) places: per layer slot (0 = the input layer, 1..n_layer the
// blocks, n_layer + 1 the output layer) the model's tensors in file order with their type and the
// backend of their buffer, and per layer the backend of its KV / recurrent state.
struct weight_source {
    std::array<std::int64_t, 4> ne{1, 1, 1, 1};
    ggml_type type = ggml_type::f16;
    std::int8_t backend = -1;
};
struct weight_placement {
    std::vector<std::vector<weight_source>> by_layer;
    std::vector<std::int8_t> layer_backend;  // n_layer + 1 entries (the last: the output layer)
    std::vector<std::int8_t> cache_backend;  // n_layer entries
    bool full_offload = false;  // every layer and the output on GPUs (n_gpu_layers > n_layer)
};

class llama_graph_builder {
public:
    compute_graph graph;

    constexpr llama_graph_builder(const hyperparameters& hp, const resolved_context& ctx, reserve_ubatch ub)
        : hp_(hp), ctx_(ctx), ub_(ub), op_(graph) {
        n_tokens_ = ub.n_tokens;
        n_stream_ = ctx.kv_unified ? 1 : ub.n_seqs;  // build_attn_inp_kq_mask / llama_kv_cache n_stream
        kv_streams_ = ctx.kv_unified ? 1 : (ctx.n_stream == 0 ? 1 : ctx.n_stream);
        v_trans_ = !ctx.flash_attn;                   // llama_model::create_memory: v_trans = !flash_attn
        const std::uint32_t head_k_all = uniform_head(true);
        const std::uint32_t head_v_all = uniform_head(false);
        // llama_kv_cache constructor: attn_rot_k / attn_rot_v
        // (the K-only cache of MLA models takes no rotation: build_attn_inp_k builds no k_rot)
        // (not in the legacy builds: the rotation came with quantized-cache accuracy work later)
        rot_k_ = !ctx.legacy_graph && head_k_all > 0 && is_quantized(ctx.type_k) && cache_head_k() % 64 == 0 && !hp.is_mla();
        rot_v_ = !ctx.legacy_graph && head_v_all > 0 && is_quantized(ctx.type_v) && hp.n_embd_head_v % 64 == 0 && !hp.is_mla();
        if (rot_k_) {
            // build_input_k_rot: the largest power of two (from 128) dividing the head size
            std::int64_t n = 64;
            do { n *= 2; } while (head_k_all % n == 0);
            nrot_k_ = n / 2;
        }
        nrot_v_ = 64;  // build_input_v_rot
    }

    // Build the whole graph for the architecture; false when it is not modelled.
    constexpr bool build() {
        switch (hp_.arch) {
            case architecture::llama:
                build_llama_family(false, false); return true;
            case architecture::qwen2:
                build_llama_family(true, false); return true;
            case architecture::qwen3: case architecture::qwen3moe:
                build_llama_family(false, true); return true;
            case architecture::gemma2: build_gemma(false); return true;
            case architecture::gemma3: build_gemma(true); return true;
            case architecture::phi3: build_phi3(); return true;
            case architecture::gpt_oss: build_gpt_oss(); return true;
            case architecture::deepseek2: build_deepseek2(); return true;
            case architecture::mamba2: build_mamba2(); return true;
            case architecture::lfm2: build_lfm2(); return true;
            case architecture::glm4: build_glm4(); return true;
            case architecture::command_r: build_command_r(); return true;
            case architecture::gptneox: build_gptneox(); return true;
            case architecture::llama4: build_llama4(); return true;
            default: return false;
        }
    }

    [[nodiscard]] constexpr std::size_t node_count() const noexcept { return graph.nodes.size(); }

    // Build with every weight a tensor of its own, typed and placed as `placement` says (the
    // placement must outlive the builder). Without it, weights are shared per shape.
    constexpr void use_placement(const weight_placement* placement) {
        placement_ = placement;
        used_.clear();
        if (placement_ == nullptr) return;
        for (const auto& layer : placement_->by_layer) {
            std::vector<std::uint8_t> flags;
            for (std::size_t i = 0; i < layer.size(); ++i) flags.push_back(0);
            used_.push_back(std::move(flags));
        }
    }

    // Index of the first graph node each layer's build appended (taken before the layer's first
    // expansion, which also pulls in the previous layer's feed-forward tail): the same position
    // in every layer, where allocator states of repeated layers can be compared.
    std::vector<std::uint32_t> layer_starts{};

private:
    const hyperparameters& hp_;
    const resolved_context& ctx_;
    reserve_ubatch ub_;
    graph_ops op_;
    std::int64_t n_tokens_ = 0;
    std::int64_t n_stream_ = 1;
    std::int64_t kv_streams_ = 1;
    bool v_trans_ = false;
    bool rot_k_ = false;
    bool rot_v_ = false;
    std::int64_t nrot_k_ = 0;
    std::int64_t nrot_v_ = 0;

    // Attention inputs of one llama_kv_cache (the full one, or the SWA one of an iSWA model).
    struct attn_inputs {
        tid k_idxs = -1, v_idxs = -1, kq_mask = -1, k_rot = -1, v_rot = -1;
        std::int64_t n_kv = 0;
        std::int64_t kv_size = 0;
    };
    attn_inputs base_{};
    attn_inputs swa_{};
    tid inp_pos_ = -1;
    tid inp_out_ids_ = -1;

    // ---- helpers -------------------------------------------------------------------------

    // An iSWA cache exists when hparams.swa_type != NONE; phi3 forces NONE whatever the file says
    // (llama_model_phi3::load_arch_hparams: "Phi SWA is currently disabled").
    [[nodiscard]] constexpr bool uses_swa() const {
        return hp_.swa_type != swa_kind::none && hp_.arch != architecture::phi3;
    }
    [[nodiscard]] constexpr bool is_swa(std::uint32_t il) const { return uses_swa() && hp_.layers[il].swa; }
    [[nodiscard]] constexpr std::int64_t n_head(std::uint32_t il) const { return hp_.layers[il].n_head; }
    [[nodiscard]] constexpr std::int64_t n_head_kv(std::uint32_t il) const {
        return hp_.is_mla() ? 1 : hp_.layers[il].n_head_kv;
    }
    // Width of one cached K head: for MLA the compressed latent plus the rope part.
    [[nodiscard]] constexpr std::int64_t cache_head_k() const {
        return hp_.is_mla() ? static_cast<std::int64_t>(hp_.n_lora_kv) + hp_.n_rot : hp_.n_embd_head_k;
    }
    [[nodiscard]] constexpr std::uint32_t uniform_head(bool k) const {
        // n_embd_head_k_all: the head size when every cached layer has the same one
        return static_cast<std::uint32_t>(k ? cache_head_k() : hp_.n_embd_head_v);
    }
    [[nodiscard]] constexpr std::int64_t n_embd() const { return hp_.n_embd; }

    // A weight: an external leaf. For one backend only its shape matters, and layers share one
    // tensor per shape (weights are never allocated, so sharing changes neither the plan nor the
    // node count and keeps the constant-evaluated graph small). With a placement, each use is the
    // layer's own tensor: the first not yet used one of that shape in the layer (file order is
    // the order the graph uses them in), with its type and buffer; a shape the layer lacks (a
    // tensor the graph reads reshaped) is taken as F16 on the layer's backend.
    std::vector<tid> weights_{};
    const weight_placement* placement_ = nullptr;
    std::vector<std::vector<std::uint8_t>> used_{};
    std::int32_t cur_layer_ = -1;  // -1: the input layer; n_layer: the output layer

    constexpr void begin_layer(std::uint32_t il) {
        layer_starts.push_back(static_cast<std::uint32_t>(graph.nodes.size()));
        cur_layer_ = static_cast<std::int32_t>(il);
    }
    [[nodiscard]] constexpr std::int8_t cache_backend(std::uint32_t il) const {
        return placement_ != nullptr && il < placement_->cache_backend.size() ? placement_->cache_backend[il] : std::int8_t{-1};
    }
    constexpr tid cache_tensor(ggml_type type, std::array<std::int64_t, 4> ne, std::uint32_t il) {
        const tid t = graph.external_tensor(type, ne);
        graph.at(t).backend = cache_backend(il);
        return t;
    }
    constexpr tid weight(std::int64_t ne0, std::int64_t ne1 = 1, std::int64_t ne2 = 1) {
        const std::array<std::int64_t, 4> shape{ne0, ne1, ne2, 1};
        if (placement_ == nullptr) {
            for (const tid w : weights_) if (graph.at(w).ne == shape) return w;
            const tid w = graph.external_tensor(ggml_type::f16, shape);
            weights_.push_back(w);
            return w;
        }
        const auto slot = static_cast<std::size_t>(cur_layer_ + 1);
        ggml_type type = ggml_type::f16;
        // -1: a host buffer (the input layer is always there)
        std::int8_t backend = slot != 0 && slot - 1 < placement_->layer_backend.size() ? placement_->layer_backend[slot - 1] : std::int8_t{-1};
        if (slot < placement_->by_layer.size()) {
            const auto& layer = placement_->by_layer[slot];
            std::size_t found = layer.size();
            for (std::size_t i = 0; i < layer.size() && found == layer.size(); ++i) {
                if (layer[i].ne == shape && used_[slot][i] == 0) found = i;
            }
            for (std::size_t i = 0; i < layer.size() && found == layer.size(); ++i) if (layer[i].ne == shape) found = i;
            if (found < layer.size()) {
                used_[slot][found] = 1;
                type = layer[found].type;
                backend = layer[found].backend;
            }
        }
        const tid w = graph.external_tensor(type, shape);
        graph.at(w).weight = true;
        graph.at(w).backend = backend;
        return w;
    }
    // build_lora_mm(w, cur) with w: [cur.ne0, rows]
    constexpr tid mm(tid cur, std::int64_t rows) { return op_.mul_mat(weight(op_.ne(cur)[0], rows), cur); }
    // build_norm names the normalised tensor "norm" (before its weight), and llama_context's graph
    // callback (graph_get_cb) pins a layer's "norm" to the layer's device when the batch has
    // fewer than 32 tokens or every layer is offloaded, so that the scheduler does not run it
    // where the previous layer ran ("FIXME: fix in ggml_backend_sched").
    constexpr tid pin_norm(tid norm) {
        if (placement_ != nullptr && cur_layer_ >= 0 && static_cast<std::uint32_t>(cur_layer_) < hp_.n_layer &&
            static_cast<std::size_t>(cur_layer_) < placement_->layer_backend.size() && (n_tokens_ < 32 || placement_->full_offload)) {
            graph.at(norm).user_backend = placement_->layer_backend[static_cast<std::size_t>(cur_layer_)];
        }
        return norm;
    }
    // build_norm(cur, w, nullptr, LLM_NORM_RMS)
    constexpr tid rms_norm_w(tid cur) { return op_.mul(pin_norm(op_.rms_norm(cur)), weight(op_.ne(cur)[0])); }
    constexpr tid bias(tid cur) { return op_.add(cur, weight(op_.ne(cur)[0])); }

    // ---- inputs ---------------------------------------------------------------------------

    // build_inp_embd: token ids -> get_rows, plus the embeddings input, both expanded
    // (ggml_build_forward_select), the token path selected.
    constexpr tid build_inp_embd() {
        const tid tokens = graph.input_tensor(ggml_type::i32, {n_tokens_, 1, 1, 1});
        const tid rows = op_.get_rows(weight(n_embd(), hp_.n_vocab), tokens);
        if (ctx_.legacy_graph) {
            graph.expand(rows);
            return rows;
        }
        const tid embd = graph.input_tensor(ggml_type::f32, {n_embd(), n_tokens_, 1, 1});
        graph.expand(rows);
        graph.expand(embd);
        graph.expand(rows);
        return rows;
    }
    constexpr void build_inp_pos() { inp_pos_ = graph.input_tensor(ggml_type::i32, {n_tokens_, 1, 1, 1}); }
    // build_inp_out_ids: always built (constant topology), n_outputs rows
    constexpr void build_inp_out_ids() {
        inp_out_ids_ = graph.input_tensor(ggml_type::i32, {static_cast<std::int64_t>(ub_.n_outputs), 1, 1, 1});
    }

    // build_attn_inp_kv_impl for one cache; kv cells per stream from the resolved context
    constexpr attn_inputs make_attn_inputs(std::int64_t cells, bool with_v) {
        attn_inputs in{};
        in.kv_size = cells;
        in.n_kv = cells;  // init_full: the whole cache
        if (!ctx_.legacy_graph) in.k_idxs = graph.input_tensor(ggml_type::i64, {n_tokens_, 1, 1, 1});
        if (with_v && !ctx_.legacy_graph) {
            std::int64_t v_rows = n_tokens_;
            if (v_trans_) v_rows = n_tokens_ * max_n_embd_v_gqa();
            in.v_idxs = graph.input_tensor(ggml_type::i64, {v_rows, 1, 1, 1});
        }
        const ggml_type mask_type = ctx_.flash_attn ? ggml_type::f16 : ggml_type::f32;
        if (ctx_.legacy_graph) {
            // llm_graph_input_attn_kv: an F32 mask, ggml_cast to F16 when flash attention is on
            in.kq_mask = graph.input_tensor(ggml_type::f32, {cells, n_tokens_ / n_stream_, 1, n_stream_});
            if (mask_type == ggml_type::f16) {
                const tid cast = graph.new_tensor(ggml_type::f16, graph.at(in.kq_mask).ne, graph_op::cpy);
                graph.set_src(cast, in.kq_mask);
                in.kq_mask = cast;
            }
        } else {
            in.kq_mask = graph.input_tensor(mask_type, {cells, n_tokens_ / n_stream_, 1, n_stream_});
        }
        if (rot_k_) in.k_rot = graph.input_tensor(ggml_type::f32, {nrot_k_, nrot_k_, 1, 1});
        if (rot_v_ && with_v) in.v_rot = graph.input_tensor(ggml_type::f32, {nrot_v_, nrot_v_, 1, 1});
        return in;
    }
    [[nodiscard]] constexpr std::int64_t max_n_embd_v_gqa() const {
        std::int64_t m = 0;
        for (std::uint32_t il = 0; il < hp_.n_layer; ++il) {
            const std::int64_t v = static_cast<std::int64_t>(hp_.n_embd_head_v) * n_head_kv(il);
            if (v > m) m = v;
        }
        return m;
    }
    constexpr void build_attn_inputs(bool with_v = true) {
        base_ = make_attn_inputs(ctx_.kv_cells, with_v);
        if (uses_swa()) swa_ = make_attn_inputs(ctx_.kv_swa_cells, with_v);
    }

    // ---- attention --------------------------------------------------------------------------

    // llama_mul_mat_hadamard (src/llama-impl.h)
    constexpr tid hadamard(tid cur, tid rot) {
        const std::int64_t n = op_.ne(rot)[0];
        const auto shape = op_.ne(cur);
        tid res = graph.is_contiguous(cur) ? op_.reshape(cur, n, op_.nelements(cur) / n)
                                           : op_.cont_2d(cur, n, op_.nelements(cur) / n);
        res = op_.mul_mat(rot, res);
        return op_.reshape(res, shape[0], shape[1], shape[2], shape[3]);
    }

    struct attn_args {
        std::uint32_t il = 0;
        tid q = -1, k = -1, v = -1;
        tid sinks = -1;
        tid v_mla = -1;
        bool softcap = false;      // hparams.attn_soft_cap (gemma2)
        bool wo_bias = false;
        std::int64_t wo_rows = 0;  // n_embd
    };

    // build_attn (KV cache variants) + build_attn_mha; returns the output projection.
    constexpr tid build_attn(attn_args a) {
        const bool swa = is_swa(a.il);
        const bool iswa = uses_swa();
        const bool k_only = hp_.is_mla();
        const attn_inputs& in = swa ? swa_ : base_;
        tid q = a.q, k = a.k, v = a.v;
        if (in.k_rot >= 0) { q = hadamard(q, in.k_rot); k = hadamard(k, in.k_rot); }
        if (in.v_rot >= 0 && !k_only) v = hadamard(v, in.v_rot);
        // expansion order: q, v, k (llm_graph_input_attn_kv / _k), q, k, v (iSWA, and every
        // attention of the legacy builds)
        graph.expand(q);
        if (iswa || ctx_.legacy_graph) { graph.expand(k); graph.expand(v); }
        else { graph.expand(v); graph.expand(k); }

        const std::int64_t head_k = k_only ? cache_head_k() : hp_.n_embd_head_k;
        const std::int64_t head_v = hp_.n_embd_head_v;
        const std::int64_t hkv = n_head_kv(a.il);
        const std::int64_t gqa_k = head_k * hkv;
        const std::int64_t gqa_v = head_v * hkv;
        const tid k_cache = cache_tensor(ctx_.type_k, {gqa_k, in.kv_size, kv_streams_, 1}, a.il);
        const tid v_cache = k_only ? -1 : cache_tensor(ctx_.type_v, {gqa_v, in.kv_size, kv_streams_, 1}, a.il);

        // cpy_k
        {
            const tid k_cur = op_.view(k, {gqa_k, n_tokens_, 1, 1}, graph.at(k).nb[2],
                                       graph.at(k).nb[2] * static_cast<std::uint64_t>(n_tokens_),
                                       graph.at(k).nb[2] * static_cast<std::uint64_t>(n_tokens_), 0);
            tid dst = k_cache;
            if (kv_streams_ > 1) dst = op_.reshape(k_cache, gqa_k, in.kv_size * kv_streams_);
            graph.expand(op_.set_rows(dst, k_cur, in.k_idxs));
        }
        // cpy_v
        if (!k_only) {
            if (!v_trans_) {
                const std::uint64_t nb2 = graph.at(v).nb[2];
                const tid v_cur = op_.view(v, {gqa_v, n_tokens_, 1, 1}, nb2, nb2 * static_cast<std::uint64_t>(n_tokens_),
                                           nb2 * static_cast<std::uint64_t>(n_tokens_), 0);
                tid dst = v_cache;
                if (kv_streams_ > 1) dst = op_.reshape(v_cache, gqa_v, in.kv_size * kv_streams_);
                graph.expand(op_.set_rows(dst, v_cur, in.v_idxs));
            } else {
                tid v_cur = v;
                if (op_.row_bytes(v, gqa_v) == graph.at(v).nb[2]) v_cur = op_.reshape(v, gqa_v, n_tokens_);
                else v_cur = op_.cont_2d(v, gqa_v, n_tokens_);
                const tid v_view = op_.reshape(v_cache, 1, op_.nelements(v_cache));
                const tid v_flat = op_.reshape(v_cur, 1, op_.nelements(v_cur));
                graph.expand(op_.set_rows(v_view, v_flat, in.v_idxs));
            }
        }

        // get_k / get_v: views of the whole cache (n_kv cells, every stream)
        const std::uint64_t rk = row_size(ctx_.type_k, head_k).count();
        const tid kk = op_.view(k_cache, {head_k, hkv, in.n_kv, kv_streams_}, rk, row_size(ctx_.type_k, gqa_k).count(),
                                row_size(ctx_.type_k, gqa_k * in.kv_size).count(), 0);
        tid vv = -1;
        if (k_only) {
            vv = op_.view(kk, {op_.ne(a.v)[0], op_.ne(kk)[1], op_.ne(kk)[2], op_.ne(kk)[3]}, graph.at(kk).nb[1],
                          graph.at(kk).nb[2], graph.at(kk).nb[3], 0);
        } else if (!v_trans_) {
            vv = op_.view(v_cache, {head_v, hkv, in.n_kv, kv_streams_}, row_size(ctx_.type_v, head_v).count(),
                          row_size(ctx_.type_v, gqa_v).count(), row_size(ctx_.type_v, gqa_v * in.kv_size).count(), 0);
        } else {
            vv = op_.view(v_cache, {in.n_kv, hkv, head_v, kv_streams_}, row_size(ctx_.type_v, in.kv_size * head_v).count(),
                          row_size(ctx_.type_v, in.kv_size).count(), row_size(ctx_.type_v, in.kv_size * gqa_v).count(), 0);
        }

        tid cur = build_attn_mha(q, kk, vv, in.kq_mask, a.sinks, a.v_mla, a.softcap);
        if (k_only) {
            if (in.k_rot >= 0 && iswa) cur = hadamard(cur, in.k_rot);
        } else if (in.v_rot >= 0) {
            cur = hadamard(cur, in.v_rot);
        }
        cur = mm(cur, a.wo_rows);
        if (a.wo_bias) cur = bias(cur);
        return cur;
    }

    // build_attn_mha
    constexpr tid build_attn_mha(tid q, tid k, tid v, tid mask, tid sinks, tid v_mla, bool softcap) {
        const bool v_trans = graph.at(v).nb[1] > graph.at(v).nb[2];
        const std::int64_t ns = op_.ne(k)[3];
        {
            const auto& t = graph.at(q);
            q = op_.view(q, {t.ne[0], t.ne[1], t.ne[2] / ns, ns}, t.nb[1], t.nb[2], t.nb[3] / static_cast<std::uint64_t>(ns), 0);
        }
        q = op_.permute(q, 0, 2, 1, 3);
        k = op_.permute(k, 0, 2, 1, 3);
        v = op_.permute(v, 0, 2, 1, 3);
        tid cur = -1;
        if (ctx_.flash_attn) {
            if (v_trans) v = op_.transpose(v);
            cur = op_.flash_attn_ext(q, k, v, mask, sinks);
            if (v_mla >= 0) {
                cur = op_.permute(cur, 0, 2, 1, 3);
                cur = op_.mul_mat(v_mla, cur);
                cur = op_.permute(cur, 0, 2, 1, 3);
                cur = op_.cont(cur);
            }
            const auto s = op_.ne(cur);
            cur = op_.reshape(cur, s[0] * s[1], s[2] * s[3]);
        } else {
            tid kq = op_.mul_mat(k, q);
            if (softcap) kq = op_.scale(op_.unary(op_.scale(kq)));
            kq = op_.soft_max(kq, mask, sinks);
            if (!v_trans) v = op_.cont(op_.transpose(v));
            tid kqv = op_.mul_mat(v, kq);
            if (v_mla >= 0) kqv = op_.mul_mat(v_mla, kqv);
            cur = op_.permute(kqv, 0, 2, 1, 3);
            const auto s = op_.ne(cur);
            cur = op_.cont_2d(cur, s[0] * s[1], s[2] * s[3]);
        }
        graph.expand(cur);
        return cur;
    }

    // ---- feed-forward -------------------------------------------------------------------------

    enum class ffn_act : std::uint8_t { silu_par, gelu_par, swiglu_fused };

    // build_ffn: up, gate (parallel), fused gated activation, down
    constexpr tid build_ffn(tid cur, std::int64_t n_ff, ffn_act act) {
        if (act == ffn_act::swiglu_fused) {
            tid t = mm(cur, 2 * n_ff);
            t = op_.glu(t);
            return mm(t, n_embd());
        }
        const tid up = mm(cur, n_ff);
        const tid gate = mm(cur, n_ff);
        const tid h = op_.glu_split(gate, up);  // ggml_swiglu_split / ggml_geglu_split
        return mm(h, n_embd());
    }

    enum class gating : std::uint8_t { softmax, softmax_weight, sigmoid };

    struct moe_args {
        std::int64_t n_ff = 0;
        gating gate = gating::softmax;
        bool norm_w = false;
        bool scale_w = false;
        bool biases = false;   // gate_inp_b and per-expert biases (gpt-oss)
        bool exp_probs_b = false;
        // LLM_ARCH_LLAMA4: the top-k runs on the raw logits ("sigmoid is only used after
        // top_k"), and the routing weight scales the expert input, not its output
        // (weight_before_ffn: ggml_repeat_4d of the input, ggml_mul by the weights).
        bool select_on_logits = false;
        bool weight_before_ffn = false;
    };

    // build_moe_ffn
    constexpr tid build_moe_ffn(tid cur, moe_args a) {
        const std::int64_t n_expert = hp_.n_expert;
        const std::int64_t n_used = hp_.n_expert_used;
        const std::int64_t tokens = op_.ne(cur)[1];
        tid logits = mm(cur, n_expert);
        if (a.biases) logits = bias(logits);
        tid probs = logits;
        if (a.gate == gating::softmax) probs = op_.soft_max(logits);
        else if (a.gate == gating::sigmoid) probs = op_.unary(logits);
        tid selection = probs;
        if (a.exp_probs_b) selection = op_.add(probs, weight(n_expert));
        if (a.select_on_logits) selection = logits;
        const tid selected = op_.argsort_top_k(selection, n_used);
        probs = op_.reshape(probs, 1, n_expert, tokens);
        tid weights = op_.get_rows(probs, selected);
        if (a.gate == gating::softmax_weight) {
            weights = op_.reshape(weights, n_used, tokens);
            weights = op_.soft_max(weights);
            weights = op_.reshape(weights, 1, n_used, tokens);
        }
        if (a.norm_w) {
            weights = op_.reshape(weights, n_used, tokens);
            tid sum = op_.sum_rows(weights);
            sum = op_.clamp(sum);
            weights = op_.div(weights, sum);
            weights = op_.reshape(weights, 1, n_used, tokens);
        }
        if (a.scale_w) weights = op_.scale(weights);
        graph.expand(weights);

        cur = op_.reshape(cur, n_embd(), 1, tokens);
        if (a.weight_before_ffn) {
            const tid repeated = graph.new_tensor(graph.at(cur).type, {n_embd(), n_used, tokens, 1}, graph_op::repeat);
            graph.set_src(repeated, cur);
            cur = op_.mul(repeated, weights);
        }
        const tid up_w = weight(n_embd(), a.n_ff, n_expert);
        tid up = op_.mul_mat_id(up_w, cur, selected);
        if (a.biases) up = op_.add_id(up, weight(a.n_ff, n_expert), selected);
        tid gate = op_.mul_mat_id(weight(n_embd(), a.n_ff, n_expert), cur, selected);
        if (a.biases) gate = op_.add_id(gate, weight(a.n_ff, n_expert), selected);
        tid act = op_.glu_split(gate, up);  // swiglu_split / swiglu_oai
        tid experts = op_.mul_mat_id(weight(a.n_ff, n_embd(), n_expert), act, selected);
        if (a.biases) experts = op_.add_id(experts, weight(n_embd(), n_expert), selected);
        if (!a.weight_before_ffn) experts = op_.mul(experts, weights);
        graph.expand(experts);

        const auto& e = graph.at(experts);
        tid moe_out = -1;
        std::vector<tid> views;
        for (std::int64_t i = 0; i < n_used; ++i) {
            const tid vi = op_.view(experts, {n_embd(), tokens, 1, 1}, e.nb[2], e.nb[2] * static_cast<std::uint64_t>(tokens),
                                    e.nb[2] * static_cast<std::uint64_t>(tokens), static_cast<std::uint64_t>(i) * e.nb[1]);
            views.push_back(vi);
            graph.expand(vi);
        }
        moe_out = views[0];
        for (std::int64_t i = 1; i < n_used; ++i) {
            moe_out = op_.add(moe_out, views[static_cast<std::size_t>(i)]);
            graph.expand(moe_out);
        }
        if (n_used == 1) moe_out = op_.cont(moe_out);
        return moe_out;
    }

    // ---- recurrent state (llama_memory_recurrent, full context: head 0, rs_z 0, n_rs = size) ----

    struct rs_inputs {
        tid s_copy = -1, s_copy_main = -1, s_copy_extra = -1;
        std::int64_t size = 1;  // cells: max(1, n_seq_max)
    };
    rs_inputs rs_{};

    // build_rs_inp_impl: s_copy [n_rs] and its views for the ubatch's sequences and the rest
    constexpr void build_rs_inp() {
        rs_.size = ctx_.n_seq == 0 ? 1 : ctx_.n_seq;  // llama_memory_recurrent size: max(1, n_seq_max)
        const std::int64_t n_seqs = ub_.n_seqs;
        rs_.s_copy = graph.input_tensor(ggml_type::i32, {rs_.size, 1, 1, 1});
        rs_.s_copy_main = op_.view(rs_.s_copy, {n_seqs, 1, 1, 1}, 4 * static_cast<std::uint64_t>(n_seqs),
                                   4 * static_cast<std::uint64_t>(n_seqs), 4 * static_cast<std::uint64_t>(n_seqs), 0);
        const std::int64_t rest = rs_.size - n_seqs;
        rs_.s_copy_extra = op_.view(rs_.s_copy, {rest, 1, 1, 1}, 4 * static_cast<std::uint64_t>(rest),
                                    4 * static_cast<std::uint64_t>(rest), 4 * static_cast<std::uint64_t>(rest),
                                    4 * static_cast<std::uint64_t>(n_seqs));
    }

    // build_rs: zero state rs_z, gather the ubatch's states (get_state_rows), copy the others back.
    template <class GetRows>
    constexpr tid build_rs(tid s, std::int64_t state_size, GetRows get_state_rows) {
        const std::int64_t n_seqs = ub_.n_seqs;
        const tid states = op_.reshape(s, state_size, op_.ne(s)[1]);
        const std::uint64_t nb1 = graph.at(states).nb[1];
        const tid zero = op_.view(states, {state_size, 1, 1, 1}, nb1, nb1, nb1, 0);
        graph.expand(op_.scale_inplace(zero));
        const tid out = get_state_rows(states, rs_.s_copy_main);
        graph.expand(out);
        const tid extra = op_.get_rows(states, rs_.s_copy_extra);
        const std::int64_t rest = rs_.size - n_seqs;
        const std::uint64_t snb1 = graph.at(s).nb[1];
        const tid dst = op_.view(s, {state_size, rest, 1, 1}, snb1, snb1 * static_cast<std::uint64_t>(rest),
                                 snb1 * static_cast<std::uint64_t>(rest), static_cast<std::uint64_t>(n_seqs) * snb1);
        graph.expand(op_.cpy(extra, dst));
        return out;
    }

    // src/models/mamba.cpp with build_mamba2_layer (src/models/graph-context-mamba.cpp)
    constexpr void build_mamba2() {
        tid inpL = build_inp_embd();
        build_rs_inp();
        build_inp_out_ids();
        const std::int64_t d_conv = hp_.ssm_d_conv;
        const std::int64_t d_inner = hp_.ssm_d_inner;
        const std::int64_t d_state = hp_.ssm_d_state;
        const std::int64_t n_head = hp_.ssm_dt_rank != 0 ? hp_.ssm_dt_rank : hp_.ssm_n_head;
        const std::int64_t head_dim = d_inner / n_head;
        const std::int64_t n_group = hp_.ssm_n_group == 0 ? 1 : hp_.ssm_n_group;
        const std::int64_t n_seqs = ub_.n_seqs;
        const std::int64_t n_seq_tokens = n_tokens_ / n_seqs;
        const std::int64_t conv_dim = d_inner + 2 * n_group * d_state;
        const std::int64_t n_embd_r = (d_conv - 1) * conv_dim;  // llama_hparams::n_embd_r
        const std::int64_t n_embd_s = d_state * d_inner;        // llama_hparams::n_embd_s
        for (std::uint32_t il = 0; il < hp_.n_layer; ++il) {
            begin_layer(il);
            tid cur = rms_norm_w(inpL);
            const tid conv_states = cache_tensor(ggml_type::f32, {n_embd_r, rs_.size, 1, 1}, il);
            const tid ssm_states = cache_tensor(ggml_type::f32, {n_embd_s, rs_.size, 1, 1}, il);

            tid conv = build_rs(conv_states, n_embd_r, [this](tid st, tid ids) { return op_.get_rows(st, ids); });
            conv = op_.reshape(conv, d_conv - 1, conv_dim, n_seqs);
            cur = op_.reshape(cur, n_embd(), n_seq_tokens, n_seqs);
            const tid zxBCdt = mm(cur, 2 * d_inner + 2 * n_group * d_state + n_head);
            const auto& zt = graph.at(zxBCdt);
            const std::uint64_t nb0 = zt.nb[0], znb1 = zt.nb[1], znb2 = zt.nb[2];
            const tid z = op_.view(zxBCdt, {head_dim, n_head, n_seq_tokens, n_seqs}, static_cast<std::uint64_t>(head_dim) * nb0,
                                   znb1, znb2, 0);
            tid xBC = op_.view(zxBCdt, {conv_dim, n_seq_tokens, n_seqs, 1}, znb1, znb2, znb2 * static_cast<std::uint64_t>(n_seqs),
                               static_cast<std::uint64_t>(d_inner) * 4);
            tid dt = op_.view(zxBCdt, {n_head, n_seq_tokens, n_seqs, 1}, znb1, znb2, znb2 * static_cast<std::uint64_t>(n_seqs),
                              static_cast<std::uint64_t>(2 * d_inner + 2 * n_group * d_state) * 4);
            {
                const tid conv_x = op_.concat(conv, op_.transpose(xBC), 0);
                const auto& cx = graph.at(conv_x);
                const tid last = op_.view(conv_x, {d_conv - 1, conv_dim, n_seqs, 1}, cx.nb[1], cx.nb[2],
                                          cx.nb[2] * static_cast<std::uint64_t>(n_seqs), static_cast<std::uint64_t>(n_seq_tokens) * cx.nb[0]);
                const std::int64_t n_last = (d_conv - 1) * conv_dim * n_seqs;
                const tid dst = op_.view(conv_states, {n_last, 1, 1, 1}, 4 * static_cast<std::uint64_t>(n_last),
                                         4 * static_cast<std::uint64_t>(n_last), 4 * static_cast<std::uint64_t>(n_last), 0);
                graph.expand(op_.cpy(last, dst));
                xBC = op_.ssm_conv(conv_x, weight(d_conv, conv_dim));
                xBC = op_.add(xBC, weight(conv_dim));
                xBC = op_.unary(xBC);  // silu
            }
            const auto& xb = graph.at(xBC);
            const std::uint64_t xnb0 = xb.nb[0], xnb1 = xb.nb[1], xnb2 = xb.nb[2];
            const tid x = op_.view(xBC, {head_dim, n_head, n_seq_tokens, n_seqs}, static_cast<std::uint64_t>(head_dim) * xnb0, xnb1, xnb2, 0);
            const tid B = op_.view(xBC, {d_state, n_group, n_seq_tokens, n_seqs}, static_cast<std::uint64_t>(d_state) * xnb0, xnb1, xnb2,
                                   static_cast<std::uint64_t>(d_inner) * 4);
            const tid C = op_.view(xBC, {d_state, n_group, n_seq_tokens, n_seqs}, static_cast<std::uint64_t>(d_state) * xnb0, xnb1, xnb2,
                                   static_cast<std::uint64_t>(d_inner + n_group * d_state) * 4);
            dt = op_.add(op_.cont(dt), weight(n_head));
            const tid A = weight(1, n_head);
            const std::int64_t size = rs_.size;
            const tid y_ssm = build_rs(ssm_states, n_embd_s, [&](tid st, tid ids) {
                const tid ssm = op_.reshape(st, d_state, head_dim, n_head, size);
                return op_.ssm_scan(ssm, x, dt, A, B, C, ids);
            });
            {
                const std::int64_t n_st = d_state * d_inner * n_seqs;
                const std::uint64_t bytes_st = 4 * static_cast<std::uint64_t>(n_st);
                const tid src = op_.view(y_ssm, {n_st, 1, 1, 1}, bytes_st, bytes_st, bytes_st,
                                         static_cast<std::uint64_t>(op_.nelements(x)) * graph.at(x).nb[0]);
                const tid dst = op_.view(ssm_states, {n_st, 1, 1, 1}, bytes_st, bytes_st, bytes_st, 0);
                graph.expand(op_.cpy(src, dst));
            }
            const std::uint64_t x_nb1 = graph.at(x).nb[1];
            tid y = op_.view(y_ssm, {head_dim, n_head, n_seq_tokens, n_seqs}, x_nb1, static_cast<std::uint64_t>(n_head) * x_nb1,
                             static_cast<std::uint64_t>(n_seq_tokens * n_head) * x_nb1, 0);
            y = op_.add(y, op_.mul(x, weight(1, n_head)));
            y = op_.glu_split(op_.cont(z), y);
            y = op_.reshape(y, d_inner / n_group, n_group, n_seq_tokens, n_seqs);
            y = rms_norm_w(y);
            y = op_.reshape(y, d_inner, n_seq_tokens, n_seqs);
            cur = mm(y, n_embd());
            cur = op_.reshape(cur, n_embd(), n_seq_tokens * n_seqs);
            if (il == hp_.n_layer - 1) {
                cur = op_.get_rows(cur, inp_out_ids_);
                inpL = op_.get_rows(inpL, inp_out_ids_);
            }
            cur = op_.add(cur, inpL);
            inpL = cur;
        }
        build_output(inpL, false);
    }

    // src/models/lfm2.cpp (hybrid: llama_memory_hybrid, attention layers in a KV cache, short
    // convolution layers in the recurrent state; build_inp_mem_hybrid builds both inputs)
    constexpr void build_lfm2() {
        build_rs_inp();
        build_attn_inputs();
        tid cur = build_inp_embd();
        build_inp_pos();
        build_inp_out_ids();
        const std::int64_t n_seqs = ub_.n_seqs;
        const std::int64_t n_seq_tokens = n_tokens_ / n_seqs;
        const std::int64_t d_conv = static_cast<std::int64_t>(hp_.ssm_d_conv) - 1;  // columns kept
        const std::int64_t n_embd_r = n_embd() * d_conv;                             // llama_hparams::n_embd_r
        for (std::uint32_t il = 0; il < hp_.n_layer; ++il) {
            begin_layer(il);
            tid prev = cur;
            cur = rms_norm_w(cur);
            if (hp_.layers[il].recurrent) {
                // build_shortconv_block
                cur = op_.reshape(cur, n_embd(), n_seq_tokens, n_seqs);
                const tid bcx = mm(cur, 3 * n_embd());
                const auto& bt = graph.at(bcx);
                const std::uint64_t nb1 = bt.nb[1], nb2 = bt.nb[2];
                const std::int64_t chunk = n_embd();
                const tid b = op_.view(bcx, {chunk, n_seq_tokens, n_seqs, 1}, nb1, nb2, nb2 * static_cast<std::uint64_t>(n_seqs), 0);
                const tid c = op_.view(bcx, {chunk, n_seq_tokens, n_seqs, 1}, nb1, nb2, nb2 * static_cast<std::uint64_t>(n_seqs),
                                       static_cast<std::uint64_t>(chunk) * 4);
                const tid x = op_.view(bcx, {chunk, n_seq_tokens, n_seqs, 1}, nb1, nb2, nb2 * static_cast<std::uint64_t>(n_seqs),
                                       static_cast<std::uint64_t>(2 * chunk) * 4);
                tid bx = op_.transpose(op_.mul(b, x));
                const tid conv_state = cache_tensor(ggml_type::f32, {n_embd_r, rs_.size, 1, 1}, il);
                const tid conv_rs = build_rs(conv_state, n_embd_r, [this](tid st, tid ids) { return op_.get_rows(st, ids); });
                const tid conv = op_.reshape(conv_rs, d_conv, n_embd(), n_seqs);
                bx = op_.concat(conv, bx, 0);
                const auto& xt = graph.at(bx);
                const tid new_conv = op_.view(bx, {d_conv, xt.ne[1], xt.ne[2], 1}, xt.nb[1], xt.nb[2],
                                              xt.nb[2] * static_cast<std::uint64_t>(xt.ne[2]),
                                              static_cast<std::uint64_t>(xt.ne[0] - d_conv) * 4);
                const std::int64_t n_new = op_.nelements(new_conv);
                const tid dst = op_.view(conv_state, {n_new, 1, 1, 1}, 4 * static_cast<std::uint64_t>(n_new),
                                         4 * static_cast<std::uint64_t>(n_new), 4 * static_cast<std::uint64_t>(n_new), 0);
                graph.expand(op_.cpy(new_conv, dst));
                const tid conv_out = op_.ssm_conv(bx, weight(hp_.ssm_d_conv, n_embd()));
                tid y = op_.mul(c, conv_out);
                y = mm(y, n_embd());
                cur = op_.reshape(y, n_embd(), n_seq_tokens * n_seqs);
            } else {
                // build_attn_block
                const std::int64_t hd = hp_.n_embd_head_v;
                tid q = mm(cur, hd * n_head(il));
                tid k = mm(cur, hd * n_head_kv(il));
                tid v = mm(cur, hd * n_head_kv(il));
                q = op_.reshape(q, hd, n_head(il), n_tokens_);
                k = op_.reshape(k, hd, n_head_kv(il), n_tokens_);
                v = op_.reshape(v, hd, n_head_kv(il), n_tokens_);
                q = rms_norm_w(q);
                k = rms_norm_w(k);
                q = op_.rope(q, inp_pos_);
                k = op_.rope(k, inp_pos_);
                cur = build_attn({il, q, k, v, -1, -1, false, false, n_embd()});
            }
            if (il == hp_.n_layer - 1) {
                cur = op_.get_rows(cur, inp_out_ids_);
                prev = op_.get_rows(prev, inp_out_ids_);
            }
            cur = op_.add(prev, cur);
            const tid ffn_in = rms_norm_w(cur);
            const tid ffn_out = is_moe_layer(il)
                ? build_moe_ffn(ffn_in, {expert_ff(il), gating::softmax, true, false, false, false})
                : build_ffn(ffn_in, dense_ff(il), ffn_act::silu_par);
            cur = op_.add(cur, ffn_out);
        }
        build_output(cur, false);
    }

    // ---- output -------------------------------------------------------------------------------

    // result_norm (t_embd) and the lm_head (t_logits) are graph outputs (llm_graph_result::set_outputs)
    constexpr void build_output(tid cur, bool final_softcap) {
        cur_layer_ = static_cast<std::int32_t>(hp_.n_layer);
        cur = rms_norm_w(cur);
        graph.at(cur).output = true;
        tid logits = mm(cur, hp_.n_vocab);
        if (final_softcap) logits = op_.scale(op_.unary(op_.scale(logits)));
        graph.at(logits).output = true;
        graph.expand(logits);
    }

    [[nodiscard]] constexpr std::int64_t dense_ff(std::uint32_t il) const { return hp_.layers[il].n_ff; }
    [[nodiscard]] constexpr std::int64_t expert_ff(std::uint32_t il) const {
        return hp_.n_ff_exp != 0 ? hp_.n_ff_exp : hp_.layers[il].n_ff;
    }
    [[nodiscard]] constexpr bool is_moe_layer(std::uint32_t il) const {
        return hp_.n_expert > 0 && il >= hp_.n_layer_dense_lead;
    }

    // ---- architectures ------------------------------------------------------------------------

    // src/models/llama.cpp (also Mixtral), qwen2.cpp (q/k/v biases), qwen3.cpp and qwen3moe.cpp
    // (RMS-normed q/k heads)
    constexpr void build_llama_family(bool qkv_bias, bool qk_norm) {
        tid inpL = build_inp_embd();
        build_inp_pos();
        build_attn_inputs();
        build_inp_out_ids();
        for (std::uint32_t il = 0; il < hp_.n_layer; ++il) {
            begin_layer(il);
            tid inpSA = inpL;
            tid cur = rms_norm_w(inpL);
            const std::int64_t hd = hp_.n_embd_head_k;
            tid q = mm(cur, hd * n_head(il));
            if (qkv_bias) q = bias(q);
            tid k = mm(cur, hd * n_head_kv(il));
            if (qkv_bias) k = bias(k);
            tid v = mm(cur, hp_.n_embd_head_v * n_head_kv(il));
            if (qkv_bias) v = bias(v);
            q = op_.reshape(q, hd, n_head(il), n_tokens_);
            k = op_.reshape(k, hd, n_head_kv(il), n_tokens_);
            v = op_.reshape(v, hp_.n_embd_head_v, n_head_kv(il), n_tokens_);
            if (qk_norm) q = rms_norm_w(q);
            // (llama 3 passes its rope_freqs weight as a third source: external, no memory)
            q = op_.rope(q, inp_pos_);
            if (qk_norm) k = rms_norm_w(k);
            k = op_.rope(k, inp_pos_);
            cur = build_attn({il, q, k, v, -1, -1, false, false, n_embd()});
            if (il == hp_.n_layer - 1) {
                cur = op_.get_rows(cur, inp_out_ids_);
                inpSA = op_.get_rows(inpSA, inp_out_ids_);
            }
            const tid ffn_inp = op_.add(cur, inpSA);
            cur = rms_norm_w(ffn_inp);
            if (is_moe_layer(il)) {
                cur = build_moe_ffn(cur, {expert_ff(il), gating::softmax, true, false, false, false});
            } else {
                cur = build_ffn(cur, dense_ff(il), ffn_act::silu_par);
            }
            cur = op_.add(cur, ffn_inp);
            inpL = cur;
        }
        build_output(inpL, false);
    }

    // src/models/gemma2-iswa.cpp and gemma3.cpp
    constexpr void build_gemma(bool gemma3) {
        tid inpL = build_inp_embd();
        inpL = op_.scale(inpL);
        build_inp_pos();
        build_attn_inputs();
        build_inp_out_ids();
        for (std::uint32_t il = 0; il < hp_.n_layer; ++il) {
            begin_layer(il);
            tid cur = rms_norm_w(inpL);
            const std::int64_t hd = hp_.n_embd_head_k;
            tid q = mm(cur, hd * n_head(il));
            tid k = mm(cur, hd * n_head_kv(il));
            tid v = mm(cur, hp_.n_embd_head_v * n_head_kv(il));
            q = op_.reshape(q, hd, n_head(il), n_tokens_);
            k = op_.reshape(k, hd, n_head_kv(il), n_tokens_);
            v = op_.reshape(v, hp_.n_embd_head_v, n_head_kv(il), n_tokens_);
            if (gemma3) q = rms_norm_w(q);
            q = op_.rope(q, inp_pos_);
            if (gemma3) k = rms_norm_w(k);
            k = op_.rope(k, inp_pos_);
            q = op_.scale(q);
            cur = build_attn({il, q, k, v, -1, -1, !gemma3, false, n_embd()});
            if (il == hp_.n_layer - 1) {
                cur = op_.get_rows(cur, inp_out_ids_);
                inpL = op_.get_rows(inpL, inp_out_ids_);
            }
            cur = rms_norm_w(cur);
            const tid sa_out = op_.add(cur, inpL);
            cur = rms_norm_w(sa_out);
            cur = build_ffn(cur, dense_ff(il), ffn_act::gelu_par);
            cur = rms_norm_w(cur);
            cur = op_.add(cur, sa_out);
            inpL = cur;
        }
        build_output(inpL, !gemma3);
    }

    // src/models/phi3.cpp: fused QKV (views of one product), fused gate|up (swiglu of one row)
    constexpr void build_phi3() {
        tid inpL = build_inp_embd();
        build_inp_pos();
        build_attn_inputs();
        build_inp_out_ids();
        for (std::uint32_t il = 0; il < hp_.n_layer; ++il) {
            begin_layer(il);
            tid residual = inpL;
            const tid cur0 = rms_norm_w(inpL);
            const std::int64_t hd = hp_.n_embd_head_k;
            const std::int64_t n_q = hd * n_head(il);
            const std::int64_t n_kv = hd * n_head_kv(il);
            const tid qkv = mm(cur0, n_q + 2 * n_kv);
            const std::uint64_t rh = op_.row_bytes(qkv, hd);
            const std::uint64_t nb1 = graph.at(qkv).nb[1];
            tid q = op_.view(qkv, {hd, n_head(il), n_tokens_, 1}, rh, nb1, nb1 * static_cast<std::uint64_t>(n_tokens_), 0);
            tid k = op_.view(qkv, {hd, n_head_kv(il), n_tokens_, 1}, rh, nb1, nb1 * static_cast<std::uint64_t>(n_tokens_),
                             op_.row_bytes(qkv, n_q));
            const tid v = op_.view(qkv, {hd, n_head_kv(il), n_tokens_, 1}, rh, nb1, nb1 * static_cast<std::uint64_t>(n_tokens_),
                                   op_.row_bytes(qkv, n_q + n_kv));
            q = op_.rope(q, inp_pos_);
            k = op_.rope(k, inp_pos_);
            q = op_.scale(q);
            tid cur = build_attn({il, q, k, v, -1, -1, false, false, n_embd()});
            if (il == hp_.n_layer - 1) {
                cur = op_.get_rows(cur, inp_out_ids_);
                residual = op_.get_rows(residual, inp_out_ids_);
            }
            cur = op_.add(cur, residual);
            residual = cur;
            cur = rms_norm_w(cur);
            cur = build_ffn(cur, dense_ff(il), ffn_act::swiglu_fused);
            cur = op_.add(residual, cur);
            inpL = cur;
        }
        build_output(inpL, false);
    }

    // src/models/openai-moe-iswa.cpp (gpt-oss): biased projections, attention sinks, biased
    // experts with the OAI swiglu, softmax over the selected experts' logits
    constexpr void build_gpt_oss() {
        tid inpL = build_inp_embd();
        build_inp_pos();
        build_attn_inputs();
        build_inp_out_ids();
        for (std::uint32_t il = 0; il < hp_.n_layer; ++il) {
            begin_layer(il);
            tid inpSA = inpL;
            tid cur = rms_norm_w(inpL);
            const std::int64_t hd = hp_.n_embd_head_k;
            tid q = bias(mm(cur, hd * n_head(il)));
            tid k = bias(mm(cur, hd * n_head_kv(il)));
            tid v = bias(mm(cur, hp_.n_embd_head_v * n_head_kv(il)));
            q = op_.reshape(q, hd, n_head(il), n_tokens_);
            k = op_.reshape(k, hd, n_head_kv(il), n_tokens_);
            v = op_.reshape(v, hp_.n_embd_head_v, n_head_kv(il), n_tokens_);
            q = op_.rope(q, inp_pos_);
            k = op_.rope(k, inp_pos_);
            cur = build_attn({il, q, k, v, weight(n_head(il)), -1, false, true, n_embd()});
            if (il == hp_.n_layer - 1) {
                cur = op_.get_rows(cur, inp_out_ids_);
                inpSA = op_.get_rows(inpSA, inp_out_ids_);
            }
            const tid ffn_inp = op_.add(cur, inpSA);
            cur = rms_norm_w(ffn_inp);
            cur = build_moe_ffn(cur, {expert_ff(il), gating::softmax_weight, false, false, true, false});
            cur = op_.add(cur, ffn_inp);
            inpL = cur;
        }
        build_output(inpL, false);
    }

    // src/models/deepseek2.cpp with MLA (K-only cache of the compressed latent, absorbed q, wv_b
    // applied after attention), the Lite variant (no q LoRA), dense lead layers, shared experts.
    constexpr void build_deepseek2() {
        const bool mla = hp_.is_mla();
        tid inpL = build_inp_embd();
        build_inp_pos();
        build_attn_inputs(!mla);
        build_inp_out_ids();
        const std::int64_t head_k = hp_.n_embd_head_k_mla;  // qk_nope + rope
        const std::int64_t head_v = hp_.n_embd_head_v_mla;
        const std::int64_t rope = hp_.n_rot;
        const std::int64_t nope = head_k - rope;
        const std::int64_t lora = hp_.n_lora_kv;
        for (std::uint32_t il = 0; il < hp_.n_layer; ++il) {
            begin_layer(il);
            tid inpSA = inpL;
            tid cur = rms_norm_w(inpL);
            const std::int64_t nh = n_head(il);
            tid q = -1;
            if (hp_.n_lora_q != 0) {
                q = mm(cur, hp_.n_lora_q);
                q = rms_norm_w(q);
                q = mm(q, nh * head_k);
            } else {
                q = mm(cur, nh * head_k);
            }
            const std::uint64_t rq = op_.row_bytes(q, head_k);
            tid q_nope = op_.view(q, {nope, nh, n_tokens_, 1}, rq, rq * static_cast<std::uint64_t>(nh),
                                  rq * static_cast<std::uint64_t>(nh * n_tokens_), 0);
            tid q_pe = op_.view(q, {rope, nh, n_tokens_, 1}, rq, rq * static_cast<std::uint64_t>(nh),
                                rq * static_cast<std::uint64_t>(nh * n_tokens_), op_.row_bytes(q, nope));
            const tid kv_cmpr_pe = mm(cur, lora + rope);
            const std::uint64_t rkv = op_.row_bytes(kv_cmpr_pe, lora + rope);
            tid kv_cmpr = op_.view(kv_cmpr_pe, {lora, n_tokens_, 1, 1}, rkv, rkv * static_cast<std::uint64_t>(n_tokens_),
                                   rkv * static_cast<std::uint64_t>(n_tokens_), 0);
            tid k_pe = op_.view(kv_cmpr_pe, {rope, 1, n_tokens_, 1}, rkv, rkv, rkv * static_cast<std::uint64_t>(n_tokens_),
                                op_.row_bytes(kv_cmpr_pe, lora));
            q_pe = op_.rope(q_pe, inp_pos_);
            k_pe = op_.rope(k_pe, inp_pos_);
            kv_cmpr = rms_norm_w(kv_cmpr);
            if (mla) {
                q_nope = op_.permute(q_nope, 0, 2, 1, 3);
                tid q_abs = op_.mul_mat(weight(nope, lora, nh), q_nope);
                q_abs = op_.permute(q_abs, 0, 2, 1, 3);
                const tid qcur = op_.concat(q_abs, q_pe, 0);
                kv_cmpr = op_.reshape(kv_cmpr, lora, 1, n_tokens_);
                const tid kcur = op_.concat(kv_cmpr, k_pe, 0);
                cur = build_attn({il, qcur, kcur, kv_cmpr, -1, weight(lora, head_v, nh), false, false, n_embd()});
            } else {
                const tid kv = mm(kv_cmpr, nh * (nope + head_v));
                const std::uint64_t r = op_.row_bytes(kv, nope + head_v);
                const tid k_nope = op_.view(kv, {nope, nh, n_tokens_, 1}, r, r * static_cast<std::uint64_t>(nh),
                                            r * static_cast<std::uint64_t>(nh * n_tokens_), 0);
                tid vcur = op_.view(kv, {head_v, nh, n_tokens_, 1}, r, r * static_cast<std::uint64_t>(nh),
                                    r * static_cast<std::uint64_t>(nh * n_tokens_), op_.row_bytes(kv, nope));
                vcur = op_.cont(vcur);
                const tid qcur = op_.concat(q_nope, q_pe, 0);
                const tid kcur = op_.concat(k_nope, op_.repeat(k_pe, q_pe), 0);
                cur = build_attn({il, qcur, kcur, vcur, -1, -1, false, false, n_embd()});
            }
            if (il == hp_.n_layer - 1) {
                cur = op_.get_rows(cur, inp_out_ids_);
                inpSA = op_.get_rows(inpSA, inp_out_ids_);
            }
            const tid ffn_inp = op_.add(cur, inpSA);
            cur = rms_norm_w(ffn_inp);
            if (!is_moe_layer(il)) {
                cur = build_ffn(cur, dense_ff(il), ffn_act::silu_par);
            } else {
                const tid moe_out = build_moe_ffn(cur, {expert_ff(il), gating::softmax, false, false, false, false});
                const std::int64_t shexp = hp_.n_ff_shexp != 0 ? hp_.n_ff_shexp
                                                               : expert_ff(il) * static_cast<std::int64_t>(hp_.n_expert_shared);
                const tid sh = build_ffn(cur, shexp, ffn_act::silu_par);
                cur = op_.add(moe_out, sh);
            }
            cur = op_.add(cur, ffn_inp);
            inpL = cur;
        }
        build_output(inpL, false);
    }

    // ---- layer-norm architectures (gptneox, command-r) ------------------------------------------

    // build_norm(cur, w, b, LLM_NORM): ggml_norm, then ggml_mul by the weight, ggml_add of the bias
    constexpr tid layer_norm_w(tid cur, bool with_bias) {
        cur = op_.mul(pin_norm(op_.norm(cur)), weight(op_.ne(cur)[0]));
        return with_bias ? bias(cur) : cur;
    }

    // The output tail of the layer-norm architectures: build_output's result_norm (t_embd) and
    // lm_head (t_logits) outputs, with LLM_NORM in place of RMS and command-r's logit scale.
    constexpr void build_output_layer_norm(tid cur, bool with_bias, bool logit_scale) {
        cur_layer_ = static_cast<std::int32_t>(hp_.n_layer);
        cur = layer_norm_w(cur, with_bias);
        graph.at(cur).output = true;
        tid logits = mm(cur, hp_.n_vocab);
        if (logit_scale) logits = op_.scale(logits);
        graph.at(logits).output = true;
        graph.expand(logits);
    }

    // src/models/gptneox.cpp: biased LayerNorms, fused biased QKV read through views, biased
    // output projection, GELU FFN (up + bias, gelu, down + bias); parallel residual (Pythia:
    // x + attn(ln1(x)) + ffn(ln2(x))) or sequential, per hparams.use_par_res.
    constexpr void build_gptneox() {
        tid inpL = build_inp_embd();
        build_inp_pos();
        build_attn_inputs();
        build_inp_out_ids();
        const std::int64_t hd = hp_.n_embd_head_k;
        for (std::uint32_t il = 0; il < hp_.n_layer; ++il) {
            begin_layer(il);
            tid cur = layer_norm_w(inpL, true);
            const std::int64_t n_kv = hd * n_head_kv(il);
            const tid qkv = bias(mm(cur, n_embd() + 2 * n_kv));
            const std::uint64_t rh = op_.row_bytes(qkv, hd);
            const std::uint64_t nb1 = graph.at(qkv).nb[1];
            const std::uint64_t nb2 = nb1 * static_cast<std::uint64_t>(n_tokens_);
            tid q = op_.view(qkv, {hd, n_head(il), n_tokens_, 1}, rh, nb1, nb2, 0);
            tid k = op_.view(qkv, {hd, n_head_kv(il), n_tokens_, 1}, rh, nb1, nb2, op_.row_bytes(qkv, n_embd()));
            tid v = op_.view(qkv, {hd, n_head_kv(il), n_tokens_, 1}, rh, nb1, nb2, op_.row_bytes(qkv, n_embd() + n_kv));
            if (ctx_.legacy_graph) {  // b4343: Qcur/Kcur/Vcur = ggml_cont(ggml_view_2d(...))
                q = op_.reshape(op_.cont(q), hd, n_head(il), n_tokens_);
                k = op_.reshape(op_.cont(k), hd, n_head_kv(il), n_tokens_);
                v = op_.reshape(op_.cont(v), hd, n_head_kv(il), n_tokens_);
            }
            q = op_.rope(q, inp_pos_);
            k = op_.rope(k, inp_pos_);
            cur = build_attn({il, q, k, v, -1, -1, false, true, n_embd()});
            if (il == hp_.n_layer - 1) {
                cur = op_.get_rows(cur, inp_out_ids_);
                inpL = op_.get_rows(inpL, inp_out_ids_);
            }
            const auto ffn = [&](tid in) {
                tid t = bias(mm(in, dense_ff(il)));
                t = op_.unary(t);  // gelu
                return bias(mm(t, n_embd()));
            };
            if (hp_.use_par_res) {
                const tid attn_out = cur;
                cur = ffn(layer_norm_w(inpL, true));
                cur = op_.add(cur, inpL);
                cur = op_.add(cur, attn_out);
            } else {
                const tid ffn_inp = op_.add(cur, inpL);
                cur = ffn(layer_norm_w(ffn_inp, true));
                cur = op_.add(cur, ffn_inp);
            }
            inpL = cur;
        }
        build_output_layer_norm(inpL, true, false);
    }

    // src/models/command-r.cpp: one LayerNorm (no bias) feeding attention and the FFN in
    // parallel; Command R+ (64+ layers) LayerNorms q and k per head; logits scaled.
    constexpr void build_command_r() {
        tid inpL = build_inp_embd();
        build_inp_pos();
        build_attn_inputs();
        build_inp_out_ids();
        const bool qk_norm = hp_.n_layer >= 64;  // attn_q_norm / attn_k_norm exist (load_tensors)
        const std::int64_t hd = hp_.n_embd_head_k;
        for (std::uint32_t il = 0; il < hp_.n_layer; ++il) {
            begin_layer(il);
            tid cur = layer_norm_w(inpL, false);
            tid ffn_inp = cur;
            tid q = mm(cur, hd * n_head(il));
            tid k = mm(cur, hd * n_head_kv(il));
            tid v = mm(cur, hp_.n_embd_head_v * n_head_kv(il));
            q = op_.reshape(q, hd, n_head(il), n_tokens_);
            k = op_.reshape(k, hd, n_head_kv(il), n_tokens_);
            v = op_.reshape(v, hp_.n_embd_head_v, n_head_kv(il), n_tokens_);
            if (qk_norm) q = op_.mul(pin_norm(op_.norm(q)), weight(hd, n_head(il)));
            q = op_.rope(q, inp_pos_);
            if (qk_norm) k = op_.mul(pin_norm(op_.norm(k)), weight(hd, n_head_kv(il)));
            k = op_.rope(k, inp_pos_);
            cur = build_attn({il, q, k, v, -1, -1, false, false, n_embd()});
            if (il == hp_.n_layer - 1) {
                cur = op_.get_rows(cur, inp_out_ids_);
                inpL = op_.get_rows(inpL, inp_out_ids_);
                ffn_inp = op_.get_rows(ffn_inp, inp_out_ids_);
            }
            const tid attn_out = cur;
            cur = build_ffn(ffn_inp, dense_ff(il), ffn_act::silu_par);
            cur = op_.add(cur, inpL);
            cur = op_.add(cur, attn_out);
            inpL = cur;
        }
        build_output_layer_norm(inpL, false, hp_.f_logit_scale != 0.0f);
    }

    // src/models/glm4.cpp: separate q/k/v (biased when the file has the biases), RMS pre- and post-norms around
    // attention and the FFN, fused gate|up (LLM_FFN_SWIGLU, LLM_FFN_SEQ: ggml_swiglu of one row).
    constexpr void build_glm4() {
        tid inpL = build_inp_embd();
        build_inp_pos();
        build_attn_inputs();
        build_inp_out_ids();
        const std::int64_t hd = hp_.n_embd_head_k;
        for (std::uint32_t il = 0; il < hp_.n_layer; ++il) {
            begin_layer(il);
            tid inpSA = inpL;
            tid cur = rms_norm_w(inpL);
            const bool qkv_bias = hp_.attn_qkv_bias;
            tid q = mm(cur, hd * n_head(il));
            if (qkv_bias) q = bias(q);
            tid k = mm(cur, hd * n_head_kv(il));
            if (qkv_bias) k = bias(k);
            tid v = mm(cur, hp_.n_embd_head_v * n_head_kv(il));
            if (qkv_bias) v = bias(v);
            q = op_.reshape(q, hd, n_head(il), n_tokens_);
            k = op_.reshape(k, hd, n_head_kv(il), n_tokens_);
            v = op_.reshape(v, hp_.n_embd_head_v, n_head_kv(il), n_tokens_);
            q = op_.rope(q, inp_pos_);
            k = op_.rope(k, inp_pos_);
            cur = build_attn({il, q, k, v, -1, -1, false, false, n_embd()});
            if (il == hp_.n_layer - 1) {
                cur = op_.get_rows(cur, inp_out_ids_);
                inpSA = op_.get_rows(inpSA, inp_out_ids_);
            }
            cur = rms_norm_w(cur);
            const tid ffn_inp = op_.add(cur, inpSA);
            cur = rms_norm_w(ffn_inp);
            cur = build_ffn(cur, dense_ff(il), ffn_act::swiglu_fused);
            cur = rms_norm_w(cur);
            inpL = op_.add(cur, ffn_inp);
        }
        build_output(inpL, false);
    }

    // src/models/llama4.cpp: chunked attention through the iSWA cache (3 chunked layers, then a
    // full one), NoPE on every n_no_rope_layer_step-th layer (q scaled by the attention
    // temperature input instead of RoPE), L2-normed q/k on RoPE layers (use_kq_norm), and MoE
    // layers of sigmoid-gated routed experts (top-k on the raw logits, the weight applied to the
    // input: weight_before_ffn) plus a shared expert.
    constexpr void build_llama4() {
        tid inpL = build_inp_embd();
        build_inp_pos();
        const tid attn_scale = graph.input_tensor(ggml_type::f32, {1, 1, n_tokens_, 1});  // build_inp_attn_scale
        build_attn_inputs();
        build_inp_out_ids();
        const std::int64_t hd = hp_.n_embd_head_k;
        for (std::uint32_t il = 0; il < hp_.n_layer; ++il) {
            begin_layer(il);
            const bool use_rope = hp_.n_no_rope_layer_step > 0 && (il + 1) % hp_.n_no_rope_layer_step != 0;
            tid inpSA = inpL;
            tid cur = rms_norm_w(inpL);
            tid q = mm(cur, hd * n_head(il));
            tid k = mm(cur, hd * n_head_kv(il));
            tid v = mm(cur, hp_.n_embd_head_v * n_head_kv(il));
            q = op_.reshape(q, hd, n_head(il), n_tokens_);
            k = op_.reshape(k, hd, n_head_kv(il), n_tokens_);
            v = op_.reshape(v, hp_.n_embd_head_v, n_head_kv(il), n_tokens_);
            if (use_rope) {
                q = op_.rope(q, inp_pos_);
                k = op_.rope(k, inp_pos_);
            } else {
                q = op_.mul(q, attn_scale);
            }
            if (use_rope && hp_.use_kq_norm) {
                q = op_.rms_norm(q);
                k = op_.rms_norm(k);
            }
            cur = build_attn({il, q, k, v, -1, -1, false, false, n_embd()});
            if (il == hp_.n_layer - 1) {
                cur = op_.get_rows(cur, inp_out_ids_);
                inpSA = op_.get_rows(inpSA, inp_out_ids_);
            }
            const tid ffn_inp = op_.add(cur, inpSA);
            if (hp_.layers[il].n_ff != 0) {  // a dense layer
                cur = rms_norm_w(ffn_inp);
                cur = build_ffn(cur, dense_ff(il), ffn_act::silu_par);
            } else {
                const tid normed = rms_norm_w(ffn_inp);
                moe_args args{hp_.n_ff_exp, gating::sigmoid, false, false, false, false};
                args.select_on_logits = true;
                args.weight_before_ffn = true;
                const tid moe_out = build_moe_ffn(normed, args);
                const tid shexp = build_ffn(normed, hp_.n_ff_exp, ffn_act::silu_par);
                cur = op_.add(moe_out, shexp);
            }
            cur = op_.add(cur, ffn_inp);
            inpL = cur;
        }
        build_output(inpL, false);
    }
};

} // namespace vramfit::llama_cpp::detail
