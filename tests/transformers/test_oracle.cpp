// Validation against the transformers 5.24.0 / accelerate 1.15.0 oracle (tests/data/hf/,
// README-oracle.md): every module size the oracle lists, and every device map: the parsed and
// balanced budgets, what infer_auto_device_map received, the first reserve, the model total,
// the map key for key in order, the bytes per device and bitsandbytes' refusal. Counts are
// printed with MESSAGE (run with -s).
#include <doctest/doctest.h>

#include <map>
#include <sstream>
#include <string>
#include <tuple>

#include "hf_oracle.hpp"

namespace tf = vramfit::transformers;

namespace {

struct tree_cache {
    std::map<std::tuple<std::string, std::string, std::string>, std::pair<tf::module_tree, tf::module_sizes>> trees;
    const std::pair<tf::module_tree, tf::module_sizes>* get(const std::string& m, const std::string& d, const std::string& q) {
        auto key = std::make_tuple(m, d, q);
        auto it = trees.find(key);
        if (it != trees.end()) return &it->second;
        auto tree = oracle::tree_for(m, d, q);
        if (!tree) return nullptr;
        auto sizes = tf::compute_module_sizes(*tree);
        return &trees.emplace(key, std::make_pair(std::move(*tree), std::move(sizes))).first->second;
    }
};

tree_cache& cache() {
    static tree_cache c;
    return c;
}

std::string describe_map(const std::vector<tf::device_assignment>& map) {
    std::string s;
    for (const auto& a : map) s += (a.module.empty() ? "(root)" : a.module) + "=" + tf::to_string(a.device) + " ";
    return s;
}

} // namespace

TEST_CASE("module sizes equal compute_module_sizes of the oracle") {
    const auto rows = oracle::read_tsv(oracle::data_path("module_sizes.tsv"));
    REQUIRE(rows.size() > 2000);
    int exact = 0, wrong = 0;
    for (const auto& r : rows) {
        const auto* built = cache().get(r.at("model"), r.at("dtype"), r.at("quantization"));
        if (built == nullptr) { FAIL_CHECK("no module tree for " << r.at("model")); continue; }
        const auto& [tree, sizes] = *built;
        const std::string module = r.at("module") == "(root)" ? "" : r.at("module");
        const auto* node = tree.find_module(module);
        bool ok = node != nullptr;
        if (ok) {
            const auto i = static_cast<std::size_t>(node - tree.nodes.data());
            ok = sizes.total[i] == oracle::to_u64(r.at("bytes")) && sizes.buffers[i] == oracle::to_u64(r.at("buffer_bytes")) &&
                 node->class_name == r.at("class");
        }
        if (ok) ++exact;
        else {
            ++wrong;
            if (wrong <= 10)
                MESSAGE(r.at("model") << " " << r.at("dtype") << " " << r.at("quantization") << " " << module << ": expected "
                                      << r.at("class") << " " << r.at("bytes"));
        }
    }
    MESSAGE("module sizes: " << exact << " exact, " << wrong << " not, of " << rows.size());
    CHECK(wrong == 0);
}

TEST_CASE("device maps equal transformers' _get_device_map") {
    const auto rows = oracle::read_tsv(oracle::data_path("device_map_rows.tsv"));
    REQUIRE(rows.size() > 1000);
    int exact = 0, wrong = 0;
    std::map<std::string, int> wrong_by_model;
    for (const auto& r : rows) {
        const auto* built = cache().get(r.at("model"), r.at("dtype"), r.at("quantization"));
        if (built == nullptr) { FAIL_CHECK("no module tree for " << r.at("model")); continue; }
        const auto& tree = built->first;
        std::vector<tf::memory_spec> specs;
        for (auto& [dev, text] : oracle::parse_pairs(r.at("max_memory"))) specs.push_back(tf::memory_spec{dev, text, 0});
        const auto strategy = r.at("strategy") == "auto" ? tf::placement_strategy::auto_
                              : r.at("strategy") == "balanced" ? tf::placement_strategy::balanced
                              : r.at("strategy") == "balanced_low_0" ? tf::placement_strategy::balanced_low_0
                                                                     : tf::placement_strategy::sequential;
        auto got = tf::compute_device_map(tree, specs, strategy);
        std::string why;
        if (!got) {
            why = "error " + got.err().describe();
        } else {
            auto budgets_equal = [](const std::vector<tf::memory_budget>& b, const std::string& text) {
                auto want = oracle::parse_pairs(text);
                if (want.size() != b.size()) return false;
                for (std::size_t i = 0; i < b.size(); ++i)
                    if (!(want[i].first == b[i].device) || oracle::to_u64(want[i].second) != b[i].amount.count()) return false;
                return true;
            };
            auto want_infer = oracle::parse_pairs(r.at("infer_max_memory"));
            bool infer_ok = want_infer.size() == got->infer_max_memory.size();
            for (std::size_t i = 0; infer_ok && i < want_infer.size(); ++i)
                infer_ok = want_infer[i].first == got->infer_max_memory[i].device &&
                           oracle::to_double(want_infer[i].second) == got->infer_max_memory[i].amount;
            auto want_map = oracle::expand_map(r.at("device_map"));
            bool map_ok = want_map.size() == got->map.size();
            for (std::size_t i = 0; map_ok && i < want_map.size(); ++i)
                map_ok = want_map[i].first == got->map[i].module && oracle::parse_device(want_map[i].second) == got->map[i].device;
            auto want_bytes = oracle::parse_pairs(r.at("bytes_per_device"));
            bool bytes_ok = want_bytes.size() == got->bytes_per_device.size();
            for (std::size_t i = 0; bytes_ok && i < want_bytes.size(); ++i)
                bytes_ok = want_bytes[i].first == got->bytes_per_device[i].device &&
                           oracle::to_u64(want_bytes[i].second) == got->bytes_per_device[i].amount.count();
            if (!budgets_equal(got->max_memory, r.at("max_memory_bytes"))) why += "max_memory ";
            if (r.at("balanced_max_memory") != "-" && !budgets_equal(got->balanced, r.at("balanced_max_memory"))) why += "balanced ";
            if (!infer_ok) why += "infer_max_memory ";
            if (got->initial_max_layer.count() != oracle::to_u64(r.at("initial_max_layer_bytes"))) why += "initial_max_layer ";
            if (built->second.total[0] != oracle::to_u64(r.at("model_total_bytes"))) why += "total ";
            if (!map_ok) why += "map [" + describe_map(got->map) + "] ";
            if (!bytes_ok) why += "bytes_per_device ";
            if (got->refused != (r.at("refused") == "1")) why += "refused ";
        }
        if (why.empty()) ++exact;
        else {
            ++wrong;
            ++wrong_by_model[r.at("model")];
            if (wrong <= 8) MESSAGE("row " << r.at("row_id") << " " << r.at("model") << " " << r.at("strategy") << " "
                                           << r.at("max_memory") << ": " << why << " expected [" << r.at("device_map") << "]");
        }
    }
    for (const auto& [m, n] : wrong_by_model) MESSAGE(m << ": " << n << " rows differ");
    MESSAGE("device maps: " << exact << " exact, " << wrong << " not, of " << rows.size());
    CHECK(wrong == 0);
}
