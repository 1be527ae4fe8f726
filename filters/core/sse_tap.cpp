#include "filters/core/sse_tap.hpp"

#include "filters/core/response_usage.hpp"

namespace infergate {

void SseTap::holdPartialLine(std::string_view chunk) {
  if (skipping_) return;
  if ((cut_ ? cut_->line.size() : 0) + chunk.size() > kMaxEventBytes) {
    skipping_ = true;
    if (cut_) cut_->line.clear();
    return;
  }
  cut().line.append(chunk);
}

void SseTap::appendData(std::string_view line, bool inPlace) {
  if (eventTooLarge_) return;
  // Every data line after the first adds a separator: counted like the text.
  const std::size_t held = dataIsInPlace_ ? dataInPlace_.size() : heldData().size();
  const std::size_t separator = dataLines_ == 0 ? 0 : 1;
  if (held + separator + line.size() > kMaxEventBytes) {
    eventTooLarge_ = true;
    dataIsInPlace_ = false;
    if (cut_) cut_->data.clear();
    return;
  }
  if (dataLines_ == 0 && inPlace) {
    dataInPlace_ = line;
    dataIsInPlace_ = true;
  } else {
    auto& data = cut().data;
    if (dataIsInPlace_) {
      data.assign(dataInPlace_);
      dataIsInPlace_ = false;
    }
    if (separator) data.push_back('\n');
    data.append(line);
  }
  ++dataLines_;
}

void SseTap::endEvent() {
  if (cut_) cut_->data.clear();
  dataIsInPlace_ = false;
  dataLines_ = 0;
  eventTooLarge_ = false;
}

void SseTap::endPiece() {
  parser_ = nullptr;
  if (dataIsInPlace_) {  // the event goes on in the next piece: its data must outlive this one
    cut().data.assign(dataInPlace_);
    dataIsInPlace_ = false;
  }
  // Nothing is cut at this boundary: the buffers go (a stream waits between
  // events holding none).
  if (!lineCut() && dataLines_ == 0) cut_.reset();
}

void SseTap::releaseBuffers() {
  cut_.reset();
  dataIsInPlace_ = false;
  dataLines_ = 0;
  skipping_ = eventTooLarge_ = false;
}

void SseTap::reset() {
  cut_.reset();
  dataIsInPlace_ = false;
  dataLines_ = 0;
  skipping_ = eventTooLarge_ = false;
  observation_ = SseObservation{};
  capture_ = nullptr;
}

namespace {

// A streamed tool call delta: the name arrives once, the arguments in pieces.
void captureToolCall(simdjson::ondemand::value call, quality::CapturedOutput& capture) {
  simdjson::ondemand::object object;
  if (call.get_object().get(object)) return;
  simdjson::ondemand::object function;
  if (object.find_field_unordered("function").get_object().get(function)) return;
  for (auto f : function) {
    std::string_view key, text;
    if (f.unescaped_key().get(key)) return;
    if (f.value().get_string().get(text)) continue;
    if (key == "name") {
      if (!capture.toolCalls.empty()) capture.appendToolCall("\n");
      capture.appendToolCall(text);
      capture.appendToolCall(": ");
    } else if (key == "arguments") {
      capture.appendToolCall(text);
    }
  }
}

// One choice of a chat or text completion chunk: content is non-empty text,
// reasoning text, or a tool call. `capture` (may be null) receives the answer.
bool readChoice(simdjson::ondemand::object choice, SseObservation& out, quality::CapturedOutput* capture) {
  bool content = false;
  if (capture != nullptr) {
    // Only the first choice (index 0) is the answer a sample keeps.
    std::uint64_t index = 0;
    if (!choice.find_field_unordered("index").get_uint64().get(index) && index != 0) capture = nullptr;
    choice.reset();
  }
  for (auto field : choice) {
    std::string_view key;
    if (field.unescaped_key().get(key)) return content;
    if (key == "delta") {
      simdjson::ondemand::object delta;
      if (field.value().get_object().get(delta)) continue;
      for (auto d : delta) {
        std::string_view dk;
        if (d.unescaped_key().get(dk)) break;
        if (dk == "content" || dk == "reasoning_content") {
          std::string_view text;
          if (!d.value().get_string().get(text) && !text.empty()) {
            content = true;
            if (capture != nullptr && dk == "content") capture->appendText(text);
          }
        } else if (dk == "tool_calls") {
          simdjson::ondemand::array calls;
          if (!d.value().get_array().get(calls))
            for (auto call : calls) {
              content = true;
              simdjson::ondemand::value v;
              if (capture != nullptr && !call.get(v)) captureToolCall(v, *capture);
            }
        }
      }
    } else if (key == "text") {
      std::string_view text;
      if (!field.value().get_string().get(text) && !text.empty()) {
        content = true;
        if (capture != nullptr) capture->appendText(text);
      }
    } else if (key == "finish_reason") {
      std::string_view reason;
      if (!field.value().get_string().get(reason) && !reason.empty()) {
        out.finished = true;
        if (capture != nullptr) capture->setFinishReason(reason);
      }
    }
  }
  return content;
}

}  // namespace

bool SseTap::inspectEvent(std::string_view data) {
  if (data == "[DONE]") {
    observation_.done = true;
    return false;
  }
  // simdjson reads past the end (padding): data in the piece is copied to the
  // thread's scratch; cut_->data is our own buffer, so it is padded in place.
  std::string* own = cut_ ? &cut_->data : nullptr;
  std::string* padded = own;
  if (own == nullptr || data.data() != own->data()) {
    padded = &threadScratch();
    padded->assign(data);
  }
  if (padded->capacity() < padded->size() + simdjson::SIMDJSON_PADDING)
    padded->reserve(padded->size() + simdjson::SIMDJSON_PADDING);
  const bool content = inspectJson(simdjson::padded_string_view(padded->data(), padded->size(), padded->capacity()));
  // A rare large event does not leave the thread's scratch large.
  if (padded != own && padded->capacity() > kRetainedBytes) std::string().swap(*padded);
  return content;
}

std::string& SseTap::threadScratch() {
  thread_local std::string scratch;
  return scratch;
}

bool SseTap::inspectJson(simdjson::padded_string_view json) {
  simdjson::ondemand::document doc;
  if (parser_->iterate(json).get(doc)) return false;
  simdjson::ondemand::object object;
  if (doc.get_object().get(object)) return false;
  bool content = false;
  for (auto field : object) {
    std::string_view key;
    if (field.unescaped_key().get(key)) break;
    if (key == "choices") {
      simdjson::ondemand::array choices;
      if (field.value().get_array().get(choices)) continue;
      for (auto c : choices) {
        simdjson::ondemand::object choice;
        if (c.get_object().get(choice)) continue;
        if (readChoice(choice, observation_, capture_)) content = true;
      }
    } else if (key == "usage") {
      simdjson::ondemand::object usage;
      ResponseUsage found;
      if (!field.value().get_object().get(usage)) readUsageObject(usage, found);
      if (found.found) {
        observation_.hasUsage = true;
        observation_.promptTokens = found.promptTokens;
        observation_.completionTokens = found.completionTokens;
      }
    }
  }
  if (content) ++observation_.contentEvents;
  return content;
}

}  // namespace infergate
