#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli.hpp"
#include "vramfit/engines/llama_cpp/from_catalog.hpp"
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

// The CLI's JSON, parsed; key order kept (ordered_json) so the documented order can be checked.
nlohmann::ordered_json parse(const std::string& text) { return nlohmann::ordered_json::parse(text); }

bool one_line(const std::string& text) { return !text.empty() && text.find('\n') == text.size() - 1; }

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
    CHECK(o.out.ends_with("}\n"));
    CHECK(std::count(o.out.begin(), o.out.end(), '\n') == 1);  // one line
    const auto j = parse(o.out);
    REQUIRE(j.is_object());
    auto key = j.begin();
    CHECK(key.key() == "engine");
    CHECK(key.value() == "llama.cpp");
    ++key;
    CHECK(key.key() == "engine_commit");
    CHECK(key.value() == "1425386fd996511e1f3295e7366c38289a92a271");
    CHECK(j["backend"] == "CPU");
    CHECK(j["model"]["name"] == "gemma-3-12b");
    CHECK(j["n_ctx"] == 4096);
    const auto& buffers = j["buffers"];
    REQUIRE(buffers.is_array());
    REQUIRE(!buffers.empty());
    CHECK(buffers[0]["device"] == "CPU");
    CHECK(buffers[0]["kind"] == "model");
    CHECK(buffers[0]["buffer_type"] == "CPU_Mapped");
    CHECK(buffers[0]["bytes"].is_number_unsigned());
    const auto has_kind = [&](std::string_view kind) {
        return std::any_of(buffers.begin(), buffers.end(), [&](const auto& b) { return b["kind"] == kind; });
    };
    CHECK(has_kind("kv_swa"));
    CHECK(has_kind("compute"));
    CHECK(has_kind("output"));
    CHECK_FALSE(contains(o.out, "CPU_REPACK"));
    REQUIRE(j["total_bytes"].is_number_unsigned());
    std::uint64_t sum = 0;
    for (const auto& b : buffers) sum += b["bytes"].get<std::uint64_t>();
    CHECK(j["total_bytes"].get<std::uint64_t>() == sum);
}

TEST_CASE("estimate reads a GGUF file") {
    auto model = vramfit::llama_cpp::describe("llama-3.2-1b:Q4_0");
    REQUIRE(model.ok());
    auto path = std::filesystem::temp_directory_path() / "vramfit-cli-test.gguf";
    auto written = vramfit::write_shape_only_gguf(*vramfit::catalog::find("llama-3.2-1b"), *model, path);
    REQUIRE_MESSAGE(written.ok(), written.err().describe());
    auto from_file = run({"estimate", path.string(), "-c", "4096", "--json"});
    auto from_catalog = run({"estimate", "llama-3.2-1b:Q4_0", "-c", "4096", "--json"});
    std::filesystem::remove(path);
    REQUIRE(from_file.status == 0);
    REQUIRE(from_catalog.status == 0);
    // Same buffers either way; only the model's name and tensor offsets' source differ.
    const auto file_json = parse(from_file.out), catalog_json = parse(from_catalog.out);
    CHECK(file_json["buffers"] == catalog_json["buffers"]);
    CHECK(file_json["total_bytes"] == catalog_json["total_bytes"]);
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
        if (c.args.front() != "launch") CHECK(one_line(o.err));  // an unknown command adds the usage
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
    const auto models = parse(j.out);
    REQUIRE(models.is_array());
    REQUIRE(!models.empty());
    CHECK(models[0].begin().key() == "key");
    CHECK(models[0]["key"] == "llama-3.1-8b");
}

TEST_CASE("gpus lists the GPU catalog") {
    auto o = run({"gpus"});
    REQUIRE(o.status == 0);
    CHECK(contains(o.out, "tesla-k80"));
    CHECK(contains(o.out, "rtx-3090"));
    auto j = run({"gpus", "--json"});
    REQUIRE(j.status == 0);
    const auto gpus = parse(j.out)["gpus"];
    REQUIRE(gpus.is_array());
    CHECK(std::any_of(gpus.begin(), gpus.end(), [](const auto& g) { return g["id"] == "h200"; }));
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
    REQUIRE(from_catalog.status == 0);
    const auto file_json = parse(from_file.out), catalog_json = parse(from_catalog.out);
    CHECK(file_json["buffers"] == catalog_json["buffers"]);
    CHECK(file_json["total_bytes"] == catalog_json["total_bytes"]);
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
    const auto j = parse(json.out);
    const auto& devices = j["devices"];
    REQUIRE(devices.is_array());
    REQUIRE(devices.size() == 2);
    CHECK(devices[0].begin().key() == "name");
    CHECK(devices[0]["name"] == "CUDA0");
    CHECK(devices[0]["gpu"] == "rtx-3090");
    CHECK(devices[1]["name"] == "CUDA1");
    for (const auto& d : devices) {
        CHECK(d["capacity_bytes"] == 25769803776ull);
        CHECK(d["fits"] == true);
    }
    CHECK(j["fits"] == true);
}

TEST_CASE("estimate --gpu prints only the CUDA run, in text and in JSON") {
    // The CPU backend's run (its CPU_REPACK buffer, its buffer list) is not what --gpu asks for.
    const auto text = run({"estimate", "llama-3.1-8b:Q4_K_M", "--gpu", "rtx-3090", "-c", "8192"});
    REQUIRE(text.status == 0);
    CHECK(text.out.starts_with("model     llama-3.1-8b"));
    CHECK(contains(text.out, "\ncontext   n_ctx 8192"));
    CHECK(contains(text.out, "\nengine    llama.cpp 1425386f, CUDA backend\n\nCUDA placement"));
    CHECK_FALSE(contains(text.out, "CPU backend"));
    CHECK_FALSE(contains(text.out, "CPU_REPACK"));
    CHECK_FALSE(contains(text.out, "buffer type"));
    CHECK(text.out.ends_with("verdict FITS\n"));
    const auto cpu = run({"estimate", "llama-3.1-8b:Q4_K_M", "-c", "8192"});
    REQUIRE(cpu.status == 0);
    CHECK(contains(cpu.out, "CPU backend"));
    CHECK(contains(cpu.out, "CPU_REPACK"));
    CHECK_FALSE(contains(cpu.out, "CUDA"));

    const auto json = run({"estimate", "llama-3.1-8b:Q4_K_M", "--gpu", "rtx-3090", "-c", "8192", "--json"});
    REQUIRE(json.status == 0);
    const auto j = parse(json.out);
    CHECK(j["backend"] == "CUDA");
    CHECK_FALSE(j.contains("buffers"));
    CHECK_FALSE(j.contains("total_bytes"));
    CHECK_FALSE(contains(json.out, "CPU_REPACK"));
    CHECK(j["n_ctx"] == 8192);
    CHECK(j["devices"].size() == 1);
    CHECK(j["host"].is_object());
    const auto cpu_json = parse(run({"estimate", "llama-3.1-8b:Q4_K_M", "-c", "8192", "--json"}).out);
    CHECK(cpu_json["backend"] == "CPU");
    CHECK_FALSE(cpu_json.contains("devices"));
}

