// The vramfit command. Subcommands are filled in as the library grows.
#include <cstdio>
#include <string_view>

#include "vramfit/vramfit.hpp"

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fputs("usage: vramfit estimate MODEL [flags] [--json]\n", stderr);
        return 2;
    }
    std::fprintf(stderr, "vramfit: unknown command '%s'\n", argv[1]);
    return 2;
}
