// The JSON shapes the API answers with (docs/api.md), and the small parsing helpers every route
// file needs: integer parameters with limits, a borrowed store, and store failures as 500s.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "base/result.h"
#include "server/http_router.h"
#include "server/store_pool.h"
#include "store/artifacts.h"
#include "store/store.h"

namespace slipway {

// RUN: id, repository, commit, branch, trigger, status, reason, environments, *_ms.
nlohmann::json run_json(const RunRecord& run);
nlohmann::json job_json(const JobRecord& job);     // without "steps"
nlohmann::json step_json(const StepRecord& step);
nlohmann::json suite_json(const SuiteResultRecord& suite);
nlohmann::json artifact_json(const ArtifactRecord& artifact);

// An integer from the query string or path: `fallback` when absent; an Error naming the
// parameter and the allowed range when it is not a whole number in [minimum, maximum].
Result<int64_t> integer_parameter(const std::map<std::string, std::string>& values, const std::string& name,
                                  int64_t fallback, int64_t minimum, int64_t maximum);

// A query parameter's text; "" when it is absent.
std::string query_value(const HttpRequest& request, const std::string& key);

// Which page of a list, newest first (docs/api.md): ?limit= from 1 to `most` (default 50), and
// ?before=, the id to continue below (default 0: from the newest). An Error names the parameter.
struct PageRequest {
  int limit = 50;
  int64_t before_id = 0;
};
Result<PageRequest> page_request(const HttpRequest& request, int64_t most);

// The answer's "next_before": after a full page the last id, as there may be more behind it;
// after a short one null, as it was the last.
template <typename Record>
nlohmann::json next_before(const std::vector<Record>& page, int limit) {
  return static_cast<int>(page.size()) == limit ? nlohmann::json(page.back().id) : nlohmann::json(nullptr);
}

// 400 with the error's message.
HttpResponse bad_request(const Error& error);
// The server could not do its part: the status by the error's kind (HttpResponse::from_error),
// 500 for the store's own failures; the message says which operation.
HttpResponse server_error(const Error& error);

// A run, by the {id} path parameter: the record, or the 400/404/500 response to send.
std::variant<RunRecord, HttpResponse> run_from_path(Store& store, const HttpRequest& request);

// A record by the {id} path parameter, as `find(store, id)` reads it, or the response to send:
// 400 for an id that is not one, the store's failure, or 404 "no <noun> #<id> (<where> lists them)".
template <typename Record, typename Find>
std::variant<Record, HttpResponse> record_from_path(Store& store, const HttpRequest& request, Find find,
                                                    std::string_view noun, std::string_view where) {
  auto id = integer_parameter(request.params, "id", 0, 1, INT64_MAX);
  if (!id) return bad_request(id.error());
  Result<std::optional<Record>> found = find(store, *id);
  if (!found) return server_error(found.error());
  if (!*found) return HttpResponse::error(404, fmt::format("no {} #{} ({} lists them)", noun, *id, where));
  return std::move(**found);
}

// Runs `work(Store&)` on a borrowed connection; 500 when none can be opened.
template <typename Work>
HttpResponse with_store(StorePool& stores, Work&& work) {
  auto lease = stores.acquire();
  if (!lease) return server_error(lease.error());
  return work(**lease);
}

}  // namespace slipway