TEST_CASE("estimate --gpu: a configuration that does not fit says which device and why") {
    auto o = run({"estimate", "llama-3.1-8b:F16", "--gpu", "rtx-3090", "-c", "131072"});
    REQUIRE(o.status == 0);
    CHECK(contains(o.out, "DOES NOT FIT (over by"));
    CHECK(contains(o.out, "largest buffer: kv"));
    CHECK(contains(o.out, "verdict DOES NOT FIT"));
    auto json = run({"estimate", "llama-3.1-8b:F16", "--gpu", "rtx-3090", "-c", "131072", "--json"});
    REQUIRE(json.status == 0);
    const auto j = parse(json.out);
    CHECK(j["fits"] == false);
    CHECK(j["devices"][0]["fits"] == false);
    CHECK(j["devices"][0]["largest_buffer"] == "kv");
    CHECK(j["devices"][0]["over_bytes"].get<std::uint64_t>() > 0);
    // -sm none with -mg 1: everything on the second GPU, nothing on the first
    auto pinned = run({"estimate", "llama-3.1-8b:Q4_K_M", "--gpu", "rtx-3090x2", "-sm", "none", "-mg", "1", "--json"});
    REQUIRE(pinned.status == 0);
    const auto p = parse(pinned.out);
    CHECK(p["devices"][0]["name"] == "CUDA0");
    CHECK(p["devices"][0]["gpu"] == "rtx-3090");
    CHECK(p["devices"][0]["layers"] == 0);
    // --n-cpu-moe / --cpu-moe move expert tensors to the host; --reserve is charged per device
    auto moe = run({"estimate", "qwen3-30b-a3b:Q4_K_M", "--gpu", "rtx-3090", "--cpu-moe", "--reserve", "300"});
    REQUIRE_MESSAGE(moe.status == 0, moe.err);
    CHECK(contains(moe.out, "300.00 MiB"));
}

TEST_CASE("estimate --gpu --blas: a BLAS build's products of host weights leave CUDA0") {
    // -ngl 0: every weight in host memory. A plain CUDA build sends the large products to CUDA0
    // (the logits alone are 128256 x 512 x 4 bytes there); with GGML_BLAS the BLAS backend
    // takes them into its own "CPU" compute buffer and CUDA0 keeps the small ones.
    auto plain = run({"estimate", "llama-3.2-1b:Q4_K_M", "--gpu", "rtx-3090", "-ngl", "0", "--json"});
    auto blas = run({"estimate", "llama-3.2-1b:Q4_K_M", "--gpu", "rtx-3090", "-ngl", "0", "--blas", "--json"});
    REQUIRE(plain.status == 0);
    REQUIRE(blas.status == 0);
    const auto plain_json = parse(plain.out), blas_json = parse(blas.out);
    CHECK(plain_json["host"]["blas_compute_bytes"] == 0);
    const auto blas_buffer = blas_json["host"]["blas_compute_bytes"].get<std::uint64_t>();
    CHECK(blas_buffer >= 128256ull * 512 * 4);
    REQUIRE(plain_json["devices"][0]["name"] == "CUDA0");
    const auto cuda0_plain = plain_json["devices"][0]["compute_bytes"].get<std::uint64_t>();
    const auto cuda0_blas = blas_json["devices"][0]["compute_bytes"].get<std::uint64_t>();
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
    CHECK(contains(e.err, "--gpu: asks for more than 16 CUDA devices in all, got 'rtx-3090x9'"));
}

