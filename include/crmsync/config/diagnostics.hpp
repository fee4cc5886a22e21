#pragma once
// Bad configuration produces diagnostics, not exceptions (STYLE.md convention 4): loaders
// append and continue, and every problem is printed at once as file:line:column: message.

#include <string>
#include <vector>

namespace crmsync::config {

struct position {
    std::string file;
    int line = 0;    // 1-based; 0 when unknown
    int column = 0;  // 1-based; 0 when unknown
};

struct diagnostic {
    position where;
    std::string message;

    std::string to_string() const;  // "file:line:column: message"
};

class diagnostics {
public:
    void add(position where, std::string message);
    // From now on, a message about the scalar at `where` shows `shown` in place of `value`: a
    // value substituted from the environment or a file may be a secret (SPEC §4), and a message
    // that quotes the scalar quotes its ${...} reference instead.
    void redact(const position& where, std::string value, std::string shown);
    bool empty() const noexcept { return items_.empty(); }
    std::size_t size() const noexcept { return items_.size(); }
    // Sorted by file, line, column; stable for equal positions.
    std::vector<diagnostic> sorted() const;
    const std::vector<diagnostic>& items() const noexcept { return items_; }
    void append(const diagnostics& other);

private:
    struct redaction {
        position where;
        std::string value;
        std::string shown;
    };
    void apply_redactions(diagnostic& d) const;

    std::vector<diagnostic> items_;
    std::vector<redaction> redactions_;
};

}  // namespace crmsync::config
