#include "filters/filter_set.hpp"

#include <cstddef>
#include <stdexcept>

namespace infergate {

FilterSet::FilterSet(const FilterDependencies& given, const std::vector<FilterRegistration>& registrations)
    : routes_(given.config.routes.size()) {
  FilterDependencies deps = given;
  deps.workerServices = &workerServices_;
  if (deps.keys == nullptr && deps.config.auth.enabled) {
    ownedKeys_ = std::make_unique<auth::KeyDirectory>(deps.config, deps.labels.keyNames(), deps.stats.workers());
    deps.keys = ownedKeys_.get();
  }
  for (const auto& r : registrations) {
    if (r.stage == FilterRegistration::Stage::BeforeRouting) {
      build(deps, r, {}, beforeRouting_);
      continue;
    }
    for (std::size_t i = 0; i < routes_.size(); ++i) build(deps, r, {&deps.config.routes[i], i}, routes_[i]);
    build(deps, r, {}, unrouted_);
  }
}

void FilterSet::build(const FilterDependencies& deps, const FilterRegistration& registration,
                      const RouteScope& scope, FilterChain& chain) {
  auto filter = registration.build(deps, scope);
  if (!filter) return;
  const auto layout = filter->stateLayout();
  if (layout.size > 0) {
    if (layout.align > alignof(std::max_align_t))
      throw std::invalid_argument("filter state is over-aligned: " + std::string(registration.name));
    stateSize_ = (stateSize_ + layout.align - 1) / layout.align * layout.align;
    filter->setStateOffset(stateSize_);
    slots_.push_back({stateSize_, layout});
    stateSize_ += layout.size;
  }
  chain.add(filter.get());
  filters_.push_back(std::move(filter));
}

void FilterSet::buildStates(FilterStates& states) const { states.build(slots_, stateSize_); }

}  // namespace infergate