TEST_CASE("--gpu auto uses the devices this machine sees, or says why there are none") {
    auto o = run({"estimate", "llama-3.2-1b:Q4_0", "--gpu", "auto", "-ngl", "99"});
    if (o.status == 0) {
        CHECK(contains(o.out, "CUDA0"));  // a machine with a visible CUDA device
    } else {
        CHECK(o.status == 2);
        CHECK(contains(o.err, "--gpu auto"));
        CHECK(one_line(o.err));
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
        CHECK(one_line(o.err));
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
    CHECK(parse(row.out)["fits"] == true);
    CHECK(row.out != layer.out);  // same layers and KV per device, different weight bytes per device
}

TEST_CASE("one flag table: estimate and plan take the same spellings, and reject each other's own flags") {
    // -c, --ctx-size and --ctx are one flag in both commands
    const auto by_short = run({"estimate", "llama-3.2-1b:Q4_0", "-c", "8192", "--json"});
    REQUIRE(by_short.status == 0);
    CHECK(run({"estimate", "llama-3.2-1b:Q4_0", "--ctx-size", "8192", "--json"}).out == by_short.out);
    CHECK(run({"estimate", "llama-3.2-1b:Q4_0", "--ctx", "8192", "--json"}).out == by_short.out);
    const auto plan_short = run({"plan", "llama-3.2-1b:Q4_0", "--gpu", "rtx-3090", "-c", "8192", "--json"});
    REQUIRE(plan_short.status == 0);
    CHECK(run({"plan", "llama-3.2-1b:Q4_0", "--gpu", "rtx-3090", "--ctx-size", "8192", "--json"}).out == plan_short.out);
    CHECK(run({"plan", "llama-3.2-1b:Q4_0", "--gpu", "rtx-3090", "--ctx", "8192", "--json"}).out == plan_short.out);
    CHECK(run({"plan", "llama-3.2-1b:Q4_0", "--gpu", "rtx-3090", "-lm", "none", "--json"}).out ==
          run({"plan", "llama-3.2-1b:Q4_0", "--gpu", "rtx-3090", "--no-mmap", "--json"}).out);
    // same errors for the same flag
    for (std::string_view command : {"estimate", "plan"}) {
        const auto bad = run({command, "llama-3.1-8b", "--gpu", "rtx-3090", "--ctx-size", "many"});
        CHECK(bad.status == 2);
        CHECK(bad.err == "vramfit " + std::string{command} + ": --ctx-size: expects a whole number, got 'many'\n");
        const auto kv = run({command, "llama-3.1-8b", "--gpu", "rtx-3090", "-ctv", "q3_K"});
        CHECK(kv.err == "vramfit " + std::string{command} +
                            ": -ctv: expects one of f32, f16, bf16, q8_0, q4_0, q4_1, iq4_nl, q5_0, q5_1, got 'q3_K'\n");
    }
    // a flag only one command has is an unknown flag to the other
    const auto ngl = run({"plan", "llama-3.1-8b", "--gpu", "rtx-3090", "-ngl", "99"});
    CHECK(ngl.status == 2);
    CHECK(ngl.err == "vramfit plan: unknown flag '-ngl' (see vramfit plan --help)\n");
    const auto ram = run({"estimate", "llama-3.1-8b", "--ram", "64GiB"});
    CHECK(ram.status == 2);
    CHECK(ram.err == "vramfit estimate: unknown flag '--ram' (see vramfit estimate --help)\n");
    CHECK(run({"estimate", "llama-3.1-8b", "--reserve", "auto"}).err ==
          "vramfit estimate: --reserve: expects a whole number, got 'auto'\n");
}

TEST_CASE("the help text comes from the flag table") {
    const auto help = run({"estimate", "--help"});
    REQUIRE(help.status == 0);
    CHECK(help.out == run({"help"}).out);
    CHECK(contains(help.out, "  -c, --ctx-size, --ctx N       context size (0 = the model's training context)  [4096]\n"));
    CHECK(contains(help.out, "-ctk, --cache-type-k T        K cache type: f32 f16 bf16 q8_0 q4_0 q4_1 iq4_nl q5_0 q5_1  [f16]\n"));
    CHECK(contains(help.out, "-ngl, --n-gpu-layers, --gpu-layers N"));
    const auto estimate_flags = help.out.substr(help.out.find("estimate flags"));
    CHECK_FALSE(contains(estimate_flags, "--ram"));
    CHECK_FALSE(contains(estimate_flags, "--max-ctx"));
    const auto plan_help = run({"plan", "--help"});
    REQUIRE(plan_help.status == 0);
    CHECK(plan_help.out.starts_with("usage: vramfit plan MODEL"));
    CHECK(contains(plan_help.out, "  -c, --ctx-size, --ctx N       context size (0 = the model's training context)  [4096]\n"));
    CHECK(contains(plan_help.out, "--ram SIZE"));
    CHECK(contains(plan_help.out, "[auto, which plan takes as on]"));
    CHECK_FALSE(contains(plan_help.out, "-ngl"));
    CHECK_FALSE(contains(plan_help.out, "-kvu"));
    // every spelling of every row is listed in the help of the commands that take it
    for (const auto& flag : vramfit::cli::detail::flag_table) {
        for (auto name : flag.names) {
            if (name.empty()) continue;
            CAPTURE(name);
            if (flag.commands & vramfit::cli::detail::for_estimate) CHECK(contains(help.out, name));
            if (flag.commands & vramfit::cli::detail::for_plan) CHECK(contains(plan_help.out, name));
        }
    }
}

namespace {

// A device as the runtime reports it (runtime/devices.cpp): an RTX 3090 with 20000 of CUDA's
// 24268 MiB free, another process holding the rest.
vramfit::device busy_rtx_3090(bool measured) {
    vramfit::device d;
    d.name = std::string_view{"NVIDIA GeForce RTX 3090"};
    d.ordinal = 0;
    d.cc_major = 8;
    d.cc_minor = 6;
    d.sm_count = 82;
    d.total_memory = vramfit::bytes{24268ull * 1048576};
    d.total_from_cuda = true;
    if (measured) d.free_memory = vramfit::bytes{20000ull * 1048576};
    return d;
}

} // namespace

TEST_CASE("--gpu auto: a measured device's capacity is its free memory, charged no driver reserve or second context") {
    using namespace vramfit;
    const device live = busy_rtx_3090(true);
    CHECK(live.measured());
    CHECK(live.capacity() == bytes{20000ull * 1048576});  // cudaMemGetInfo's free figure is the capacity
    CHECK(device_label(live) == std::string_view{"cuda0-live"});
    device as_catalog = live;  // the same card as a catalog-style total
    as_catalog.total_from_cuda = false;
    as_catalog.free_memory.reset();
    const auto catalog_overhead = cuda_overhead_for(as_catalog);
    const auto o = cuda_overhead_for(live);
    // cudaMemGetInfo's figure lacks the driver's reserve and the querying process's context
    CHECK(o.driver_reserve == bytes{});
    CHECK(o.context == bytes{});
    // what the new llama.cpp process adds: cuBLAS workspace, pools, kernels (part 3 only)
    CHECK(o.runtime == catalog_overhead.runtime);
    CHECK(o.estimate == bytes{75ull * 1048576});
    CHECK(o.low == bytes{});
    CHECK(o.high == bytes{150ull * 1048576});
    CHECK(o.estimate < catalog_overhead.estimate - catalog_overhead.driver_reserve);

    // Not measured (cudaMemGetInfo failed): the capacity is CUDA's total, which still lacks the
    // driver reserve but not llama.cpp's context.
    const device unmeasured = busy_rtx_3090(false);
    CHECK(unmeasured.capacity() == bytes{24268ull * 1048576});
    const auto u = cuda_overhead_for(unmeasured);
    CHECK(u.driver_reserve == bytes{});
    CHECK(u.context == catalog_overhead.context);
    CHECK(u.estimate == catalog_overhead.context + catalog_overhead.runtime);
    CHECK(u.low <= u.estimate);
    CHECK(u.estimate <= u.high);
    CHECK(u.high == catalog_overhead.high - bytes{650ull * 1048576});  // the flat driver reserve's high bound, gone

    // estimate --gpu auto's fit: the measured capacity, the live overhead, llama.cpp's buffers
    auto model = llama_cpp::describe("llama-3.1-8b:Q4_K_M");
    REQUIRE(model.ok());
    cli::estimate_options options;
    options.gpus.push_back(live);
    auto report = cli::fit_devices(*model, options);
    REQUIRE_MESSAGE(report.ok(), report.err().describe());
    const auto& d = report->devices.at(0);
    CHECK(d.capacity == bytes{20000ull * 1048576});
    CHECK(d.overhead == bytes{75ull * 1048576});
    CHECK(d.overhead_low == bytes{});
    CHECK(d.overhead_high == bytes{150ull * 1048576});
    CHECK(d.device_id == std::string_view{"cuda0-live"});
    cli::estimate_options on_catalog;
    on_catalog.gpus.push_back(catalog::gpu<"rtx-3090">::as_device());
    auto catalog_report = cli::fit_devices(*model, on_catalog);
    REQUIRE(catalog_report.ok());
    CHECK(catalog_report->devices.at(0).model == d.model);  // same buffers; only capacity and overhead differ
    CHECK(catalog_report->devices.at(0).overhead == cuda_overhead_for(catalog::gpu<"rtx-3090">::spec).estimate);
}


// ---- estimate --engine transformers ------------------------------------------------------

namespace {

nlohmann::json transformers_json(std::vector<std::string> args) {
    args.insert(args.begin(), {"estimate"});
    args.insert(args.end(), {"--engine", "transformers", "--json"});
    std::vector<std::string_view> views(args.begin(), args.end());
    std::string out, err;
    const int status = vramfit::cli::run(views, out, err);
    REQUIRE_MESSAGE(status == 0, err);
    return nlohmann::json::parse(out);
}

std::string hf_config_dir(std::string_view name) { return std::string(VRAMFIT_TEST_DATA) + "/hf/configs/" + std::string(name); }

} // namespace

TEST_CASE("estimate --engine transformers: opt-30b in float16 on an 8 GiB GPU, 32 GiB of RAM and a disk, as accelerate places it") {
    // The oracle (tests/data/hf): 5 layers on GPU 0, 26 on the CPU, 17 on disk, and these bytes.
    const auto j = transformers_json({hf_config_dir("facebook--opt-30b"), "--dtype", "float16", "--max-memory", R"({"0": "8GiB", "cpu": "32GiB"})"});
    CHECK(j["engine"] == "transformers");
    const auto& devices = j["devices"];
    REQUIRE(devices.size() == 3);
    CHECK(devices[0]["name"] == "0");
    CHECK(devices[0]["layers"] == 5);
    CHECK(devices[0]["weights_bytes"] == 6916675584ULL);
    CHECK(devices[1]["name"] == "cpu");
    CHECK(devices[1]["layers"] == 26);
    CHECK(devices[1]["weights_bytes"] == 32066105344ULL);
    CHECK(devices[2]["name"] == "disk");
    CHECK(devices[2]["layers"] == 17);
    CHECK(devices[2]["weights_bytes"] == 20966299648ULL);
    CHECK(j["device_map"]["model.decoder.embed_tokens"] == 0);
    CHECK(j["device_map"]["model.decoder.layers.5"] == "cpu");
    CHECK(j["device_map"]["model.decoder.layers.47"] == "disk");
    // offloaded layers run on GPU 0: their cache is made there, and one layer's weights at a time
    CHECK(devices[0]["kv_bytes"].get<std::uint64_t>() > 0);
    CHECK(devices[0]["offload_staging_bytes"] == 1233311744ULL);  // one OPTDecoderLayer
}

TEST_CASE("estimate --engine transformers: Llama-3.3-70B on {0: 35GB, 1: 35GB, cpu: 120GB}, and what generate() adds") {
    const auto j = transformers_json({hf_config_dir("meta-llama--Llama-3.3-70B-Instruct"), "--dtype", "bfloat16", "--max-memory",
                                      R"({"0": "35GB", "1": "35GB", "cpu": "120GB"})", "--seq", "8192"});
    const auto& d = j["devices"];
    REQUIRE(d.size() == 3);
    CHECK(d[0]["layers"] == 17);
    CHECK(d[0]["weights_bytes"] == 31193595904ULL);
    CHECK(d[1]["layers"] == 20);
    CHECK(d[1]["weights_bytes"] == 34226176000ULL);
    CHECK(d[2]["layers"] == 43);
    CHECK(d[2]["weights_bytes"] == 75687641600ULL);
    CHECK(j["activations_modelled"] == true);
    // 8192 + 255 cached tokens x 80 layers' K and V of 8 heads x 128 in bfloat16: 60 layers run on GPU 0
    const std::uint64_t per_layer = (8192ULL + 255) * 8 * 128 * 2 * 2;
    CHECK(d[0]["kv_bytes"] == 60 * per_layer);
    CHECK(d[1]["kv_bytes"] == 20 * per_layer);
    // accelerate fills each GPU to its budget with weights; generate() then needs more
    CHECK(d[0]["total_bytes"].get<std::uint64_t>() > d[0]["max_memory_bytes"].get<std::uint64_t>());
}

TEST_CASE("estimate --engine transformers without --gpu or --max-memory: what one GPU needs for the whole model") {
    const auto j = transformers_json({"meta-llama/Llama-3.3-70B-Instruct", "--dtype", "bfloat16", "--batch", "1", "--seq", "8192"});
    CHECK(j["device_map"] == nlohmann::json::parse(R"({"": 0})"));
    REQUIRE(j["devices"].size() == 1);
    const auto& d = j["devices"][0];
    CHECK(!d.contains("max_memory_bytes"));
    CHECK(d["layers"] == 80);
    CHECK(d["total_bytes"].get<std::uint64_t>() == d["weights_bytes"].get<std::uint64_t>() + d["kv_bytes"].get<std::uint64_t>() +
                                                    d["activation_peak_bytes"].get<std::uint64_t>());
    const auto emitted = run({"estimate", "meta-llama/Llama-3.3-70B-Instruct", "--engine", "transformers", "--emit", "accelerate"});
    REQUIRE(emitted.status == 0);
    CHECK(contains(emitted.out, "device_map={\"\": 0}"));
    CHECK(!contains(emitted.out, "max_memory"));
}

TEST_CASE("estimate --engine transformers: a catalog key or its Hub id is its config.json, no download") {
    // The same scenarios from the built-in entries: the same device map and bytes as the files.
    const std::string opt_memory = R"({"0": "8GiB", "cpu": "32GiB"})";
    const auto from_file = transformers_json({hf_config_dir("facebook--opt-30b"), "--max-memory", opt_memory});
    for (const std::string name : {"opt-30b", "facebook/opt-30b"}) {
        CAPTURE(name);
        const auto j = transformers_json({name, "--max-memory", opt_memory});
        CHECK(j["device_map"] == from_file["device_map"]);
        CHECK(j["devices"] == from_file["devices"]);
        CHECK(j["dtype"] == "float16");  // the config's torch_dtype (dtype="auto")
        CHECK(j["devices"][0]["weights_bytes"] == 6916675584ULL);
    }
    const std::string llama_memory = R"({"0": "35GB", "1": "35GB", "cpu": "120GB"})";
    const auto llama_file = transformers_json({hf_config_dir("meta-llama--Llama-3.3-70B-Instruct"), "--max-memory", llama_memory, "--seq", "8192"});
    const auto llama = transformers_json({"meta-llama/Llama-3.3-70B-Instruct", "--max-memory", llama_memory, "--seq", "8192"});
    CHECK(llama["device_map"] == llama_file["device_map"]);
    CHECK(llama["devices"] == llama_file["devices"]);
    CHECK(llama["devices"][2]["weights_bytes"] == 75687641600ULL);
}

TEST_CASE("models: every entry with its Hub id and the engines that take it; llama.cpp refuses OPT by name") {
    std::string out, err;
    std::vector<std::string_view> args{"models", "--json"};
    REQUIRE(vramfit::cli::run(args, out, err) == 0);
    const auto j = nlohmann::json::parse(out);
    bool saw_opt = false;
    for (const auto& m : j) {
        CHECK(!m["hf_id"].get<std::string>().empty());
        if (m["key"] == "opt-30b") {
            saw_opt = true;
            CHECK(m["hf_id"] == "facebook/opt-30b");
            CHECK(m["engines"] == "transformers");
            CHECK(m["architecture"].is_null());
        }
        if (m["key"] == "llama-3.1-8b") CHECK(m["engines"] == "llama.cpp,transformers");
    }
    CHECK(saw_opt);
    const auto refused = run({"estimate", "opt-30b"});
    CHECK(refused.status == 2);
    CHECK(refused.err.find("OPTForCausalLM") != std::string::npos);
    CHECK(refused.err.find("--engine transformers") != std::string::npos);
    CHECK(one_line(refused.err));
}

TEST_CASE("plan --engine transformers: opt-30b in float16 on an 8 GiB GPU, 32 GiB of RAM and a disk") {
    // accelerate's own max_memory (each GPU's free memory) fills the GPU with weights and
    // generate() then runs out of memory there; the plan's max_memory leaves room for the cache
    // and the staged offloaded layer, and the estimate of that max_memory fits.
    const auto own = transformers_json({"opt-30b", "--gpu", "rtx-3070", "--ram", "32GiB"});
    CHECK(own["devices"][0]["fits"] == false);

    const auto planned = run({"plan", "facebook/opt-30b", "--engine", "transformers", "--gpu", "rtx-3070", "--ram", "32GiB", "--disk", "500GiB", "--json"});
    REQUIRE_MESSAGE(planned.status == 0, planned.err);
    const auto p = nlohmann::json::parse(planned.out);
    CHECK(p["fits"] == true);
    CHECK(p["label"] == "float16");  // bitsandbytes would need cpu offload, which it refuses
    const auto& max_memory = p["max_memory"];
    const std::string gpu_budget = max_memory["0"];
    const std::string spec = R"({"0": ")" + gpu_budget + R"(", "cpu": ")" + max_memory["cpu"].get<std::string>() + R"("})";
    const auto replay = transformers_json({"opt-30b", "--gpu", "rtx-3070", "--max-memory", spec});
    CHECK(replay["device_map"] == p["plan"]["device_map"]);
    REQUIRE(replay["devices"].size() == 3);
    CHECK(replay["devices"][0]["fits"] == true);
    CHECK(replay["devices"][0]["layers"].get<int>() < own["devices"][0]["layers"].get<int>());
    CHECK(replay["devices"][0]["layers"].get<int>() + replay["devices"][1]["layers"].get<int>() + replay["devices"][2]["layers"].get<int>() == 48);
    // the budget is the largest whole MiB that fits: one MiB more and generate() runs out
    const std::uint64_t budget = std::stoull(gpu_budget.substr(0, gpu_budget.size() - 3));
    const std::string wider = R"({"0": ")" + std::to_string(budget + 1) + R"(MiB", "cpu": "32GiB"})";
    const auto one_more = transformers_json({"opt-30b", "--gpu", "rtx-3070", "--max-memory", wider});
    CHECK((one_more["device_map"] == replay["device_map"] || one_more["devices"][0]["fits"] == false));

    const auto emitted = run({"plan", "opt-30b", "--engine", "transformers", "--gpu", "rtx-3070", "--ram", "32GiB", "--disk", "500GiB", "--emit", "accelerate"});
    REQUIRE(emitted.status == 0);
    CHECK(contains(emitted.out, "\"facebook/opt-30b\""));
    CHECK(contains(emitted.out, "max_memory={0: \"" + gpu_budget + "\""));
    CHECK(contains(emitted.out, "dtype=torch.float16"));
    CHECK(contains(emitted.out, "offload_folder="));
}

TEST_CASE("plan --engine transformers: quantization only where it keeps the model on the GPUs; no disk without --disk") {
    // Llama-3.3-70B on 2x A100 40 GB and 120 GB of RAM: bfloat16 needs the CPU, 4-bit does not.
    const auto planned = run({"plan", "meta-llama/Llama-3.3-70B-Instruct", "--engine", "transformers", "--gpu", "a100-40gbx2", "--ram", "120GB", "--json"});
    REQUIRE_MESSAGE(planned.status == 0, planned.err);
    const auto p = nlohmann::json::parse(planned.out);
    CHECK(p["label"] == "bfloat16 + bitsandbytes 4-bit");
    for (const auto& d : p["plan"]["devices"]) {
        if (d.contains("fits")) CHECK(d["fits"] == true);
    }
    CHECK(p["alternatives"][0]["cpu_layers"].get<int>() > 0);
    // Qwen3-32B in bfloat16 fits two 40 GB GPUs as it is
    const auto qwen = run({"plan", "Qwen/Qwen3-32B", "--engine", "transformers", "--gpu", "a100-40gbx2", "--ram", "128GiB", "--emit", "accelerate"});
    REQUIRE(qwen.status == 0);
    CHECK(contains(qwen.out, "dtype=torch.bfloat16"));
    CHECK(!contains(qwen.out, "quantization_config"));
    // opt-30b without --disk on one 8 GiB GPU: nothing fits (exit 1), and the reason is printed
    const auto no_disk = run({"plan", "opt-30b", "--engine", "transformers", "--gpu", "rtx-3070", "--ram", "32GiB"});
    CHECK(no_disk.status == 1);
    CHECK(contains(no_disk.out, "--disk"));
    CHECK(contains(no_disk.out, "nothing fits"));
}

TEST_CASE("plan --engine transformers: six models on 2x 40 GB and 120 GB of RAM, generating 8k tokens") {
    // What each needs, from the model: on the GPUs as published, with 4-bit weights, or spilling
    // to CPU and disk; every chosen max_memory, replayed through the estimate, keeps each GPU's
    // total within its memory.
    struct expectation {
        const char* model;
        const char* label;
        bool spills;
    };
    const expectation cases[] = {
        {"openai/gpt-oss-20b", "bfloat16", false},  // MXFP4 experts, BF16 elsewhere (dtype=auto)
        {"Qwen/Qwen3-32B", "bfloat16", false},
        {"deepseek-ai/deepseek-llm-7b-chat", "bfloat16", false},
        {"meta-llama/Llama-3.3-70B-Instruct", "bfloat16 + bitsandbytes 4-bit", false},
        {"Qwen/Qwen2.5-72B-Instruct", "bfloat16 + bitsandbytes 4-bit", false},
        {"deepseek-ai/DeepSeek-V2.5", "bfloat16", true},  // 236B: CPU and disk even at 4 bits
    };
    for (const auto& c : cases) {
        CAPTURE(c.model);
        const auto o = run({"plan", c.model, "--engine", "transformers", "--gpu", "a100-40gbx2", "--ram", "120GB", "--disk", "1TB", "--seq", "8192", "--json"});
        REQUIRE_MESSAGE(o.status == 0, o.err);
        const auto p = nlohmann::json::parse(o.out);
        CHECK(p["label"] == c.label);
        const auto& chosen = p["plan"];
        bool spills = false;
        for (const auto& d : chosen["devices"]) {
            if (d["name"] == "cpu" || d["name"] == "disk") spills = spills || d["weights_bytes"].get<std::uint64_t>() > 0;
            else CHECK(d["fits"] == true);
        }
        CHECK(spills == c.spills);
        std::string spec = "{";
        for (const auto& [device, amount] : p["max_memory"].items()) spec += (spec.size() > 1 ? ", \"" : "\"") + device + "\": \"" + amount.get<std::string>() + "\"";
        spec += "}";
        std::vector<std::string> args{c.model, "--gpu", "a100-40gbx2", "--max-memory", spec, "--seq", "8192"};
        if (std::string{c.label}.find("4-bit") != std::string::npos) args.push_back("--load-in-4bit");
        const auto replay = transformers_json(args);
        CHECK(replay["device_map"] == chosen["device_map"]);
    }
}

TEST_CASE("plan --engine transformers rejects what it cannot plan, in one line") {
    for (const auto& args : std::vector<std::vector<std::string_view>>{
             {"plan", "opt-30b", "--engine", "transformers", "--ram", "32GiB"},
             {"plan", "opt-30b", "--engine", "transformers", "--gpu", "rtx-3070", "--max-memory", R"({"0": "8GiB"})"},
             {"plan", "opt-30b", "--engine", "transformers", "--gpu", "rtx-3070", "--emit", "vllm"},
             {"plan", "opt-30b", "--engine", "vllm", "--gpu", "rtx-3070"},
             {"plan", "no-such-model", "--engine", "transformers", "--gpu", "rtx-3070"}}) {
        const auto o = run(args);
        CAPTURE(std::string{args[1]});
        CHECK(o.status == 2);
        CHECK(one_line(o.err));
    }
}

namespace {

// A safetensors file whose header lists `tensors` (name, dtype, shape) and whose data section is
// a hole of the right size (the reader never touches it).
void write_safetensors(const std::filesystem::path& path, const std::vector<std::tuple<std::string, std::string, std::vector<std::uint64_t>>>& tensors) {
    nlohmann::ordered_json header = nlohmann::ordered_json::object();
    std::uint64_t offset = 0;
    for (const auto& [name, type, shape] : tensors) {
        std::uint64_t n = type == "BF16" || type == "F16" ? 2 : type == "F32" ? 4 : 8;
        for (auto d : shape) n *= d;
        header[name] = {{"dtype", type}, {"shape", shape}, {"data_offsets", {offset, offset + n}}};
        offset += n;
    }
    std::string text = header.dump();
    while ((8 + text.size()) % 8 != 0) text += ' ';
    {
        std::ofstream out(path, std::ios::binary);
        std::uint64_t n = text.size();
        for (int i = 0; i < 8; ++i) out.put(static_cast<char>((n >> (8 * i)) & 0xff));
        out << text;
    }
    std::filesystem::resize_file(path, 8 + text.size() + offset);
}

std::filesystem::path gpt2_directory(const std::string& name) {
    const auto dir = std::filesystem::temp_directory_path() / name;
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    std::filesystem::copy_file(hf_config_dir("gpt2") + "/config.json", dir / "config.json");
    return dir;
}

} // namespace

TEST_CASE("estimate --engine transformers: safetensors beside config.json decide dtype=auto and are summarised") {
    // gpt2's config.json names no dtype: from_pretrained takes the first floating dtype of the
    // first shard's tensors, names sorted (here bfloat16, though "wte" is listed first as F32).
    const auto dir = gpt2_directory("vramfit-st-single");
    write_safetensors(dir / "model.safetensors", {{"wte.weight", "F32", {50257, 768}}, {"h.0.attn.c_attn.weight", "BF16", {768, 2304}},
                                                  {"h.0.attn.bias", "I64", {1, 1, 1024, 1024}}});
    const auto j = transformers_json({dir.string(), "--gpu", "rtx-4090"});
    CHECK(j["dtype"] == "bfloat16");
    CHECK(j["checkpoint"]["files"] == 1);
    CHECK(j["checkpoint"]["tensors"] == 3);
    CHECK(j["checkpoint"]["tensor_bytes"] == 50257ULL * 768 * 4 + 768ULL * 2304 * 2 + 1024ULL * 1024 * 8);
    // --dtype still wins
    CHECK(transformers_json({dir.string(), "--gpu", "rtx-4090", "--dtype", "float16"})["dtype"] == "float16");
    // a config.json alone: float32, as from_config
    std::filesystem::remove(dir / "model.safetensors");
    CHECK(transformers_json({dir.string(), "--gpu", "rtx-4090"})["dtype"] == "float32");

    // sharded: the index's shards in sorted order, every header read
    const auto sharded = gpt2_directory("vramfit-st-sharded");
    write_safetensors(sharded / "model-00001-of-00002.safetensors", {{"wte.weight", "F16", {50257, 768}}});
    write_safetensors(sharded / "model-00002-of-00002.safetensors", {{"ln_f.weight", "F32", {768}}, {"ln_f.bias", "F32", {768}}});
    {
        std::ofstream index(sharded / "model.safetensors.index.json");
        index << R"({"metadata": {"total_size": 77200000}, "weight_map": {"ln_f.weight": "model-00002-of-00002.safetensors",
                  "ln_f.bias": "model-00002-of-00002.safetensors", "wte.weight": "model-00001-of-00002.safetensors"}})";
    }
    const auto s = transformers_json({sharded.string(), "--gpu", "rtx-4090"});
    CHECK(s["dtype"] == "float16");
    CHECK(s["checkpoint"]["files"] == 2);
    CHECK(s["checkpoint"]["tensors"] == 3);

    // bad files: one line naming the file, exit 2
    {
        std::ofstream index(sharded / "model.safetensors.index.json");
        index << R"({"weight_map": {"wte.weight": "../outside.safetensors"}})";
    }
    auto bad = run({"estimate", sharded.string(), "--engine", "transformers", "--gpu", "rtx-4090"});
    CHECK(bad.status == 2);
    CHECK(one_line(bad.err));
    CHECK(contains(bad.err, "outside.safetensors"));
    std::filesystem::remove(sharded / "model.safetensors.index.json");
    {
        std::ofstream broken(sharded / "model.safetensors", std::ios::binary);
        broken << std::string("\xff\xff\xff\xff\x00\x00\x00\x00{}", 10);
    }
    bad = run({"estimate", sharded.string(), "--engine", "transformers", "--gpu", "rtx-4090"});
    CHECK(bad.status == 2);
    CHECK(one_line(bad.err));
    CHECK(contains(bad.err, "model.safetensors"));
    std::filesystem::remove_all(dir);
    std::filesystem::remove_all(sharded);
}

