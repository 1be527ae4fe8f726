#include "filters/limits/redis_store.hpp"

#include <hiredis/hiredis.h>
#include <netdb.h>
#include <openssl/evp.h>

#include <charconv>
#include <stdexcept>

namespace infergate::limits {

namespace {

// KEYS: the cells. ARGV: per cell its period (µs), rate and the units taken.
// All or nothing: the first cell over its limit refuses and nothing is taken.
// Returns {admitted, refusing cell (1-based) or 0, its wait (µs), then per
// cell how far its TAT is ahead of now (µs)}. The clock is Redis's own, so
// replicas' clocks need not agree. TATs are written with %.0f: Lua's default
// number format would round microseconds since the epoch.
constexpr std::string_view kTakeScript = R"lua(
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local n = #KEYS
local ahead, nexts = {}, {}
local refused, wait = 0, 0
for i = 1, n do
  local period = tonumber(ARGV[3 * i - 2])
  local unit = math.floor(period / tonumber(ARGV[3 * i - 1]))
  local tat = tonumber(redis.call('GET', KEYS[i]) or '0')
  if tat < now then tat = now end
  local nxt = tat + unit * tonumber(ARGV[3 * i])
  if refused == 0 and nxt - now > period then
    refused = i
    wait = nxt - now - period
  end
  ahead[i] = tat - now
  nexts[i] = nxt
end
if refused == 0 then
  for i = 1, n do
    ahead[i] = nexts[i] - now
    redis.call('SET', KEYS[i], string.format('%.0f', nexts[i]), 'PX', math.floor(ahead[i] / 1000) + 1000)
  end
end
local out = {refused == 0 and 1 or 0, refused, wait}
for i = 1, n do out[3 + i] = ahead[i] end
return out
)lua";

// KEYS: the cells. ARGV: per cell its period (µs), rate and the units to add
// (negative: given back). A TAT never falls more than a period behind now.
constexpr std::string_view kAdjustScript = R"lua(
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
for i = 1, #KEYS do
  local period = tonumber(ARGV[3 * i - 2])
  local unit = math.floor(period / tonumber(ARGV[3 * i - 1]))
  local tat = tonumber(redis.call('GET', KEYS[i]) or '0')
  if tat < now - period then tat = now - period end
  tat = tat + unit * tonumber(ARGV[3 * i])
  if tat <= now then
    redis.call('DEL', KEYS[i])
  else
    redis.call('SET', KEYS[i], string.format('%.0f', tat), 'PX', math.floor((tat - now) / 1000) + 1000)
  end
end
return 1
)lua";

std::string sha1Hex(std::string_view text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned length = 0;
  if (EVP_Digest(text.data(), text.size(), digest, &length, EVP_sha1(), nullptr) != 1)
    throw std::runtime_error("SHA-1 of a Redis script failed");
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned i = 0; i < length; ++i) {
    hex.push_back(kHex[digest[i] >> 4]);
    hex.push_back(kHex[digest[i] & 15]);
  }
  return hex;
}

const std::string& takeSha() {
  static const std::string sha = sha1Hex(kTakeScript);
  return sha;
}
const std::string& adjustSha() {
  static const std::string sha = sha1Hex(kAdjustScript);
  return sha;
}

// The address as numbers, found once at start (a worker never waits on DNS).
std::string numericHost(const config::Address& address) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (const int rc = ::getaddrinfo(address.host.c_str(), nullptr, &hints, &found); rc != 0 || found == nullptr)
    throw std::runtime_error("rate_limits.redis.address: cannot resolve '" + address.host + "': " + gai_strerror(rc));
  char text[NI_MAXHOST];
  const int rc = ::getnameinfo(found->ai_addr, found->ai_addrlen, text, sizeof text, nullptr, 0, NI_NUMERICHOST);
  ::freeaddrinfo(found);
  if (rc != 0) throw std::runtime_error("rate_limits.redis.address: cannot read '" + address.host + "'");
  return text;
}

