// vramfit/core/detail/regex.hpp — a constexpr regular-expression matcher for llama.cpp's tensor
// overrides (-ot PATTERN=BUFT, --cpu-moe, --n-cpu-moe).
//
// The engine tests each override with `std::regex_search(tensor_name, std::regex(pattern))`
// (src/llama-model-loader.cpp, create_tensor: "check overrides", first match wins), i.e. an
// ECMAScript regex that may match anywhere in the name. Only whether it matches matters, so
// this matcher answers exactly that, for the ECMAScript syntax people write in -ot, read as
// libstdc++'s std::regex reads it (llama.cpp on Linux):
//
//   literals, `.` (any byte but \n and \r), escapes \. \\ \( ... (any other byte, letters
//   included: libstdc++ takes \q as 'q'), \d \D \w \W \s \S, \t \n \r \f \v \0 \xHH \cX,
//   classes [a-z0-9_] [^...] with those escapes inside (\b there is backspace), POSIX classes
//   [[:digit:]] ... and single-byte collating elements [[.a.]], groups ( ) and (?: ),
//   alternation | (empty branches too, as in "(ch|)"), quantifiers * + ? {n} {n,} {n,m}, their
//   lazy forms *? +? ?? {..}? (laziness cannot change whether a match exists) and stacked ones
//   ("x{2}{3}" is six x, as in libstdc++), anchors ^ $ and \b \B (no multiline mode).
//
// Not supported, and reported as an error rather than matched differently: backreferences
// (\1..\9), octal escapes (\01), lookahead (?= (?!, lookbehind and named groups (?<, \u escapes
// above 0xFF, multi-character collating elements, flags.
//
// Matching is a Thompson NFA simulated Pike-VM style (every live state advanced in lock step
// over the text), so time is O(text length x program size) whatever the pattern: "(a*)*b" or
// "(a|aa)*c" on long input cannot blow up as a backtracking matcher would. The program size is
// bounded (`regex_limits`): counted repeats are expanded, and a pattern whose expansion exceeds
// the bound is rejected with an error, as is nesting deeper than the bound.
//
// Errors name what is wrong and the 0-based byte position in the pattern:
//   "regex 'blk\.(1': missing ')' for the '(' at position 5"
//
//   auto re = vramfit::detail::regex::compile("blk\\.[0-9]+\\.ffn_(up|down)_exps");
//   if (re && re->search("blk.12.ffn_up_exps.weight")) { ... }
//   static_assert(*vramfit::detail::regex_search("exps", "blk.0.ffn_up_exps.weight"));
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "vramfit/core/fixed_string.hpp"
#include "vramfit/core/error.hpp"

namespace vramfit::detail {

struct regex_limits {
    static constexpr std::size_t max_instructions = 8192;  // after expanding counted repeats
    static constexpr std::size_t max_depth = 64;           // nested groups
    static constexpr std::uint32_t max_count = 1000;       // n and m of {n,m}
    static constexpr std::size_t max_pattern = 4096;       // bytes
};

// 256 bits: which bytes a consuming instruction accepts.
struct regex_byte_set {
    std::uint64_t bits[4] = {0, 0, 0, 0};

