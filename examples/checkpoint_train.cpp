// checkpoint_train — trains a small chain with activation checkpointing through the runtime's
// checkpoint pool (host backend, so it runs anywhere), and shows that what the pool measured
// equals what the schedule predicted: peak checkpoint bytes and recomputed forward steps.
//
//   build/examples/checkpoint_train
//
// The chain: 16 layers x_{k+1} = tanh(w_k x_k + b_k) over 64 floats (256-byte states), loss
// ½‖x_16 − target‖², plain gradient descent on (w_k, b_k).
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <string>
#include <vector>

#include "vramfit/core/format.hpp"
#include "vramfit/checkpoint/executor.hpp"
#include "vramfit/checkpoint/heterogeneous.hpp"
#include "vramfit/checkpoint/revolve.hpp"
#include "vramfit/checkpoint/segments.hpp"
#include "vramfit/runtime/checkpoint/pool.hpp"

using namespace vramfit;
using namespace vramfit::checkpoint;

namespace {

constexpr std::size_t layers = 16, width = 64;

// Revolve with 4 slots on 16 equal steps: 27 extra forward steps (checked at compile time).
static_assert(revolve_count(16, 4)->advances == 27);

struct chain {
    std::vector<float> weight = std::vector<float>(layers, 1.0f), bias = std::vector<float>(layers, 0.0f);
    std::vector<float> weight_gradient = std::vector<float>(layers, 0.0f), bias_gradient = std::vector<float>(layers, 0.0f);
    std::vector<float> target = std::vector<float>(width);

    chain() { for (std::size_t i = 0; i < width; ++i) target[i] = 0.5f * std::sin(0.2f * static_cast<float>(i)); }
    std::size_t steps() const { return layers; }
    bytes state_size(std::size_t) const { return bytes{width * sizeof(float)}; }
    static const float* in(const std::byte* p) { return reinterpret_cast<const float*>(p); }
    static float* out(std::byte* p) { return reinterpret_cast<float*>(p); }

    void forward(std::size_t k, const std::byte* x, std::byte* y) const {
        for (std::size_t i = 0; i < width; ++i) out(y)[i] = std::tanh(weight[k] * in(x)[i] + bias[k]);
    }
    void loss_gradient(const std::byte* y, std::byte* g) const {
        for (std::size_t i = 0; i < width; ++i) out(g)[i] = in(y)[i] - target[i];
    }
    void backward(std::size_t k, const std::byte* x, const std::byte* gy, std::byte* gx) {
        for (std::size_t i = 0; i < width; ++i) {
            const float y = std::tanh(weight[k] * in(x)[i] + bias[k]);
            const float gz = in(gy)[i] * (1.0f - y * y);
            weight_gradient[k] += gz * in(x)[i];
            bias_gradient[k] += gz;
            out(gx)[i] = gz * weight[k];
        }
    }
    float loss(const std::vector<float>& input) const {
        std::vector<float> x = input, y(width);
        for (std::size_t k = 0; k < layers; ++k) {
            forward(k, reinterpret_cast<const std::byte*>(x.data()), reinterpret_cast<std::byte*>(y.data()));
            x.swap(y);
        }
        float total = 0;
        for (std::size_t i = 0; i < width; ++i) total += 0.5f * (x[i] - target[i]) * (x[i] - target[i]);
        return total;
    }
    void step(float rate) {
        for (std::size_t k = 0; k < layers; ++k) {
            weight[k] -= rate * weight_gradient[k];
            bias[k] -= rate * bias_gradient[k];
            weight_gradient[k] = bias_gradient[k] = 0.0f;
        }
    }
};

struct candidate { std::string name; schedule actions; };

} // namespace

int main() {
    std::vector<float> input(width);
    for (std::size_t i = 0; i < width; ++i) input[i] = std::cos(0.1f * static_cast<float>(i));
    const chain_profile profile = uniform_chain(layers, bytes{width * sizeof(float)});

    std::vector<candidate> candidates{
        {"revolve, 2 slots", *revolve_schedule(layers, 2)},
        {"revolve, 4 slots", *revolve_schedule(layers, 4)},
        {"sqrt(n) segments", *sqrt_n_schedule(layers)},
        {"checkpoint_sequential(4)", *sequential_schedule(layers, 4)},
        {"heterogeneous DP, 1.25 KiB", heterogeneous_schedule(profile, bytes{1280})->actions},
    };

    runtime::host_backend backend;
    bool all_equal = true;
    std::printf("%-28s %18s %18s %16s %16s\n", "schedule", "extra fwd (pred)", "extra fwd (meas)", "peak B (pred)", "peak B (meas)");
    for (const auto& [name, actions] : candidates) {
        const auto predicted = simulate(actions, profile);
        auto pool = runtime::checkpoint_pool::create(backend, 4_KiB);
        if (!predicted || !pool) { std::printf("%s: cannot run\n", name.c_str()); return 1; }
        chain model;
        auto report = execute(actions, model, **pool, reinterpret_cast<const std::byte*>(input.data()));
        if (!report) { std::printf("%s: %s\n", name.c_str(), std::string(report.err().message()).c_str()); return 1; }
        const auto measured_peak = (*pool)->statistics().peak;
        std::printf("%-28s %18llu %18llu %16llu %16llu\n", name.c_str(),
                    static_cast<unsigned long long>(predicted->extra_forwards), static_cast<unsigned long long>(report->extra_forwards),
                    static_cast<unsigned long long>(predicted->peak_checkpoint_bytes.count()),
                    static_cast<unsigned long long>(measured_peak.count()));
        all_equal = all_equal && predicted->extra_forwards == report->extra_forwards
                    && predicted->peak_checkpoint_bytes == measured_peak;
    }

    // Train with Revolve, 4 slots: 16 layers' activations cost 4 states of pool memory.
    chain model;
    auto pool = runtime::checkpoint_pool::create(backend, 4 * bytes{width * sizeof(float)});
    if (!pool) { std::printf("%s\n", pool.err().describe().c_str()); return 1; }
    const schedule& plan = candidates[1].actions;
    std::printf("\ntraining with revolve, 4 slots (pool budget %s)\n", format_bytes((*pool)->budget()).c_str());
    const float first_loss = model.loss(input);
    for (int epoch = 0; epoch <= 200; ++epoch) {
        if (epoch % 50 == 0) std::printf("epoch %3d  loss %.6f\n", epoch, static_cast<double>(model.loss(input)));
        auto report = execute(plan, model, **pool, reinterpret_cast<const std::byte*>(input.data()));
        if (!report) { std::printf("%s\n", std::string(report.err().message()).c_str()); return 1; }
        model.step(0.01f);
    }
    const auto stats = (*pool)->statistics();
    std::printf("pool: peak %llu B of %llu B, %llu saves, %llu restores, %llu evictions\n",
                static_cast<unsigned long long>(stats.peak.count()), static_cast<unsigned long long>(stats.budget.count()),
                static_cast<unsigned long long>(stats.saves), static_cast<unsigned long long>(stats.restores),
                static_cast<unsigned long long>(stats.evictions));
    const bool learned = model.loss(input) < first_loss;
    std::printf("%s\n", all_equal && learned && stats.evictions == 0 ? "measured = predicted; loss decreased"
                                                                      : "MISMATCH between measurement and prediction");
    return all_equal && learned && stats.evictions == 0 ? 0 : 1;
}
