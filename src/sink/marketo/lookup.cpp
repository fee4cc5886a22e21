#include "crmsync/sink/marketo/lookup.hpp"

#include "crmsync/sink/marketo/sink.hpp"

#include <boost/beast/http/verb.hpp>

#include "detail_envelope.hpp"
#include "detail_retry.hpp"
#include <fmt/format.h>

namespace crmsync::sink::marketo {
namespace {

using json = nlohmann::json;

// Most lead and custom-object endpoints time out after 30 s server-side [MK-LEADS][MK-CO].
constexpr std::chrono::milliseconds query_timeout{35'000};

std::string joined(std::span<const std::string> items) {
    return fmt::format("{}", fmt::join(items.begin(), items.end(), ","));
}

}  // namespace

std::string custom_object_path(std::string_view api_name) {
    return fmt::format("/rest/v1/customobjects/{}.json", http::url_encode(api_name));
}

std::vector<std::string> filter_queries(std::string_view path,
                                        std::string_view filter_type,
                                        std::span<const std::string> values,
                                        std::span<const std::string> fields) {
    std::vector<std::string> out;
    // filterType and fields are the same in every call; values are added until a limit.
    std::string fixed = fmt::format("{}?filterType={}", path, http::url_encode(filter_type));
    if (!fields.empty())
        fixed += "&fields=" + http::url_encode(joined(fields));
    fixed += "&filterValues=";
    std::string target;
    std::size_t in_target = 0;
    for (const auto& v : values) {
        const std::string encoded = http::url_encode(v);
        // A comma between values is encoded too (%2C): it stays one byte in Marketo's eyes
        // but three in the URI, which is what the limit is about.
        const std::size_t added = (in_target == 0 ? 0 : 3) + encoded.size();
        if (in_target != 0 &&
            (in_target == max_filter_values || target.size() + added > max_query_bytes)) {
            out.push_back(std::move(target));
            in_target = 0;
        }
        if (in_target == 0) {
            target = fixed + encoded;
        } else {
            target += "%2C" + encoded;
        }
        ++in_target;
    }
    if (in_target != 0)
        out.push_back(std::move(target));
    return out;
}

result<record_page> parse_record_page(std::string_view body, std::string_view what) {
    json j = json::parse(body, nullptr, false);
    if (j.is_discarded()) {
        return make_failure(
            errc::bad_response,
            fmt::format("{}: body is not a JSON object ({} bytes)", what, body.size()));
    }
    record_page page;
    // [MK-LEADS]: a further page is announced by nextPageToken (with moreResult true).
    // (find() on a JSON value that is not an object finds nothing.)
    if (const auto t = j.find("nextPageToken"); t != j.end() && t->is_string())
        page.next_page_token = t->get<std::string>();
    auto records = detail::read_envelope(std::move(j), what);
    if (!records)
        return records.error();
    for (auto& r : *records) {
        if (!r.is_object()) {
            return make_failure(errc::bad_response,
                                fmt::format("{}: a result item is not an object", what));
        }
        page.records.push_back(std::move(r));
    }
    return page;
}

boost::asio::awaitable<result<std::vector<json>>> find_by_filter(session& s,
                                                                 const http::retry_context& retry,
                                                                 std::string path,
                                                                 std::string filter_type,
                                                                 std::vector<std::string> values,
                                                                 std::vector<std::string> fields) {
    std::vector<json> found;
    const std::string what = path.substr(path.rfind('/') + 1);
    for (const auto& query : filter_queries(path, filter_type, values, fields)) {
        std::string token;
        do {
            const std::string target =
                token.empty() ? query : query + "&nextPageToken=" + http::url_encode(token);
            auto page = co_await detail::with_retries<record_page>(
                s, retry, [&]() -> boost::asio::awaitable<result<record_page>> {
                    auto body =
                        co_await s.call(boost::beast::http::verb::get, target, {}, query_timeout);
                    if (!body)
                        co_return body.error();
                    co_return parse_record_page(*body, what);
                });
            if (!page)
                co_return page.error();
            for (auto& r : page->records)
                found.push_back(std::move(r));
            token = std::move(page->next_page_token);
        } while (!token.empty());
    }
    co_return found;
}

}  // namespace crmsync::sink::marketo
