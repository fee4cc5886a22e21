#include "crmsync/core/error.hpp"

#include <stdexcept>

namespace crmsync {
namespace {

class category final : public boost::system::error_category {
public:
    const char* name() const noexcept override { return "crmsync"; }

    std::string message(int ev) const override {
        switch (static_cast<errc>(ev)) {
            case errc::timeout:
                return "operation timed out";
            case errc::connect_failed:
                return "could not connect";
            case errc::tls_failed:
                return "TLS handshake failed";
            case errc::http_status:
                return "unexpected HTTP status";
            case errc::rate_limited:
                return "rate limited by the peer";
            case errc::quota_exhausted:
                return "API quota exhausted";
            case errc::auth_rejected:
                return "authentication refused";
            case errc::token_expired:
                return "access token expired or invalid";
            case errc::bad_response:
                return "malformed response";
            case errc::schema_drift:
                return "schema drift detected";
            case errc::config_invalid:
                return "invalid configuration";
            case errc::state_failed:
                return "state database failure";
            case errc::invalid_url:
                return "invalid URL";
            case errc::request_rejected:
                return "request rejected";
            case errc::cancelled:
                return "operation cancelled";
            case errc::transient:
                return "transient server failure";
        }
        return "unknown crmsync error";
    }
};

}  // namespace

const boost::system::error_category& crmsync_category() noexcept {
    static const category instance;
    return instance;
}

failure& failure::context(std::string_view what) {
    detail = detail.empty() ? std::string(what) : std::string(what) + ": " + detail;
    return *this;
}

std::string failure::message() const {
    std::string out = detail.empty() ? code.message() : detail;
    if (!detail.empty() && code.category() == crmsync_category()) {
        // The detail already says what happened; the code's text adds only noise then.
        return out;
    }
    if (!detail.empty())
        out += " (" + code.message() + ")";
    return out;
}

failure make_failure(errc e, std::string detail) {
    failure f;
    f.code = make_error_code(e);
    f.detail = std::move(detail);
    return f;
}

failure failure_from_exception(std::exception_ptr e) {
    try {
        std::rethrow_exception(e);
    } catch (const std::exception& ex) {
        return make_failure(errc::state_failed, std::string("internal error: ") + ex.what());
    } catch (...) {
        return make_failure(errc::state_failed, "internal error");
    }
}

void throw_exception_from_error(const failure& f, const boost::source_location&) {
    throw std::runtime_error(f.message());
}

}  // namespace crmsync
