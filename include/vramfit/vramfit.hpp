// vramfit/vramfit.hpp — the whole header-only library.
#pragma once

#include "vramfit/units.hpp"
#include "vramfit/error.hpp"
#include "vramfit/ggml_types.hpp"
#include "vramfit/model_description.hpp"
#include "vramfit/architecture.hpp"
#include "vramfit/model_metadata.hpp"
#include "vramfit/tensor_layout.hpp"
#include "vramfit/gguf_model.hpp"
#include "vramfit/gguf.hpp"
#include "vramfit/gguf_file.hpp"
#include "vramfit/gguf_writer.hpp"
#include "vramfit/engines/llama_cpp/compute_buffer.hpp"
#include "vramfit/quantization.hpp"
