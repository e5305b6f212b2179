// vramfit/formats/json/reader.hpp — a strict, bounded JSON (RFC 8259) reader, usable in constant
// expressions: config.json and safetensors headers are JSON, and the core takes no dependency.
//
// parse() checks the whole text and builds a flat tree of nodes that point into it (no copies of
// strings; escapes are decoded when a string is read). Bounds: the input size (max_input_bytes),
// the nesting depth (max_depth), one node per value, so nothing grows beyond the input. Errors
// name what was expected and the byte offset. A key given twice in one object: find() returns
// the last, as Python's json module (which transformers reads config.json with) keeps the last.
#pragma once

#include <cstdint>
#include <string_view>
#include <type_traits>
#include <vector>

#include "vramfit/core/error.hpp"
#include "vramfit/core/text.hpp"

namespace vramfit::json {

inline constexpr std::size_t max_input_bytes = 100u << 20;  // safetensors' own header limit (100 MB)
inline constexpr std::uint32_t max_depth = 128;
inline constexpr std::uint32_t no_node = 0xffffffffu;

enum class kind : std::uint8_t { null, boolean, number, string, array, object };

[[nodiscard]] constexpr std::string_view to_string(kind k) noexcept {
    switch (k) {
        case kind::null: return "null";
        case kind::boolean: return "a boolean";
        case kind::number: return "a number";
        case kind::string: return "a string";
        case kind::array: return "an array";
        case kind::object: return "an object";
    }
    return "a value";
}

struct node {
    kind type = kind::null;
    std::uint32_t begin = 0;  // the value's bytes in the input (a string's include its quotes)
    std::uint32_t end = 0;
    std::uint32_t key_begin = 0;  // an object member's key, quotes included (0, 0: not a member)
    std::uint32_t key_end = 0;
    std::uint32_t first_child = no_node;
    std::uint32_t next_sibling = no_node;
    std::uint32_t children = 0;
};

class document;

namespace detail {

[[nodiscard]] constexpr bool is_space(char c) noexcept { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
[[nodiscard]] constexpr int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// Appends the UTF-8 encoding of a code point.
constexpr void append_utf8(text& out, std::uint32_t cp) {
    if (cp < 0x80) {
        out.append(static_cast<char>(cp));
    } else if (cp < 0x800) {
        out.append(static_cast<char>(0xC0 | (cp >> 6)));
        out.append(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        out.append(static_cast<char>(0xE0 | (cp >> 12)));
        out.append(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.append(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
        out.append(static_cast<char>(0xF0 | (cp >> 18)));
        out.append(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
        out.append(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.append(static_cast<char>(0x80 | (cp & 0x3F)));
    }
}

class parser {
public:
    constexpr parser(std::string_view input, std::vector<node>& nodes) : in_(input), nodes_(nodes) {}

    constexpr result<bool> run() {
        skip_space();
        auto root = value(0);
        if (!root) return root.err();
        skip_space();
        if (at_ < in_.size()) return fail("expected the end of the document after the top-level value");
        return true;
    }

private:
    std::string_view in_;
    std::vector<node>& nodes_;
    std::size_t at_ = 0;

    constexpr error fail(std::string_view what) const { return error{errc::malformed, what, at_}; }
    constexpr void skip_space() noexcept { while (at_ < in_.size() && is_space(in_[at_])) ++at_; }
    constexpr bool literal(std::string_view word) noexcept {
        if (in_.substr(at_, word.size()) != word) return false;
        at_ += word.size();
        return true;
    }

    constexpr std::uint32_t add(kind type) {
        node n{};
        n.type = type;
        n.begin = static_cast<std::uint32_t>(at_);
        nodes_.push_back(n);
        return static_cast<std::uint32_t>(nodes_.size() - 1);
    }

    constexpr result<std::uint32_t> value(std::uint32_t depth) {
        if (at_ >= in_.size()) return fail("expected a value, found the end of the input");
        const char c = in_[at_];
        if (c == '{' || c == '[') {
            if (depth >= max_depth) return fail("nesting deeper than 128 levels");
            if (c == '{') return object(depth + 1);  // (not `?:`: GCC 12 mis-evaluates it on results here)
            return array(depth + 1);
        }
        std::uint32_t index = 0;
        if (c == '"') {
            index = add(kind::string);
            auto s = string();
            if (!s) return s.err();
        } else if (c == '-' || (c >= '0' && c <= '9')) {
            index = add(kind::number);
            auto n = number();
            if (!n) return n.err();
        } else if (c == 't' || c == 'f') {
            index = add(kind::boolean);
            if (!literal("true") && !literal("false")) return fail("expected true or false");
        } else if (c == 'n') {
            index = add(kind::null);
            if (!literal("null")) return fail("expected null");
        } else {
            return fail("expected a value (object, array, string, number, true, false or null)");
        }
        nodes_[index].end = static_cast<std::uint32_t>(at_);
        return index;
    }

    constexpr result<bool> string() {
        ++at_;  // the opening quote
        while (at_ < in_.size()) {
            const auto c = static_cast<unsigned char>(in_[at_]);
            if (c == '"') { ++at_; return true; }
            if (c < 0x20) return fail("control character inside a string (escape it)");
            if (c == '\\') {
                ++at_;
                if (at_ >= in_.size()) break;
                const char e = in_[at_];
                if (e == 'u') {
                    for (int k = 1; k <= 4; ++k) {
                        if (at_ + static_cast<std::size_t>(k) >= in_.size() || hex_value(in_[at_ + static_cast<std::size_t>(k)]) < 0) {
                            return fail("\\u needs four hexadecimal digits");
                        }
                    }
                    at_ += 5;
                    continue;
                }
                if (e != '"' && e != '\\' && e != '/' && e != 'b' && e != 'f' && e != 'n' && e != 'r' && e != 't') {
                    return fail("unknown escape in a string");
                }
            }
            ++at_;
        }
        return fail("unterminated string");
    }

    constexpr result<bool> number() {
        if (in_[at_] == '-') ++at_;
        if (at_ >= in_.size() || in_[at_] < '0' || in_[at_] > '9') return fail("expected a digit");
        if (in_[at_] == '0') ++at_;
        else while (at_ < in_.size() && in_[at_] >= '0' && in_[at_] <= '9') ++at_;
        if (at_ < in_.size() && in_[at_] == '.') {
            ++at_;
            if (at_ >= in_.size() || in_[at_] < '0' || in_[at_] > '9') return fail("expected a digit after the decimal point");
            while (at_ < in_.size() && in_[at_] >= '0' && in_[at_] <= '9') ++at_;
        }
        if (at_ < in_.size() && (in_[at_] == 'e' || in_[at_] == 'E')) {
            ++at_;
            if (at_ < in_.size() && (in_[at_] == '+' || in_[at_] == '-')) ++at_;
            if (at_ >= in_.size() || in_[at_] < '0' || in_[at_] > '9') return fail("expected a digit in the exponent");
            while (at_ < in_.size() && in_[at_] >= '0' && in_[at_] <= '9') ++at_;
        }
        return true;
    }

    // Links `child` after `last` under `parent`.
    constexpr void link(std::uint32_t parent, std::uint32_t& last, std::uint32_t child) {
        if (last == no_node) nodes_[parent].first_child = child;
        else nodes_[last].next_sibling = child;
        last = child;
        ++nodes_[parent].children;
    }

    constexpr result<std::uint32_t> array(std::uint32_t depth) {
        const auto index = add(kind::array);
        ++at_;
        skip_space();
        std::uint32_t last = no_node;
        if (at_ < in_.size() && in_[at_] == ']') {
            ++at_;
        } else {
            while (true) {
                skip_space();
                auto child = value(depth);
                if (!child) return child.err();
                link(index, last, *child);
                skip_space();
                if (at_ < in_.size() && in_[at_] == ',') { ++at_; continue; }
                if (at_ < in_.size() && in_[at_] == ']') { ++at_; break; }
                return fail("expected ',' or ']' in an array");
            }
        }
        nodes_[index].end = static_cast<std::uint32_t>(at_);
        return index;
    }

    constexpr result<std::uint32_t> object(std::uint32_t depth) {
        const auto index = add(kind::object);
        ++at_;
        skip_space();
        std::uint32_t last = no_node;
        if (at_ < in_.size() && in_[at_] == '}') {
            ++at_;
        } else {
            while (true) {
                skip_space();
                if (at_ >= in_.size() || in_[at_] != '"') return fail("expected a key (a string) in an object");
                const auto key_begin = static_cast<std::uint32_t>(at_);
                auto key = string();
                if (!key) return key.err();
                const auto key_end = static_cast<std::uint32_t>(at_);
                skip_space();
                if (at_ >= in_.size() || in_[at_] != ':') return fail("expected ':' after a key");
                ++at_;
                skip_space();
                auto child = value(depth);
                if (!child) return child.err();
                nodes_[*child].key_begin = key_begin;
                nodes_[*child].key_end = key_end;
                link(index, last, *child);
                skip_space();
                if (at_ < in_.size() && in_[at_] == ',') { ++at_; continue; }
                if (at_ < in_.size() && in_[at_] == '}') { ++at_; break; }
                return fail("expected ',' or '}' in an object");
            }
        }
        nodes_[index].end = static_cast<std::uint32_t>(at_);
        return index;
    }
};

} // namespace detail

// A parsed document: the input (not owned: keep it alive) and its nodes; node 0 is the root.
class document {
public:
    constexpr document() = default;

    [[nodiscard]] constexpr std::string_view input() const noexcept { return input_; }
    [[nodiscard]] constexpr const node& at(std::uint32_t index) const { return nodes_[index]; }
    [[nodiscard]] static constexpr std::uint32_t root() noexcept { return 0; }
    [[nodiscard]] constexpr std::size_t size() const noexcept { return nodes_.size(); }

    // The raw bytes of a node's value, and of a member's key without its quotes (escapes kept).
    [[nodiscard]] constexpr std::string_view raw(std::uint32_t index) const {
        return input_.substr(nodes_[index].begin, nodes_[index].end - nodes_[index].begin);
    }
    [[nodiscard]] constexpr std::string_view raw_key(std::uint32_t index) const {
        const auto& n = nodes_[index];
        return n.key_end > n.key_begin ? input_.substr(n.key_begin + 1, n.key_end - n.key_begin - 2) : std::string_view{};
    }

    // The member `key` of an object (the last one if the key repeats), or no_node.
    [[nodiscard]] constexpr std::uint32_t find(std::uint32_t object, std::string_view key) const {
        if (object == no_node || nodes_[object].type != kind::object) return no_node;
        std::uint32_t found = no_node;
        for (auto c = nodes_[object].first_child; c != no_node; c = nodes_[c].next_sibling) {
            const auto k = raw_key(c);
            if (k == key || (k.find('\\') != std::string_view::npos && decode(k).value_or(text{}).view() == key)) found = c;
        }
        return found;
    }

    // A string node's text with its escapes decoded (\uXXXX, surrogate pairs, to UTF-8).
    [[nodiscard]] constexpr result<text> string(std::uint32_t index) const {
        if (nodes_[index].type != kind::string) return type_error(index, kind::string);
        const auto r = raw(index);
        return decode(r.substr(1, r.size() - 2), nodes_[index].begin + 1);
    }

    // A non-negative integer (no fraction or exponent), as Python's int.
    [[nodiscard]] constexpr result<std::uint64_t> unsigned_integer(std::uint32_t index) const {
        if (nodes_[index].type != kind::number) return type_error(index, kind::number);
        const auto r = raw(index);
        std::uint64_t value = 0;
        for (char c : r) {
            if (c < '0' || c > '9') return error{errc::malformed, "expected a non-negative integer, found ", nodes_[index].begin}.with(r);
            const auto digit = static_cast<std::uint64_t>(c - '0');
            if (value > (~std::uint64_t{0} - digit) / 10) {
                return error{errc::malformed, "integer too large: ", nodes_[index].begin}.with(r);
            }
            value = value * 10 + digit;
        }
        return value;
    }

    // Any number, as a double (an integer too). Exact in constant evaluation for up to 15
    // significant digits and decimal exponents within ±22 (every figure a config holds); at run
    // time correctly rounded throughout.
    [[nodiscard]] constexpr result<double> number(std::uint32_t index) const {
        if (nodes_[index].type != kind::number) return type_error(index, kind::number);
        const auto r = raw(index);
        std::size_t i = 0;
        const bool negative = r[0] == '-';
        if (negative) ++i;
        std::uint64_t mantissa = 0;
        int digits = 0, scale = 0;
        bool fraction = false;
        for (; i < r.size() && r[i] != 'e' && r[i] != 'E'; ++i) {
            if (r[i] == '.') { fraction = true; continue; }
            if (mantissa == 0 && r[i] == '0') { if (fraction) --scale; continue; }
            if (digits < 19) {
                mantissa = mantissa * 10 + static_cast<std::uint64_t>(r[i] - '0');
                ++digits;
                if (fraction) --scale;
            } else if (!fraction) {
                ++scale;
            }
        }
        int exponent = 0;
        if (i < r.size()) {
            ++i;
            bool exponent_negative = false;
            if (r[i] == '+' || r[i] == '-') { exponent_negative = r[i] == '-'; ++i; }
            for (; i < r.size(); ++i) if (exponent < 100000) exponent = exponent * 10 + (r[i] - '0');
            if (exponent_negative) exponent = -exponent;
        }
        const int e10 = scale + exponent;
        double value = static_cast<double>(mantissa);
        if (mantissa == 0) {
            value = 0.0;
        } else if (!std::is_constant_evaluated() || digits > 15 || e10 < -22 || e10 > 22) {
            if (std::is_constant_evaluated()) return error{errc::malformed, "number beyond exact constant evaluation: ", nodes_[index].begin}.with(r);
            value = run_time_double(r);
            return value;
        } else {
            double power = 1.0;
            for (int k = 0; k < (e10 < 0 ? -e10 : e10); ++k) power *= 10.0;  // exact up to 1e22
            value = e10 < 0 ? value / power : value * power;
        }
        return negative ? -value : value;
    }

    [[nodiscard]] constexpr result<bool> boolean(std::uint32_t index) const {
        if (nodes_[index].type != kind::boolean) return type_error(index, kind::boolean);
        return raw(index) == "true";
    }

    [[nodiscard]] constexpr error type_error(std::uint32_t index, kind expected) const {
        return error{errc::malformed, "expected ", nodes_[index].begin}.with(to_string(expected)).with(", found ").with(to_string(nodes_[index].type));
    }

private:
    friend constexpr result<document> parse(std::string_view input);

    std::string_view input_{};
    std::vector<node> nodes_{};

    static double run_time_double(std::string_view literal);

    // Decodes the escapes of a string's body (already checked by the parser).
    [[nodiscard]] static constexpr result<text> decode(std::string_view body, std::uint64_t offset = 0) {
        text out;
        for (std::size_t i = 0; i < body.size(); ++i) {
            if (body[i] != '\\') { out.append(body[i]); continue; }
            const char e = body[++i];
            switch (e) {
                case 'b': out.append('\b'); break;
                case 'f': out.append('\f'); break;
                case 'n': out.append('\n'); break;
                case 'r': out.append('\r'); break;
                case 't': out.append('\t'); break;
                case 'u': {
                    auto hex4 = [&](std::size_t at) {
                        std::uint32_t v = 0;
                        for (std::size_t k = 0; k < 4; ++k) v = v * 16 + static_cast<std::uint32_t>(detail::hex_value(body[at + k]));
                        return v;
                    };
                    std::uint32_t cp = hex4(i + 1);
                    i += 4;
                    if (cp >= 0xD800 && cp <= 0xDBFF) {  // a high surrogate: a low one must follow
                        if (i + 6 < body.size() && body[i + 1] == '\\' && body[i + 2] == 'u') {
                            const std::uint32_t low = hex4(i + 3);
                            if (low >= 0xDC00 && low <= 0xDFFF) {
                                cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
                                i += 6;
                            } else {
                                return error{errc::malformed, "unpaired UTF-16 surrogate in a string", offset + i};
                            }
                        } else {
                            return error{errc::malformed, "unpaired UTF-16 surrogate in a string", offset + i};
                        }
                    } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                        return error{errc::malformed, "unpaired UTF-16 surrogate in a string", offset + i};
                    }
                    detail::append_utf8(out, cp);
                    break;
                }
                default: out.append(e); break;  // '"', '\\', '/'
            }
        }
        return out;
    }
};

[[nodiscard]] constexpr result<document> parse(std::string_view input) {
    if (input.size() > max_input_bytes) return error{errc::limit_exceeded, "JSON text larger than 100 MiB"};
    document doc;
    doc.input_ = input;
    detail::parser p{input, doc.nodes_};
    auto ok = p.run();
    if (!ok) return ok.err();
    return doc;
}

} // namespace vramfit::json

#include <charconv>

namespace vramfit::json {
inline double document::run_time_double(std::string_view literal) {
    double value = 0.0;
    std::from_chars(literal.data(), literal.data() + literal.size(), value);
    return value;
}
} // namespace vramfit::json
