#include <doctest/doctest.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "cli.hpp"
#include "vramfit/engines/llama_cpp/export.hpp"

namespace {

struct outcome {
    int status;
    std::string out, err;
};

outcome run(std::vector<std::string_view> args) {
    outcome o{};
    o.status = vramfit::cli::run(args, o.out, o.err);
    return o;
}

bool contains(const std::string& text, std::string_view part) { return text.find(part) != std::string::npos; }

} // namespace

TEST_CASE("estimate prints the engine's buffers for a catalog model") {
    auto o = run({"estimate", "llama-3.1-8b:Q4_K_M", "-c", "32768", "-fa", "on"});
    REQUIRE(o.status == 0);
    CHECK(o.err.empty());
    // The oracle's llama-3.1-8b Q4_K_M run at 32768 tokens (tests/data/cpu_oracle.csv).
    CHECK(contains(o.out, "CPU_Mapped      4653.80 MiB"));
    CHECK(contains(o.out, "CPU_REPACK      3204.00 MiB"));
    CHECK(contains(o.out, "4096.00 MiB  K 2048.00 MiB + V 2048.00 MiB; 32768 cells x 1 stream, 32 layers"));
    CHECK(contains(o.out, "266.50 MiB"));
}

TEST_CASE("estimate --json has the documented shape") {
    auto o = run({"estimate", "gemma-3-12b:Q4_K_M", "-c", "4096", "--json", "--repack", "off"});
    REQUIRE(o.status == 0);
    const auto& j = o.out;
    CHECK(j.starts_with("{\"engine\":\"llama.cpp\",\"engine_commit\":\"1425386fd996511e1f3295e7366c38289a92a271\""));
    CHECK(contains(j, "\"model\":{\"name\":\"gemma-3-12b\""));
    CHECK(contains(j, "\"n_ctx\":4096"));
    CHECK(contains(j, "\"buffers\":[{\"device\":\"CPU\",\"kind\":\"model\",\"buffer_type\":\"CPU_Mapped\",\"bytes\":"));
    CHECK(contains(j, "\"kind\":\"kv_swa\""));
    CHECK(contains(j, "\"kind\":\"compute\""));
    CHECK(contains(j, "\"kind\":\"output\""));
    CHECK_FALSE(contains(j, "CPU_REPACK"));
    CHECK(contains(j, "\"total_bytes\":"));
    CHECK(j.ends_with("}\n"));
}

TEST_CASE("estimate reads a GGUF file") {
    auto model = vramfit::catalog::describe("llama-3.2-1b:Q4_0");
    REQUIRE(model.ok());
    auto path = std::filesystem::temp_directory_path() / "vramfit-cli-test.gguf";
    auto written = vramfit::write_shape_only_gguf(*vramfit::catalog::find("llama-3.2-1b"), *model, path);
    REQUIRE_MESSAGE(written.ok(), written.err().describe());
    auto from_file = run({"estimate", path.string(), "-c", "4096", "--json"});
    auto from_catalog = run({"estimate", "llama-3.2-1b:Q4_0", "-c", "4096", "--json"});
    std::filesystem::remove(path);
    REQUIRE(from_file.status == 0);
    // Same buffers either way; only the model's name and tensor offsets' source differ.
    auto buffers = [](const std::string& j) { return j.substr(j.find("\"buffers\"")); };
    CHECK(buffers(from_file.out) == buffers(from_catalog.out));
}

TEST_CASE("bad input: one clear line on stderr and exit status 2") {
    struct bad_case { std::vector<std::string_view> args; std::string_view message; };
    const bad_case cases[] = {
        {{"estimate"}, "missing MODEL"},
        {{"estimate", "llama-3.1-8b", "-c", "many"}, "-c: expects a whole number, got 'many'"},
        {{"estimate", "llama-3.1-8b", "-c"}, "-c: missing value"},
        {{"estimate", "llama-3.1-8b", "-ub", "0"}, "-ub: is out of range"},
        {{"estimate", "llama-3.1-8b", "--frobnicate"}, "unknown flag '--frobnicate'"},
        {{"estimate", "llama-3.1-8b", "-fa", "maybe"}, "-fa: expects on, off or auto"},
        {{"estimate", "llama-3.1-8b", "-ctk", "q3_K"}, "-ctk: expects one of"},
        {{"estimate", "llama-3.1-8b", "--repack", "mmx"}, "--repack: expects on, off, or an ISA"},
        {{"estimate", "no-such-model"}, "unknown catalog model 'no-such-model'"},
        {{"estimate", "/nonexistent/dir/model.gguf"}, "cannot open"},
        {{"estimate", "a", "b"}, "unexpected argument 'b'"},
        {{"launch"}, "unknown command 'launch'"},
    };
    for (const auto& c : cases) {
        auto o = run(c.args);
        CAPTURE(c.message);
        CHECK(o.status == 2);
        CHECK(o.out.empty());
        CHECK(contains(o.err, c.message));
    }
}

