// The constexpr regex matcher (detail/regex.hpp): the -ot patterns people write, at compile
// time and at run time; agreement with std::regex_search (ECMAScript), which is what llama.cpp
// calls; errors with positions; and pathological patterns that a backtracking matcher would take
// exponential time on.
#include <doctest/doctest.h>

#include <cstdint>
#include <regex>
#include <string>
#include <string_view>

#include "vramfit/core/detail/regex.hpp"

using vramfit::detail::regex;
using vramfit::detail::regex_search;

namespace {

constexpr bool matches(std::string_view pattern, std::string_view text) {
    auto r = regex_search(pattern, text);
    return r.ok() && *r;
}
constexpr bool rejects(std::string_view pattern, std::string_view text) {
    auto r = regex_search(pattern, text);
    return r.ok() && !*r;
}
constexpr bool malformed(std::string_view pattern) { return !regex::compile(pattern).ok(); }

// llama.cpp's own expert patterns (common/common.h LLM_FFN_EXPS_REGEX, llm_ffn_exps_block_regex).
constexpr std::string_view exps = "\\.ffn_(up|down|gate|gate_up)_(ch|)exps";

struct case_ {
    std::string_view pattern;
    std::string_view text;
    bool expected;
};

// Each case is checked at compile time (below) and against std::regex at run time.
constexpr case_ cases[] = {
    // the validation rows' command lines (tests/data/validation_logs.csv R01, R02, R07)
    {"blk\\.1[3-9]\\.ffn.*", "blk.13.ffn_up_exps.weight", true},
    {"blk\\.1[3-9]\\.ffn.*", "blk.12.ffn_up_exps.weight", false},
    {"blk\\.1[3-9]\\.ffn.*", "blk.113.ffn_up_exps.weight", false},  // "blk.1", then '1' is not [3-9]
    {"blk\\.1[3-9]\\.ffn.*", "mtp.blk.13.ffn_up_exps.weight", true},  // unanchored: anywhere in the name
    {"blk\\.[2-8][0-9]\\.ffn.*", "blk.85.ffn_gate_inp.weight", true},
    {"blk\\.[2-8][0-9]\\.ffn.*", "blk.85.attn_q.weight", false},
    {"blk\\.9[0-3]\\.ffn.*", "blk.94.ffn_down_exps.weight", false},
    {".ffn_.*_exps.", "blk.0.ffn_down_exps.weight", true},
    {".ffn_.*_exps.", "blk.0.ffn_down_shexp.weight", false},
    {"exps=", "blk.0.ffn_down_exps.weight", false},
    // --cpu-moe / --n-cpu-moe
    {exps, "blk.3.ffn_gate_up_exps.weight", true},
    {exps, "blk.3.ffn_up_chexps.weight", true},
    {exps, "blk.3.ffn_gate_inp.weight", false},
    {exps, "blk.3.ffn_up_shexp.weight", false},
    {"blk\\.7\\.ffn_(up|down|gate|gate_up)_(ch|)exps", "blk.17.ffn_up_exps.weight", false},
    {"blk\\.7\\.ffn_(up|down|gate|gate_up)_(ch|)exps", "blk.7.ffn_up_exps.weight", true},
    // forms seen in the wild
    {"blk\\.([2-3]|2[0-3]|3[1-8])\\.ffn_.*_exps\\.weight", "blk.22.ffn_up_exps.weight", true},
    {"blk\\.([2-3]|2[0-3]|3[1-8])\\.ffn_.*_exps\\.weight", "blk.30.ffn_up_exps.weight", false},
    {"blk\\.(1[0-9]|[2-4][0-9])\\.ffn_(up|gate)_exps", "blk.47.ffn_gate_exps.weight", true},
    {"\\d+\\.ffn_down", "blk.31.ffn_down.weight", true},
    {"^blk\\.\\d\\.", "blk.31.ffn_down.weight", false},
    {"^blk\\.\\d{2}\\.", "blk.31.ffn_down.weight", true},
    {"^blk\\.\\d{1,2}\\.", "blk.100.ffn_down.weight", false},
    {"^blk\\.\\d{3,}\\.", "blk.100.ffn_down.weight", true},
    {"weight$", "blk.1.ffn_down.weight", true},
    {"weight$", "blk.1.ffn_down.weight.x", false},
    {"^$", "", true},
    {"", "anything", true},
    {"\\w+_exps", "ffn_up_exps", true},
    {"\\W", "ffn_up_exps", false},
    {"\\s", "a b", true},
    {"\\S", " \t", false},
    {"[^a-z.]", "blk.ffn", false},
    {"[^a-z.]", "blk.0", true},
    {"[\\d.]+", "..", true},
    {"[a\\-z]", "-", true},
    {"[a-]", "-", true},
    {"[]", "a", false},
    {"[^]", "a", true},
    {"(?:up|down)_exps", "ffn_down_exps", true},
    {"\\bffn", "blk.0.ffn", true},
    {"\\bffn", "xffn", false},
    {"\\Bffn", "xffn", true},
    {"a{0}b", "b", true},
    {"ba{2,3}c", "baac", true},
    {"ba{2,3}c", "bac", false},
    {"ba{2,3}c", "baaaac", false},
    {"ba+?c", "baac", true},
    {"x*?y??z", "z", true},
    {"\\x41\\u0042", "AB", true},
    {"a.c", "a\nc", false},
    {"a\\.c", "abc", false},
    {"(a|)+b", "b", true},
    {"(a*)*b", "aaab", true},
    {"]}", "]}", true},
    // what libstdc++'s std::regex also accepts (llama.cpp on Linux): stacked quantifiers, letters
    // escaped for themselves, POSIX classes and single-byte collating elements
    {"x{2}{3}", "xxxxxx", true},
    {"x{2}{3}", "xxxxx", false},
    {"ba+*", "b", true},
    {"ba??", "b", true},
    {"ba+?", "b", false},
    {"\\q\\e", "qe", true},
    {"[[:digit:]]+\\.", "blk.12.", true},
    {"[[:alpha:]_]+", "1", false},
    {"[^[:space:]]", "  ", false},
    {"[[:w:]]", "_", true},
    {"[[.a.]-c]", "b", true},
    {"[[:xdigit:][:punct:]]", "f", true},
};

constexpr bool all_cases_hold() {
    for (const auto& c : cases) {
        if (c.expected ? !matches(c.pattern, c.text) : !rejects(c.pattern, c.text)) return false;
    }
    return true;
}
static_assert(all_cases_hold());
static_assert(matches("blk\\.(1[3-9]|[2-8][0-9]|9[0-3])\\.ffn.*", "blk.57.ffn_up_exps.weight"));
static_assert(rejects("blk\\.(1[3-9]|[2-8][0-9]|9[0-3])\\.ffn.*", "blk.5.ffn_up_exps.weight"));
static_assert(malformed("blk\\.(1"));
static_assert(malformed("(?=x)"));
static_assert(matches("ba**", "b"));  // stacked quantifiers, as libstdc++ takes them
static_assert(malformed("\\1"));
// linear time in constant evaluation too: a backtracking matcher would need 2^40 steps here
static_assert(rejects("(a|a)*(a|a)*(a|a)*c", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));

std::string error_of(std::string_view pattern) {
    auto re = regex::compile(pattern);
    return re.ok() ? std::string{} : std::string{re.err().message()};
}

} // namespace

