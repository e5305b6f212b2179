// vramfit/engines/transformers/module_sizes.hpp — compute_module_sizes as transformers counts.
//
// Mirrors `transformers/integrations/accelerate.py: compute_module_sizes`: every parameter and
// every buffer (non-persistent ones too: "state_dict does not count non-persistent buffers which
// are taking space"), numel × the element size the quantizer reports (`param_element_size`:
// bitsandbytes 1 or 0.5 byte for quantized Linear weights), added to the tensor's own entry and to
// every prefix module; keys of `all_tied_weights_keys` (tied targets) count nothing and are not
// leaves. The "leaves" are the modules that directly hold a counted tensor (the second dict).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "vramfit/core/bytes.hpp"
#include "vramfit/engines/transformers/modules.hpp"

namespace vramfit::transformers {

struct module_sizes {
    std::vector<std::uint64_t> total;            // per node: Σ of its subtree (only_modules=True)
    std::vector<std::uint64_t> buffers;          // per node: Σ of the buffers in its subtree
    std::vector<std::uint64_t> direct;           // per node: Σ of its own counted tensors
    std::vector<bool> leaf;                      // per node: holds at least one counted tensor
    std::vector<std::vector<std::uint64_t>> param_bytes;   // per node, per direct parameter (0: tied target)
    std::vector<std::vector<std::uint64_t>> buffer_bytes;  // per node, per direct buffer

    [[nodiscard]] constexpr bytes of(std::size_t node) const { return bytes{total[node]}; }
    [[nodiscard]] constexpr bytes root() const { return bytes{total[0]}; }
};

namespace detail {
[[nodiscard]] constexpr bool is_tied_target(const module_tree& tree, const module_node& node, std::string_view local) {
    for (const auto& t : tree.tied) {
        std::string_view target = t.target;
        if (node.name.empty()) {
            if (target == local) return true;
        } else if (target.size() == node.name.size() + 1 + local.size() && target.starts_with(node.name) &&
                   target[node.name.size()] == '.' && target.ends_with(local)) {
            return true;
        }
    }
    return false;
}
} // namespace detail

[[nodiscard]] constexpr module_sizes compute_module_sizes(const module_tree& tree) {
    const auto n = tree.nodes.size();
    module_sizes s;
    s.total.assign(n, 0);
    s.buffers.assign(n, 0);
    s.direct.assign(n, 0);
    s.leaf.assign(n, false);
    s.param_bytes.resize(n);
    s.buffer_bytes.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
        const auto& node = tree.nodes[i];
        for (const auto& p : node.params) {
            const bool tied = detail::is_tied_target(tree, node, p.name);
            const std::uint64_t b = tied ? 0 : p.counted_bytes();
            s.param_bytes[i].push_back(b);
            if (!tied) { s.direct[i] += b; s.leaf[i] = true; }
        }
        std::uint64_t own_buffers = 0;
        for (const auto& buf : node.buffers) {
            const std::uint64_t b = buf.counted_bytes();
            s.buffer_bytes[i].push_back(b);
            s.direct[i] += b;
            own_buffers += b;
            s.leaf[i] = true;
        }
        // Add to every prefix: nodes are created parent first, so walk up the parent chain.
        for (std::size_t at = i;; at = tree.nodes[at].parent) {
            s.total[at] += s.direct[i];
            s.buffers[at] += own_buffers;
            if (at == 0) break;
        }
    }
    return s;
}

// The size of a dotted name as `module_sizes[name]` reads it for compute_module_sizes(...,
// only_modules=False): a module, or one parameter / buffer; 0 for a name it never saw (the
// function returns a defaultdict).
[[nodiscard]] constexpr std::uint64_t size_of_name(const module_tree& tree, const module_sizes& sizes,
                                                   std::string_view name) {
    if (const auto* m = tree.find_module(name)) return sizes.total[static_cast<std::size_t>(m - tree.nodes.data())];
    auto dot = name.rfind('.');
    const module_node* owner = dot == std::string_view::npos ? &tree.nodes[0] : tree.find_module(name.substr(0, dot));
    if (owner == nullptr) return 0;
    auto local = dot == std::string_view::npos ? name : name.substr(dot + 1);
    const auto idx = static_cast<std::size_t>(owner - tree.nodes.data());
    for (std::size_t k = 0; k < owner->params.size(); ++k)
        if (owner->params[k].name == local) return sizes.param_bytes[idx][k];
    for (std::size_t k = 0; k < owner->buffers.size(); ++k)
        if (owner->buffers[k].name == local) return sizes.buffer_bytes[idx][k];
    return 0;
}

} // namespace vramfit::transformers
