#pragma once
// An ordered list of filters, built per route when the config is resolved, and
// the per-connection block that holds every filter's per-request state.
#include <cstddef>
#include <memory>
#include <string_view>
#include <vector>

#include "filters/filter.hpp"

namespace infergate {

class FilterChain {
 public:
  static constexpr std::size_t kMaxFilters = 64;  // wantsData is a 64-bit mask

  // Appends `filter` (owned by the FilterSet, its state offset already set);
  // request order is append order.
  void add(Filter* filter);
  std::size_t size() const { return filters_.size(); }
  const Filter& at(std::size_t i) const { return *filters_[i]; }

  // Resets the chain's per-request state; before anything else of a request.
  void begin(RequestContext& ctx) const;
  // In order; stops at the first filter answering locally (ctx.reply) or
  // pausing (Pause: the filter resumes it through resumeRequest).
  FilterStatus onRequest(RequestContext& ctx) const;
  // After a Pause: `status` is the paused filter's verdict; on Continue the
  // filters after it run (and may pause again).
  FilterStatus resumeRequest(RequestContext& ctx, FilterStatus status) const;
  // Reverse order; records which filters want the body. Returns whether any does.
  bool onResponseHeaders(RequestContext& ctx) const;
  void onResponseData(RequestContext& ctx, std::string_view piece) const;
  void onResponseEnd(RequestContext& ctx) const;
  // In order: the record is final.
  void onComplete(RequestContext& ctx) const;

 private:
  FilterStatus runRequest(RequestContext& ctx, std::size_t from) const;

  struct Reset {
    void (*fn)(void*);
    std::size_t offset;
  };
  std::vector<Filter*> filters_;
  std::vector<Reset> resets_;  // of the filters with state, resolved when added
  // Per phase, the positions (in filters_) of the filters taking part, in request order.
  std::vector<std::uint8_t> onRequest_, onResponseHeaders_, onResponseEnd_, onComplete_;
};

// One connection's per-request filter state: a single block laid out by the
// FilterSet, whose parts are constructed once and reset per request. Kept in
// its connection (not a block of its own: every open stream has one).
class FilterStates {
 public:
  struct Slot {
    std::size_t offset;
    StateLayout layout;
  };
  FilterStates() = default;
  ~FilterStates() { clear(); }
  FilterStates(const FilterStates&) = delete;
  FilterStates& operator=(const FilterStates&) = delete;
  // Fresh states laid out by `slots` (a FilterSet's; it outlives them), in
  // place of any held.
  void build(const std::vector<Slot>& slots, std::size_t size);
  std::byte* data() { return block_.get(); }

 private:
  void clear();
  const std::vector<Slot>* slots_ = nullptr;
  std::unique_ptr<std::byte[]> block_;
};

}  // namespace infergate
