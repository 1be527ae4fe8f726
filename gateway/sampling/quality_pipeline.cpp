#include "gateway/sampling/quality_pipeline.hpp"

#include <algorithm>
#include <boost/asio/post.hpp>
#include <chrono>
#include <cstdio>

#include "filters/quality/answer_extraction.hpp"
#include "filters/quality/language_id.hpp"
#include "gateway/sampling/sample_json.hpp"

namespace infergate {

namespace {

std::int64_t nowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// At most `maxChars` code points of `text`, cut on a character boundary.
std::string firstChars(const std::string& text, std::size_t maxChars) {
  std::size_t i = 0, chars = 0;
  while (i < text.size() && chars < maxChars) {
    ++i;
    while (i < text.size() && (static_cast<unsigned char>(text[i]) & 0xC0) == 0x80) ++i;
    ++chars;
  }
  return text.substr(0, i);
}

constexpr std::uint64_t kJudgeSeed = 0x6a75646765ull;  // "judge": independent of the sampling hash

}  // namespace

QualityPipeline::QualityPipeline(std::shared_ptr<const Runtime> runtime, const metrics::LabelSpace& labels,
                                 metrics::StatsRegistry& stats, ClusterState& cluster)
    : labels_(labels),
      config_(runtime->config.sampling),
      budget_(config_.max_per_minute, config_.burst),
      redactor_(config_.redact_patterns),
      store_(config_.memory, config_.remember, config_.feedback_window),
      work_(io_.get_executor()),
      samples_(labels.modelCount()),
      flags_(labels.modelCount() * quality::kFlagCount),
      feedback_(labels.modelCount() * 2),
      judgeResults_(8) {
  if (!config_.refusal_phrases.empty()) {
    std::vector<std::string> folded;
    for (const auto& p : config_.refusal_phrases) folded.push_back(quality::foldForMatch(p));
    // One list for every language: the operator's phrases and nothing else.
    scorers_.refusalPhrases = quality::RefusalPhrases(std::move(folded)).withoutGrammar();
  } else if (!config_.refusal_phrases_by_language.empty()) {
    // Per language: a configured set replaces (or adds) that language's.
    auto sets = quality::ScorerSettings::defaultRefusalPhrasesByLanguage();
    for (const auto& [language, phrases] : config_.refusal_phrases_by_language) {
      auto it = std::find_if(sets.begin(), sets.end(), [&](const auto& s) { return s.first == language; });
      if (it == sets.end()) sets.emplace_back(language, phrases);
      else it->second = phrases;
    }
    std::vector<std::string> folded;
    for (const auto& [language, phrases] : sets)
      for (const auto& p : phrases) folded.push_back(quality::foldForMatch(p));
    scorers_.refusalPhrases = quality::RefusalPhrases(std::move(folded));
  }
  scorers_.maxCompressionRatio = config_.max_compression_ratio;
  if (!config_.sink_path.empty())
    sink_ = std::make_unique<RotatingFile>("sample sink", config_.sink_path, config_.sink_max_bytes, config_.sink_keep);
  if (config_.judge.enabled) {
    judgeThreshold_ = quality::rateThreshold(config_.judge.fraction);
    upstream_ = std::make_unique<UpstreamClient>(io_, runtime, cluster);
    judge_ = std::make_unique<JudgeClient>(config_.judge, *upstream_);
  }
  declareStats(stats);
}

QualityPipeline::~QualityPipeline() { stop(); }

void QualityPipeline::adopt(std::shared_ptr<const Runtime> runtime) {
  if (upstream_)
    boost::asio::post(io_, [this, runtime = std::move(runtime)]() mutable { upstream_->setRuntime(std::move(runtime)); });
}

void QualityPipeline::start() {
  thread_ = std::thread([this] { io_.run(); });
}

void QualityPipeline::stop() {
  work_.reset();
  io_.stop();
  if (thread_.joinable()) thread_.join();
}

bool QualityPipeline::admit() {
  if (budget_.take(nowNs())) return true;
  droppedBudget_.fetch_add(1, std::memory_order_relaxed);
  return false;
}

void QualityPipeline::offer(std::unique_ptr<OutputSample> sample) {
  if (queued_.fetch_add(1, std::memory_order_relaxed) >= config_.queue) {
    queued_.fetch_sub(1, std::memory_order_relaxed);
    droppedQueue_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  store_.reserve(sample->requestId, sample->model, sample->key);
  // Asio handlers must be copyable: the sample travels as a shared_ptr.
  boost::asio::post(io_, [this, s = std::shared_ptr<OutputSample>(std::move(sample))] {
    queued_.fetch_sub(1, std::memory_order_relaxed);
    process(*s);
  });
}

std::optional<std::uint32_t> QualityPipeline::feedback(std::string_view requestId, bool bad,
                                                      std::optional<std::uint32_t> key) {
  auto model = store_.feedback(requestId, bad, key);
  if (model) feedback_[*model * 2 + (bad ? 1 : 0)].fetch_add(1, std::memory_order_relaxed);
  return model;
}

std::string QualityPipeline::promptForSample(const std::string& prompt) const {
  using Policy = config::SamplingConfig::PromptPolicy;
  switch (config_.prompt) {
    case Policy::None: return {};
    case Policy::Hashed: {
      char hex[40];
      std::snprintf(hex, sizeof hex, "fnv1a64:%016llx",
                    static_cast<unsigned long long>(quality::requestHash(prompt)));
      return hex;
    }
    case Policy::Truncated: break;
  }
  return redactor_.redact(firstChars(prompt, config_.prompt_chars));
}

namespace {
// What the pipeline keeps of a sample's facts (the answer and prompt follow).
std::shared_ptr<StoredSample> storedFrom(OutputSample& in) {
  auto s = std::make_shared<StoredSample>();
  s->requestId = std::move(in.requestId);
  s->wallStartMs = in.wallStartMs;
  s->route = in.route;
  s->backend = in.backend;
  s->model = in.model;
  s->key = in.key;
  s->reason = in.reason;
  s->status = in.status;
  s->cause = in.cause;
  s->stream = in.stream;
  s->totalSeconds = in.totalSeconds;
  s->firstTokenSeconds = in.firstTokenSeconds;
  s->maxTokens = in.maxTokens;
  s->promptTokens = in.promptTokens;
  s->completionTokens = in.completionTokens;
  return s;
}
}  // namespace

// The answer: reassembled on the worker for streams, extracted here for JSON
// bodies (whose usage fills in what the stream did not report).
quality::CapturedOutput QualityPipeline::answerOf(OutputSample& in, StoredSample& s, bool& streamFinished) {
  quality::CapturedOutput output;
  output.capBytes = config_.capture_bytes;
  streamFinished = true;
  if (in.stream) {
    output = std::move(in.streamOutput);
    streamFinished = in.streamFinished || !output.finishReason.empty();
  } else if (in.responseCut) {
    // Only the start of an answer too long to keep: no text to score.
    output.cut = true;
  } else if (!in.responseBody.empty()) {
    ResponseUsage usage;
    if (!quality::extractAnswer(parser_, in.responseBody, output, usage)) {
      // Not an OpenAI answer (an error body, say): keep its text as the answer.
      output.clear();
      output.appendText(in.responseBody);
    } else if (usage.found && !s.completionTokens) {
      s.promptTokens = usage.promptTokens;
      s.completionTokens = usage.completionTokens;
    }
  }
  return output;
}

void QualityPipeline::process(OutputSample& in) {
  auto s = storedFrom(in);
  bool streamFinished = true;
  const auto output = answerOf(in, *s, streamFinished);
  const std::string prompt = quality::extractPrompt(parser_, in.requestBody, config_.capture_bytes);
  s->prompt = promptForSample(prompt);
  s->promptHashed = config_.prompt == config::SamplingConfig::PromptPolicy::Hashed;
  s->finishReason = output.finishReason;
  s->answerCut = output.cut;

  // Error replies are kept (and counted) but not scored: they are failures,
  // already measured as such, not answers of poor quality. Nor is an answer
  // longer than the gateway keeps: its start is not an answer to judge.
  // An answer its client left is not scored either: cut by the client, it
  // says nothing of the model (as "truncated" it would inflate that alert).
  s->abandoned = in.cause == FailureCause::ClientDisconnect;
  s->scored = s->status >= 200 && s->status < 300 && !in.responseCut && !s->abandoned;
  if (s->scored) {
    quality::ScorerInput si;
    si.text = output.text;
    si.toolCalls = output.toolCalls;
    si.finishReason = output.finishReason;
    si.streamed = in.stream;
    si.streamFinished = streamFinished;
    si.captureCut = output.cut;
    si.jsonRequested = in.jsonRequested;
    si.promptScript = in.promptScript;
    // The question's language and requests, from its last user message (CLD2, off the path).
    const auto asked = quality::readPrompt(prompt);
    asked.applyTo(si);
    si.maxTokens = in.maxTokens;
    si.completionTokens = s->completionTokens;
    s->report = quality::scoreOutput(si, scorers_);
  }
  s->answer = redactor_.redact(output.text);
  s->toolCalls = redactor_.redact(output.toolCalls);

  const bool judged = judge_ && s->scored && quality::sampledAt(quality::requestHash(s->requestId, kJudgeSeed),
                                                                 judgeThreshold_);
  if (judged) s->judge = JudgeResult::Pending;
  store_.stored(s);
  // Counted once stored: whoever sees the count can read the sample.
  samples_[s->model].fetch_add(1, std::memory_order_relaxed);
  if (s->scored) {
    for (std::size_t f = 0; f < quality::kFlagCount; ++f)
      if (s->report.flags & (1u << f)) flags_[s->model * quality::kFlagCount + f].fetch_add(1, std::memory_order_relaxed);
    quality_.observe(0, {s->model}, s->report.score);
  }
  if (!judged) {
    finishSample(s);
    return;
  }
  judge_->ask(redactor_.redact(prompt), s->answer + (s->toolCalls.empty() ? "" : "\n" + s->toolCalls),
              [this, s](JudgeResult result, int score) {
                judgeResults_[static_cast<std::size_t>(result)].fetch_add(1, std::memory_order_relaxed);
                if (result == JudgeResult::Ok) judgeScores_.observe(0, {s->model}, score);
                store_.judged(s->requestId, result, score,
                              result == JudgeResult::Ok && score < static_cast<int>(config_.judge.bad_below));
                finishSample(s);
              });
}

void QualityPipeline::finishSample(const std::shared_ptr<StoredSample>& sample) {
  if (!sink_) return;
  std::string line;
  line.reserve(512 + sample->answer.size() + sample->prompt.size());
  // Feedback may be changing the sample on another thread: serialise a copy.
  appendSampleJson(line, store_.copyOf(*sample), labels_);
  if (!sink_->writeLine(line)) sinkErrors_.fetch_add(1, std::memory_order_relaxed);
}

bool QualityPipeline::samplesReport(std::size_t limit, std::string_view flag, std::string& out) const {
  std::optional<quality::OutputFlag> filter;
  if (!flag.empty()) {
    for (std::size_t f = 0; f < quality::kFlagCount; ++f)
      if (quality::kFlagNames[f] == flag) filter = static_cast<quality::OutputFlag>(f);
    if (!filter) return false;
  }
  const auto samples = store_.recent(limit, filter);
  out = "{\"samples\":[";
  for (std::size_t i = 0; i < samples.size(); ++i) {
    if (i > 0) out.push_back(',');
    appendSampleJson(out, samples[i], labels_);
  }
  out += "],\"labelled\":" + std::to_string(store_.labelled()) + ",\"scorers\":{";
  bool first = true;
  for (const auto& d : store_.agreement()) {
    if (!first) out.push_back(',');
    first = false;
    appendJsonString(out, d.name);
    const auto& a = d.agreement;
    auto num = [&out](std::optional<double> v) {
      if (!v) {
        out += "null";
        return;
      }
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.6g", *v);
      out += buf;
    };
    out += ":{\"labelled\":" + std::to_string(a.labelled()) + ",\"true_positive\":" + std::to_string(a.truePositive) +
           ",\"false_positive\":" + std::to_string(a.falsePositive) +
           ",\"false_negative\":" + std::to_string(a.falseNegative) + ",\"precision\":";
    num(a.precision());
    out += ",\"recall\":";
    num(a.recall());
    out += ",\"f1\":";
    num(a.f1());
    out.push_back('}');
  }
  out += "}}";
  return true;
}

}  // namespace infergate