TEST_CASE("estimate --engine transformers: max_memory from --gpu is the free memory a CUDA process sees") {
    const auto j = transformers_json({hf_config_dir("gpt2"), "--gpu", "rtx-3090", "--ram", "32GiB"});
    const auto& d = j["devices"];
    REQUIRE(d.size() == 2);
    const auto gpu = vramfit::catalog::gpu<"rtx-3090">::as_device();
    CHECK(d[0]["max_memory_bytes"] == (gpu.capacity() - vramfit::cuda_process_overhead(gpu).estimate).count());
    CHECK(d[1]["max_memory_bytes"] == 32ULL << 30);
    CHECK(j["device_map"][""] == 0);  // the whole model fits: one entry, as accelerate writes it
    CHECK(d[0]["cuda_overhead_bytes"] == vramfit::cuda_process_overhead(gpu).estimate.count());
    CHECK(j["dtype"] == "float32");  // the config names no dtype
}

// ---- estimate --engine vllm (tools/vllm_command.hpp, through cli.hpp) ---------------------------

namespace {

nlohmann::ordered_json vllm_json(std::vector<std::string_view> args) {
    args.insert(args.begin(), {"estimate"});
    args.insert(args.end(), {"--engine", "vllm", "--json"});
    auto o = run(args);
    REQUIRE_MESSAGE(o.status == 0, o.err);
    REQUIRE(one_line(o.out));
    return parse(o.out);
}

} // namespace

