// Malformed headers: each case asserts the error code and that the message names what is wrong
// and where (key, tensor, byte offset).
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "vramfit/formats/gguf/reader.hpp"
#include "vramfit/formats/gguf/writer.hpp"

using namespace vramfit;

namespace {

using byte_vector = std::vector<unsigned char>;

bool mentions(const error& e, std::string_view text) { return e.message().find(text) != std::string_view::npos; }

// Replaces the first occurrence of `from` with `to` (same length) in `bytes`.
void patch(byte_vector& bytes, std::string_view from, std::string_view to) {
    REQUIRE(from.size() == to.size());
    auto it = std::search(bytes.begin(), bytes.end(), from.begin(), from.end(),
                          [](unsigned char a, char b) { return a == static_cast<unsigned char>(b); });
    REQUIRE(it != bytes.end());
    std::copy(to.begin(), to.end(), it);
}
void put_u64_at(byte_vector& bytes, std::size_t at, std::uint64_t value) {
    for (int i = 0; i < 8; ++i) bytes[at + i] = static_cast<unsigned char>(value >> (8 * i));
}
void put_u32_at(byte_vector& bytes, std::size_t at, std::uint32_t value) {
    for (int i = 0; i < 4; ++i) bytes[at + i] = static_cast<unsigned char>(value >> (8 * i));
}
error parse_error(const byte_vector& bytes, gguf::parse_options options = {}) {
    const auto r = gguf::parse(bytes, options);
    REQUIRE_FALSE(r.ok());
    CHECK_FALSE(r.err().message().empty());
    return r.err();
}

gguf::writer llama_like() {
    gguf::writer w;
    w.set("general.architecture", "llama").set("llama.block_count", std::uint32_t{1})
        .set_array<std::string_view>("tokenizer.ggml.tokens", {"a", "b", "c"})
        .set_array("tokenizer.ggml.scores", {0.0f, 1.0f, 2.0f});
    w.add_tensor("token_embd.weight", {64, 3}, ggml_type::q8_0).add_tensor("blk.0.attn_q.weight", {64, 64}, ggml_type::f16);
    return w;
}

} // namespace

TEST_CASE("bad magic, unknown versions") {
    CHECK(parse_error({}).code() == errc::truncated);
    byte_vector ggml{'G', 'G', 'M', 'L', 3, 0, 0, 0};
    const auto magic = parse_error(ggml);
    CHECK(magic.code() == errc::bad_magic);
    CHECK(mentions(magic, "'GGML'"));
    CHECK(magic.byte_offset() == 0);

    auto bytes = llama_like().header_bytes();
    for (std::uint32_t version : {0u, 1u, 4u, 0x03000000u}) {
        put_u32_at(bytes, 4, version);
        const auto e = parse_error(bytes);
        CHECK(e.code() == errc::unsupported_version);
        CHECK(e.byte_offset() == 4);
    }
    put_u32_at(bytes, 4, 1);
    CHECK(mentions(parse_error(bytes), "v1"));
    put_u32_at(bytes, 4, 4);
    CHECK(mentions(parse_error(bytes), "version 4"));
    put_u32_at(bytes, 4, 0x03000000u);
    CHECK(mentions(parse_error(bytes), "byte order"));
}

TEST_CASE("every truncation of a valid header is reported as truncated, with the length needed") {
    const auto bytes = llama_like().header_bytes();
    const auto full = gguf::parse(bytes);
    REQUIRE(full.ok());
    for (std::size_t n = 0; n < full->tensors_end(); ++n) {
        const byte_vector prefix(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(n));
        const auto r = gguf::parse(prefix);
        REQUIRE_FALSE(r.ok());
        CHECK(r.err().code() == errc::truncated);
        CHECK(r.err().byte_offset() > n);                  // more input is needed …
        CHECK(r.err().byte_offset() <= full->tensors_end());  // … but never more than the header has
        CHECK(mentions(r.err(), "input ends at byte"));
        // The same prefix declared as the whole file: the file itself is cut short.
        if (n > 0) {
            const auto cut = gguf::parse(prefix, {n});
            REQUIRE_FALSE(cut.ok());
            CHECK((cut.err().code() == errc::truncated || cut.err().code() == errc::limit_exceeded));
        }
    }
    // Names the item it was reading.
    const byte_vector cut(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(full->tensors_end() - 3));
    CHECK(mentions(parse_error(cut), "tensor 'blk.0.attn_q.weight' offset"));
}