    constexpr void add(unsigned char c) noexcept { bits[c >> 6] |= std::uint64_t{1} << (c & 63); }
    constexpr void add_range(unsigned char lo, unsigned char hi) noexcept {
        for (unsigned c = lo; c <= hi; ++c) add(static_cast<unsigned char>(c));
    }
    constexpr void add_set(const regex_byte_set& other) noexcept {
        for (int i = 0; i < 4; ++i) bits[i] |= other.bits[i];
    }
    constexpr void invert() noexcept {
        for (auto& b : bits) b = ~b;
    }
    [[nodiscard]] constexpr bool has(unsigned char c) const noexcept { return (bits[c >> 6] >> (c & 63)) & 1u; }
};

enum class regex_op : std::uint8_t {
    consume,            // accept one byte in sets[a], go to the next instruction
    split,              // continue at a and at b
    jump,               // continue at a
    line_start,         // ^: position 0
    line_end,           // $: end of text
    word_boundary,      // \b
    not_word_boundary,  // \B
    match,
};

struct regex_inst {
    regex_op op = regex_op::match;
    std::uint32_t a = 0;
    std::uint32_t b = 0;
};

namespace regex_detail {

[[nodiscard]] constexpr bool is_word(unsigned char c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}
[[nodiscard]] constexpr bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }
[[nodiscard]] constexpr int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// Named classes \d \w \s (the C locale's: std::regex uses the imbued locale, "C" by default).
[[nodiscard]] constexpr regex_byte_set class_of(char letter) noexcept {
    regex_byte_set s{};
    switch (letter) {
        case 'd': case 'D': s.add_range('0', '9'); break;
        case 'w': case 'W': s.add_range('a', 'z'); s.add_range('A', 'Z'); s.add_range('0', '9'); s.add('_'); break;
        case 's': case 'S':
            s.add(' '); s.add('\t'); s.add('\n'); s.add('\v'); s.add('\f'); s.add('\r');
            break;
        default: break;
    }
    if (letter == 'D' || letter == 'W' || letter == 'S') s.invert();
    return s;
}

// A code fragment: jump targets are relative to its first instruction; a target equal to its
// size means "the instruction after the fragment". append() places one fragment after another
// and moves its targets by where it lands.
using fragment = std::vector<regex_inst>;

constexpr void append(fragment& to, const fragment& from) {
    const auto offset = static_cast<std::uint32_t>(to.size());
    for (auto inst : from) {
        if (inst.op == regex_op::split || inst.op == regex_op::jump) {
            inst.a += offset;
            if (inst.op == regex_op::split) inst.b += offset;
        }
        to.push_back(inst);
    }
}

class compiler {
public:
    constexpr compiler(std::string_view pattern, std::vector<regex_byte_set>& sets) : pattern_(pattern), sets_(sets) {}

    constexpr result<fragment> run() {
        if (pattern_.size() > regex_limits::max_pattern) {
            return fail(0, "the pattern is longer than ", " bytes", regex_limits::max_pattern);
        }
        auto code = disjunction(0);
        if (!code) return code;
        if (pos_ < pattern_.size()) {  // only an unmatched ')' stops the top-level disjunction
            return fail(pos_, "unmatched ')'");
        }
        return code;
    }

private:
    std::string_view pattern_;
    std::vector<regex_byte_set>& sets_;
    std::size_t pos_ = 0;

    // "regex 'PATTERN': PROBLEM[ NUMBER][ SUFFIX] at position AT"
    [[nodiscard]] constexpr error fail(std::size_t at, std::string_view problem, std::string_view suffix = {},
                                       std::uint64_t number = ~std::uint64_t{0}) const {
        error e{errc::invalid_argument, "regex '"};
        e.with(pattern_.substr(0, 120));
        if (pattern_.size() > 120) e.with("...");
        e.with("': ").with(problem);
        if (number != ~std::uint64_t{0}) e.with_number(number);
        e.with(suffix).with(" at position ").with_number(at);
        return e;
    }
    [[nodiscard]] constexpr bool done() const noexcept { return pos_ >= pattern_.size(); }
    [[nodiscard]] constexpr char peek() const noexcept { return pattern_[pos_]; }

    constexpr result<fragment> check_size(fragment code, std::size_t at) const {
        if (code.size() > regex_limits::max_instructions) {
            return fail(at, "the pattern needs more than ", " NFA states once repeat counts are expanded",
                        regex_limits::max_instructions);
        }
        return code;
    }

    constexpr fragment consume(const regex_byte_set& set) {
        sets_.push_back(set);
        fragment f;
        f.push_back({regex_op::consume, static_cast<std::uint32_t>(sets_.size() - 1), 0});
        return f;
    }

    // disjunction := alternative ('|' alternative)*
    constexpr result<fragment> disjunction(std::size_t depth) {
        auto first = alternative(depth);
        if (!first) return first;
        fragment code = std::move(*first);
        while (!done() && peek() == '|') {
            const std::size_t bar = pos_++;
            auto next = alternative(depth);
            if (!next) return next;
            // split L1, L2; L1: code; jump end; L2: next; end:
            fragment joined;
            const auto left = static_cast<std::uint32_t>(code.size());
            const auto right = static_cast<std::uint32_t>(next->size());
            joined.push_back({regex_op::split, 1, left + 2});
            append(joined, code);
            joined.push_back({regex_op::jump, left + right + 2, 0});
            append(joined, *next);
            auto checked = check_size(std::move(joined), bar);
            if (!checked) return checked;
            code = std::move(*checked);
        }
        return code;
    }