TEST_CASE("an unknown GPU: the library names close ids, the CLI adds where the list is") {
    const auto typo = run({"estimate", "llama-3.1-8b", "--gpu", "rtx-3091"});
    CHECK(typo.status == 2);
    CHECK(typo.err == "vramfit estimate: unknown GPU 'rtx-3091'; did you mean rtx-3090, rtx-3070, rtx-3080, rtx-4090, "
                      "rtx-5090? `vramfit gpus` lists the 34 known GPUs\n");
    const auto far = run({"plan", "llama-3.1-8b", "--gpu", "quantum-accelerator-9000"});
    CHECK(far.status == 2);
    CHECK(far.err == "vramfit plan: unknown GPU 'quantum-accelerator-9000'; `vramfit gpus` lists the 34 known GPUs\n");
}

TEST_CASE("models lists the catalog") {
    auto o = run({"models"});
    REQUIRE(o.status == 0);
    CHECK(contains(o.out, "llama-3.1-8b"));
    CHECK(contains(o.out, "deepseek-v2-lite"));
    auto j = run({"models", "--json"});
    REQUIRE(j.status == 0);
    CHECK(j.out.starts_with("[{\"key\":\"llama-3.1-8b\""));
}

TEST_CASE("gpus lists the GPU catalog") {
    auto o = run({"gpus"});
    REQUIRE(o.status == 0);
    CHECK(contains(o.out, "tesla-k80"));
    CHECK(contains(o.out, "rtx-3090"));
    auto j = run({"gpus", "--json"});
    REQUIRE(j.status == 0);
    CHECK(contains(j.out, "\"id\":\"h200\""));
    CHECK(run({"gpus", "--bogus"}).status == 2);
}

TEST_CASE("export writes a shape-only GGUF that estimates like the catalog model") {
    auto path = (std::filesystem::temp_directory_path() / "vramfit-cli-export.gguf").string();
    auto exported = run({"export", "qwen3-30b-a3b:Q4_K_M", path});
    REQUIRE_MESSAGE(exported.status == 0, exported.err);
    CHECK(contains(exported.out, "579 tensors"));
    auto from_file = run({"estimate", path, "-c", "8192", "--json", "--repack", "avx512"});
    auto from_catalog = run({"estimate", "qwen3-30b-a3b:Q4_K_M", "-c", "8192", "--json", "--repack", "avx512"});
    std::filesystem::remove(path);
    REQUIRE(from_file.status == 0);
    auto buffers = [](const std::string& j) { return j.substr(j.find("\"buffers\"")); };
    CHECK(buffers(from_file.out) == buffers(from_catalog.out));
    CHECK(run({"export", "qwen3-30b-a3b:Q4_K_M"}).status == 2);
    CHECK(run({"export", "nope:Q4_K_M", path}).status == 2);
    CHECK(run({"export", "qwen3-30b-a3b", "/nonexistent-dir/x.gguf"}).status == 2);
}

TEST_CASE("estimate --gpu: per-device buffers, capacity, margin and verdict") {
    auto o = run({"estimate", "llama-3.1-8b:Q4_K_M", "--gpu", "rtx-3090", "--gpu", "rtx-3090", "-ngl", "99", "-ts", "1,1",
                  "-sm", "layer", "-mg", "0", "-c", "32768"});
    REQUIRE_MESSAGE(o.status == 0, o.err);
    // 32 layers + output over an equal split: layers 0-16 on CUDA0, 17-31 and the output on CUDA1
    // (load_tensors' upper_bound over il/33); KV 17 x 128 MiB and 15 x 128 MiB.
    CHECK(contains(o.out, "CUDA0   rtx-3090           17"));
    CHECK(contains(o.out, "CUDA1   rtx-3090       15+out"));
    CHECK(contains(o.out, "2176.00 MiB"));
    CHECK(contains(o.out, "1920.00 MiB"));
    CHECK(contains(o.out, "24576.00 MiB"));
    CHECK(contains(o.out, "CPU_Mapped 281.81 MiB"));  // token_embd stays on the host
    CHECK(contains(o.out, "verdict FITS"));

    auto json = run({"estimate", "llama-3.1-8b:Q4_K_M", "--gpu", "rtx-3090x2", "-c", "32768", "--json"});
    REQUIRE(json.status == 0);
    CHECK(contains(json.out, "\"devices\":[{\"name\":\"CUDA0\",\"gpu\":\"rtx-3090\""));
    CHECK(contains(json.out, "\"capacity_bytes\":25769803776"));
    CHECK(contains(json.out, "\"fits\":true"));
}

