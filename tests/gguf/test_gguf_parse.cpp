// Round trips writer → parser: every value type, nested arrays, v2/v3, alignment, tensor
// infos, and the same header parsed at compile time.
#include <doctest/doctest.h>

#include <cstdint>
#include <string_view>
#include <vector>

#include "vramfit/formats/gguf/reader.hpp"
#include "vramfit/formats/gguf/writer.hpp"

using namespace vramfit;
using gguf::value_type;

namespace {

// A small llama-shaped header, built and parsed at compile time and at run time.
constexpr std::vector<unsigned char> sample_header() {
    gguf::writer w;
    w.set("general.architecture", "llama")
        .set("general.name", "tiny")
        .set("llama.block_count", std::uint32_t{2})
        .set("llama.context_length", std::uint32_t{4096})
        .set("llama.embedding_length", std::uint32_t{256})
        .set("llama.attention.layer_norm_rms_epsilon", 1e-5f)
        .set("llama.rope.freq_base", 10000.0)
        .set("llama.attention.head_count_kv", gguf::array_value::of({std::int32_t{4}, std::int32_t{2}}))
        .set("tokenizer.ggml.add_bos_token", true)
        .set("general.file_type", std::uint32_t{15})
        .set_array<std::string_view>("tokenizer.ggml.tokens", {"<s>", "</s>", "a"})
        .set_array("tokenizer.ggml.scores", {0.0f, -1.5f, 2.25f});
    w.add_tensor("token_embd.weight", {256, 3}, ggml_type::q4_K)
        .add_tensor("blk.0.attn_q.weight", {256, 256}, ggml_type::q8_0)
        .add_tensor("blk.1.ffn_down.weight", {256, 512}, ggml_type::f16)
        .add_tensor("output_norm.weight", {256}, ggml_type::f32);
    return w.header_bytes();
}

constexpr bool sample_parses() {
    const auto bytes = sample_header();
    const auto h = gguf::parse(bytes);
    if (!h) return false;
    const auto heads = h->get_int_array("llama.attention.head_count_kv");
    return h->version() == 3 && h->alignment() == 32 && h->size() == 12 &&
           h->get_string("general.architecture") == std::string_view{"llama"} &&
           h->get_uint("llama.block_count") == 2u && h->get_uint("llama.context_length") == 4096u &&
           h->get_float("llama.attention.layer_norm_rms_epsilon") == static_cast<double>(1e-5f) &&
           h->get_float("llama.rope.freq_base") == 10000.0 && h->get_bool("tokenizer.ggml.add_bos_token") == true &&
           heads && heads->size() == 2 && (*heads)[0] == 4 && (*heads)[1] == 2 &&
           h->array_size("tokenizer.ggml.tokens") == 3u &&
           h->tensors().size() == 4 && h->tensors()[1].name == std::string_view{"blk.0.attn_q.weight"} &&
           h->tensors()[1].layer == 0 && h->tensors()[2].layer == 1 && h->tensors()[0].layer == -1 &&
           h->tensors()[1].type == ggml_type::q8_0 && h->tensors()[1].offset == 144 * 3 + 16 /* padded to 32 */ &&
           h->data_offset() % 32 == 0 && h->data_offset() == bytes.size() &&
           gguf::writer::from(*h).header_bytes() == bytes;  // the writer reproduces what it parsed
}
static_assert(sample_parses(), "a header built and parsed at compile time");

} // namespace

