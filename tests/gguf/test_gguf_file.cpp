// GGUF files on disk: sparse shape-only files, progressive header reads, split models.
#include <doctest/doctest.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include <sys/stat.h>
#include <unistd.h>

#include "vramfit/formats/gguf/file.hpp"
#include "vramfit/formats/gguf/writer.hpp"

using namespace vramfit;
namespace fs = std::filesystem;

namespace {

bool mentions(const error& e, std::string_view text) { return e.message().find(text) != std::string_view::npos; }

// A fresh directory under the system temp dir, removed at the end of the test.
struct temp_dir {
    fs::path path;
    temp_dir() {
        std::string pattern = (fs::temp_directory_path() / "vramfit-gguf-XXXXXX").string();
        REQUIRE(mkdtemp(pattern.data()) != nullptr);
        path = pattern;
    }
    ~temp_dir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

// A llama-shaped model: 4 blocks of 7 tensors at q4_K, ~`embd`-wide.
gguf::writer small_llama(std::int64_t embd = 512, std::uint32_t blocks = 4) {
    gguf::writer w;
    w.set("general.architecture", "llama").set("general.name", "test").set("llama.block_count", blocks)
        .set("llama.embedding_length", static_cast<std::uint32_t>(embd));
    w.add_tensor("token_embd.weight", {embd, 1000}, ggml_type::q4_K);
    for (std::uint32_t b = 0; b < blocks; ++b) {
        const std::string p = "blk." + std::to_string(b) + ".";
        w.add_tensor(p + "attn_norm.weight", {embd}, ggml_type::f32)
            .add_tensor(p + "attn_q.weight", {embd, embd}, ggml_type::q4_K)
            .add_tensor(p + "attn_k.weight", {embd, embd / 4}, ggml_type::q4_K)
            .add_tensor(p + "attn_v.weight", {embd, embd / 4}, ggml_type::q6_K)
            .add_tensor(p + "ffn_gate.weight", {embd, 3 * embd}, ggml_type::q4_K)
            .add_tensor(p + "ffn_down.weight", {3 * embd, embd}, ggml_type::q6_K)
            .add_tensor(p + "ffn_up.weight", {embd, 3 * embd}, ggml_type::q4_K);
    }
    w.add_tensor("output_norm.weight", {embd}, ggml_type::f32).add_tensor("output.weight", {embd, 1000}, ggml_type::q6_K);
    return w;
}

void write_bytes(const fs::path& path, const std::vector<unsigned char>& bytes) {
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

} // namespace

TEST_CASE("a sparse file has the full size, no data on disk, and reads back") {
    temp_dir dir;
    auto w = small_llama(8192, 2);  // ~0.9 GB of weights
    const fs::path path = dir.path / "model.gguf";
    const auto written = w.write_sparse(path);
    REQUIRE(written.ok());
    CHECK(*written == w.file_size());
    CHECK(fs::file_size(path) == w.file_size().count());
    struct stat st {};
    REQUIRE(stat(path.c_str(), &st) == 0);
    CHECK(static_cast<std::uint64_t>(st.st_blocks) * 512 < 4ULL * 1048576);  // the data section is a hole

    const auto f = gguf::read_file(path);
    REQUIRE(f.ok());
    CHECK(f->size() == w.file_size());
    CHECK(f->header_bytes().size() < 8ULL * 1048576);  // only the header was read
    CHECK(f->metadata().get_string("general.architecture") == std::string_view{"llama"});
    CHECK(f->tensors().size() == w.tensors().size());
    CHECK(f->source().file_size == w.file_size().count());
    CHECK(f->source().data_offset == f->metadata().data_offset());
    CHECK(f->metadata().expected_file_size() == w.file_size());
    const auto offsets = w.tensor_offsets();
    for (std::size_t i = 0; i < offsets.size(); ++i) CHECK(f->tensors()[i].offset == offsets[i]);
}

TEST_CASE("a header larger than the first read is read progressively") {
    temp_dir dir;
    auto w = small_llama();
    std::vector<std::string> tokens;
    for (int i = 0; i < 300000; ++i) tokens.push_back("token-number-" + std::to_string(i));  // ~6.5 MB of strings
    std::vector<float> scores(tokens.size(), -1.0f);
    std::vector<std::int32_t> types(tokens.size(), 1);
    w.set_array("tokenizer.ggml.tokens", tokens).set_array("tokenizer.ggml.scores", scores)
        .set_array("tokenizer.ggml.token_type", types);
    const fs::path path = dir.path / "big-header.gguf";
    REQUIRE(w.write_sparse(path).ok());
    const auto f = gguf::read_file(path);
    REQUIRE(f.ok());
    CHECK(f->metadata().array_size("tokenizer.ggml.tokens") == 300000u);
    CHECK(f->metadata().get_float_array("tokenizer.ggml.scores")->size() == 300000u);
    CHECK(f->header_bytes().size() > gguf::initial_read_bytes);
    CHECK(f->header_bytes().size() >= f->metadata().tensors_end());
}

TEST_CASE("files cut short, missing and not GGUF fail with the file named") {
    temp_dir dir;
    auto w = small_llama();
    const auto head = w.header_bytes();
    const fs::path cut = dir.path / "cut.gguf";
    write_bytes(cut, std::vector<unsigned char>(head.begin(), head.begin() + static_cast<std::ptrdiff_t>(head.size() / 2)));
    auto e = gguf::read_file(cut).err();
    CHECK((e.code() == errc::truncated || e.code() == errc::limit_exceeded));
    CHECK(mentions(e, "cut.gguf"));

    const fs::path header_only = dir.path / "header-only.gguf";  // header complete, data missing
    write_bytes(header_only, head);
    e = gguf::read_file(header_only).err();
    CHECK(e.code() == errc::out_of_bounds);
    CHECK(mentions(e, "header-only.gguf"));
    CHECK(mentions(e, "not within"));

    // A terabyte-sized sparse file whose header claims 10^10 keys: refused without reading on.
    auto absurd = head;
    for (int i = 0; i < 8; ++i) absurd[16 + i] = static_cast<unsigned char>(10'000'000'000ULL >> (8 * i));
    const fs::path huge = dir.path / "huge.gguf";
    write_bytes(huge, absurd);
    fs::resize_file(huge, 1ULL << 40);
    const auto refused = gguf::read_file(huge);
    REQUIRE_FALSE(refused.ok());
    CHECK(mentions(refused.err(), "huge.gguf"));
    CHECK(mentions(refused.err(), "key"));

    e = gguf::read_file(dir.path / "absent.gguf").err();
    CHECK(e.code() == errc::io);
    CHECK(mentions(e, "absent.gguf"));

    const fs::path empty = dir.path / "empty.gguf";
    write_bytes(empty, {});
    e = gguf::read_file(empty).err();
    CHECK(e.code() == errc::truncated);
    CHECK(mentions(e, "empty.gguf"));
    CHECK(mentions(e, "magic"));

    const fs::path text = dir.path / "notes.gguf";
    write_bytes(text, {'h', 'e', 'l', 'l', 'o', '\n'});
    e = gguf::read_file(text).err();
    CHECK(e.code() == errc::bad_magic);
    CHECK(mentions(e, "notes.gguf"));
}

TEST_CASE("split file names") {
    const auto name = gguf::parse_split_path("/models/Big-Model-Q4_K_M-00002-of-00016.gguf");
    REQUIRE(name.has_value());
    CHECK(name->prefix == fs::path{"/models/Big-Model-Q4_K_M"});
    CHECK(name->index == 1);
    CHECK(name->count == 16);
    CHECK(gguf::split_path(name->prefix, 0, 16) == fs::path{"/models/Big-Model-Q4_K_M-00001-of-00016.gguf"});
    CHECK_FALSE(gguf::parse_split_path("model.gguf").has_value());
    CHECK_FALSE(gguf::parse_split_path("model-00000-of-00002.gguf").has_value());
    CHECK_FALSE(gguf::parse_split_path("model-00003-of-00002.gguf").has_value());
    CHECK_FALSE(gguf::parse_split_path("model-001-of-002.gguf").has_value());
    CHECK_FALSE(gguf::parse_split_path("model-00001-of-00002.bin").has_value());
}

TEST_CASE("a split model reads as one, from any part") {
    temp_dir dir;
    const auto w = small_llama();
    const auto paths = w.write_sparse_split(dir.path / "tiny-Q4_K_M", 4);
    REQUIRE(paths.ok());
    REQUIRE(paths->size() == 4);
    CHECK(paths->back().filename() == "tiny-Q4_K_M-00004-of-00004.gguf");
    for (const auto& start : {paths->front(), (*paths)[2]}) {
        const auto model = gguf::read_model(start);
        REQUIRE(model.ok());
        CHECK(model->files.size() == 4);
        CHECK(model->sources.size() == 4);
        CHECK(model->tensors.size() == w.tensors().size());
        CHECK(model->metadata().get_uint("llama.block_count") == 4u);
        CHECK(model->metadata().get_uint("split.count") == 4u);
        std::uint64_t data = 0;
        for (std::size_t i = 0; i < model->tensors.size(); ++i) {
            CHECK(model->tensors[i].name.view() == w.tensors()[i].name_view());  // split order = original order
            const auto k = model->tensors[i].file_index;
            CHECK(model->sources[k].data_offset + model->tensors[i].offset + model->tensors[i].size().count() <=
                  model->sources[k].file_size);
            data += model->tensors[i].size().count();
        }
        CHECK(model->tensors.front().file_index == 0);
        CHECK(model->tensors.back().file_index == 3);
        CHECK(model->total_size() > bytes{data});
    }
    // A single file reads as a one-part model.
    REQUIRE(w.write_sparse(dir.path / "single.gguf").ok());
    const auto single = gguf::read_model(dir.path / "single.gguf");
    REQUIRE(single.ok());
    CHECK(single->files.size() == 1);
    CHECK(single->tensors.size() == w.tensors().size());
}

TEST_CASE("broken split models are explained") {
    temp_dir dir;
    const auto w = small_llama();
    const auto prefix = dir.path / "m";
    SUBCASE("a missing part") {
        const auto paths = w.write_sparse_split(prefix, 4);
        REQUIRE(paths.ok());
        fs::remove((*paths)[2]);
        const auto e = gguf::read_model(paths->front()).err();
        CHECK(e.code() == errc::io);
        CHECK(mentions(e, "missing split part 'm-00003-of-00004.gguf'"));
    }
    SUBCASE("parts in the wrong order") {
        const auto paths = w.write_sparse_split(prefix, 3);
        REQUIRE(paths.ok());
        fs::rename((*paths)[1], dir.path / "tmp");
        fs::rename((*paths)[2], (*paths)[1]);
        fs::rename(dir.path / "tmp", (*paths)[2]);
        const auto e = gguf::read_model(paths->front()).err();
        CHECK(e.code() == errc::bad_value);
        CHECK(mentions(e, "m-00002-of-00003.gguf: split.no is 2, expected 1"));
    }
    SUBCASE("split.tensors.count disagrees") {
        auto parts = w.split(std::uint16_t{2});
        parts[0].set("split.tensors.count", std::int32_t{5});
        for (std::uint32_t k = 0; k < 2; ++k) REQUIRE(parts[k].write_sparse(gguf::split_path(prefix, k, 2)).ok());
        const auto e = gguf::read_model(gguf::split_path(prefix, 0, 2)).err();
        CHECK(e.code() == errc::bad_value);
        CHECK(mentions(e, "split.tensors.count is 5"));
    }
    SUBCASE("a tensor in two parts") {
        gguf::writer dup = w;
        dup.add_tensor("blk.0.attn_q.weight", {512, 512}, ggml_type::q4_K);  // also in part 1
        const auto paths = dup.write_sparse_split(prefix, 2);
        REQUIRE(paths.ok());
        const auto e = gguf::read_model(paths->front()).err();
        CHECK(e.code() == errc::bad_value);
        CHECK(mentions(e, "'blk.0.attn_q.weight'"));
    }
    SUBCASE("split.no of the wrong type") {
        auto parts = w.split(std::uint16_t{2});
        parts[1].set("split.no", std::uint32_t{1});
        for (std::uint32_t k = 0; k < 2; ++k) REQUIRE(parts[k].write_sparse(gguf::split_path(prefix, k, 2)).ok());
        const auto e = gguf::read_model(gguf::split_path(prefix, 0, 2)).err();
        CHECK(e.code() == errc::bad_value);
        CHECK(mentions(e, "'split.no' must be u16 but is u32"));
    }
    SUBCASE("split.count but no split file name") {
        auto parts = w.split(std::uint16_t{2});
        REQUIRE(parts[0].write_sparse(dir.path / "plain.gguf").ok());
        const auto e = gguf::read_model(dir.path / "plain.gguf").err();
        CHECK(e.code() == errc::invalid_argument);
        CHECK(mentions(e, "plain.gguf"));
    }
    SUBCASE("no architecture") {
        gguf::writer bare = w;
        bare.remove("general.architecture");
        REQUIRE(bare.write_sparse(dir.path / "bare.gguf").ok());
        const auto e = gguf::read_model(dir.path / "bare.gguf").err();
        CHECK(e.code() == errc::missing_key);
        CHECK(mentions(e, "general.architecture"));
    }
}

TEST_CASE("the fuzz seed corpus holds valid, real-shaped headers") {
    const fs::path corpus = fs::path{VRAMFIT_TEST_DATA}.parent_path().parent_path() / "fuzz" / "corpus" / "gguf";
    REQUIRE(fs::is_directory(corpus));
    std::size_t seeds = 0;
    for (const auto& item : fs::directory_iterator(corpus)) {
        INFO(item.path().filename().string());
        std::ifstream in(item.path(), std::ios::binary);
        const std::vector<unsigned char> bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
        // Seeds are headers without their data section: they parse as a prefix …
        const auto h = gguf::parse(bytes);
        REQUIRE(h.ok());
        CHECK(h->data_offset() == bytes.size());
        // … and read_file, which knows the file ends there, says the tensor data is missing.
        if (!h->tensors().empty()) CHECK(gguf::read_file(item.path()).err().code() == errc::out_of_bounds);
        ++seeds;
    }
    CHECK(seeds >= 8);
}