TEST_CASE("estimate --engine vllm: the documented keys, the library's figures, vLLM's printed lines") {
    const auto j = vllm_json({"Qwen/Qwen3-32B", "--gpu", "h100-sxm", "-tp", "1", "--max-model-len", "32768"});
    CHECK(j.begin().key() == "engine");
    CHECK(j["engine"] == "vllm");
    for (const char* key : {"weights_bytes_per_gpu", "available_kv_bytes", "num_gpu_blocks", "block_size", "kv_cache_tokens", "max_concurrency",
                            "max_model_len_fit"}) {
        CHECK_MESSAGE(j.contains(key), key);
    }
    // the same estimate as the engine's, for the catalog entry the Hub id names
    vramfit::vllm::engine_args a{};
    a.max_model_len = 32768;
    const auto* entry = vramfit::catalog::find("qwen3-32b");
    const auto e = vramfit::vllm::estimate_startup(vramfit::hf::with_class_rules(entry->config),
                                                   vramfit::catalog::gpu<"h100-sxm">::as_device(), a).value();
    CHECK(j["weights_bytes_per_gpu"] == e.max_weights_per_gpu().count());
    CHECK(j["available_kv_bytes"] == e.deciding().memory.available.count());
    CHECK(j["num_gpu_blocks"] == e.num_gpu_blocks);
    CHECK(j["block_size"] == 16);
    CHECK(j["kv_cache_tokens"] == e.num_gpu_blocks * 16);  // 32768 is whole blocks: tokens = blocks × 16
    CHECK(j["fits"] == true);
    CHECK(j["max_model_len_fit"].get<std::uint64_t>() >= 32768);
    CHECK(j["num_gpu_blocks"].get<std::uint64_t>() * j["stages"][0]["bytes_per_block"].get<std::uint64_t>() <=
          j["available_kv_bytes"].get<std::uint64_t>());

    auto table = run({"estimate", "qwen3-32b", "--engine", "vllm", "--gpu", "h100-sxm", "--max-model-len", "32768"});
    REQUIRE(table.status == 0);
    CHECK(contains(table.out, "Model loading took 61.03 GiB memory"));
    CHECK(contains(table.out, "Available KV cache memory: "));
    CHECK(contains(table.out, "GPU KV cache size: "));
    CHECK(contains(table.out, "Maximum concurrency for 32,768 tokens per request: "));
    CHECK(contains(table.out, "max_model_len 32768 fits"));
}