TEST_CASE("the compile-time sample parses the same at run time") {
    CHECK(sample_parses());
    const auto bytes = sample_header();
    const auto h = gguf::parse(bytes);
    REQUIRE(h.ok());
    CHECK(h->get_string("general.name") == std::string_view{"tiny"});
    CHECK(h->type_of("llama.block_count") == value_type::uint32);
    CHECK(h->type_of("tokenizer.ggml.tokens") == value_type::array);
    CHECK(h->element_type_of("tokenizer.ggml.tokens") == value_type::string);
    CHECK(h->get_uint("llama.embedding_length") == 256u);
    const auto scores = h->get_float_array("tokenizer.ggml.scores");
    REQUIRE(scores.has_value());
    CHECK(*scores == std::vector<double>{0.0, -1.5, 2.25});
    const auto& t = h->tensors();
    REQUIRE(t.size() == 4);
    CHECK(t[0].offset == 0);
    CHECK(t[0].n_dims == 2);
    CHECK(t[0].ne == std::array<std::int64_t, 4>{256, 3, 1, 1});
    CHECK(t[1].offset == 448);                      // 432 bytes of q4_K padded to 32
    CHECK(t[2].offset == 448 + 256 * 272);          // q8_0: 8 blocks x 34 bytes per row
    CHECK(t[3].offset == 448 + 256 * 272 + 256 * 512 * 2);
    CHECK(t[3].n_dims == 1);
    CHECK(h->data_size().count() == 448 + 256 * 272 + 256 * 512 * 2 + 1024);
    CHECK(h->find_tensor("blk.1.ffn_down.weight") == &t[2]);
    CHECK(h->find_tensor("nope") == nullptr);
    CHECK(h->data_offset() == bytes.size());
}

TEST_CASE("every scalar value type round-trips") {
    gguf::writer w;
    w.set("u8", std::uint8_t{200}).set("i8", std::int8_t{-100}).set("u16", std::uint16_t{60000})
        .set("i16", std::int16_t{-30000}).set("u32", std::uint32_t{4000000000u}).set("i32", std::int32_t{-2000000000})
        .set("f32", 0.5f).set("bool", true).set("false", false).set("str", "hello").set("empty", "")
        .set("u64", std::uint64_t{18000000000000000000ull}).set("i64", std::int64_t{-9000000000000000000ll})
        .set("f64", -2.5);
    const auto bytes = w.header_bytes();
    const auto h = gguf::parse(bytes);
    REQUIRE(h.ok());
    CHECK(h->size() == 14);
    CHECK(h->type_of("u8") == value_type::uint8);
    CHECK(h->type_of("i8") == value_type::int8);
    CHECK(h->type_of("u16") == value_type::uint16);
    CHECK(h->type_of("i16") == value_type::int16);
    CHECK(h->type_of("u32") == value_type::uint32);
    CHECK(h->type_of("i32") == value_type::int32);
    CHECK(h->type_of("f32") == value_type::float32);
    CHECK(h->type_of("bool") == value_type::boolean);
    CHECK(h->type_of("str") == value_type::string);
    CHECK(h->type_of("u64") == value_type::uint64);
    CHECK(h->type_of("i64") == value_type::int64);
    CHECK(h->type_of("f64") == value_type::float64);
    CHECK(h->get_uint("u8") == 200u);
    CHECK(h->get_int("i8") == -100);
    CHECK(h->get_uint("i8") == std::nullopt);  // negative
    CHECK(h->get_uint("u16") == 60000u);
    CHECK(h->get_int("i16") == -30000);
    CHECK(h->get_uint("u32") == 4000000000u);
    CHECK(h->get_int("i32") == -2000000000);
    CHECK(h->get_float("f32") == 0.5);
    CHECK(h->get_bool("bool") == true);
    CHECK(h->get_bool("false") == false);
    CHECK(h->get_string("str") == std::string_view{"hello"});
    CHECK(h->get_string("empty") == std::string_view{});
    CHECK(h->get_uint("u64") == 18000000000000000000ull);
    CHECK(h->get_int("u64") == std::nullopt);  // does not fit int64
    CHECK(h->get_int("i64") == -9000000000000000000ll);
    CHECK(h->get_float("f64") == -2.5);
    CHECK(h->get_float("u32") == 4000000000.0);  // integers read as numbers
    CHECK(h->get_float("i8") == -100.0);
    // Wrong-type access is "absent", never a reinterpretation.
    CHECK(h->get_string("u8") == std::nullopt);
    CHECK(h->get_uint("str") == std::nullopt);
    CHECK(h->get_bool("u8") == std::nullopt);
    CHECK(h->get_uint("f32") == std::nullopt);
    CHECK(h->array_size("u8") == std::nullopt);
    CHECK(h->get_uint("missing") == std::nullopt);
    CHECK_FALSE(h->has("missing"));
    CHECK(h->has("f64"));
    // The explaining variants.
    CHECK(h->require_uint("u32").ok());
    CHECK(h->require_uint("missing").err().code() == errc::missing_key);
    CHECK(h->require_uint("missing").err().message().find("'missing'") != std::string_view::npos);
    CHECK(h->require_string("u8").err().code() == errc::bad_value);
    CHECK(h->require_string("u8").err().message().find("'u8' is u8") != std::string_view::npos);
    CHECK(h->tensors().empty());
    CHECK(h->data_offset() == bytes.size());  // no tensors: no padding (gguf_init_from_reader)
}

