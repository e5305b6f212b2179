// A small trainable chain for executor tests: x_{k+1} = tanh(w_k · x_k + b_k) element-wise,
// loss ½‖x_l − target‖². States are `width` floats (width = 64 gives 256-byte states, so pool
// footprints equal state sizes and measured peaks compare exactly).
#pragma once

#include <cmath>
#include <cstddef>
#include <cstring>
#include <vector>

#include "vramfit/core/bytes.hpp"

struct tanh_chain {
    std::size_t layers = 0, width = 0;
    std::vector<float> weight, bias, weight_gradient, bias_gradient, target;

    tanh_chain(std::size_t layer_count, std::size_t state_width)
        : layers(layer_count), width(state_width), weight(layer_count), bias(layer_count),
          weight_gradient(layer_count, 0.0f), bias_gradient(layer_count, 0.0f), target(state_width) {
        for (std::size_t k = 0; k < layers; ++k) {
            weight[k] = 0.9f + 0.01f * static_cast<float>(k % 5);
            bias[k] = 0.02f * static_cast<float>(k % 3) - 0.02f;
        }
        for (std::size_t i = 0; i < width; ++i) target[i] = 0.3f * std::sin(static_cast<float>(i));
    }

    std::size_t steps() const { return layers; }
    vramfit::bytes state_size(std::size_t) const { return vramfit::bytes{width * sizeof(float)}; }

    static const float* as_floats(const std::byte* data) { return reinterpret_cast<const float*>(data); }
    static float* as_floats(std::byte* data) { return reinterpret_cast<float*>(data); }

    void forward(std::size_t k, const std::byte* input, std::byte* output) const {
        const float* x = as_floats(input);
        float* y = as_floats(output);
        for (std::size_t i = 0; i < width; ++i) y[i] = std::tanh(weight[k] * x[i] + bias[k]);
    }
    void loss_gradient(const std::byte* output, std::byte* gradient) const {
        const float* y = as_floats(output);
        float* g = as_floats(gradient);
        for (std::size_t i = 0; i < width; ++i) g[i] = y[i] - target[i];
    }
    void backward(std::size_t k, const std::byte* input, const std::byte* output_gradient, std::byte* input_gradient) {
        const float* x = as_floats(input);
        const float* gy = as_floats(output_gradient);
        float* gx = as_floats(input_gradient);
        for (std::size_t i = 0; i < width; ++i) {
            const float y = std::tanh(weight[k] * x[i] + bias[k]);
            const float gz = gy[i] * (1.0f - y * y);
            weight_gradient[k] += gz * x[i];
            bias_gradient[k] += gz;
            gx[i] = gz * weight[k];
        }
    }
    float loss(const std::vector<float>& input) const {
        std::vector<float> x = input, y(width);
        for (std::size_t k = 0; k < layers; ++k) {
            forward(k, reinterpret_cast<const std::byte*>(x.data()), reinterpret_cast<std::byte*>(y.data()));
            x.swap(y);
        }
        float total = 0.0f;
        for (std::size_t i = 0; i < width; ++i) total += 0.5f * (x[i] - target[i]) * (x[i] - target[i]);
        return total;
    }
    void clear_gradients() {
        std::fill(weight_gradient.begin(), weight_gradient.end(), 0.0f);
        std::fill(bias_gradient.begin(), bias_gradient.end(), 0.0f);
    }
};