TEST_CASE("estimate --engine vllm: a validation row replayed (vLLM 0.10.1.1, Qwen2-7B shapes, A100 80GB, util 0.25)") {
    const auto j = vllm_json({"qwen2.5-7b", "--gpu", "a100-80gb", "--vllm-version", "0.10.1.1", "--gpu-memory-utilization", "0.25",
                              "--max-model-len", "16384"});
    const double gib = 1073741824.0;
    CHECK(j["weights_bytes_per_gpu"].get<double>() / gib == doctest::Approx(14.2488).epsilon(0.01));  // printed 14.2488 GiB
    CHECK(j["available_kv_bytes"].get<double>() / gib == doctest::Approx(5.01).epsilon(0.03));        // printed 5.01 GiB
    CHECK(j["release_family"] == "V1 0.9-0.20");
    CHECK(j["max_num_batched_tokens"] == 2048);  // A100: the small class of get_batch_defaults
}

TEST_CASE("estimate --engine vllm: TP x PP over four GPUs, fp8 KV, --kv-cache-memory-bytes, a length that does not fit") {
    const auto j = vllm_json({"llama-3.3-70b", "--gpu", "a100-40gbx4", "-tp", "2", "-pp", "2", "--max-model-len", "16384"});
    REQUIRE(j["stages"].size() == 2);
    CHECK(j["stages"][0]["layers"] == 40);
    CHECK(j["stages"][1]["first_layer"] == 40);
    // 40 layers × 2 × 4 KV heads per rank × 128 × 2 bytes × 16 tokens
    CHECK(j["stages"][0]["bytes_per_block"] == 40ULL * 2 * 4 * 128 * 2 * 16);
    const auto fp8 = vllm_json({"llama-3.3-70b", "--gpu", "a100-40gbx4", "-tp", "2", "-pp", "2", "--max-model-len", "16384", "--kv-cache-dtype", "fp8"});
    CHECK(fp8["stages"][0]["bytes_per_block"] == 40ULL * 2 * 4 * 128 * 16);

    const auto given = vllm_json({"llama-3.1-8b", "--gpu", "rtx-4090", "--max-model-len", "8192", "--kv-cache-memory-bytes", "8GiB"});
    CHECK(given["available_kv_bytes"] == 8ULL << 30);
    CHECK(given["num_gpu_blocks"] == (8ULL << 30) / (32ULL * 2 * 8 * 128 * 2 * 16));

    // Llama-3.1-8B's 131072 tokens on a 24 GB card: vLLM refuses, and says what fits
    auto o = run({"estimate", "llama-3.1-8b", "--engine", "vllm", "--gpu", "rtx-3090", "--vllm-version", "0.11"});
    REQUIRE(o.status == 0);
    CHECK(contains(o.out, "To serve at least one request with the models's max seq len (131072), (16.00 GiB KV cache is needed"));
    CHECK(contains(o.out, "does not fit; the largest that fits is"));
    const auto refused = vllm_json({"llama-3.1-8b", "--gpu", "rtx-3090", "--vllm-version", "0.11"});
    CHECK(refused["fits"] == false);
    CHECK(refused["max_model_len_fit"].get<std::uint64_t>() < 131072);
    CHECK(refused["max_model_len_fit"].get<std::uint64_t>() > 0);
}