TEST_CASE("unknown value types name the key") {
    gguf::writer w;
    w.set("ok", 1).set_raw("weird.key", 13, byte_vector{0, 0, 0, 0});
    auto e = parse_error(w.header_bytes());
    CHECK(e.code() == errc::unknown_type);
    CHECK(mentions(e, "'weird.key'"));
    CHECK(mentions(e, "13"));
    CHECK(e.has_offset());

    gguf::writer a;  // an array whose element type is unknown
    a.set_raw("arr.key", 9, byte_vector{77, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0});
    e = parse_error(a.header_bytes());
    CHECK(e.code() == errc::unknown_type);
    CHECK(mentions(e, "'arr.key'"));
    CHECK(mentions(e, "77"));
}

TEST_CASE("unknown and removed ggml type ids name the tensor") {
    gguf::writer w;
    w.add_tensor_raw("blk.3.ffn_up.weight", {32, 2}, 42);
    auto e = parse_error(w.header_bytes());
    CHECK(e.code() == errc::unknown_type);
    CHECK(mentions(e, "'blk.3.ffn_up.weight'"));
    CHECK(mentions(e, "42"));

    gguf::writer r;
    r.add_tensor_raw("old.weight", {32}, 4);  // Q4_2, removed from ggml
    e = parse_error(r.header_bytes());
    CHECK(e.code() == errc::removed_type);
    CHECK(mentions(e, "'old.weight'"));
    CHECK(mentions(e, "q4_2"));
}

TEST_CASE("absurd counts and lengths are refused before anything is allocated") {
    const auto good = llama_like().header_bytes();
    {   // n_tensors and n_kv far beyond what the input could hold
        auto bytes = good;
        put_u64_at(bytes, 8, 1ULL << 62);
        auto e = parse_error(bytes);
        CHECK(e.code() == errc::limit_exceeded);
        CHECK(mentions(e, "tensors"));
        put_u64_at(bytes, 8, 5'000'000);  // over the parser's own limit
        e = parse_error(bytes);
        CHECK(e.code() == errc::limit_exceeded);
        CHECK(mentions(e, "5000000 tensors: more than the limit"));
        put_u64_at(bytes, 8, 1'000'000);  // plausible for a prefix, impossible for this file size
        e = parse_error(bytes, {bytes.size()});
        CHECK(e.code() == errc::limit_exceeded);
        CHECK(mentions(e, "cannot fit"));
        put_u64_at(bytes, 8, ~std::uint64_t{0});  // negative as int64
        CHECK(mentions(parse_error(bytes), "negative"));
        bytes = good;
        put_u64_at(bytes, 16, 1ULL << 61);
        CHECK(parse_error(bytes).code() == errc::limit_exceeded);
        // A count a (huge, sparse) file could hold: parsing goes on without reserving for 10^6
        // entries and stops at the first entry that makes no sense (here the tensor infos read as keys).
        put_u64_at(bytes, 16, 1'000'000);
        e = parse_error(bytes, {1ULL << 40});
        CHECK(e.code() != errc::none);
        CHECK(mentions(e, "key"));
    }
    {   // a key length beyond GGUF_MAX_STRING_LENGTH
        auto bytes = good;
        put_u64_at(bytes, 24, 1ULL << 40);
        const auto e = parse_error(bytes);
        CHECK(e.code() == errc::limit_exceeded);
        CHECK(mentions(e, "key #0"));
        CHECK(e.byte_offset() == 24);
    }
    {   // a string value longer than the file
        gguf::writer w;
        w.set("name", "abcdefgh");
        auto bytes = w.header_bytes();
        patch(bytes, std::string_view{"\x08\0\0\0\0\0\0\0abcdefgh", 16}, std::string_view{"\xff\xff\0\0\0\0\0\0abcdefgh", 16});
        const auto e = parse_error(bytes, {bytes.size()});
        CHECK(e.code() == errc::truncated);
        CHECK(mentions(e, "'name'"));
        CHECK(mentions(e, "exceeds"));
    }
    {   // array counts: over GGUF_MAX_ARRAY_ELEMENTS, and more than the file holds
        gguf::writer w;
        w.set_array<std::uint32_t>("counts", {1, 2});
        auto bytes = w.header_bytes();
        patch(bytes, std::string_view{"\x04\0\0\0\x02\0\0\0\0\0\0\0", 12}, std::string_view{"\x04\0\0\0\0\0\0\x80\0\0\0\0", 12});
        auto e = parse_error(bytes);
        CHECK(e.code() == errc::limit_exceeded);
        CHECK(mentions(e, "'counts'"));
        patch(bytes, std::string_view{"\x04\0\0\0\0\0\0\x80\0\0\0\0", 12}, std::string_view{"\x04\0\0\0\x00\x10\0\0\0\0\0\0", 12});
        e = parse_error(bytes, {bytes.size()});
        CHECK(e.code() == errc::limit_exceeded);
        CHECK(mentions(e, "'counts'"));
        CHECK(parse_error(bytes).code() == errc::truncated);  // as a prefix: more input needed
    }
    {   // a string array whose strings run past the end
        gguf::writer w;
        w.set_array<std::string_view>("tokens", {"ab", "cd"});
        auto bytes = w.header_bytes();
        patch(bytes, std::string_view{"\x02\0\0\0\0\0\0\0cd", 10}, std::string_view{"\x09\0\0\0\0\0\0\0cd", 10});
        const auto e = parse_error(bytes, {bytes.size()});
        CHECK(e.code() == errc::truncated);
        CHECK(mentions(e, "'tokens'"));
    }
}

