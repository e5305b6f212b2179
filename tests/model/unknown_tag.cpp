// Must not compile: the catalog has no model "llama-3.1-9b".
#include "vramfit/catalog/models.hpp"
static_assert(vramfit::catalog::model<"llama-3.1-9b">::entry.config.num_hidden_layers == 32);