    // alternative := term*   (ends at '|', ')' or the end)
    constexpr result<fragment> alternative(std::size_t depth) {
        fragment code;
        while (!done() && peek() != '|' && peek() != ')') {
            auto t = term(depth);
            if (!t) return t;
            append(code, *t);
            auto checked = check_size(std::move(code), pos_);
            if (!checked) return checked;
            code = std::move(*checked);
        }
        return code;
    }

    // term := assertion | atom quantifier?
    constexpr result<fragment> term(std::size_t depth) {
        const char c = peek();
        fragment assertion;
        if (c == '^') assertion.push_back({regex_op::line_start, 0, 0});
        else if (c == '$') assertion.push_back({regex_op::line_end, 0, 0});
        else if (c == '\\' && pos_ + 1 < pattern_.size() && pattern_[pos_ + 1] == 'b') assertion.push_back({regex_op::word_boundary, 0, 0});
        else if (c == '\\' && pos_ + 1 < pattern_.size() && pattern_[pos_ + 1] == 'B') assertion.push_back({regex_op::not_word_boundary, 0, 0});
        if (!assertion.empty()) {
            pos_ += c == '\\' ? 2 : 1;
            if (!done() && (peek() == '*' || peek() == '+' || peek() == '?' || peek() == '{')) {
                return fail(pos_, "nothing to repeat (an anchor cannot be quantified)");
            }
            return assertion;
        }
        auto a = atom(depth);
        if (!a) return a;
        return quantified(std::move(*a));
    }

    constexpr result<std::uint32_t> number() {
        const std::size_t start = pos_;
        std::uint32_t value = 0;
        while (!done() && is_digit(peek())) {
            value = value * 10 + static_cast<std::uint32_t>(peek() - '0');
            ++pos_;
            if (value > regex_limits::max_count) {
                return fail(start, "a repeat count is larger than ", {}, regex_limits::max_count);
            }
        }
        if (pos_ == start) return fail(start, "a repeat count needs a number");
        return value;
    }

    // Quantifiers after an atom. Stacked ones ("a**", "x{2}{3}") apply to what precedes them, as
    // libstdc++'s std::regex (what llama.cpp runs on Linux) accepts them; a '?' right after a
    // quantifier makes it lazy, which cannot change whether a match exists.
    constexpr result<fragment> quantified(fragment f) {
        while (!done()) {
            const char q = peek();
            std::uint32_t low = 0;
            std::uint32_t high = 0;
            bool unbounded = false;
            const std::size_t at = pos_;
            if (q == '*') { ++pos_; unbounded = true; }
            else if (q == '+') { ++pos_; low = 1; unbounded = true; }
            else if (q == '?') { ++pos_; high = 1; }
            else if (q == '{') {
                ++pos_;
                if (done() || !is_digit(peek())) return fail(at, "'{' does not start a repeat count {n}, {n,} or {n,m}");
                auto n = number();
                if (!n) return n.err();
                low = high = *n;
                if (!done() && peek() == ',') {
                    ++pos_;
                    if (!done() && peek() == '}') unbounded = true;
                    else {
                        auto m = number();
                        if (!m) return m.err();
                        high = *m;
                        if (high < low) return fail(at, "a repeat count {n,m} has m < n");
                    }
                }
                if (done() || peek() != '}') return fail(at, "a repeat count is missing its '}'");
                ++pos_;
            } else {
                return f;
            }
            if (!done() && peek() == '?') ++pos_;  // lazy
            const auto size = static_cast<std::uint32_t>(f.size());
            fragment code;
            for (std::uint32_t i = 0; i < low; ++i) {
                append(code, f);
                if (code.size() > regex_limits::max_instructions) return check_size(std::move(code), at);
            }
            if (unbounded) {
                // L0: split L1, L3; L1: f; jump L0; L3:
                fragment loop;
                loop.push_back({regex_op::split, 1, size + 2});
                append(loop, f);
                loop.push_back({regex_op::jump, 0, 0});
                append(code, loop);
            } else {
                // (high - low) optional copies: split L1, L2; L1: f; L2:
                fragment optional;
                optional.push_back({regex_op::split, 1, size + 1});
                append(optional, f);
                for (std::uint32_t i = low; i < high; ++i) {
                    append(code, optional);
                    if (code.size() > regex_limits::max_instructions) return check_size(std::move(code), at);
                }
            }
            auto checked = check_size(std::move(code), at);
            if (!checked) return checked;
            f = std::move(*checked);
        }
        return f;
    }

