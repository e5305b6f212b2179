// tools/json_writer.hpp — a minimal streaming JSON writer for the CLI's --json output.
#pragma once

#include <cstdint>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

namespace vramfit::cli {

class json_writer {
public:
    json_writer& begin_object() { value_prefix(); text_ += '{'; stack_.push_back(true); return *this; }
    json_writer& end_object() { text_ += '}'; stack_.pop_back(); return *this; }
    json_writer& begin_array() { value_prefix(); text_ += '['; stack_.push_back(true); return *this; }
    json_writer& end_array() { text_ += ']'; stack_.pop_back(); return *this; }

    json_writer& key(std::string_view name) {
        comma();
        quote(name);
        text_ += ':';
        after_key_ = true;
        return *this;
    }
    json_writer& value(std::string_view text) { value_prefix(); quote(text); return *this; }
    json_writer& value(const char* text) { return value(std::string_view{text}); }
    // A value that is already JSON text (a nested object written by another writer, null).
    json_writer& raw(std::string_view json) { value_prefix(); text_ += json; return *this; }
    json_writer& value(bool flag) { value_prefix(); text_ += flag ? "true" : "false"; return *this; }
    json_writer& value(std::uint64_t number) { value_prefix(); text_ += std::to_string(number); return *this; }
    json_writer& value(std::int64_t number) { value_prefix(); text_ += std::to_string(number); return *this; }
    json_writer& value(std::uint32_t number) { return value(static_cast<std::uint64_t>(number)); }
    json_writer& value(int number) { return value(static_cast<std::int64_t>(number)); }
    json_writer& value(double number) {
        value_prefix();
        fmt::format_to(std::back_inserter(text_), "{:.6g}", number);
        return *this;
    }
    template <class T>
    json_writer& field(std::string_view name, T&& v) { key(name); return value(std::forward<T>(v)); }

    [[nodiscard]] const std::string& str() const { return text_; }

private:
    void comma() {
        if (!stack_.empty()) {
            if (!stack_.back()) text_ += ',';
            stack_.back() = false;
        }
    }
    void value_prefix() {
        if (after_key_) { after_key_ = false; return; }
        comma();
    }
    void quote(std::string_view text) {
        text_ += '"';
        for (char c : text) {
            switch (c) {
                case '"': text_ += "\\\""; break;
                case '\\': text_ += "\\\\"; break;
                case '\n': text_ += "\\n"; break;
                case '\t': text_ += "\\t"; break;
                case '\r': text_ += "\\r"; break;
                default:
                    if (static_cast<unsigned char>(c) < 0x20) {
                        fmt::format_to(std::back_inserter(text_), "\\u{:04x}", static_cast<unsigned>(c));
                    } else {
                        text_ += c;
                    }
            }
        }
        text_ += '"';
    }

    std::string text_;
    std::vector<bool> stack_;  // per open container: "no element written yet"
    bool after_key_ = false;
};

} // namespace vramfit::cli
