// libFuzzer target: the -ot regex matcher (detail/regex.hpp) on arbitrary patterns and texts.
// Input: PATTERN '\n' TEXT. Compiling must either succeed or return an error whose message names
// a position; a compiled pattern must search any text without crashing, reading out of bounds or
// taking more than text length x program size steps (a hang would show as a libFuzzer timeout).
// A pattern without metacharacters must match exactly where the text contains it.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "vramfit/core/detail/regex.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input{reinterpret_cast<const char*>(data), size};
    const auto cut = input.find('\n');
    const std::string_view pattern = input.substr(0, cut);
    std::string_view text = cut == std::string_view::npos ? std::string_view{} : input.substr(cut + 1);
    if (pattern.size() > 512) return 0;  // keep each run short: the work is |text| x |program|
    if (text.size() > 2048) text = text.substr(0, 2048);

    auto re = vramfit::detail::regex::compile(pattern);
    if (!re) {
        if (re.err().message().find(" at position ") == std::string_view::npos) std::abort();
        return 0;
    }
    if (re->program_size() > vramfit::detail::regex_limits::max_instructions + 1) std::abort();
    const bool found = re->search(text);
    if (re->search(text) != found) std::abort();  // deterministic
    bool literal = true;
    for (char c : pattern) {
        if (std::string_view{"\\^$.|?*+()[]{}"}.find(c) != std::string_view::npos) literal = false;
    }
    if (literal && found != (text.find(pattern) != std::string_view::npos)) std::abort();
    // a match anywhere in a prefix is a match in the whole text (no anchors involved)
    if (pattern.find_first_of("^$\\") == std::string_view::npos && !found && re->search(text.substr(0, text.size() / 2))) {
        std::abort();
    }
    return 0;
}
