// vramfit/vramfit.hpp — the whole header-only library: every public header, room by room.
#pragma once

#include "vramfit/version.hpp"

#include "vramfit/core/bytes.hpp"
#include "vramfit/core/device.hpp"
#include "vramfit/core/error.hpp"
#include "vramfit/core/fixed_string.hpp"
#include "vramfit/core/format.hpp"
#include "vramfit/core/text.hpp"

#include "vramfit/model/dtype.hpp"
#include "vramfit/model/tensor.hpp"

#include "vramfit/formats/gguf/file.hpp"
#include "vramfit/formats/gguf/reader.hpp"
#include "vramfit/formats/gguf/writer.hpp"

#include "vramfit/catalog/gpus.hpp"
#include "vramfit/catalog/models.hpp"

#include "vramfit/engines/llama_cpp/architecture.hpp"
#include "vramfit/engines/llama_cpp/compute_buffer.hpp"
#include "vramfit/engines/llama_cpp/context.hpp"
#include "vramfit/engines/llama_cpp/context_params.hpp"
#include "vramfit/engines/llama_cpp/convert.hpp"
#include "vramfit/engines/llama_cpp/cuda/compute.hpp"
#include "vramfit/engines/llama_cpp/cuda/fit.hpp"
#include "vramfit/engines/llama_cpp/cuda/offload.hpp"
#include "vramfit/engines/llama_cpp/cuda/runtime_overhead.hpp"
#include "vramfit/engines/llama_cpp/emit.hpp"
#include "vramfit/engines/llama_cpp/export.hpp"
#include "vramfit/engines/llama_cpp/from_gguf.hpp"
#include "vramfit/engines/llama_cpp/hparams.hpp"
#include "vramfit/engines/llama_cpp/kv_cache.hpp"
#include "vramfit/engines/llama_cpp/memory.hpp"
#include "vramfit/engines/llama_cpp/model.hpp"
#include "vramfit/engines/llama_cpp/ollama.hpp"
#include "vramfit/engines/llama_cpp/output_buffer.hpp"
#include "vramfit/engines/llama_cpp/quantize.hpp"
#include "vramfit/engines/llama_cpp/recurrent_state.hpp"
#include "vramfit/engines/llama_cpp/weights.hpp"

#include "vramfit/plan/plan.hpp"
#include "vramfit/plan/search.hpp"
#include "vramfit/plan/speed.hpp"

#include "vramfit/checkpoint/executor.hpp"
#include "vramfit/checkpoint/heterogeneous.hpp"
#include "vramfit/checkpoint/revolve.hpp"
#include "vramfit/checkpoint/schedule.hpp"
#include "vramfit/checkpoint/segments.hpp"