TEST_CASE("regex: every case matches as std::regex_search (ECMAScript) does") {
    for (const auto& c : cases) {
        CAPTURE(c.pattern);
        CAPTURE(c.text);
        auto ours = regex_search(c.pattern, c.text);
        REQUIRE(ours.ok());
        CHECK(*ours == c.expected);
        const std::regex reference{std::string{c.pattern}, std::regex::ECMAScript};
        CHECK(std::regex_search(std::string{c.text}, reference) == c.expected);
    }
    CHECK(all_cases_hold());
}

TEST_CASE("regex: malformed patterns are errors naming the problem and the position") {
    CHECK(error_of("blk\\.(1") == "regex 'blk\\.(1': missing ')' for the '(' at position 5");
    CHECK(error_of("ffn)") == "regex 'ffn)': unmatched ')' at position 3");
    CHECK(error_of("[a-") == "regex '[a-': missing ']' for the '[' at position 0");
    CHECK(error_of("[z-a]") == "regex '[z-a]': a class range is out of order at position 1");
    CHECK(error_of("*exps") == "regex '*exps': nothing to repeat before '*' at position 0");
    CHECK(error_of("a{2") == "regex 'a{2': a repeat count is missing its '}' at position 1");
    CHECK(error_of("a{3,2}") == "regex 'a{3,2}': a repeat count {n,m} has m < n at position 1");
    CHECK(error_of("a{x}") == "regex 'a{x}': '{' does not start a repeat count {n}, {n,} or {n,m} at position 1");
    CHECK(error_of("a\\") == "regex 'a\\': the pattern ends with a lone '\\' at position 1");
    CHECK(error_of("(a)\\1") == "regex '(a)\\1': backreferences are not supported (they need backtracking) at position 3");
    CHECK(error_of("(?!x)") == "regex '(?!x)': lookaround and named groups '(?...' are not supported (only '(?:') at position 0");
    CHECK(error_of("[[:word:]]") == "regex '[[:word:]]': unknown character class at position 1");
    CHECK(error_of("[[:digit:") == "regex '[[:digit:': a '[:', '[.' or '[=' in a class is not closed at position 1");
    CHECK(error_of("[[.ab.]]") == "regex '[[.ab.]]': only single-character collating elements are supported at position 1");
    CHECK(error_of("^*") == "regex '^*': nothing to repeat (an anchor cannot be quantified) at position 1");
    CHECK(error_of("a{1001}") == "regex 'a{1001}': a repeat count is larger than 1000 at position 2");
    CHECK(error_of("(a{1000}){1000}").find("NFA states once repeat counts are expanded") != std::string::npos);
    CHECK(error_of(std::string(100, '(') + "a" + std::string(100, ')')).find("nested deeper than 64") != std::string::npos);
    // every one of them std::regex rejects too (so the engine would have refused the -ot)
    for (const char* bad : {"blk\\.(1", "ffn)", "[a-", "[z-a]", "*exps", "a{2", "a{3,2}", "a\\", "[[:word:]]"}) {
        CAPTURE(bad);
        CHECK_THROWS_AS(std::regex(bad, std::regex::ECMAScript), std::regex_error);
    }
}