std::string number(std::int64_t value) {
  char text[24];
  return {text, std::to_chars(text, text + sizeof text, value).ptr};
}

Budget budgetOf(const StoreCell& cell, std::int64_t aheadUs) {
  const auto rate = cell.rateValue;
  const auto periodUs = cell.periodUs;
  const auto unit = std::max<std::int64_t>(periodUs / static_cast<std::int64_t>(std::max<std::uint64_t>(rate, 1)), 1);
  const auto ahead = std::max<std::int64_t>(aheadUs, 0);
  const auto free = periodUs - ahead;
  Budget b;
  b.known = true;
  b.limit = rate;
  b.limitText = cell.rate;
  b.remaining = free <= 0 ? 0 : std::min<std::uint64_t>(rate, static_cast<std::uint64_t>(free / unit));
  b.resetNs = ahead * 1000;
  return b;
}

// Keeps the tighter of two budgets of a kind.
void tighten(Budget& into, const Budget& b) {
  if (!into.known || b.remaining < into.remaining) into = b;
}

}  // namespace

std::string_view storeFailureName(StoreVerdict::Failure failure) {
  switch (failure) {
    case StoreVerdict::Failure::Unreachable: return "unreachable";
    case StoreVerdict::Failure::Timeout: return "timeout";
    case StoreVerdict::Failure::Busy: return "busy";
    case StoreVerdict::Failure::Error: return "error";
    case StoreVerdict::Failure::Count: break;
  }
  return "unknown";
}

// A worker's connection, and its slot cleared when the worker lets it go.
struct RedisStore::Slot {
  RedisConnection* connection = nullptr;
};

namespace {
class AttachedConnection final : public WorkerService {
 public:
  AttachedConnection(RedisConnection*& slot, std::unique_ptr<RedisConnection> connection)
      : slot_(slot), connection_(std::move(connection)) {
    slot_ = connection_.get();
  }
  ~AttachedConnection() override { slot_ = nullptr; }

 private:
  RedisConnection*& slot_;
  std::unique_ptr<RedisConnection> connection_;
};
}  // namespace

// One check or settlement in flight: its arguments (kept to send again with
// the script when Redis no longer has it) and who hears the answer.
// The arguments are views: of the cells' names (kept by their sets, which are
// never freed), the scripts, and the two numbers held here.
struct RedisStore::Command {
  static constexpr std::size_t kMaxArgs = 3 + 9 + 27;  // 3 scopes x 3 cells: a key and 3 numbers each
  std::array<std::string_view, kMaxArgs> argv;         // [0], [1]: EVALSHA sha or EVAL script, filled when sent
  std::size_t argc = 3;
  char keyCount[24];
  char units[24];
  std::array<LimitSet*, 3> scopes{};
  std::size_t scopeCount = 0;
  Done done;  // null for a settlement
  bool take = true;

  void push(std::string_view arg) { argv[argc++] = arg; }
  std::string_view hold(char (&buffer)[24], std::int64_t value) {
    return {buffer, static_cast<std::size_t>(std::to_chars(buffer, buffer + sizeof buffer, value).ptr - buffer)};
  }
  std::span<LimitSet* const> scopeSpan() const { return {scopes.data(), scopeCount}; }
};

RedisStore::RedisStore(const config::Config& config, RateLimiter& limiter, unsigned workers)
    : failOpen_(config.rate_limits.redis_store.fail_open) {
  const auto& r = config.rate_limits.redis_store;
  options_.ip = numericHost(r.address);
  options_.port = r.address.port;
  options_.password = r.password;
  options_.timeout = r.timeout;
  options_.connectTimeout = r.connect_timeout;
  options_.maxPending = r.max_pending;
  options_.setup = {{"SCRIPT", "LOAD", std::string(kTakeScript)}, {"SCRIPT", "LOAD", std::string(kAdjustScript)}};
  keyPrefix_ = r.key_prefix;
  limiter.forEach([this](LimitSet& set) { prepare(set); });
  for (unsigned w = 0; w < workers; ++w) slots_.push_back(std::make_unique<Slot>());
}

