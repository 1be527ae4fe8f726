#include "filters/filter_chain.hpp"

#include <stdexcept>

namespace infergate {

void FilterChain::add(Filter* filter) {
  if (filters_.size() == kMaxFilters) throw std::length_error("a filter chain holds at most 64 filters");
  const auto position = static_cast<std::uint8_t>(filters_.size());
  filters_.push_back(filter);
  const auto phases = filter->phases();
  if (phases & kOnRequest) onRequest_.push_back(position);
  if (phases & kOnResponseHeaders) onResponseHeaders_.push_back(position);
  if (phases & kOnResponseEnd) onResponseEnd_.push_back(position);
  if (phases & kOnComplete) onComplete_.push_back(position);
  if (const auto layout = filter->stateLayout(); layout.reset != nullptr)
    resets_.push_back({layout.reset, filter->stateOffset()});
}

void FilterChain::begin(RequestContext& ctx) const {
  ctx.wantsData = 0;
  for (const auto& r : resets_) r.fn(ctx.states + r.offset);
}

FilterStatus FilterChain::onRequest(RequestContext& ctx) const { return runRequest(ctx, 0); }

FilterStatus FilterChain::resumeRequest(RequestContext& ctx, FilterStatus status) const {
  if (status != FilterStatus::Continue) return status;
  return runRequest(ctx, std::size_t{ctx.pausedAt} + 1);
}

FilterStatus FilterChain::runRequest(RequestContext& ctx, std::size_t from) const {
  for (auto at = from; at < onRequest_.size(); ++at) {
    const auto status = filters_[onRequest_[at]]->onRequest(ctx);
    if (status == FilterStatus::Continue) continue;
    if (status == FilterStatus::Pause) ctx.pausedAt = static_cast<std::uint8_t>(at);
    return status;
  }
  return FilterStatus::Continue;
}

bool FilterChain::onResponseHeaders(RequestContext& ctx) const {
  ctx.wantsData = 0;
  for (auto it = onResponseHeaders_.rbegin(); it != onResponseHeaders_.rend(); ++it)
    if (filters_[*it]->onResponseHeaders(ctx)) ctx.wantsData |= std::uint64_t{1} << *it;
  return ctx.wantsData != 0;
}

void FilterChain::onResponseData(RequestContext& ctx, std::string_view piece) const {
  for (std::size_t i = filters_.size(); i-- > 0;)
    if (ctx.wantsData & (std::uint64_t{1} << i)) filters_[i]->onResponseData(ctx, piece);
}

void FilterChain::onResponseEnd(RequestContext& ctx) const {
  for (auto it = onResponseEnd_.rbegin(); it != onResponseEnd_.rend(); ++it) filters_[*it]->onResponseEnd(ctx);
}

void FilterChain::onComplete(RequestContext& ctx) const {
  for (const auto i : onComplete_) filters_[i]->onComplete(ctx);
}

void FilterStates::build(const std::vector<Slot>& slots, std::size_t size) {
  clear();
  block_.reset(size == 0 ? nullptr : new std::byte[size]);
  slots_ = &slots;
  for (const auto& s : slots) s.layout.construct(block_.get() + s.offset);
}

void FilterStates::clear() {
  if (slots_ != nullptr)
    for (const auto& s : *slots_) s.layout.destroy(block_.get() + s.offset);
  slots_ = nullptr;
  block_.reset();
}

}  // namespace infergate
