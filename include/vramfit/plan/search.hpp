// vramfit/plan/search.hpp — the placement search, over the engine's per-unit costs
// (plan/engine.hpp).
//
// A search asks the same question thousands of times ("do these units fit on these devices?"),
// so the costs are computed once per candidate (weight_costs) and once per context
// (context_costs), and the question becomes a pass over n_layer + 1 numbers:
//  * fill: can the last n units be cut into contiguous blocks, in device order, each within a
//    share of its device's room? (greedy: exact for ordered contiguous bins)
//  * balanced_fill: the split that fills every device to the same share (bisection on it);
//  * speed_fill: the split of least decode time (a dynamic programme, plan/speed.hpp);
//  * host_side: what must then sit in host memory.
// Above them: the device subsets in the objective's order (place_all on the fewest devices that
// hold everything; place_offload of the rest to the host: splittable parts first, then whole
// units), and other machines when one is not enough (best_placement).
#pragma once

#include <algorithm>
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "vramfit/core/bytes.hpp"
#include "vramfit/plan/device.hpp"
#include "vramfit/plan/engine.hpp"
#include "vramfit/plan/request.hpp"
#include "vramfit/plan/result.hpp"
#include "vramfit/plan/speed.hpp"

namespace vramfit::detail::planner {

// One device of a search: what it can give to units (capacity - fixed cost - reserve).
struct search_device {
    std::uint64_t room = 0;
};

// Cost on a device of unit `il` when units below split_on_host keep their splittable part on the host.
[[nodiscard]] constexpr std::uint64_t unit_cost(const weight_costs& w, const context_costs& c, std::uint32_t il,
                                                std::uint32_t split_on_host) noexcept {
    std::uint64_t cost = w.layers[il].on_device + c.layers[il].device;
    if (il < split_on_host && il < w.n_layer()) cost -= w.layers[il].splittable;
    return cost;
}

// Can the last `on_devices` units of the sequence 0..n_layer be cut into contiguous blocks,
// in device order, each within `fraction` of its device's room? On success `counts` holds the
// units per device.
[[nodiscard]] constexpr bool fill(const weight_costs& w, const context_costs& c, std::uint32_t on_devices,
                                  std::uint32_t split_on_host, const std::vector<search_device>& devices, double fraction,
                                  std::vector<std::uint32_t>& counts) {
    counts.clear();
    for (std::size_t j = 0; j < devices.size(); ++j) counts.push_back(0);
    if (devices.empty()) return on_devices == 0;
    const std::uint32_t n_layer = w.n_layer();
    const std::uint32_t first = n_layer + 1 - on_devices;
    std::size_t j = 0;
    std::uint64_t used = 0;
    for (std::uint32_t il = first; il <= n_layer; ++il) {
        const std::uint64_t cost = unit_cost(w, c, il, split_on_host);
        while (j < devices.size() && static_cast<double>(used + cost) > fraction * static_cast<double>(devices[j].room)) {
            ++j;
            used = 0;
        }
        if (j == devices.size()) return false;
        used += cost;
        ++counts[j];
    }
    return true;
}

// The split that keeps every device's fill fraction lowest (memory balance, as llama.cpp's
// default split by free memory intends): bisection on the common fraction.
[[nodiscard]] constexpr bool balanced_fill(const weight_costs& w, const context_costs& c, std::uint32_t on_devices,
                                           std::uint32_t split_on_host, const std::vector<search_device>& devices,
                                           std::vector<std::uint32_t>& counts) {
    if (!fill(w, c, on_devices, split_on_host, devices, 1.0, counts)) return false;
    double lo = 0.0;
    double hi = 1.0;
    std::vector<std::uint32_t> trial;
    for (int it = 0; it < 24; ++it) {
        const double mid = (lo + hi) / 2;
        if (fill(w, c, on_devices, split_on_host, devices, mid, trial)) hi = mid;
        else lo = mid;
    }
    return fill(w, c, on_devices, split_on_host, devices, hi, counts);
}

// The split that minimises the decode time of the pipeline, Σ_device bytes read there /
// bandwidth (plan/speed.hpp), each block within its device's room: a dynamic programme over
// (device, units placed), O(devices x units^2). Faster devices take as much as they hold.
[[nodiscard]] constexpr bool speed_fill(const weight_costs& w, const context_costs& c, std::uint32_t on_devices,
                                        std::uint32_t split_on_host, const std::vector<search_device>& devices,
                                        const std::vector<double>& seconds_per_byte, std::vector<std::uint32_t>& counts) {
    counts.clear();
    for (std::size_t j = 0; j < devices.size(); ++j) counts.push_back(0);
    if (devices.empty()) return on_devices == 0;
    const std::uint32_t n_layer = w.n_layer();
    const std::uint32_t first = n_layer + 1 - on_devices;
    const std::size_t n = on_devices;
    std::vector<std::uint64_t> mem{0};
    std::vector<double> read{0.0};
    for (std::uint32_t il = first; il <= n_layer; ++il) {
        mem.push_back(mem.back() + unit_cost(w, c, il, split_on_host));
        const bool on_host = il < split_on_host && il < n_layer;
        read.push_back(read.back() + w.layers[il].read - (on_host ? w.layers[il].read_splittable : 0.0) + c.layers[il].read);
    }
    constexpr double none = 1e300;
    const std::size_t k = devices.size();
    std::vector<double> dp;          // dp[j * (n + 1) + i]: first i units on devices < j
    std::vector<std::uint32_t> from; // the start of device j-1's block
    for (std::size_t x = 0; x < (k + 1) * (n + 1); ++x) { dp.push_back(none); from.push_back(0); }
    dp[0] = 0;
    for (std::size_t j = 1; j <= k; ++j) {
        for (std::size_t i = 0; i <= n; ++i) {
            for (std::size_t s = i + 1; s-- > 0;) {
                if (mem[i] - mem[s] > devices[j - 1].room) break;  // longer blocks only grow
                const double prev = dp[(j - 1) * (n + 1) + s];
                if (prev >= none) continue;
                const double t = prev + (read[i] - read[s]) * seconds_per_byte[j - 1];
                if (t < dp[j * (n + 1) + i]) { dp[j * (n + 1) + i] = t; from[j * (n + 1) + i] = static_cast<std::uint32_t>(s); }
            }
        }
    }
    if (dp[k * (n + 1) + n] >= none) return false;
    std::size_t i = n;
    for (std::size_t j = k; j >= 1; --j) {
        const std::size_t s = from[j * (n + 1) + i];
        counts[j - 1] = static_cast<std::uint32_t>(i - s);
        i = s;
    }
    return true;
}

// Bytes that must sit in host memory: the engine's fixed host weights, host units (weights and
// KV), splittable parts kept on the host, and the host's fixed cost when anything runs there.
struct host_need {
    std::uint64_t weights = 0;
    std::uint64_t kv = 0;
    std::uint64_t compute = 0;
    [[nodiscard]] constexpr std::uint64_t total() const noexcept { return weights + kv + compute; }
};

[[nodiscard]] constexpr host_need host_side(const weight_costs& w, const context_costs& c, std::uint32_t on_devices,
                                            std::uint32_t split_on_host) noexcept {
    host_need h{};
    h.weights = w.host_fixed;
    const std::uint32_t n_layer = w.n_layer();
    const std::uint32_t first = n_layer + 1 - on_devices;
    bool host_work = false;
    for (std::uint32_t il = 0; il <= n_layer; ++il) {
        if (il < first) {
            h.weights += w.layers[il].on_host;
            h.kv += c.layers[il].host;
            host_work = true;
        } else if (il < split_on_host && il < n_layer && w.layers[il].host_splittable != 0) {
            h.weights += w.layers[il].host_splittable;
            host_work = true;
        }
    }
    if (host_work) h.compute = c.host_fixed;
    return h;
}

// The request as the search reads it (no engine type: the search is compiled once).
struct env {
    std::span<const plan_device> gpus;       // one node's devices
    std::span<const bytes> reserve_per_gpu;
    bytes reserve_per_device{};
    bytes host_ram{};
    bool disk_paging = false;                // the engine pages from the file and the request allows it
    plan_objective objective = plan_objective::fit;
    speed_inputs speed{};
    plan_capabilities capabilities{};
    std::uint32_t n_gpus = 0;                // per node
    std::uint32_t nodes = 1;
    // Device ids are flattened: node * n_gpus + index.
    [[nodiscard]] constexpr const plan_device& gpu(std::uint32_t id) const { return gpus[id % n_gpus]; }
    [[nodiscard]] constexpr std::uint32_t node(std::uint32_t id) const { return id / n_gpus; }
    // What device `id` keeps free beyond its buffers: the common reserve plus its own.
    [[nodiscard]] constexpr std::uint64_t reserve_of(std::uint32_t id) const {
        const std::size_t index = id % n_gpus;
        return reserve_per_device.count() + (index < reserve_per_gpu.size() ? reserve_per_gpu[index].count() : 0);
    }
};

// One evaluated placement (before verification).
struct option {
    std::vector<std::uint32_t> devices;  // device ids, in sequence order
    std::vector<std::uint32_t> counts;
    std::uint32_t on_devices = 0;
    std::uint32_t split_on_host = 0;
    plan_tier tier = plan_tier::none;
    std::uint64_t gpu_bytes = 0;
    host_need host{};
    std::uint64_t disk = 0;
    speed_estimate speed{};

