// vramfit/engines/transformers/device_map.hpp — the device_map from_pretrained computes for
// device_map="auto" | "balanced" | "balanced_low_0" | "sequential" with an explicit max_memory,
// key for key and in the same order as `model.hf_device_map`.
//
// Mirrors transformers 5.24.0 `integrations/accelerate.py`: `_get_device_map` (balanced budgets
// unless "sequential", then the quantizer's `adjust_max_memory`, then `infer_auto_device_map`),
// `get_balanced_memory`, `_init_infer_auto_device_map`, `infer_auto_device_map`, and from
// accelerate 1.15.0 `utils/modeling.py` `get_max_layer_size`, `get_module_size_with_ties`,
// `clean_device_map`. bitsandbytes budgets are Python floats (× 0.90, quantizer_bnb_*.py:
// adjust_max_memory), so budgets are doubles here: every size is an integer below 2^53, where a
// double sum or comparison is exact, as Python's int/float comparisons are.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "vramfit/core/bytes.hpp"
#include "vramfit/core/error.hpp"
#include "vramfit/engines/transformers/max_memory.hpp"
#include "vramfit/engines/transformers/module_sizes.hpp"
#include "vramfit/engines/transformers/modules.hpp"

namespace vramfit::transformers {

enum class placement_strategy : std::uint8_t { auto_, balanced, balanced_low_0, sequential };

[[nodiscard]] constexpr std::string_view to_string(placement_strategy s) noexcept {
    switch (s) {
        case placement_strategy::auto_: return "auto";
        case placement_strategy::balanced: return "balanced";
        case placement_strategy::balanced_low_0: return "balanced_low_0";
        case placement_strategy::sequential: return "sequential";
    }
    return "auto";
}

// A budget as infer_auto_device_map receives it: bytes, or a float after bitsandbytes' × 0.9.
struct device_budget {
    device_id device{};
    double amount = 0.0;
};

struct device_assignment {
    std::string module;  // "" is the whole model
    device_id device{};
};

struct device_bytes {
    device_id device{};
    bytes amount{};
};

struct device_map_result {
    std::vector<memory_budget> max_memory;       // get_max_memory(max_memory)
    std::vector<memory_budget> balanced;         // get_balanced_memory's return; empty for sequential
    std::vector<device_budget> infer_max_memory; // what infer_auto_device_map receives
    bytes initial_max_layer{};                   // get_max_layer_size over the root's direct entries
    std::vector<std::string> initial_max_layer_names;
    std::vector<device_assignment> map;          // after clean_device_map, in the library's order
    std::vector<device_bytes> bytes_per_device;  // Σ module sizes of the map's keys, per device, first-seen order
    // bitsandbytes' validate_environment refuses cpu / disk entries without
    // llm_int8_enable_fp32_cpu_offload: from_pretrained raises after computing `map`.
    bool refused = false;
};

namespace detail {

// An entry of `modules_to_treat`: a module, or a direct parameter / buffer of one.
struct treat_item {
    std::string name;
    std::size_t node = 0;
    enum class kind : std::uint8_t { module, param, buffer } type = kind::module;
    std::size_t tensor = 0;
};

// `modules_to_treat` with pop(0) and prepends in O(1): stored reversed, the front is the back.
class treat_list {
public:
    std::vector<treat_item> items;  // reversed
    [[nodiscard]] constexpr bool empty() const noexcept { return items.empty(); }
    [[nodiscard]] constexpr std::size_t size() const noexcept { return items.size(); }
    // i-th from the front
    [[nodiscard]] constexpr const treat_item& at(std::size_t i) const { return items[items.size() - 1 - i]; }
    constexpr treat_item pop_front() { auto t = std::move(items.back()); items.pop_back(); return t; }
    constexpr void erase_at(std::size_t i) { items.erase(items.begin() + static_cast<std::ptrdiff_t>(items.size() - 1 - i)); }
    // Prepends `front` (given in front-to-back order).
    constexpr void prepend(std::vector<treat_item> front) {
        for (std::size_t k = front.size(); k-- > 0;) items.push_back(std::move(front[k]));
    }
    // Replaces the entry at i by `replacement` (front-to-back order).
    constexpr void replace_at(std::size_t i, std::vector<treat_item> replacement) {
        auto pos = items.size() - 1 - i;
        items.erase(items.begin() + static_cast<std::ptrdiff_t>(pos));
        for (std::size_t k = 0; k < replacement.size(); ++k)
            items.insert(items.begin() + static_cast<std::ptrdiff_t>(pos), std::move(replacement[k]));
    }
};

[[nodiscard]] constexpr std::string join(const std::string& prefix, const std::string& local) {
    return prefix.empty() ? local : prefix + "." + local;
}

// named_parameters(recurse=False) [+ named_children()] [+ named_buffers(recurse=False)], named
// under `prefix`.
[[nodiscard]] constexpr std::vector<treat_item> direct_entries(const module_tree& tree, std::size_t node,
                                                               bool with_buffers) {
    const auto& m = tree.nodes[node];
    std::vector<treat_item> out;
    for (std::size_t k = 0; k < m.params.size(); ++k)
        out.push_back(treat_item{join(m.name, m.params[k].name), node, treat_item::kind::param, k});
    for (auto c : m.children) out.push_back(treat_item{tree.nodes[c].name, c, treat_item::kind::module, 0});
    if (with_buffers)
        for (std::size_t k = 0; k < m.buffers.size(); ++k)
            out.push_back(treat_item{join(m.name, m.buffers[k].name), node, treat_item::kind::buffer, k});
    return out;
}

[[nodiscard]] constexpr std::uint64_t item_size(const module_sizes& sizes, const treat_item& it) {
    switch (it.type) {
        case treat_item::kind::module: return sizes.total[it.node];
        case treat_item::kind::param: return sizes.param_bytes[it.node][it.tensor];
        case treat_item::kind::buffer: return sizes.buffer_bytes[it.node][it.tensor];
    }
    return 0;
}

// accelerate get_max_layer_size: the largest "layer" (a module without children, a tensor, or a
// no-split module) reachable by splitting the others, and every name reaching that size.
constexpr void max_layer_size(const module_tree& tree, const module_sizes& sizes, const treat_list& list,
                              bool modules_only, std::uint64_t& max_size, std::vector<std::string>& names) {
    max_size = 0;
    names.clear();
    std::vector<treat_item> stack;  // reversed: the front is the back
    for (std::size_t i = list.size(); i-- > 0;) {
        const auto& it = list.at(i);
        if (modules_only && it.type != treat_item::kind::module) continue;
        stack.push_back(it);
    }
    while (!stack.empty()) {
        auto it = std::move(stack.back());
        stack.pop_back();
        const bool splittable = it.type == treat_item::kind::module && !tree.nodes[it.node].children.empty() &&
                                !tree.is_no_split(tree.nodes[it.node].class_name);
        if (!splittable) {
            auto size = item_size(sizes, it);
            if (size > max_size) { max_size = size; names.clear(); names.push_back(it.name); }
            else if (size == max_size) names.push_back(it.name);
        } else {
            const auto& ch = tree.nodes[it.node].children;
            for (std::size_t k = ch.size(); k-- > 0;)
                stack.push_back(treat_item{tree.nodes[ch[k]].name, ch[k], treat_item::kind::module, 0});
        }
    }
}

[[nodiscard]] constexpr bool contains(std::string_view hay, std::string_view needle) {
    return hay.find(needle) != std::string_view::npos;
}

// accelerate clean_device_map: a module whose keys all share one device becomes one key
// (appended at the end, as `device_map[module_name] = ...` does after the deletions), then each
// child prefix is cleaned. Python iterates the children as a set; here they go in first-seen
// order.
constexpr void clean_device_map(std::vector<device_assignment>& map, const std::string& module_name) {
    std::string prefix;  // built by append (GCC 12 constexpr strings: see modules.hpp)
    if (!module_name.empty()) { prefix.append(module_name); prefix.push_back('.'); }
    auto under = [&](const std::string& k) { return k.size() >= prefix.size() && k.compare(0, prefix.size(), prefix) == 0; };
    std::size_t count = 0;
    bool same = true;
    device_id first{};
    for (const auto& a : map) {
        if (!under(a.module)) continue;
        if (count == 0) first = a.device;
        else if (!(a.device == first)) same = false;
        ++count;
    }
    if (count > 1 && same) {
        std::vector<device_assignment> kept;
        for (auto& a : map) if (!under(a.module)) kept.push_back(std::move(a));
        kept.push_back(device_assignment{module_name, first});
        map = std::move(kept);
    }
    const std::size_t depth = module_name.empty() ? 1 : [&] {
        std::size_t d = 1;
        for (char c : module_name) if (c == '.') ++d;
        return d + 1;
    }();
    std::vector<std::string> children;
    for (const auto& a : map) {
        if (!under(a.module) || a.module.size() <= module_name.size()) continue;
        // the first `depth` dotted parts
        std::size_t pos = 0, parts = 0;
        while (parts < depth) {
            auto dot = a.module.find('.', pos);
            ++parts;
            if (dot == std::string::npos) { pos = a.module.size(); break; }
            pos = parts < depth ? dot + 1 : dot;
        }
        std::string child = a.module.substr(0, pos);
        bool seen = false;
        for (const auto& c : children) if (c == child) { seen = true; break; }
        if (!seen) children.push_back(std::move(child));
    }
    for (const auto& c : children) clean_device_map(map, c);
}

[[nodiscard]] constexpr std::uint64_t floor_to_u64(double v) {
    return v <= 0.0 ? 0 : static_cast<std::uint64_t>(v);
}

} // namespace detail

// get_balanced_memory(model, max_memory, no_split_module_classes, hf_quantizer, low_zero) with an
// explicit max_memory (so no 0.9 factor: that applies only when max_memory is None).
[[nodiscard]] constexpr result<std::vector<memory_budget>> get_balanced_memory(
    const module_tree& tree, const module_sizes& sizes, std::vector<memory_budget> max_memory, bool low_zero) {
    std::size_t num_devices = 0;
    for (const auto& m : max_memory) if (m.device.is_gpu() && m.amount.count() > 0) ++num_devices;
    if (num_devices == 0) return max_memory;
    if (num_devices == 1) low_zero = false;
    const std::uint64_t total = sizes.total[0];
    std::uint64_t per_gpu = total / (low_zero ? num_devices - 1 : num_devices);
    // The buffer: the largest no-split module of the model and the largest leaf module (a module
    // holding tensors), whichever is bigger, × 1.25.
    std::uint64_t largest_block = 0, largest_leaf = 0;
    for (std::size_t i = 1; i < tree.nodes.size(); ++i) {
        if (tree.is_no_split(tree.nodes[i].class_name) && sizes.total[i] > largest_block) largest_block = sizes.total[i];
        if (sizes.leaf[i] && sizes.direct[i] > largest_leaf) largest_leaf = sizes.direct[i];
    }
    const std::uint64_t buffer = static_cast<std::uint64_t>(1.25 * static_cast<double>(largest_block > largest_leaf ? largest_block : largest_leaf));
    per_gpu += buffer;
    auto find = [&](std::uint32_t gpu) -> memory_budget* {
        for (auto& m : max_memory) if (m.device == device_id::gpu(gpu)) return &m;
        return nullptr;
    };
    std::vector<std::uint32_t> gpus;  // already sorted by get_max_memory
    for (const auto& m : max_memory) if (m.device.is_gpu() && m.amount.count() > 0) gpus.push_back(m.device.index);
    for (std::size_t k = 0; k + 1 < gpus.size(); ++k) {
        auto* entry = find(gpus[k]);
        std::uint64_t cap = per_gpu;
        if (low_zero && gpus[k] == 0) {
            auto* zero = find(0);
            cap = zero->amount.count();
        }
        if (cap < entry->amount.count()) entry->amount = bytes{cap};
    }
    if (low_zero) {
        std::uint64_t others = 0;
        for (std::uint32_t i = 1; i < num_devices; ++i) {
            auto* e = find(i);
            if (e == nullptr) return error{errc::invalid_argument, "balanced_low_0 needs GPUs numbered 0..n-1; missing "}.with_number(i);
            others += e->amount.count();
        }
        auto* zero = find(0);
        if (zero == nullptr) return error{errc::invalid_argument, "balanced_low_0 needs GPU 0 in max_memory"};
        const std::uint64_t min_zero = total > others ? total - others : 0;
        if (min_zero < zero->amount.count()) zero->amount = bytes{min_zero};
    }
    return max_memory;
}

// infer_auto_device_map(model, max_memory, no_split_module_classes, hf_quantizer) with
// clean_result=True, offload_buffers=False and the tied groups of all_tied_weights_keys.
[[nodiscard]] constexpr result<std::vector<device_assignment>> infer_auto_device_map(
    const module_tree& tree, const module_sizes& sizes, std::vector<device_budget> budgets,
    std::uint64_t* initial_max_layer = nullptr, std::vector<std::string>* initial_max_names = nullptr) {
    using detail::treat_item;
    // _init_infer_auto_device_map: devices in max_memory order, "disk" appended; the main devices
    // (those that keep a reserve for a layer coming back) are the first GPU and the cpu.
    std::vector<device_id> devices;
    for (const auto& b : budgets) devices.push_back(b.device);
    bool has_disk = false;
    for (const auto& d : devices) if (d.type == device_id::kind::disk) has_disk = true;
    if (!has_disk) devices.push_back(device_id::disk());
    std::optional<device_id> first_gpu;
    for (const auto& d : devices) if (d.is_gpu()) { first_gpu = d; break; }
    auto is_main = [&](device_id d) { return d.type == device_id::kind::cpu || (first_gpu && d == *first_gpu); };
    auto budget_of = [&](device_id d) {
        for (const auto& b : budgets) if (b.device == d) return b.amount;
        return 0.0;
    };
    // Tied groups: per distinct source, sorted(targets + [source]).
    std::vector<std::vector<std::string>> tied_groups;
    for (const auto& t : tree.tied) {
        bool seen = false;
        for (const auto& g : tied_groups)
            for (const auto& n : g) if (n == t.source) seen = true;
        if (seen) continue;
        std::vector<std::string> g;
        for (const auto& u : tree.tied) if (u.source == t.source) g.push_back(u.target);
        g.push_back(t.source);
        for (std::size_t i = 1; i < g.size(); ++i)
            for (std::size_t j = i; j > 0 && g[j] < g[j - 1]; --j) std::swap(g[j], g[j - 1]);
        tied_groups.push_back(std::move(g));
    }

    detail::treat_list todo;
    todo.prepend(detail::direct_entries(tree, 0, true));

    std::vector<device_assignment> map;
    std::size_t current = 0;
    std::vector<double> used(devices.size(), 0.0);
    std::uint64_t max_layer = 0;
    std::vector<std::string> max_names;
    detail::max_layer_size(tree, sizes, todo, false, max_layer, max_names);
    if (initial_max_layer != nullptr) *initial_max_layer = max_layer;
    if (initial_max_names != nullptr) *initial_max_names = max_names;

    while (!todo.empty()) {
        auto item = todo.pop_front();
        const std::string& name = item.name;
        // Drop the names this entry covers; recompute over the remaining modules when none is left.
        {
            std::vector<std::string> kept;
            const std::string sub = name + ".";
            for (auto& n : max_names) if (n != name && !n.starts_with(sub)) kept.push_back(std::move(n));
            max_names = std::move(kept);
            if (max_names.empty()) detail::max_layer_size(tree, sizes, todo, true, max_layer, max_names);
        }
        const std::uint64_t module_size = detail::item_size(sizes, item);
        // Tied groups with one member inside this entry and one outside ("name." in "k.": a substring
        // test, as the library writes it).
        const std::string dotted = name + ".";
        std::vector<std::string> tied_params;
        for (const auto& g : tied_groups) {
            bool any = false, all = true;
            for (const auto& k : g) {
                const bool inside = detail::contains(k + ".", dotted);
                any = any || inside;
                all = all && inside;
            }
            if (!any || all) continue;
            for (const auto& k : g) if (!detail::contains(k + ".", dotted)) tied_params.push_back(k);
        }
        if (current >= devices.size())
            return error{errc::out_of_budget, "no device left for '"}.with(name).with("'");
        const device_id device = devices[current];
        const bool unbounded = device.type == device_id::kind::disk;
        double max_size = unbounded ? 0.0 : budget_of(device);
        std::uint64_t reserved = 0;
        if (is_main(device)) { max_size -= static_cast<double>(max_layer); reserved = max_layer; }

        // get_module_size_with_ties: for each tied parameter, the first remaining entry it lies in.
        std::uint64_t size_with_ties = module_size;
        std::vector<std::size_t> tied_index;  // positions in todo (from the front)
        std::vector<std::string> tied_names;
        for (const auto& tp : tied_params) {
            std::size_t found = todo.size();
            for (std::size_t i = 0; i < todo.size(); ++i)
                if (tp.starts_with(todo.at(i).name + ".")) { found = i; break; }
            if (found == todo.size())
                return error{errc::invalid_argument, "tied parameter '"}.with(tp).with("' is in no module left to place");
            tied_index.push_back(found);
            tied_names.push_back(todo.at(found).name);
            size_with_ties += detail::item_size(sizes, todo.at(found)) - size_of_name(tree, sizes, tp);
        }

        const double used_now = used[current];
        if (unbounded || used_now + static_cast<double>(size_with_ties) <= max_size) {
            used[current] += static_cast<double>(size_with_ties);
            map.push_back(device_assignment{name, device});
            for (const auto& tn : tied_names) {
                for (std::size_t i = 0; i < todo.size(); ++i)
                    if (todo.at(i).name == tn) { todo.erase_at(i); break; }
                map.push_back(device_assignment{tn, device});
            }
            continue;
        }

        // The entry fits without its tied modules: split the first splittable tied module.
        if (!tied_params.empty() && used_now + static_cast<double>(module_size) <= max_size) {
            bool split = false;
            for (std::size_t t = 0; t < tied_names.size(); ++t) {
                std::size_t pos = todo.size();
                for (std::size_t i = 0; i < todo.size(); ++i) if (todo.at(i).name == tied_names[t]) { pos = i; break; }
                if (pos == todo.size()) continue;
                const auto& tm = todo.at(pos);
                if (tm.type != treat_item::kind::module) continue;
                const auto& node = tree.nodes[tm.node];
                if (node.children.empty() || tree.is_no_split(node.class_name)) continue;
                auto children = detail::direct_entries(tree, tm.node, false);
                todo.replace_at(pos, std::move(children));
                todo.prepend({std::move(item)});
                detail::max_layer_size(tree, sizes, todo, true, max_layer, max_names);
                split = true;
                break;
            }
            if (split) continue;
        }

        // The entry does not fit: split it, or move on to the next device.
        if (used_now + static_cast<double>(module_size) >= max_size) {
            const bool can_split = item.type == treat_item::kind::module && !tree.nodes[item.node].children.empty() &&
                                   !tree.is_no_split(tree.nodes[item.node].class_name);
            if (can_split) {
                todo.prepend(detail::direct_entries(tree, item.node, false));
                detail::max_layer_size(tree, sizes, todo, true, max_layer, max_names);
                continue;
            }
        }
        used[current] += static_cast<double>(reserved);
        ++current;
        todo.prepend({std::move(item)});
    }
    detail::clean_device_map(map, std::string{});
    return map;
}

// _get_device_map(model, strategy, max_memory, hf_quantizer) for an explicit max_memory.
[[nodiscard]] constexpr result<device_map_result> compute_device_map(const module_tree& tree,
                                                                     const std::vector<memory_spec>& max_memory,
                                                                     placement_strategy strategy) {
    device_map_result out;
    auto parsed = get_max_memory(max_memory);
    if (!parsed) return parsed.err();
    out.max_memory = *parsed;
    const auto sizes = compute_module_sizes(tree);
    std::vector<memory_budget> inferred = out.max_memory;
    if (strategy != placement_strategy::sequential) {
        auto balanced = get_balanced_memory(tree, sizes, out.max_memory, strategy == placement_strategy::balanced_low_0);
        if (!balanced) return balanced.err();
        out.balanced = *balanced;
        inferred = *balanced;
    }
    const bool bnb = is_bitsandbytes(tree.load.quant);
    for (const auto& m : inferred) {
        double amount = static_cast<double>(m.amount.count());
        if (bnb) amount *= 0.90;  // quantizer_bnb_{4,8}bit.py: adjust_max_memory
        // "respect the max_memory passed by the user": min with the parsed entry.
        for (const auto& given : out.max_memory)
            if (given.device == m.device && static_cast<double>(given.amount.count()) < amount)
                amount = static_cast<double>(given.amount.count());
        out.infer_max_memory.push_back(device_budget{m.device, amount});
    }
    std::uint64_t initial = 0;
    auto map = infer_auto_device_map(tree, sizes, out.infer_max_memory, &initial, &out.initial_max_layer_names);
    if (!map) return map.err();
    out.initial_max_layer = bytes{initial};
    out.map = std::move(*map);
    for (const auto& a : out.map) {
        const auto size = size_of_name(tree, sizes, a.module);
        bool found = false;
        for (auto& d : out.bytes_per_device)
            if (d.device == a.device) { d.amount += bytes{size}; found = true; break; }
        if (!found) out.bytes_per_device.push_back(device_bytes{a.device, bytes{size}});
        if (bnb && !a.device.is_gpu() && !tree.load.fp32_cpu_offload) out.refused = true;
    }
    return out;
}

} // namespace vramfit::transformers
