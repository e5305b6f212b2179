// vramfit/engines/llama_cpp/plan.hpp — the planner (plan/plan.hpp) for llama.cpp's CUDA build:
// the request, candidate and result types with llama.cpp's settings (plan_costs.hpp), the
// quantization ladder of a catalog model, and the compile-time form:
//
//   static_assert(vramfit::plan<catalog::gemma_3_12b, quant::Q4_K_M, gpu<"tesla-k80">, gpu<"tesla-k80">>().gpus_used == 1);
#pragma once

#include <array>
#include <string_view>
#include <utility>
#include <vector>

#include "vramfit/engines/llama_cpp/from_catalog.hpp"
#include "vramfit/engines/llama_cpp/model.hpp"
#include "vramfit/engines/llama_cpp/plan_costs.hpp"
#include "vramfit/engines/llama_cpp/quantize.hpp"
#include "vramfit/plan/plan.hpp"

namespace vramfit {

using plan_request = basic_plan_request<llama_cpp::engine>;
using plan_candidate = basic_plan_candidate<llama_cpp::engine>;
using plan_alternative = basic_plan_alternative<llama_cpp::engine>;
using plan_result = basic_plan_result<llama_cpp::engine>;

[[nodiscard]] constexpr result<plan_result> plan(const model_description& model, std::string_view quant, const plan_request& request) {
    std::vector<plan_candidate> candidates;
    candidates.push_back({quant, model});
    return plan(candidates, request);
}

// The quantizations "any" considers for a catalog model: llama-quantize's K and I-quant file
// types from 16 bits down, plus the checkpoint's native format (gpt-oss: MXFP4_MOE).
inline constexpr std::array<std::string_view, 17> plan_quant_ladder{
    "F16", "Q8_0", "Q6_K", "Q5_K_M", "Q5_K_S", "Q4_K_M", "Q4_K_S", "IQ4_XS", "Q3_K_L", "Q3_K_M",
    "IQ3_M", "Q3_K_S", "IQ3_XXS", "Q2_K", "IQ2_M", "IQ2_XS", "IQ2_XXS"};

// Every ladder quantization of a catalog model (the native one first, when it has one).
[[nodiscard]] constexpr result<std::vector<plan_candidate>> catalog_candidates(const catalog::model_entry& entry) {
    std::vector<plan_candidate> out;
    const std::string_view native = llama_cpp::native_ftype(entry);
    if (!native.empty()) {
        auto f = ftype_from_name(native);
        if (f) {
            auto m = llama_cpp::describe(entry, *f);
            if (!m) return m.err();
            out.push_back({native, std::move(*m)});
        }
    }
    for (const auto name : plan_quant_ladder) {
        auto f = ftype_from_name(name);
        if (!f) continue;
        if (!native.empty() && ftype_from_name(native) == f) continue;
        auto m = llama_cpp::describe(entry, *f);
        if (!m) {
            // The 2- and 3-bit I-quants need an importance matrix (llama-quantize refuses them
            // without one); published files are made with one.
            m = llama_cpp::describe_f16(entry);
            if (!m) return m.err();
            quantize_options options{};
            options.has_imatrix = true;
            auto q = quantize(*m, *f, options);
            if (!q) return q.err();
        }
        out.push_back({name, std::move(*m)});
    }
    return out;
}

// Compile-time form: catalog model, quantization tag and GPU tags. Throws (a compile error in a
// constant expression) when the model cannot be placed; the message says what would make it fit.
template <class Model, class Quant, class... Gpus>
[[nodiscard]] constexpr plan_result plan(plan_request request = {}) {
    request.gpus.clear();
    (request.gpus.push_back(Gpus::spec), ...);
    auto model = llama_cpp::describe(Model::entry, Quant::value);
    if (!model) throw model.err();
    auto r = plan(*model, Quant::name, request);
    if (!r) throw r.err();
    return std::move(*r);
}

} // namespace vramfit