TEST_CASE("arrays of every element type and nested arrays round-trip") {
    gguf::writer w;
    w.set_array<std::uint8_t>("u8", {1, 255}).set_array<std::int8_t>("i8", {-1, 127})
        .set_array<std::uint16_t>("u16", {65535}).set_array<std::int16_t>("i16", {-32768, 5})
        .set_array<std::uint32_t>("u32", {7, 8, 9}).set_array<std::int32_t>("i32", {-7})
        .set_array("f32", {1.5f, -0.25f}).set_array("bool", {true, false, true})
        .set_array<std::string_view>("str", {"x", "", "yz"})
        .set_array<std::uint64_t>("u64", {1ull << 40}).set_array<std::int64_t>("i64", {-(1ll << 40)})
        .set_array("f64", {3.0, 4.5}).set_array<std::int32_t>("empty", {})
        .set("nested", gguf::array_value::of_arrays({gguf::array_value::of({1, 2, 3}),
                                                     gguf::array_value::of<std::string_view>({"a", "bc"}),
                                                     gguf::array_value::of_arrays({gguf::array_value::of({2.0})})}))
        .set("after", std::uint32_t{42});
    const auto bytes = w.header_bytes();
    const auto h = gguf::parse(bytes);
    REQUIRE(h.ok());
    CHECK(h->get_int_array("u8") == std::vector<std::int64_t>{1, 255});
    CHECK(h->get_int_array("i8") == std::vector<std::int64_t>{-1, 127});
    CHECK(h->get_int_array("u16") == std::vector<std::int64_t>{65535});
    CHECK(h->get_int_array("i16") == std::vector<std::int64_t>{-32768, 5});
    CHECK(h->get_int_array("u32") == std::vector<std::int64_t>{7, 8, 9});
    CHECK(h->get_int_array("i32") == std::vector<std::int64_t>{-7});
    CHECK(h->get_float_array("f32") == std::vector<double>{1.5, -0.25});
    CHECK(h->get_int_array("bool") == std::vector<std::int64_t>{1, 0, 1});
    CHECK(h->element_type_of("str") == value_type::string);
    CHECK(h->array_size("str") == 3u);
    CHECK(h->get_int_array("str") == std::nullopt);
    CHECK(h->get_int_array("u64") == std::vector<std::int64_t>{1ll << 40});
    CHECK(h->get_int_array("i64") == std::vector<std::int64_t>{-(1ll << 40)});
    CHECK(h->get_float_array("f64") == std::vector<double>{3.0, 4.5});
    CHECK(h->get_float_array("i32") == std::vector<double>{-7.0});
    CHECK(h->get_float_array("bool") == std::nullopt);
    CHECK(h->array_size("empty") == 0u);
    CHECK(h->get_int_array("empty") == std::vector<std::int64_t>{});
    CHECK(h->element_type_of("nested") == value_type::array);
    CHECK(h->array_size("nested") == 3u);
    CHECK(h->get_int_array("nested") == std::nullopt);
    CHECK(h->get_uint("after") == 42u);  // parsing went on correctly after the nested array
    // Iteration for a dump, in file order.
    const auto all = h->entries();
    REQUIRE(all.size() == 15);
    CHECK(all[0].key == "u8");
    CHECK(all[0].type == value_type::array);
    CHECK(all[0].element_type == value_type::uint8);
    CHECK(all[0].count == 2);
    CHECK(all[13].key == "nested");
    CHECK(all[14].key == "after");
    CHECK(all[14].count == 1);
    CHECK(gguf::type_name(all[14].type) == "u32");
}