RedisStore::~RedisStore() = default;

void RedisStore::prepare(LimitSet& set) const {
  set.storeCells.clear();
  const auto add = [&](const Gcra* g, std::string_view suffix, std::int64_t periodUs, LimitKind kind) {
    if (g == nullptr) return;
    set.storeCells.push_back({keyPrefix_ + ":" + set.storeName + ":" + std::string(suffix), number(periodUs),
                              number(static_cast<std::int64_t>(g->limit())), g->limit(), periodUs, kind});
  };
  add(set.perSecond.get(), "rps", 1'000'000, LimitKind::Requests);
  add(set.perMinute.get(), "rpm", 60'000'000, LimitKind::Requests);
  add(set.tokens.get(), "tpm", 60'000'000, LimitKind::Tokens);
}

void RedisStore::attach(WorkerServices& services) {
  services.add([this](unsigned worker, boost::asio::io_context& io) -> std::unique_ptr<WorkerService> {
    if (worker >= slots_.size()) return nullptr;
    auto connection = std::make_unique<RedisConnection>(io, options_, [this](bool up) {
      if (up) connected_.fetch_add(1, std::memory_order_relaxed);
      else connected_.fetch_sub(1, std::memory_order_relaxed);
    });
    return std::make_unique<AttachedConnection>(slots_[worker]->connection, std::move(connection));
  });
}

std::optional<StoreVerdict::Failure> RedisStore::check(unsigned worker, std::span<LimitSet* const> scopes,
                                                       std::uint64_t tokens, Done done) {
  if (scopes.size() > 3) return StoreVerdict::Failure::Error;
  auto command = std::make_shared<Command>();
  std::copy(scopes.begin(), scopes.end(), command->scopes.begin());
  command->scopeCount = scopes.size();
  command->done = std::move(done);
  auto& c = *command;
  std::int64_t keys = 0;
  for (const auto* set : scopes) keys += static_cast<std::int64_t>(cellsOf(*set).size());
  c.argv[2] = c.hold(c.keyCount, keys);
  for (const auto* set : scopes)
    for (const auto& cell : cellsOf(*set)) c.push(cell.key);
  const auto tokenUnits = c.hold(c.units, static_cast<std::int64_t>(tokens));
  for (const auto* set : scopes)
    for (const auto& cell : cellsOf(*set)) {
      c.push(cell.period);
      c.push(cell.rate);
      c.push(cell.kind == LimitKind::Tokens ? tokenUnits : "1");
    }
  switch (send(worker, std::move(command), false)) {
    case RedisConnection::Failure::None: return std::nullopt;
    case RedisConnection::Failure::Busy: return StoreVerdict::Failure::Busy;
    default: return StoreVerdict::Failure::Unreachable;
  }
}

void RedisStore::adjustTokens(unsigned worker, std::span<LimitSet* const> scopes, std::int64_t tokens) {
  if (scopes.size() > 3) return;
  auto command = std::make_shared<Command>();
  command->take = false;
  auto& c = *command;
  std::int64_t keys = 0;
  for (const auto* set : scopes)
    for (const auto& cell : cellsOf(*set))
      if (cell.kind == LimitKind::Tokens) {
        c.push(cell.key);
        ++keys;
      }
  if (keys == 0) return;
  c.argv[2] = c.hold(c.keyCount, keys);
  const auto units = c.hold(c.units, tokens);
  for (const auto* set : scopes)
    for (const auto& cell : cellsOf(*set))
      if (cell.kind == LimitKind::Tokens) {
        c.push(cell.period);
        c.push(cell.rate);
        c.push(units);
      }
  // Nobody waits: a settlement Redis never sees leaves the estimate charged.
  (void)send(worker, std::move(command), false);
}