TEST_CASE("estimate --gpu: a configuration that does not fit says which device and why") {
    auto o = run({"estimate", "llama-3.1-8b:F16", "--gpu", "rtx-3090", "-c", "131072"});
    REQUIRE(o.status == 0);
    CHECK(contains(o.out, "DOES NOT FIT (over by"));
    CHECK(contains(o.out, "largest buffer: kv"));
    CHECK(contains(o.out, "verdict DOES NOT FIT"));
    auto json = run({"estimate", "llama-3.1-8b:F16", "--gpu", "rtx-3090", "-c", "131072", "--json"});
    CHECK(contains(json.out, "\"fits\":false"));
    CHECK(contains(json.out, "\"largest_buffer\":\"kv\""));
    // -sm none with -mg 1: everything on the second GPU, nothing on the first
    auto pinned = run({"estimate", "llama-3.1-8b:Q4_K_M", "--gpu", "rtx-3090x2", "-sm", "none", "-mg", "1", "--json"});
    REQUIRE(pinned.status == 0);
    CHECK(contains(pinned.out, "{\"name\":\"CUDA0\",\"gpu\":\"rtx-3090\",\"layers\":0,"));
    // --n-cpu-moe / --cpu-moe move expert tensors to the host; --reserve is charged per device
    auto moe = run({"estimate", "qwen3-30b-a3b:Q4_K_M", "--gpu", "rtx-3090", "--cpu-moe", "--reserve", "300"});
    REQUIRE_MESSAGE(moe.status == 0, moe.err);
    CHECK(contains(moe.out, "300.00 MiB"));
}

TEST_CASE("estimate --gpu --blas: a BLAS build's products of host weights leave CUDA0") {
    // -ngl 0: every weight in host memory. A plain CUDA build sends the large products to CUDA0
    // (the logits alone are 128256 x 512 x 4 bytes there); with GGML_BLAS the BLAS backend
    // takes them into its own "CPU" compute buffer and CUDA0 keeps the small ones.
    const auto compute_of = [](const std::string& json, std::string_view key) {
        const auto at = json.find(key);
        REQUIRE(at != std::string::npos);
        return std::stoull(json.substr(at + key.size()));
    };
    auto plain = run({"estimate", "llama-3.2-1b:Q4_K_M", "--gpu", "rtx-3090", "-ngl", "0", "--json"});
    auto blas = run({"estimate", "llama-3.2-1b:Q4_K_M", "--gpu", "rtx-3090", "-ngl", "0", "--blas", "--json"});
    REQUIRE(plain.status == 0);
    REQUIRE(blas.status == 0);
    CHECK(compute_of(plain.out, "\"blas_compute_bytes\":") == 0);
    const auto blas_buffer = compute_of(blas.out, "\"blas_compute_bytes\":");
    CHECK(blas_buffer >= 128256ull * 512 * 4);
    const auto cuda0_plain = compute_of(plain.out, "\"compute_bytes\":");
    const auto cuda0_blas = compute_of(blas.out, "\"compute_bytes\":");
    CHECK(cuda0_blas * 10 < cuda0_plain);
    auto text = run({"estimate", "llama-3.2-1b:Q4_K_M", "--gpu", "rtx-3090", "-ngl", "0", "--blas"});
    CHECK(contains(text.out, "(CPU, BLAS backend)"));
    CHECK_FALSE(contains(run({"estimate", "llama-3.2-1b:Q4_K_M", "--gpu", "rtx-3090", "-ngl", "0"}).out, "BLAS backend"));
}

TEST_CASE("estimate --gpu: bad placement flags are errors") {
    CHECK(run({"estimate", "llama-3.1-8b", "--gpu", "no-such-gpu"}).status == 2);
    CHECK(run({"estimate", "llama-3.1-8b", "--gpu", "rtx-3090", "-ts", "1,x"}).status == 2);
    CHECK(run({"estimate", "llama-3.1-8b", "--gpu", "rtx-3090", "-ts", "-1"}).status == 2);
    CHECK(run({"estimate", "llama-3.1-8b", "--gpu", "rtx-3090", "-sm", "diagonal"}).status == 2);
    CHECK(run({"estimate", "llama-3.1-8b", "--gpu", "rtx-3090", "-mg", "1"}).status == 2);    // one device only
    CHECK(run({"estimate", "llama-3.1-8b", "--gpu", "rtx-3090", "-ngl"}).status == 2);
    auto e = run({"estimate", "llama-3.1-8b", "--gpu", "rtx-3090x9", "--gpu", "rtx-3090x9"});
    CHECK(e.status == 2);
}