TEST_CASE("versions 2 and 3 share the layout") {
    for (std::uint32_t version : {2u, 3u}) {
        gguf::writer w{version};
        w.set("general.architecture", "llama");
        w.add_tensor("a", {32}, ggml_type::q8_0);
        const auto bytes = w.header_bytes();
        const auto h = gguf::parse(bytes);
        REQUIRE(h.ok());
        CHECK(h->version() == version);
        CHECK(h->tensors().size() == 1);
        CHECK(h->tensors()[0].type == ggml_type::q8_0);
    }
}

TEST_CASE("general.alignment sets the data section and tensor offsets") {
    for (std::uint32_t alignment : {1u, 8u, 32u, 64u, 4096u}) {
        gguf::writer w;
        w.set_alignment(alignment).set("general.architecture", "llama");
        w.add_tensor("a", {3}, ggml_type::f32).add_tensor("b", {5}, ggml_type::f16).add_tensor("c", {7}, ggml_type::i8);
        const auto bytes = w.header_bytes();
        const auto h = gguf::parse(bytes);
        REQUIRE(h.ok());
        CHECK(h->alignment() == alignment);
        CHECK(h->data_offset() % alignment == 0);
        CHECK(h->data_offset() == bytes.size());
        const auto& t = h->tensors();
        CHECK(t[0].offset == 0);
        CHECK(t[1].offset == pad_to(vramfit::bytes{12}, alignment).count());
        CHECK(t[2].offset == t[1].offset + pad_to(vramfit::bytes{10}, alignment).count());
        CHECK(h->data_size() == pad_to(vramfit::bytes{t[2].offset + 7}, alignment));
    }
}

TEST_CASE("a header can be parsed from a prefix and from a file image with its data") {
    gguf::writer w;
    w.set("general.architecture", "llama");
    w.add_tensor("a", {64, 64}, ggml_type::f32);
    const auto file = w.file_bytes();
    const auto whole = gguf::parse(file, {file.size()});
    REQUIRE(whole.ok());
    CHECK(whole->expected_file_size().count() == file.size());
    const auto head = gguf::parse(std::span<const unsigned char>{file}.first(whole->tensors_end()), {file.size()});
    REQUIRE(head.ok());
    CHECK(head->data_offset() == whole->data_offset());
}

TEST_CASE("string arrays and values formatted for a dump") {
    gguf::writer w;
    w.set("general.name", "tiny\nmodel").set("n", std::uint32_t{4096}).set("eps", 1e-5f).set("flag", false)
        .set("neg", std::int16_t{-3}).set_array<std::string_view>("tokens", {"<s>", "", "hello"})
        .set_array<std::int32_t>("many", {1, 2, 3, 4, 5, 6, 7, 8, 9, 10})
        .set("nested", gguf::array_value::of_arrays({gguf::array_value::of({1})}));
    const auto bytes = w.header_bytes();
    const auto h = gguf::parse(bytes);
    REQUIRE(h.ok());
    const auto tokens = h->get_string_array("tokens");
    REQUIRE(tokens.has_value());
    CHECK(*tokens == std::vector<std::string_view>{"<s>", "", "hello"});
    CHECK(h->get_string_array("many") == std::nullopt);
    CHECK(h->get_string_array("general.name") == std::nullopt);
    auto text = [&](std::string_view key) { return gguf::format_value(*h, *h->find(key)); };
    CHECK(text("general.name") == "\"tiny\\nmodel\"");
    CHECK(text("n") == "4096");
    CHECK(text("eps") == "1e-05");
    CHECK(text("flag") == "false");
    CHECK(text("neg") == "-3");
    CHECK(text("tokens") == "[str x 3] \"<s>\", \"\", \"hello\"");
    CHECK(text("many") == "[i32 x 10] 1, 2, 3, 4, 5, 6, 7, 8, …");
    CHECK(text("nested") == "[arr x 1]");
}
