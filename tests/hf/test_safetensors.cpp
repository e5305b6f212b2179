// formats/safetensors/header.hpp: headers written here round-trip; every check of the format
// (safetensors/src/tensor.rs) refuses what it should, naming the tensor.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "vramfit/formats/safetensors/header.hpp"
#include "vramfit/formats/safetensors/index.hpp"

using namespace vramfit;

namespace {

// 8-byte little-endian length, the JSON, then `data` bytes of (absent) tensor data.
std::vector<unsigned char> file_with(const std::string& json, std::uint64_t data) {
    std::vector<unsigned char> out;
    const std::uint64_t n = json.size();
    for (int i = 0; i < 8; ++i) out.push_back(static_cast<unsigned char>(n >> (8 * i)));
    out.insert(out.end(), json.begin(), json.end());
    out.resize(out.size() + data, 0);
    return out;
}

result<safetensors::header> read(const std::string& json, std::uint64_t data) {
    const auto bytes = file_with(json, data);
    return safetensors::parse(bytes, bytes.size());
}

constexpr bool at_compile_time() {
    const std::string_view json = R"({"w": {"dtype": "BF16", "shape": [2, 3], "data_offsets": [0, 12]}})";
    auto h = safetensors::parse_header(json, 8 + json.size() + 12);
    return h.ok() && h->tensors.size() == 1 && h->tensors[0].shape.size() == 2 && h->tensors[0].size().count() == 12 &&
           h->tensors[0].type->as_dtype == dtype::bf16;
}
static_assert(at_compile_time());

} // namespace

TEST_CASE("safetensors: a header round-trips, tensor data untouched") {
    const std::string json =
        R"({"__metadata__": {"format": "pt"}, "model.embed_tokens.weight": {"dtype": "BF16", "shape": [10, 4], "data_offsets": [0, 80]},)"
        R"( "model.layers.0.mlp.experts.gate_up_proj_blocks": {"dtype": "U8", "shape": [2, 3, 16], "data_offsets": [80, 176]},)"
        R"( "model.layers.0.mlp.experts.gate_up_proj_scales": {"dtype": "U8", "shape": [2, 3], "data_offsets": [176, 182]},)"
        R"( "scale": {"dtype": "F32", "shape": [], "data_offsets": [182, 186]}})";
    auto h = read(json, 186);
    REQUIRE_MESSAGE(h.ok(), h.err().describe());
    CHECK(h->tensors.size() == 4);
    CHECK(h->tensors[0].name == std::string_view{"model.embed_tokens.weight"});
    CHECK(h->tensors[1].name.size() > 40);  // names of any length
    CHECK(h->tensors[1].n_elements() == 96);
    CHECK(h->tensors[3].shape.empty());      // a scalar
    CHECK(h->tensors[3].size() == bytes{4});
    CHECK(h->data_offset() == 8 + json.size());
    REQUIRE(h->metadata.size() == 1);
    CHECK(h->metadata[0].second.view() == "pt");
}

TEST_CASE("safetensors: every check of the format refuses bad headers") {
    auto says = [](const result<safetensors::header>& h, std::string_view what) {
        REQUIRE_FALSE(h.ok());
        CHECK_MESSAGE(h.err().message().find(what) != std::string_view::npos, h.err().message());
    };
    const std::string ok_tensor = R"("t": {"dtype": "F16", "shape": [4], "data_offsets": [0, 8]})";
    says(read("{" + ok_tensor + "}", 7), "cover 8 bytes of data, the file has 7");
    says(read("{" + ok_tensor + "}", 9), "cover 8 bytes of data, the file has 9");
    says(read(R"({"t": {"dtype": "F16", "shape": [4], "data_offsets": [0, 6]}})", 6), "do not match shape");
    says(read(R"({"t": {"dtype": "F16", "shape": [4], "data_offsets": [2, 10]}})", 10), "does not start where");
    says(read(R"({"a": {"dtype": "U8", "shape": [4], "data_offsets": [0, 4]}, "b": {"dtype": "U8", "shape": [4], "data_offsets": [2, 6]}})", 6),
         "does not start where");
    says(read(R"({"t": {"dtype": "Q4", "shape": [4], "data_offsets": [0, 2]}})", 2), "unknown dtype");
    says(read(R"({"t": {"dtype": "F4", "shape": [3], "data_offsets": [0, 2]}})", 2), "whole number of bytes");
    says(read(R"({"t": {"dtype": "F16", "shape": [-1], "data_offsets": [0, 2]}})", 2), "non-negative integers");
    says(read(R"({"t": {"dtype": "F16", "shape": [4294967296, 4294967296, 4294967296], "data_offsets": [0, 2]}})", 2), "overflows");
    says(read(R"({"t": {"dtype": "F16", "shape": [1], "data_offsets": [4, 2]}})", 2), "end before they begin");
    says(read(R"({"t": {"dtype": "F16", "shape": [1]}})", 2), "data_offsets must be");
    says(read(R"({"t": {"shape": [1], "data_offsets": [0, 2]}})", 2), "no dtype");
    says(read(R"({"t": 3})", 0), "expected an object");
    says(read(R"({"t": {"dtype": "F16", "shape": [1], "data_offsets": [0, 2]}, "t": {"dtype": "F16", "shape": [1], "data_offsets": [2, 4]}})", 4),
         "appears twice");
    says(read(R"({"__metadata__": {"a": 1}})", 0), "must be strings");
    says(read(R"([1, 2])", 0), "does not start with '{'");
    says(read(R"({"t": )", 0), "not valid JSON");
    // the length itself
    std::vector<unsigned char> huge(16, 0);
    huge[3] = 0x10;  // 268435456 > 100000000
    says(safetensors::parse(huge, huge.size()), "over 100000000");
    std::vector<unsigned char> past(16, 0);
    past[0] = 100;
    says(safetensors::parse(past, past.size()), "past the end of the file");
    says(safetensors::parse(std::span<const unsigned char>{past.data(), 4}, 4), "shorter than the 8-byte");
}