TEST_CASE("estimate --engine vllm rejects bad flags and layouts in one line, exit 2") {
    const std::vector<std::pair<std::vector<std::string_view>, std::string_view>> cases = {
        {{"qwen3-32b", "--gpu", "h100-sxmx4", "-tp", "3"}, "tensor parallel 3 does not divide 64 attention heads"},
        {{"qwen3-32b", "--gpu", "h100-sxm", "-tp", "2"}, "-tp 2 x -pp 1 needs 2 GPUs, --gpu gives 1"},
        {{"qwen3-32b"}, "missing --gpu"},
        {{"qwen3-32b", "--gpu", "h100-sxm", "--gpu-memory-utilization", "1.5"}, "--gpu-memory-utilization: expects a number in (0, 1]"},
        {{"qwen3-32b", "--gpu", "h100-sxm", "--kv-cache-dtype", "int4"}, "--kv-cache-dtype: expects auto, fp8, fp8_e4m3 or fp8_e5m2"},
        {{"qwen3-32b", "--gpu", "h100-sxm", "--max-model-len", "lots"}, "--max-model-len: expects a whole number of tokens"},
        {{"qwen3-32b", "--gpu", "h100-sxm", "--max-model-len", "1000000"}, "is greater than the derived max_model_len (40960)"},
        {{"qwen3-32b", "--gpu", "h100-sxm", "--vllm-version", "0.4"}, "--vllm-version: vLLM 0.4 is older than 0.5"},
        {{"qwen3-32b", "--gpu", "h100-sxm", "--frobnicate"}, "unknown flag '--frobnicate'"},
        {{"qwen3-32b", "--gpu", "h100-sxm", "--gpu", "a100-80gb"}, "names a second GPU kind"},
        {{"qwen3-32b", "--gpu", "rtx-9090"}, "unknown GPU 'rtx-9090'"},
        {{"gemma-3-12b", "--gpu", "h100-sxm"}, "multimodal model (gemma3)"},
        {{"qwen3-32b", "--gpu", "h100-sxmx2", "-pp", "2", "--pp-layer-partition", "30,30"}, "sums to 60 layers, the model has 64"},
    };
    for (const auto& [extra, message] : cases) {
        std::vector<std::string_view> args{"estimate"};
        args.insert(args.end(), extra.begin(), extra.end());
        args.insert(args.end(), {"--engine", "vllm"});
        auto o = run(args);
        CHECK(o.status == 2);
        CHECK(o.out.empty());
        CHECK_MESSAGE(one_line(o.err), o.err);
        CHECK_MESSAGE(contains(o.err, message), o.err);
    }
    auto plan = run({"plan", "qwen3-32b", "--engine", "vllm", "--gpu", "h100-sxm", "-tp", "2"});
    CHECK(plan.status == 2);
    CHECK(one_line(plan.err));
    auto help = run({"estimate", "--engine", "vllm", "--help"});
    CHECK(help.status == 0);
    CHECK(contains(help.out, "--gpu-memory-utilization F"));
}

