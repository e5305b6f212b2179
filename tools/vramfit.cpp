// The vramfit command: estimate, models (and more as the library grows).
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "cli.hpp"

int main(int argc, char** argv) {
    std::vector<std::string_view> args(argv + 1, argv + argc);
    std::string out, err;
    const int status = vramfit::cli::run(args, out, err);
    std::fputs(out.c_str(), stdout);
    std::fputs(err.c_str(), stderr);
    return status;
}