    constexpr result<fragment> atom(std::size_t depth) {
        const std::size_t start = pos_;
        const char c = peek();
        switch (c) {
            case '*': case '+': case '?':
                return fail(start, "nothing to repeat before '", c == '*' ? "*'" : c == '+' ? "+'" : "?'");
            case '{':
                return fail(start, "nothing to repeat before '{'");
            case '.': {
                ++pos_;
                regex_byte_set any{};
                any.invert();
                any.bits['\n' >> 6] &= ~(std::uint64_t{1} << ('\n' & 63));
                any.bits['\r' >> 6] &= ~(std::uint64_t{1} << ('\r' & 63));
                return consume(any);
            }
            case '(': {
                if (depth + 1 > regex_limits::max_depth) {
                    return fail(start, "groups are nested deeper than ", {}, regex_limits::max_depth);
                }
                ++pos_;
                if (!done() && peek() == '?') {
                    if (pos_ + 1 < pattern_.size() && pattern_[pos_ + 1] == ':') {
                        pos_ += 2;
                    } else {
                        return fail(start, "lookaround and named groups '(?...' are not supported (only '(?:')");
                    }
                }
                auto inner = disjunction(depth + 1);
                if (!inner) return inner;
                if (done() || peek() != ')') return fail(start, "missing ')' for the '('");
                ++pos_;
                return inner;
            }
            case '[': return bracket();
            case '\\': {
                auto set = escape(false);
                if (!set) return set.err();
                return consume(*set);
            }
            default: {
                ++pos_;
                regex_byte_set one{};
                one.add(static_cast<unsigned char>(c));
                return consume(one);
            }
        }
    }

    // After a '\' at pos_: the set it stands for (one byte or a named class).
    constexpr result<regex_byte_set> escape(bool in_class) {
        const std::size_t start = pos_;
        ++pos_;
        if (done()) return fail(start, "the pattern ends with a lone '\\'");
        const char c = peek();
        ++pos_;
        regex_byte_set s{};
        switch (c) {
            case 'd': case 'D': case 'w': case 'W': case 's': case 'S': return class_of(c);
            case 't': s.add('\t'); return s;
            case 'n': s.add('\n'); return s;
            case 'r': s.add('\r'); return s;
            case 'f': s.add('\f'); return s;
            case 'v': s.add('\v'); return s;
            case 'b':
                if (in_class) { s.add('\b'); return s; }
                break;
            case '0':
                if (!done() && is_digit(peek())) return fail(start, "octal escapes are not supported");
                s.add('\0');
                return s;
            case 'x': {
                if (pos_ + 1 >= pattern_.size() || hex_value(pattern_[pos_]) < 0 || hex_value(pattern_[pos_ + 1]) < 0) {
                    return fail(start, "'\\x' needs two hex digits");
                }
                s.add(static_cast<unsigned char>(hex_value(pattern_[pos_]) * 16 + hex_value(pattern_[pos_ + 1])));
                pos_ += 2;
                return s;
            }
            case 'u': {
                int value = 0;
                for (int i = 0; i < 4; ++i) {
                    if (done() || hex_value(peek()) < 0) return fail(start, "'\\u' needs four hex digits");
                    value = value * 16 + hex_value(peek());
                    ++pos_;
                }
                if (value > 0xFF) return fail(start, "'\\u' above 00FF cannot match a byte of a tensor name");
                s.add(static_cast<unsigned char>(value));
                return s;
            }
            case 'c': {
                if (done() || !((peek() >= 'a' && peek() <= 'z') || (peek() >= 'A' && peek() <= 'Z'))) {
                    return fail(start, "'\\c' needs a letter");
                }
                s.add(static_cast<unsigned char>(peek() % 32));
                ++pos_;
                return s;
            }
            default: break;
        }
        if (c >= '1' && c <= '9') return fail(start, "backreferences are not supported (they need backtracking)");
        if (c == 'B') return fail(start, "'\\B' has no meaning inside a class");
        // identity escape: \. \\ \( \[ \- ..., and, as libstdc++ takes them, other letters (\q is 'q')
        s.add(static_cast<unsigned char>(c));
        return s;
    }

