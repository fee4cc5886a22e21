#pragma once
// Bad configuration produces diagnostics, not exceptions (STYLE.md convention 4): loaders
// append and continue, and every problem is printed at once as file:line:column: message.

#include <cstddef>
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
    // A value substituted from the environment or a file may be a secret (SPEC §4): every
    // message, added before or after, shows `shown` (its ${...} reference) in place of `value`,
    // wherever it is reported, since a check of one key may quote a value read at another (a
    // stream's object in the message about its `converted`). A value shorter than
    // min_redacted_size is no secret, and hiding it everywhere would garble the messages' own
    // words: it is hidden only in messages about the scalar at `where`.
    void redact(const position& where, std::string value, std::string shown);
    static constexpr std::size_t min_redacted_size = 4;
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
    static void apply(const redaction& r, diagnostic& d);
    void apply_redactions(diagnostic& d) const;

    std::vector<diagnostic> items_;
    std::vector<redaction> redactions_;
};

}  // namespace crmsync::config
