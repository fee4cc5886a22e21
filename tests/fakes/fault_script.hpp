#pragma once
// Scripted faults for the fakes (STYLE.md rule 7): a test queues what the next matching requests
// suffer, in order, so a fail-at-N matrix can put a fault on call n for every n without sleeps.
// Faults are consumed one per matching request; a request that matches no queued fault is served
// normally.

#include <chrono>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace crmsync::fakes {

struct fault_spec {
    enum class kind {
        pass,            // no fault: lets a script skip requests ("fail the 3rd call")
        http_status,     // answer `status` with `body` (e.g. a 503 HTML page from a proxy)
        vendor_error,    // the vendor's own error: Marketo HTTP 200 + errors[{code,message}],
                         // Salesforce `status` + [{"message","errorCode"}]
        delay,           // answer normally, but only after `delay` (a hang past the deadline)
        reset,           // close the connection with RST instead of answering
        truncate,        // announce the full Content-Length, send half the body, close
        malformed_json,  // a well-framed 200 whose body is not valid JSON
        expire_tokens,   // every token issued so far expires now; the request is then served
                         // as usual, so it meets the vendor's own expiry answer (Salesforce
                         // 401 INVALID_SESSION_ID, Marketo 602) and a new token is issued next
    };

    kind what = kind::pass;
    unsigned status = 0;
    std::string body;
    std::string content_type = "text/html";
    // http_status: extra response headers, e.g. Retry-After on a 429 or 503.
    std::vector<std::pair<std::string, std::string>> headers;
    std::string code;     // vendor_error: "606", "UNABLE_TO_LOCK_ROW", ...
    std::string message;  // vendor_error: empty = the vendor's documented text for `code`
    std::chrono::milliseconds delay_by{0};
    // Whether the fake still performs the request (state changes, counters). A delayed,
    // truncated or garbled reply was produced by a server that did the work: the client cannot
    // tell, which is exactly what idempotent retries must survive. Refusals were not executed.
    bool executed = false;
    // Runs on the fake's io thread when a request meets this fault, before the fake serves it:
    // the crash tests SIGKILL a client process at that instant.
    std::function<void()> on_arrival;
    // When set, only a request whose body holds this text meets the fault; others pass it by
    // and it stays queued (a test that must fail one particular batch of several in flight,
    // whatever order they arrive in). Fakes that pass no body never match such a fault.
    std::string body_contains;

    static fault_spec pass();
    static fault_spec http(unsigned status,
                           std::string body,
                           std::string content_type = "text/html");
    // 429 Too Many Requests with `Retry-After: <seconds>` (RFC 6585 §4, RFC 9110 §10.2.3), as
    // a throttling proxy or API gateway in front of the vendor answers.
    static fault_spec too_many_requests(std::chrono::seconds retry_after);
    static fault_spec vendor(std::string code, std::string message = {}, unsigned status = 0);
    static fault_spec hang(std::chrono::milliseconds d);
    static fault_spec connection_reset(bool executed = false);
    static fault_spec truncated_body();
    static fault_spec garbled_json();
    static fault_spec token_expiry();
};

// Thread-safe queue of faults keyed by request-path prefix.
class fault_script {
public:
    // Appends `faults` for requests whose path (without query) starts with `path_prefix`.
    void fail_next(std::string path_prefix, std::vector<fault_spec> faults);
    // Pops the next fault for `path`, if one is queued for a matching prefix (earliest first).
    std::optional<fault_spec> take(const std::string& path, std::string_view body = {});
    std::size_t pending() const;
    void clear();

private:
    struct entry {
        std::string prefix;
        std::deque<fault_spec> faults;
    };
    mutable std::mutex mutex_;
    std::vector<entry> entries_;
};

}  // namespace crmsync::fakes