// ---- plan --engine vllm (tools/vllm_plan.hpp, through cli.hpp) ----------------------------------

TEST_CASE("plan --engine vllm: layouts, the choice, the commands; nothing fits is exit 1, bad input exit 2") {
    // 70B in bf16 on 2x 40 GB: only with --cpu-offload-gb; --max-ctx serves the model's whole context
    auto llama = run({"plan", "meta-llama/Llama-3.3-70B-Instruct", "--engine", "vllm", "--gpu", "a100-40gbx2", "--max-ctx", "--emit", "vllm"});
    CHECK(llama.status == 0);
    CHECK(llama.err.empty());
    CHECK(llama.out ==
          "vllm serve meta-llama/Llama-3.3-70B-Instruct --tensor-parallel-size 2 --pipeline-parallel-size 1 --gpu-memory-utilization 0.92 "
          "--max-model-len 131072 --kv-cache-dtype auto --max-num-seqs 256 --cpu-offload-gb 51\n");
    auto table = run({"plan", "llama-3.3-70b", "--engine", "vllm", "--gpu", "a100-40gbx2", "--max-ctx"});
    CHECK(table.status == 0);
    CHECK(contains(table.out, "* 2 x 1"));
    CHECK(contains(table.out, "no memory left for KV blocks: 131.45 GiB of weights"));
    CHECK(contains(table.out, "--cpu-offload-gb 51 keeps 51.00 GiB of each GPU's weights in pinned host memory"));
    CHECK(contains(table.out, "a bound from bytes over bandwidths alone"));
    CHECK(contains(table.out, "Maximum concurrency for 131,072 tokens per request"));
    auto none = run({"plan", "llama-3.3-70b", "--engine", "vllm", "--gpu", "a100-40gbx2", "--no-cpu-offload"});
    CHECK(none.status == 1);
    CHECK(contains(none.out, "nothing fits: TP 2 x PP 1: no memory left for KV blocks"));
    auto none_emit = run({"plan", "llama-3.3-70b", "--engine", "vllm", "--gpu", "a100-40gbx2", "--no-cpu-offload", "--emit", "vllm"});
    CHECK(none_emit.status == 1);
    CHECK(none_emit.out.empty());
    CHECK(one_line(none_emit.err));
    CHECK(contains(none_emit.err, "vramfit plan: nothing fits: TP 2 x PP 1: no memory left for KV blocks"));

    // DeepSeek-V3's FP8 weights need 16 GPUs: the Ray cluster and --distributed-executor-backend ray
    auto v3 = run({"plan", "deepseek-ai/DeepSeek-V3", "--engine", "vllm", "--gpu", "h100-sxmx8", "--nodes", "2", "--emit", "vllm"});
    CHECK(v3.status == 0);
    CHECK(v3.out ==
          "# on the head node:\n"
          "ray start --head --port=6379\n"
          "# on the other node (HEAD_IP: the head node's address):\n"
          "ray start --address=HEAD_IP:6379\n"
          "# then, on the head node:\n"
          "vllm serve deepseek-ai/DeepSeek-V3 --tensor-parallel-size 8 --pipeline-parallel-size 2 --gpu-memory-utilization 0.92 "
          "--max-model-len 163840 --kv-cache-dtype auto --max-num-seqs 1024 --distributed-executor-backend ray\n");
    const auto j = parse(run({"plan", "deepseek-v3", "--engine", "vllm", "--gpu", "h100-sxmx8", "--nodes", "2", "--json"}).out);
    CHECK(j["engine"] == "vllm");
    CHECK(j["fits"] == true);
    CHECK(j["gpus_per_node"] == 8);
    CHECK(j["nodes"] == 2);
    CHECK(j["chosen"]["tensor_parallel_size"] == 8);
    CHECK(j["chosen"]["pipeline_parallel_size"] == 2);
    CHECK(j["chosen"]["nodes"] == 2);
    CHECK(j["chosen"]["max_model_len"] == 163840);
    CHECK(j["commands"] == v3.out);
    bool tp3 = false;
    for (const auto& l : j["layouts"]) {
        if (l["tensor_parallel_size"] == 3) tp3 = l["why_not"] == "tensor parallel 3 does not divide 128 attention heads";
        if (l["tensor_parallel_size"] == 8 && l["pipeline_parallel_size"] == 1) CHECK(l["fits"] == false);
    }
    CHECK(tp3);

    // one node: no Ray; the flags asked are in the command
    auto qwen = run({"plan", "Qwen/Qwen3-32B", "--engine", "vllm", "--gpu", "h100-sxmx4", "--max-model-len", "32768", "--concurrency", "8",
                     "--kv-cache-dtype", "fp8", "--max-num-seqs", "64", "--gpu-memory-utilization", "0.85", "--emit", "vllm"});
    CHECK(qwen.status == 0);
    CHECK(qwen.out ==
          "vllm serve Qwen/Qwen3-32B --tensor-parallel-size 4 --pipeline-parallel-size 1 --gpu-memory-utilization 0.85 --max-model-len 32768 "
          "--kv-cache-dtype fp8_e4m3 --max-num-seqs 64\n");
    auto few = run({"plan", "qwen3-32b", "--engine", "vllm", "--gpu", "h100-sxmx4", "--max-model-len", "32768", "--concurrency", "8"});
    CHECK(contains(few.out, "holds 1.21 requests of 32768 tokens at once, 8 asked"));
    auto help = run({"plan", "--engine", "vllm", "--help"});
    CHECK(help.status == 0);
    CHECK(contains(help.out, "--nodes N"));

    const std::vector<std::pair<std::vector<std::string_view>, std::string_view>> bad = {
        {{"qwen3-32b", "--gpu", "h100-sxm", "-tp", "2"}, "-tp: plan chooses the layout itself"},
        {{"qwen3-32b", "--gpu", "h100-sxm", "--nodes", "0"}, "--nodes: is out of range"},
        {{"qwen3-32b", "--gpu", "h100-sxm", "--max-ctx", "--max-model-len", "8192"}, "--max-ctx and --max-model-len: give one"},
        {{"qwen3-32b", "--gpu", "h100-sxm", "--emit", "llama.cpp"}, "--emit: expects vllm"},
        {{"qwen3-32b", "--gpu", "h100-sxm", "--kv-cache-memory-bytes", "8GiB"}, "plan sizes the KV cache from the GPUs' memory"},
        {{"qwen3-32b", "--gpu", "h100-sxm", "--max-model-len", "1000000"}, "is greater than the derived max_model_len (40960)"},
        {{"qwen3-32b", "--gpu", "h100-sxm", "--network-gb-s", "fast"}, "--network-gb-s: expects GB/s"},
        {{"qwen3-32b"}, "missing --gpu"},
        {{"opt-30b", "--gpu", "h100-sxm"}, "model_type 'opt' is not modelled for vLLM"},
    };
    for (const auto& [extra, message] : bad) {
        std::vector<std::string_view> args{"plan"};
        args.insert(args.end(), extra.begin(), extra.end());
        args.insert(args.end(), {"--engine", "vllm"});
        auto o = run(args);
        CHECK(o.status == 2);
        CHECK(o.out.empty());
        CHECK_MESSAGE(one_line(o.err), o.err);
        CHECK_MESSAGE(contains(o.err, message), o.err);
    }
}