    // One class atom at pos_: a set (a named class) or a single byte (which may start or end a
    // range). Escapes, POSIX classes [:digit:] (the C locale's, plus libstdc++'s d, w, s), and the
    // single-byte collating elements [.a.] / equivalence classes [=a=] libstdc++ accepts.
    struct class_atom {
        regex_byte_set set{};
        bool single = false;
        unsigned char byte = 0;
    };

    constexpr result<class_atom> class_atom_at() {
        class_atom a{};
        const std::size_t at = pos_;
        if (peek() == '[' && pos_ + 1 < pattern_.size() &&
            (pattern_[pos_ + 1] == ':' || pattern_[pos_ + 1] == '.' || pattern_[pos_ + 1] == '=')) {
            const char kind = pattern_[pos_ + 1];
            const char close[2] = {kind, ']'};
            const auto end = pattern_.find(std::string_view{close, 2}, pos_ + 2);
            if (end == std::string_view::npos) return fail(at, "a '[:', '[.' or '[=' in a class is not closed");
            const std::string_view name = pattern_.substr(pos_ + 2, end - (pos_ + 2));
            pos_ = end + 2;
            if (kind != ':') {
                if (name.size() != 1) return fail(at, "only single-character collating elements are supported");
                a.single = true;
                a.byte = static_cast<unsigned char>(name[0]);
                return a;
            }
            const auto named = posix_class(name);
            if (!named.found) return fail(at, "unknown character class");
            a.set = named.set;
            return a;
        }
        if (peek() == '\\') {
            auto e = escape(true);
            if (!e) return e.err();
            a.set = *e;
        } else {
            a.set.add(static_cast<unsigned char>(peek()));
            ++pos_;
        }
        int count = 0;
        for (unsigned b = 0; b < 256; ++b) {
            if (a.set.has(static_cast<unsigned char>(b))) { ++count; a.byte = static_cast<unsigned char>(b); }
        }
        a.single = count == 1;
        return a;
    }

    struct named_set {
        regex_byte_set set{};
        bool found = false;
    };

    [[nodiscard]] static constexpr named_set posix_class(std::string_view name) noexcept {
        named_set r{};
        r.found = true;
        auto& s = r.set;
        if (name == "alnum") { s.add_range('0', '9'); s.add_range('a', 'z'); s.add_range('A', 'Z'); }
        else if (name == "alpha") { s.add_range('a', 'z'); s.add_range('A', 'Z'); }
        else if (name == "blank") { s.add(' '); s.add('\t'); }
        else if (name == "cntrl") { s.add_range(0, 31); s.add(127); }
        else if (name == "digit" || name == "d") s.add_range('0', '9');
        else if (name == "graph") s.add_range(33, 126);
        else if (name == "lower") s.add_range('a', 'z');
        else if (name == "print") s.add_range(32, 126);
        else if (name == "punct") {
            s.add_range(33, 47); s.add_range(58, 64); s.add_range(91, 96); s.add_range(123, 126);
        }
        else if (name == "space" || name == "s") s = class_of('s');
        else if (name == "upper") s.add_range('A', 'Z');
        else if (name == "xdigit") { s.add_range('0', '9'); s.add_range('a', 'f'); s.add_range('A', 'F'); }
        else if (name == "w") s = class_of('w');
        else r.found = false;
        return r;
    }

