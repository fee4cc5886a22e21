#include "crmsync/observability/events.hpp"

#include "crmsync/observability/log.hpp"

namespace crmsync::observability {

using json = nlohmann::json;

void emit(const batch_sent& e) {
    info("Batch sent.",
         {{"stream", e.stream},
          {"object", e.object},
          {"batch_id", e.batch_id},
          {"sent", e.sent},
          {"created", e.created},
          {"updated", e.updated},
          {"rejected", e.rejected},
          {"duration_ms", e.duration_ms}});
}

void emit(const record_rejected& e) {
    warn("Record rejected.",
         {{"stream", e.stream},
          {"object", e.object},
          {"record_id", e.record_id},
          {"category", to_string(e.cat)},
          {"code", e.code},
          {"preflight", e.preflight},
          {"error", e.message}});
}

void emit(const stream_run_finished& e) {
    json f = {{"stream", e.stream},
              {"object", e.object},
              {"run_id", e.run_id},
              {"status", e.status},
              {"read", e.read},
              {"created", e.created},
              {"updated", e.updated},
              {"unchanged", e.unchanged},
              {"rejected", e.rejected},
              {"skipped", e.skipped},
              {"pages", e.pages},
              {"batches", e.batches},
              {"duration_ms", e.duration_ms},
              {"watermark", e.watermark}};
    if (!e.error.empty())
        f["error"] = e.error;
    if (!e.api_usage.empty())
        f["api_usage"] = e.api_usage;
    log(e.status == "ok" ? level::info : level::error, "Stream run finished.", f);
}

void emit(const api_call_failed& e) {
    warn("API call failed, retrying.",
         {{"stream", e.stream},
          {"system", e.system},
          {"attempt", e.attempt},
          {"retry_in_ms", e.retry_in_ms},
          {"code", e.what.vendor_code},
          {"error", e.what.message()}});
}

void emit(const stream_failed& e) {
    error("Stream stopped.",
          {{"stream", e.stream},
           {"object", e.object},
           {"code", e.what.vendor_code},
           {"error", e.what.message()}});
}

void emit(const watermark_superseded& e) {
    warn("Watermark moved by an operator during the run; the next run starts from it.",
         {{"stream", e.stream}, {"object", e.object}});
}

}  // namespace crmsync::observability