TEST_CASE("regex: pathological patterns finish (linear-time simulation)") {
    // Classic exponential cases for backtracking matchers, on inputs long enough that 2^n steps
    // would never finish; the Pike VM does text length x program size work.
    const std::string as(20000, 'a');
    CHECK(*regex_search("(a*)*b", as) == false);
    CHECK(*regex_search("(a|aa)*c", as) == false);
    CHECK(*regex_search("(a|a)*(a|a)*(a|a)*(a|a)*$", as) == true);
    CHECK(*regex_search("^(a+)+$", as) == true);
    CHECK(*regex_search("^(a+)+$", as + "!") == false);
    CHECK(*regex_search("(.*a){20}", as) == true);
    CHECK(*regex_search("(x+x+)+y", std::string(5000, 'x')) == false);
    CHECK(*regex_search("(a{0,50}){0,50}b", as.substr(0, 2000)) == false);
    // the largest program the limits allow still runs
    auto big = regex::compile("(a?){999}a{999}");
    REQUIRE(big.ok());
    CHECK(big->program_size() <= vramfit::detail::regex_limits::max_instructions);
    CHECK(big->search(std::string(999, 'a')));
    CHECK_FALSE(big->search(std::string(998, 'a')));
}

TEST_CASE("regex: fuzz-style agreement with std::regex on generated patterns") {
    // A deterministic generator over a small alphabet: random patterns from the supported
    // syntax, matched against random short texts by both matchers. Texts stay short so that
    // libstdc++'s backtracking std::regex finishes too.
    std::uint64_t state = 0x9E3779B97F4A7C15ULL;
    const auto next = [&](std::uint64_t bound) {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        return state % bound;
    };
    const std::string_view atoms[] = {"a", "b", ".", "[ab]", "[^a]", "\\d", "\\w", "1", "_", "(a|b)", "(ab|)", "(?:a|1)", "\\."};
    const std::string_view quantifiers[] = {"", "", "", "*", "+", "?", "{2}", "{1,2}", "{0,}", "*?"};
    int compared = 0;
    for (int round = 0; round < 3000; ++round) {
        std::string pattern;
        if (next(4) == 0) pattern += '^';
        const auto length = 1 + next(4);
        for (std::uint64_t i = 0; i < length; ++i) {
            if (next(6) == 0) {  // a group with alternation around two atoms
                pattern += '(';
                pattern += atoms[next(std::size(atoms))];
                pattern += '|';
                pattern += atoms[next(std::size(atoms))];
                pattern += ')';
            } else {
                pattern += atoms[next(std::size(atoms))];
            }
            pattern += quantifiers[next(std::size(quantifiers))];
        }
        if (next(4) == 0) pattern += '$';
        std::string text;
        const auto text_length = next(8);
        for (std::uint64_t i = 0; i < text_length; ++i) text += "ab1._x"[next(6)];
        auto ours = regex_search(pattern, text);
        CAPTURE(pattern);
        CAPTURE(text);
        REQUIRE(ours.ok());
        const std::regex reference{pattern, std::regex::ECMAScript};
        CHECK(*ours == std::regex_search(text, reference));
        ++compared;
    }
    CHECK(compared == 3000);
}