    // '[' ... ']' at pos_.
    constexpr result<fragment> bracket() {
        const std::size_t start = pos_;
        ++pos_;
        bool negate = false;
        if (!done() && peek() == '^') { negate = true; ++pos_; }
        regex_byte_set set{};
        while (true) {
            if (done()) return fail(start, "missing ']' for the '['");
            if (peek() == ']') { ++pos_; break; }
            const std::size_t atom_at = pos_;
            auto first = class_atom_at();
            if (!first) return first.err();
            const bool range = first->single && pos_ + 1 < pattern_.size() && peek() == '-' && pattern_[pos_ + 1] != ']';
            if (!range) {
                set.add_set(first->set);
                if (first->single) set.add(first->byte);
                continue;
            }
            ++pos_;  // '-'
            const std::size_t high_at = pos_;
            auto second = class_atom_at();
            if (!second) return second.err();
            if (!second->single) return fail(high_at, "a class range cannot end in a class");
            if (second->byte < first->byte) return fail(atom_at, "a class range is out of order");
            set.add_range(first->byte, second->byte);
        }
        if (negate) set.invert();
        return consume(set);
    }
};

} // namespace regex_detail

// A compiled pattern. Not a literal type (it owns vectors): compile and use it inside one
// constant expression, or at run time.
class regex {
public:
    constexpr regex() = default;

    [[nodiscard]] static constexpr result<regex> compile(std::string_view pattern) {
        regex re;
        regex_detail::compiler c{pattern, re.sets_};
        auto code = c.run();
        if (!code) return code.err();
        re.code_ = std::move(*code);
        re.code_.push_back({regex_op::match, 0, 0});
        return re;
    }

    // std::regex_search: does the pattern match anywhere in `text`?
    [[nodiscard]] constexpr bool search(std::string_view text) const {
        const std::size_t n = code_.size();
        if (n == 0) return false;
        // Pike VM: the states alive before the current byte, each once (marked by generation).
        std::vector<std::uint32_t> current;
        std::vector<std::uint32_t> next;
        std::vector<std::uint32_t> mark;
        std::vector<std::uint32_t> stack;
        for (std::size_t i = 0; i < n; ++i) mark.push_back(0);
        std::uint32_t generation = 0;
        bool matched = false;
        // Follows every non-consuming instruction from `pc` at text position `at`, collecting the
        // consuming ones into `list`.
        const auto add = [&](std::vector<std::uint32_t>& list, std::uint32_t pc, std::size_t at) {
            stack.push_back(pc);
            while (!stack.empty()) {
                const std::uint32_t p = stack.back();
                stack.pop_back();
                if (mark[p] == generation) continue;
                mark[p] = generation;
                const regex_inst& inst = code_[p];
                const bool before_word = at > 0 && regex_detail::is_word(static_cast<unsigned char>(text[at - 1]));
                const bool after_word = at < text.size() && regex_detail::is_word(static_cast<unsigned char>(text[at]));
                switch (inst.op) {
                    case regex_op::consume: list.push_back(p); break;
                    case regex_op::match: matched = true; break;
                    case regex_op::jump: stack.push_back(inst.a); break;
                    case regex_op::split: stack.push_back(inst.b); stack.push_back(inst.a); break;
                    case regex_op::line_start: if (at == 0) stack.push_back(p + 1); break;
                    case regex_op::line_end: if (at == text.size()) stack.push_back(p + 1); break;
                    case regex_op::word_boundary: if (before_word != after_word) stack.push_back(p + 1); break;
                    case regex_op::not_word_boundary: if (before_word == after_word) stack.push_back(p + 1); break;
                }
            }
        };
        ++generation;
        add(current, 0, 0);
        for (std::size_t at = 0; !matched && at < text.size(); ++at) {
            ++generation;
            next.clear();
            const auto byte = static_cast<unsigned char>(text[at]);
            for (const std::uint32_t p : current) {
                if (sets_[code_[p].a].has(byte)) add(next, p + 1, at + 1);
            }
            add(next, 0, at + 1);  // a match may start at every position (regex_search)
            current.swap(next);
        }
        return matched;
    }

    [[nodiscard]] constexpr std::size_t program_size() const noexcept { return code_.size(); }

private:
    std::vector<regex_inst> code_;
    std::vector<regex_byte_set> sets_;
};

// Compile and search in one call: an error for a malformed pattern, else whether it matches.
[[nodiscard]] constexpr result<bool> regex_search(std::string_view pattern, std::string_view text) {
    auto re = regex::compile(pattern);
    if (!re) return re.err();
    return re->search(text);
}

} // namespace vramfit::detail
