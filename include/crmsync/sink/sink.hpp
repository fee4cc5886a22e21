#pragma once
// What every destination implements (STYLE.md "Data flow" step 4): push a batch of mapped
// payloads and return one outcome per payload, in input order, or one failure for the batch
// as a whole once retries are spent. Transient failures are never turned into rejections.

#include "crmsync/core/error.hpp"
#include "crmsync/core/outcome.hpp"
#include "crmsync/core/record.hpp"
#include "crmsync/sink/schema.hpp"

#include <boost/asio/awaitable.hpp>

#include <nlohmann/json.hpp>

#include <span>
#include <string>
#include <vector>

namespace crmsync::sink {

class sink {
public:
    virtual ~sink() = default;

    // Largest batch one call accepts (Marketo: 300).
    virtual std::size_t max_batch() const = 0;

    // Obtains credentials now (validate --online, start-up); errc::auth_rejected when refused.
    virtual boost::asio::awaitable<result<void>> authenticate() = 0;

    virtual boost::asio::awaitable<result<std::vector<record_outcome>>> push(
        std::span<const payload> batch) = 0;

    // The destination object's fields as the destination describes them now (one or two API
    // calls, retried like any other): preflight, schema drift, `validate --online` and
    // `mapping-doc` read it. `required` also reflects this stream's own settings, e.g. the
    // lookup field every record of a Marketo sync must carry.
    virtual boost::asio::awaitable<result<object_schema>> describe() = 0;

    // The records the destination holds now whose key field (destination.key.destination) has
    // one of `keys`, with `fields`: JSON objects as the destination sends them, each holding
    // the key field (preview --diff). A key may match several records (duplicates) or none.
    // A destination that cannot read records back answers errc::config_invalid, naming it.
    virtual boost::asio::awaitable<result<std::vector<nlohmann::json>>> read_current(
        std::span<const std::string> keys, std::span<const std::string> fields);

    // Converted leads (source.converted: follow_contact, SPEC §3): each payload carries its new
    // key (the lead's ConvertedContactId) and goes to the record that key names. Where no record
    // has it yet but one holds `old_keys[i]` (the lead's own id), a destination that can change a
    // key re-keys that record in place, so the conversion leaves no second person behind. The
    // default is a plain push: a destination that cannot change a key keeps the old record.
    virtual boost::asio::awaitable<result<std::vector<record_outcome>>> push_rekeyed(
        std::span<const payload> batch, std::span<const std::string> old_keys);

    // deletes: delete — removes the records whose key field (destination.key.destination) holds
    // each of `keys`: one outcome per key, in order. No record with the key counts as delivered
    // (nothing is left to remove). A destination without a documented delete answers
    // errc::config_invalid, naming it.
    virtual boost::asio::awaitable<result<std::vector<record_outcome>>> remove(
        std::span<const std::string> keys);

    // One record as the destination receives it, for the error log and preview.
    virtual std::string to_json(const payload& p) const = 0;
};

}  // namespace crmsync::sink
