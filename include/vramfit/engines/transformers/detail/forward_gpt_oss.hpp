// vramfit/engines/transformers/detail/forward_gpt_oss.hpp — the forward of GptOssForCausalLM (modeling_gpt_oss.py),
// replayed as activations.hpp describes. Not modelled yet.
#pragma once

#include <cstdint>

#include "vramfit/engines/transformers/detail/replay.hpp"
#include "vramfit/model/config.hpp"

namespace vramfit::transformers::detail::act {

struct gpt_oss_rules {
    static constexpr bool modelled = false;
    [[nodiscard]] static constexpr tracker forward(const model_config&, const shape&, bool round512,
                                                   std::uint64_t, const device_share&) noexcept {
        return tracker{round512};
    }
};

}  // namespace vramfit::transformers::detail::act
