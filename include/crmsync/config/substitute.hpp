#pragma once
// ${ENV_VAR} and ${file:/path} substitution (SPEC §3), applied to one scalar at a time after the
// YAML was parsed (STYLE rule 4): substituting raw text would let a secret containing ": " or
// "#" rewrite the document's structure.
//
// Syntax inside a scalar:
//   ${NAME}        the environment variable NAME ([A-Za-z_][A-Za-z0-9_]*); unset is an error,
//                  set-but-empty yields "".
//   ${file:PATH}   the content of PATH with one trailing newline ("\n" or "\r\n") stripped, so
//                  `echo secret > file` works. A relative PATH resolves against the directory of
//                  the YAML file holding the scalar. Files over 1 MiB are refused.
//   $$             a literal "$" (write "$${HOME}" to send the text "${HOME}").
//   $ followed by anything else is kept as is ("US$ 5", "pa$word").
// There are no defaults (${X:-y}) and no nesting; the substituted text is not scanned again.
// Problems name the variable or path, never a value read.

#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace crmsync::config {

struct substituted {
    std::string text;      // the expanded scalar; meaningful when problem is empty
    std::string problem;   // e.g. "environment variable 'SF_CLIENT_ID' is not set"
    bool changed = false;  // at least one ${...} or $$ was expanded
    // What each ${...} put in, beside how the file wrote it ("${SF_SECRET}"): a diagnostic
    // about the scalar must name the reference, never quote the value (SPEC §4).
    std::vector<std::pair<std::string, std::string>> inserted;

    bool ok() const noexcept { return problem.empty(); }
};

substituted substitute(std::string_view text, const std::filesystem::path& base_dir);

}  // namespace crmsync::config