// ---- model.safetensors.index.json and the checkpoint summary (formats/safetensors/index.hpp) ----

namespace {
constexpr bool index_at_compile_time() {
    const auto index = safetensors::parse_index(
        R"({"metadata": {"total_size": 42}, "weight_map": {"z": "model-00002-of-00002.safetensors", "a": "model-00001-of-00002.safetensors", "b": "model-00002-of-00002.safetensors"}})");
    return index && index->shards.size() == 2 && index->shards[0] == "model-00001-of-00002.safetensors" && index->tensors == 3 &&
           index->total_size == 42u;
}
static_assert(index_at_compile_time());
static_assert(!safetensors::is_safe_shard_name("../x.safetensors") && !safetensors::is_safe_shard_name("/abs.safetensors") &&
              !safetensors::is_safe_shard_name("model.bin") && safetensors::is_safe_shard_name("sub/model.safetensors"));
} // namespace

TEST_CASE("index.json: shards sorted and unique, refused when they leave the directory or the map is missing") {
    const auto good = safetensors::parse_index(R"({"weight_map": {"x": "b.safetensors", "y": "a.safetensors", "z": "b.safetensors"}})");
    REQUIRE(good.ok());
    REQUIRE(good->shards.size() == 2);
    CHECK(good->shards[0] == "a.safetensors");
    CHECK(good->shards[1] == "b.safetensors");
    CHECK(!good->total_size.has_value());
    for (const char* bad : {R"({"weight_map": {"x": "../a.safetensors"}})", R"({"weight_map": {"x": 3}})", R"({"metadata": {}})",
                            R"({"weight_map": {}})", R"([1, 2])", R"({"weight_map": {"x": "a.safetensors")"}) {
        CAPTURE(bad);
        const auto r = safetensors::parse_index(bad, "dir/model.safetensors.index.json");
        REQUIRE_FALSE(r.ok());
        CHECK(r.err().message().find("dir/model.safetensors.index.json") != std::string_view::npos);
    }
}

TEST_CASE("checkpoint summary: bytes per dtype, and dtype=auto's first floating dtype of the first shard by sorted name") {
    auto first = read(R"({"wte.weight": {"dtype": "F32", "shape": [4, 2], "data_offsets": [0, 32]},
                         "h.0.w": {"dtype": "BF16", "shape": [4], "data_offsets": [32, 40]},
                         "h.0.a": {"dtype": "I64", "shape": [1], "data_offsets": [40, 48]}})", 48);
    auto second = read(R"({"a.weight": {"dtype": "F16", "shape": [2], "data_offsets": [0, 4]}})", 4);
    REQUIRE(first.ok());
    REQUIRE(second.ok());
    const auto s = safetensors::summarize({*first, *second});
    CHECK(s.files == 2);
    CHECK(s.tensors == 4);
    CHECK(s.tensor_bytes == bytes{52});
    CHECK(s.first_floating == dtype::bf16);  // "h.0.w" sorts before "wte.weight"; the second shard's "a.weight" does not count
    REQUIRE(s.bytes_by_dtype.size() == 4);
    CHECK(s.bytes_by_dtype[0].first == std::string_view{"F32"});
    CHECK(s.bytes_by_dtype[0].second == 32);
}