TEST_CASE("--gpu auto uses the devices this machine sees, or says why there are none") {
    auto o = run({"estimate", "llama-3.2-1b:Q4_0", "--gpu", "auto", "-ngl", "99"});
    if (o.status == 0) {
        CHECK(contains(o.out, "CUDA0"));  // a machine with a visible CUDA device
    } else {
        CHECK(o.status == 2);
        CHECK(contains(o.err, "--gpu auto"));
        CHECK(o.err.find('\n') == o.err.size() - 1);  // one line
    }
}

TEST_CASE("estimate --gpu -ot: regex overrides place tensors as --cpu-moe / --n-cpu-moe do") {
    const auto estimate = [](std::vector<std::string_view> extra) {
        std::vector<std::string_view> args{"estimate", "qwen3-30b-a3b:Q4_K_M", "--gpu", "rtx-3090", "-c", "8192", "--json"};
        args.insert(args.end(), extra.begin(), extra.end());
        return run(args);
    };
    // --cpu-moe is common/arg.cpp's LLM_FFN_EXPS_REGEX to CPU; written out as -ot it places the same
    const auto cpu_moe = estimate({"--cpu-moe"});
    REQUIRE_MESSAGE(cpu_moe.status == 0, cpu_moe.err);
    const auto ot = estimate({"-ot", "\\.ffn_(up|down|gate|gate_up)_(ch|)exps=CPU"});
    REQUIRE_MESSAGE(ot.status == 0, ot.err);
    CHECK(ot.out == cpu_moe.out);
    // --n-cpu-moe 10 is blocks 0-9: one -ot with a class, or two comma-separated overrides
    const auto n_cpu_moe = estimate({"--n-cpu-moe", "10"});
    REQUIRE(n_cpu_moe.status == 0);
    CHECK(estimate({"-ot", "^blk\\.\\d\\.ffn_\\w+_exps=CPU"}).out == n_cpu_moe.out);
    CHECK(estimate({"-ot", "blk\\.[0-4]\\.ffn_.*_exps=CPU,blk\\.[5-9]\\.ffn_.*_exps=CPU"}).out == n_cpu_moe.out);
    CHECK(n_cpu_moe.out != cpu_moe.out);
    // first match wins: an earlier override to CUDA0 shadows the CPU one
    CHECK(estimate({"-ot", "exps=CUDA0", "--cpu-moe"}).out == estimate({}).out);
    CHECK(estimate({"--cpu-moe", "-ot", "exps=CUDA0"}).out == cpu_moe.out);
}

TEST_CASE("estimate -ot: malformed overrides are one-line errors") {
    const auto bad = [](std::string_view value, std::string_view expected) {
        auto o = run({"estimate", "qwen3-30b-a3b:Q4_K_M", "--gpu", "rtx-3090", "-ot", value});
        CAPTURE(value);
        CHECK(o.status == 2);
        CHECK(contains(o.err, expected));
        CHECK(o.err.find('\n') == o.err.size() - 1);
    };
    bad("exps", "-ot: expects PATTERN=BUFFER_TYPE, comma-separated, got 'exps'");
    bad("exps=GPU", "-ot: unknown buffer type (CPU, CUDA0, CUDA1, ...), got 'GPU'");
    bad("exps=CPU,", "got ''");
    bad("blk\\.(1[0-9]\\.ffn=CPU", "-ot: regex 'blk\\.(1[0-9]\\.ffn': missing ')' for the '(' at position 5");
    bad("exps=CUDA1", "override device CUDA1 is out of range for 1 CUDA device(s)");
}

TEST_CASE("estimate --gpu -sm row: the split weights are charged to every GPU") {
    const auto json = [](std::string_view mode) {
        return run({"estimate", "llama-3.1-8b:Q4_K_M", "--gpu", "rtx-3090x2", "-c", "8192", "-sm", mode, "--json"});
    };
    const auto row = json("row");
    const auto layer = json("layer");
    REQUIRE_MESSAGE(row.status == 0, row.err);
    REQUIRE(layer.status == 0);
    CHECK(contains(row.out, "\"fits\":true"));
    CHECK(row.out != layer.out);  // same layers and KV per device, different weight bytes per device
}
