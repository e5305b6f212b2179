// vramfit/engines/transformers/detail/forward_opt.hpp — the forward of OPTForCausalLM (modeling_opt.py),
// replayed as activations.hpp describes. Not modelled yet.
#pragma once

#include <cstdint>

#include "vramfit/engines/transformers/detail/replay.hpp"
#include "vramfit/model/config.hpp"

namespace vramfit::transformers::detail::act {

struct opt_rules {
    static constexpr bool modelled = false;
    [[nodiscard]] static constexpr tracker forward(const model_config&, const shape&, bool round512,
                                                   std::uint64_t, const device_share&) noexcept {
        return tracker{round512};
    }
};

}  // namespace vramfit::transformers::detail::act
