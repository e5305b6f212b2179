// Compile-time check: a converter-written Llama-3.2-1B header, read back, gives the catalog's
// hyper-parameters and tensors. Its own translation unit, so editing test_gguf_model.cpp (the
// same check at run time, on every catalog model) does not evaluate it again.
#include "converter_files.hpp"

static_assert(converter_files::llama_1b_round_trips());