RedisConnection::Failure RedisStore::send(unsigned worker, std::shared_ptr<Command> command, bool withScript) {
  auto* connection = worker < slots_.size() ? slots_[worker]->connection : nullptr;
  if (connection == nullptr) return RedisConnection::Failure::Unreachable;
  auto& argv = command->argv;
  if (withScript) {
    argv[0] = "EVAL";
    argv[1] = command->take ? kTakeScript : kAdjustScript;
  } else {
    argv[0] = "EVALSHA";
    argv[1] = command->take ? takeSha() : adjustSha();
  }
  const std::span<const std::string_view> args(argv.data(), command->argc);
  return connection->send(
      args,
      [this, worker, command, withScript](const redisReply* reply, RedisConnection::Failure failure) {
        // Scripts are loaded on every connection; a Redis that flushed them
        // meanwhile gets the script itself, once. (The retry may pass a later
        // command: a settlement can then land after the next check.)
        if (reply != nullptr && reply->type == REDIS_REPLY_ERROR && !withScript &&
            std::string_view(reply->str, reply->len).starts_with("NOSCRIPT")) {
          if (send(worker, command, true) == RedisConnection::Failure::None) return;
          failure = RedisConnection::Failure::Unreachable;
          reply = nullptr;
        }
        if (command->done) finishCheck(*command, reply, failure);
      });
}

void RedisStore::finishCheck(const Command& command, const redisReply* reply, RedisConnection::Failure failure) const {
  StoreVerdict verdict;
  verdict.outcome = StoreVerdict::Outcome::Failed;
  if (failure == RedisConnection::Failure::Timeout) verdict.failure = StoreVerdict::Failure::Timeout;
  else if (failure == RedisConnection::Failure::Busy) verdict.failure = StoreVerdict::Failure::Busy;
  else if (reply == nullptr) verdict.failure = StoreVerdict::Failure::Unreachable;
  else verdict.failure = StoreVerdict::Failure::Error;
  std::size_t cells = 0;
  for (const auto* set : command.scopeSpan()) cells += cellsOf(*set).size();
  if (reply == nullptr || reply->type != REDIS_REPLY_ARRAY || reply->elements != 3 + cells) {
    command.done(verdict);
    return;
  }
  for (std::size_t i = 0; i < reply->elements; ++i)
    if (reply->element[i]->type != REDIS_REPLY_INTEGER) {
      command.done(verdict);
      return;
    }
  const auto at = [&](std::size_t i) { return static_cast<std::int64_t>(reply->element[i]->integer); };
  const bool admitted = at(0) == 1;
  const auto refusedCell = static_cast<std::size_t>(at(1));  // 1-based
  verdict.outcome = admitted ? StoreVerdict::Outcome::Admitted : StoreVerdict::Outcome::Refused;
  verdict.waitNs = at(2) * 1000;
  std::size_t cell = 0;
  for (std::size_t scope = 0; scope < command.scopeCount; ++scope) {
    auto& set = *command.scopes[scope];
    Budget requests, tokens;
    bool refusedHere = false;
    for (const auto& c : cellsOf(set)) {
      ++cell;
      const auto b = budgetOf(c, at(2 + cell));
      tighten(c.kind == LimitKind::Tokens ? tokens : requests, b);
      if (cell == refusedCell) {
        refusedHere = true;
        verdict.refusedScope = scope;
        verdict.refusedKind = c.kind;
      }
    }
    if (requests.known) set.sharedRemaining[0].store(static_cast<std::int64_t>(requests.remaining), std::memory_order_relaxed);
    if (tokens.known) set.sharedRemaining[1].store(static_cast<std::int64_t>(tokens.remaining), std::memory_order_relaxed);
    // What the client is told: the tightest of the scopes taken, or the refusing scope's.
    if (admitted || refusedHere) {
      if (requests.known) tighten(verdict.requests, requests);
      if (tokens.known) tighten(verdict.tokens, tokens);
    }
  }
  command.done(verdict);
}

}  // namespace infergate::limits
