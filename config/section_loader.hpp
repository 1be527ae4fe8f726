#pragma once
// The loader's reading of each config section into the typed Config, with
// file:line:column errors (config/loader.cpp drives it: general sections in
// loader_sections.cpp, backends and routes in loader_backends.cpp).
#include <string>
#include <vector>

#include "config/loader.hpp"
#include "config/yaml_reader.hpp"

namespace infergate::config {

class SectionLoader {
 public:
  SectionLoader(const std::string& source, const EnvLookup& env, LoadResult& result)
      : result_(result), reader_(source, env, result.errors) {
    result_.config.source = source;
  }
  void load(const YAML::Node& root);

 private:
  void server(const YAML::Node& n);
  void admin(const YAML::Node& n);
  void metrics(const YAML::Node& n);
  void profileBins(const YAML::Node& n);
  void drift(const YAML::Node& n);
  void diagnosis(const YAML::Node& n);
  void anomaly(const YAML::Node& n);
  void accessLog(const YAML::Node& n);
  void logging(const YAML::Node& n);
  void sampling(const YAML::Node& n);
  void judge(const YAML::Node& n);
  void auth(const YAML::Node& n);
  void apiKey(const YAML::Node& n, YamlReader& reader, bool plainAllowed);
  void authChecks();
  void limits(const YAML::Node& n, YamlReader& reader, const std::string& what, RateLimitConfig& out);
  void redisStore(const YAML::Node& n, RedisStoreConfig& out);
  void rateLimits(const YAML::Node& n);
  void positive(const YAML::Node& map, const std::string& what, Duration d);
  void backends(const YAML::Node& n);
  void backend(const YAML::Node& n);
  void circuitBreaker(const YAML::Node& n, CircuitBreakerConfig& c);
  void retry(const YAML::Node& n, RetryConfig& r);
  void readFraction(const YAML::Node& map, const char* key, double& out);
  void readStatuses(const YAML::Node& map, const char* key, std::vector<unsigned>& out);
  void endpoint(const YAML::Node& n, BackendConfig& b);
  void signals(const YAML::Node& n, BackendConfig& b);
  void headers(const YAML::Node& n, BackendConfig& b);
  void routes(const YAML::Node& n);
  void route(const YAML::Node& n);
  void crossChecks(const YAML::Node& root);

  LoadResult& result_;
  YamlReader reader_;
  unsigned e_weight_ = 1;  // the weight read for the endpoint being parsed
  std::vector<YAML::Node> routeNodes_;
  std::vector<YAML::Node> keyNodes_;  // each auth key's node, in config.auth.keys order
  YAML::Node judgeNode_;
};

}  // namespace infergate::config