TEST_CASE("tensor shapes: dimensions, signs, overflow, block size") {
    struct shape_case {
        std::vector<std::int64_t> ne;
        ggml_type type;
        errc code;
        std::string_view says;
    };
    const std::vector<shape_case> cases{
        {{32, 1, 1, 1, 1}, ggml_type::f32, errc::limit_exceeded, "5 dimensions"},
        {{32, -4}, ggml_type::f32, errc::bad_value, "negative"},
        {{32, 0}, ggml_type::f32, errc::bad_value, "0 elements"},
        {{1LL << 32, 1LL << 32}, ggml_type::f32, errc::limit_exceeded, "too many elements"},
        {{1LL << 31, 1LL << 31}, ggml_type::f32, errc::limit_exceeded, "size in bytes overflows"},
        {{100, 2}, ggml_type::q4_K, errc::bad_value, "block size 256"},
    };
    for (const auto& c : cases) {
        gguf::writer w;
        w.add_tensor("fine", {32}, ggml_type::f32);
        w.add_tensor_raw("blk.7.bad", c.ne, static_cast<std::uint32_t>(c.type));
        const auto e = parse_error(w.header_bytes());
        CHECK(e.code() == c.code);
        CHECK(mentions(e, "'blk.7.bad'"));
        CHECK(mentions(e, c.says));
        CHECK(e.has_offset());
    }
    gguf::writer long_name;
    long_name.add_tensor(std::string(64, 'x'), {32}, ggml_type::f32);
    const auto e = parse_error(long_name.header_bytes());
    CHECK(e.code() == errc::limit_exceeded);
    CHECK(mentions(e, "tensor #0"));
}

TEST_CASE("duplicate keys and duplicate tensor names") {
    gguf::writer w;
    w.set("general.aaaa", 1).set("general.bbbb", 2);
    auto bytes = w.header_bytes();
    patch(bytes, "general.bbbb", "general.aaaa");
    auto e = parse_error(bytes);
    CHECK(e.code() == errc::bad_value);
    CHECK(mentions(e, "duplicate key 'general.aaaa'"));
    CHECK(e.has_offset());

    gguf::writer t;
    t.add_tensor("blk.0.x", {32}, ggml_type::f32).add_tensor("blk.0.y", {32}, ggml_type::f32);
    bytes = t.header_bytes();
    patch(bytes, "blk.0.y", "blk.0.x");
    e = parse_error(bytes);
    CHECK(e.code() == errc::bad_value);
    CHECK(mentions(e, "duplicate tensor name 'blk.0.x'"));
}