    [[nodiscard]] constexpr plan_layout layout() const { return {counts, on_devices, split_on_host}; }
};

[[nodiscard]] constexpr int tier_rank(plan_tier t) noexcept { return static_cast<int>(t); }

[[nodiscard]] constexpr std::uint32_t nodes_of(const env& e, const option& o) {
    std::uint32_t n = 1;
    for (const auto id : o.devices) if (e.node(id) + 1 > n) n = e.node(id) + 1;
    return n;
}

// Host memory and disk for an option; sets tier (none when host RAM cannot hold what must stay).
constexpr void settle_host(const env& e, const weight_costs& w, const context_costs& c, option& o) {
    o.host = host_side(w, c, o.on_devices, o.split_on_host);
    const std::uint64_t ram = e.host_ram.count();
    const bool all_on_devices = o.on_devices == w.n_layer() + 1 && o.split_on_host == 0;
    o.disk = 0;
    if (o.host.total() <= ram) {
        o.tier = all_on_devices ? plan_tier::gpu : plan_tier::host;
    } else if (e.disk_paging && o.host.kv + o.host.compute <= ram) {
        o.tier = plan_tier::disk;
        o.disk = o.host.total() - ram;
    } else {
        o.tier = plan_tier::none;
    }
}

[[nodiscard]] constexpr std::vector<search_device> rooms(const env& e, const std::vector<std::uint32_t>& ids, const context_costs& c) {
    std::vector<search_device> devices;
    for (const auto id : ids) {
        const std::uint64_t overhead = c.device_fixed + e.reserve_of(id);
        const std::uint64_t cap = device_capacity(e.gpu(id)).count();
        devices.push_back({cap > overhead ? cap - overhead : 0});
    }
    return devices;
}

// The split of `on_devices` units over `ids`: equal fill (objective fit) or least decode time
// (objective speed).
[[nodiscard]] constexpr bool split(const env& e, const weight_costs& w, const context_costs& c, std::uint32_t on_devices,
                                   std::uint32_t split_on_host, const std::vector<std::uint32_t>& ids,
                                   const std::vector<search_device>& devices, std::vector<std::uint32_t>& counts) {
    if (e.objective == plan_objective::speed && ids.size() > 1) {
        std::vector<double> seconds_per_byte;
        for (const auto id : ids) seconds_per_byte.push_back(1.0 / (gpu_bandwidth_gb_s(e.gpu(id)) * 1e9));
        return speed_fill(w, c, on_devices, split_on_host, devices, seconds_per_byte, counts);
    }
    return balanced_fill(w, c, on_devices, split_on_host, devices, counts);
}

constexpr void finish(const env& e, const weight_costs& w, const context_costs& c, option& o) {
    o.gpu_bytes = 0;
    const std::uint32_t first = w.n_layer() + 1 - o.on_devices;
    for (std::uint32_t il = first; il <= w.n_layer(); ++il) o.gpu_bytes += unit_cost(w, c, il, o.split_on_host);
    for (std::size_t j = 0; j < o.counts.size(); ++j) {
        if (o.counts[j] != 0) o.gpu_bytes += c.device_fixed + e.reserve_of(o.devices[j]);
    }
    settle_host(e, w, c, o);
    const speed_layout layout{o.devices, o.counts, o.on_devices, o.split_on_host, o.host.weights, o.disk};
    o.speed = estimate_speed(e.speed, w, c, layout, [&](std::uint32_t id) -> const plan_device& { return e.gpu(id); },
                             [&](std::uint32_t id) { return e.node(id); });
}

// Everything on the devices `ids`, split for equal fill (or least decode time).
[[nodiscard]] constexpr option place_all(const env& e, const weight_costs& w, const context_costs& c, std::vector<std::uint32_t> ids) {
    option o{};
    o.devices = std::move(ids);
    o.on_devices = w.n_layer() + 1;
    if (!split(e, w, c, o.on_devices, 0, o.devices, rooms(e, o.devices, c), o.counts)) {
        o.tier = plan_tier::none;
        return o;
    }
    finish(e, w, c, o);
    return o;
}

// As much as fits on `ids`, the rest on the host: splittable parts first (llama.cpp
// --n-cpu-moe, the fewest units), then whole units (-ngl, the most that fit on the devices).
[[nodiscard]] constexpr option place_offload(const env& e, const weight_costs& w, const context_costs& c, std::vector<std::uint32_t> ids) {
    option o{};
    o.devices = std::move(ids);
    const auto devices = rooms(e, o.devices, c);
    std::vector<std::uint32_t> counts;
    const std::uint32_t n_layer = w.n_layer();
    const std::uint32_t all = n_layer + 1;
    const bool splittable = e.capabilities.host_splittable && w.has_splittable;
    if (splittable && fill(w, c, all, n_layer, devices, 1.0, counts)) {
        std::uint32_t lo = 0;        // does not fit (the caller tried everything on the devices)
        std::uint32_t hi = n_layer;  // fits
        while (hi - lo > 1) {
            const std::uint32_t mid = lo + (hi - lo) / 2;
            if (fill(w, c, all, mid, devices, 1.0, counts)) hi = mid;
            else lo = mid;
        }
        o.on_devices = all;
        o.split_on_host = hi;
    } else if (e.capabilities.host_units) {
        const std::uint32_t split_on_host = splittable ? n_layer : 0;
        std::uint32_t lo = 0;    // fits (nothing on the devices)
        std::uint32_t hi = all;  // does not fit
        while (hi - lo > 1) {
            const std::uint32_t mid = lo + (hi - lo) / 2;
            if (fill(w, c, mid, split_on_host, devices, 1.0, counts)) lo = mid;
            else hi = mid;
        }
        o.on_devices = lo;
        o.split_on_host = lo == 0 ? 0 : split_on_host;
    }
    if (!split(e, w, c, o.on_devices, o.split_on_host, o.devices, devices, o.counts)) o.counts.clear();
    // Devices that got no unit are not used.
    std::vector<std::uint32_t> used_ids;
    std::vector<std::uint32_t> used_counts;
    for (std::size_t j = 0; j < o.counts.size(); ++j) {
        if (o.counts[j] != 0) { used_ids.push_back(o.devices[j]); used_counts.push_back(o.counts[j]); }
    }
    o.devices = std::move(used_ids);
    o.counts = std::move(used_counts);
    finish(e, w, c, o);
    return o;
}

// Device ids of one node in the order the objective prefers them: the largest first (fit), the
// fastest memory first (speed).
[[nodiscard]] constexpr std::vector<std::uint32_t> preference(const env& e) {
    std::vector<std::uint32_t> ids;
    for (std::uint32_t i = 0; i < e.n_gpus; ++i) ids.push_back(i);
    std::sort(ids.begin(), ids.end(), [&](std::uint32_t a, std::uint32_t b) {
        const auto& ga = e.gpu(a);
        const auto& gb = e.gpu(b);
        if (e.objective == plan_objective::speed && gpu_bandwidth_gb_s(ga) != gpu_bandwidth_gb_s(gb)) {
            return gpu_bandwidth_gb_s(ga) > gpu_bandwidth_gb_s(gb);
        }
        if (device_capacity(ga) != device_capacity(gb)) return device_capacity(ga) > device_capacity(gb);
        if (gpu_bandwidth_gb_s(ga) != gpu_bandwidth_gb_s(gb)) return gpu_bandwidth_gb_s(ga) > gpu_bandwidth_gb_s(gb);
        return a < b;
    });
    return ids;
}

// The first k devices of the preference, in device order.
[[nodiscard]] constexpr std::vector<std::uint32_t> first_of(const std::vector<std::uint32_t>& preferred, std::uint32_t k) {
    std::vector<std::uint32_t> ids;
    for (std::uint32_t i = 0; i < k; ++i) ids.push_back(preferred[i]);
    std::sort(ids.begin(), ids.end());
    return ids;
}

[[nodiscard]] constexpr bool better_speed(const option& a, const option& b) {
    return a.speed.decode_tokens_per_s > b.speed.decode_tokens_per_s * 1.0001;
}

// The best placement of one (candidate, context) on the request's machines.
[[nodiscard]] constexpr option best_placement(const env& e, const weight_costs& w, const context_costs& c) {
    const auto order = preference(e);
    option best{};
    for (std::uint32_t k = 1; k <= e.n_gpus; ++k) {
        option o = place_all(e, w, c, first_of(order, k));
        if (o.tier != plan_tier::gpu) continue;
        if (best.tier != plan_tier::gpu) best = std::move(o);
        else if (e.objective == plan_objective::speed && better_speed(o, best)) best = std::move(o);
        if (e.objective == plan_objective::fit) break;
    }
    if (best.tier == plan_tier::gpu) return best;
    if (e.n_gpus != 0) {
        std::vector<std::uint32_t> ids;
        for (std::uint32_t i = 0; i < e.n_gpus; ++i) ids.push_back(i);
        best = place_offload(e, w, c, std::move(ids));
    } else {
        best = option{};
        finish(e, w, c, best);
    }
    // Several machines: only when this one cannot run the model from its devices and RAM.
    if ((best.tier == plan_tier::none || best.tier == plan_tier::disk) && e.nodes > 1 && e.capabilities.nodes) {
        for (std::uint32_t nodes = 2; nodes <= e.nodes; ++nodes) {
            if (nodes * e.n_gpus > e.capabilities.max_devices) break;
            // With remote_first (llama.cpp: "add RPC servers at the front of the list") the remote
            // devices come first in the unit sequence and the output layer lands on a local one.
            std::vector<std::uint32_t> ids;
            for (std::uint32_t node = 1; node <= nodes; ++node) {
                const std::uint32_t at = e.capabilities.remote_first ? node % nodes : node - 1;
                for (std::uint32_t i = 0; i < e.n_gpus; ++i) ids.push_back(at * e.n_gpus + i);
            }
            option o = place_all(e, w, c, std::move(ids));
            if (o.tier == plan_tier::gpu) return o;
        }
    }
    return best;
}

// The largest multiple of `step` in [least, most] for which feasible() holds, given that it holds
// at `least` (a bisection: feasibility is monotone in the context); `most` when it holds there.
template <class Feasible>
[[nodiscard]] constexpr result<std::uint32_t> largest_feasible(std::uint32_t least, std::uint32_t most, std::uint32_t step,
                                                              Feasible&& feasible) {
    auto top = feasible(most);
    if (!top) return top.err();
    if (*top) return most;
    std::uint32_t lo = (least + step - 1) / step;  // in steps; feasible
    std::uint32_t hi = most / step + 1;            // infeasible bound
    while (hi - lo > 1) {
        const std::uint32_t mid = lo + (hi - lo) / 2;
        auto f = feasible(mid * step);
        if (!f) return f.err();
        if (*f) lo = mid;
        else hi = mid;
    }
    return lo * step > least ? lo * step : least;
}

} // namespace vramfit::detail::planner