TEST_CASE("tensor offsets: alignment, contiguity, file bounds") {
    gguf::writer misaligned;
    misaligned.add_tensor("a", {8}, ggml_type::f32).add_tensor_raw("b", {8}, 0, 4);
    auto e = parse_error(misaligned.header_bytes());
    CHECK(e.code() == errc::bad_value);
    CHECK(mentions(e, "'b' offset 4 is not a multiple of the alignment 32"));

    gguf::writer gap;
    gap.add_tensor("a", {8}, ggml_type::f32).add_tensor_raw("b", {8}, 0, 64);
    e = parse_error(gap.header_bytes());
    CHECK(e.code() == errc::bad_value);
    CHECK(mentions(e, "'b' has offset 64, expected 32"));

    gguf::writer big;
    big.set("general.architecture", "llama");
    big.add_tensor("small", {8}, ggml_type::f32).add_tensor("blk.0.big", {4096, 4096}, ggml_type::f16);
    const auto head = big.header_bytes();
    CHECK(gguf::parse(head, {big.file_size().count()}).ok());
    e = parse_error(head, {head.size() + 1000});
    CHECK(e.code() == errc::out_of_bounds);
    CHECK(mentions(e, "'blk.0.big'"));
    CHECK(mentions(e, "not within"));
    const auto end_of_infos = gguf::parse(head)->tensors_end();
    REQUIRE(end_of_infos % 32 != 0);
    e = parse_error(head, {end_of_infos});  // the data section would start past the end
    CHECK(e.code() == errc::out_of_bounds);
    CHECK(mentions(e, "data section"));
}

TEST_CASE("general.alignment must be a u32 power of two") {
    gguf::writer wrong_type;
    wrong_type.set("general.alignment", std::int32_t{32});
    auto e = parse_error(wrong_type.header_bytes());
    CHECK(e.code() == errc::bad_value);
    CHECK(mentions(e, "'general.alignment' must be of type u32 but is i32"));

    gguf::writer not_power;
    not_power.set("general.alignment", std::uint32_t{48});
    e = parse_error(not_power.header_bytes());
    CHECK(e.code() == errc::bad_value);
    CHECK(mentions(e, "48, not a power of 2"));
}

TEST_CASE("empty keys and arrays nested too deep") {
    gguf::writer w;
    w.set("x", 1);
    auto bytes = w.header_bytes();
    // key length 1 → 0 makes the key empty (and the rest garbage, but the key is checked first)
    put_u64_at(bytes, 24, 0);
    auto e = parse_error(bytes);
    CHECK(e.code() == errc::bad_value);
    CHECK(mentions(e, "key #0 is empty"));

    auto nested = gguf::array_value::of({1});
    for (int depth = 0; depth < 10; ++depth) nested = gguf::array_value::of_arrays({nested});
    gguf::writer deep;
    deep.set("deep", nested);
    e = parse_error(deep.header_bytes());
    CHECK(e.code() == errc::limit_exceeded);
    CHECK(mentions(e, "'deep' nests arrays deeper"));
}

TEST_CASE("single-byte corruptions anywhere never crash and always explain themselves") {
    const auto good = llama_like().header_bytes();
    std::size_t failures = 0;
    for (std::size_t at = 0; at < good.size(); ++at) {
        for (unsigned char value : {0x00, 0x01, 0x7f, 0x80, 0xff}) {
            auto bytes = good;
            bytes[at] = value;
            const auto r = gguf::parse(bytes, {bytes.size()});
            if (!r.ok()) {
                ++failures;
                CHECK_FALSE(r.err().message().empty());
            }
        }
    }
    CHECK(failures > 0);
}
