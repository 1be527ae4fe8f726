#include "filters/quality/answer_extraction.hpp"

namespace infergate::quality {

namespace sj = simdjson::ondemand;

namespace {

// A content value: a string, or an array of parts whose "text" fields count.
// Each piece of text goes to `sink`, which applies its own bound.
template <class Sink>
void forEachContentText(sj::value value, Sink&& sink) {
  std::string_view text;
  if (!value.get_string().get(text)) {
    sink(text);
    return;
  }
  sj::array parts;
  if (value.get_array().get(parts)) return;
  for (auto part : parts) {
    sj::object object;
    if (part.get_object().get(object)) continue;
    std::string_view partText;
    if (!object.find_field_unordered("text").get_string().get(partText)) sink(partText);
  }
}

void appendToolCalls(sj::array calls, CapturedOutput& out) {
  for (auto call : calls) {
    sj::object object;
    if (call.get_object().get(object)) continue;
    sj::object function;
    if (object.find_field_unordered("function").get_object().get(function)) continue;
    std::string_view name, arguments;
    for (auto field : function) {
      std::string_view key;
      if (field.unescaped_key().get(key)) break;
      if (key == "name") {
        if (field.value().get_string().get(name)) name = {};
      }
      else if (key == "arguments") {
        if (field.value().get_string().get(arguments)) arguments = {};
      }
    }
    out.appendToolCall(name);
    out.appendToolCall("(");
    out.appendToolCall(arguments);
    out.appendToolCall(")\n");
  }
}

}  // namespace

bool extractAnswer(sj::parser& parser, std::string_view body, CapturedOutput& out, ResponseUsage& usage) {
  simdjson::padded_string padded(body);
  sj::document doc;
  if (parser.iterate(padded).get(doc)) return false;
  sj::object root;
  if (doc.get_object().get(root)) return false;
  bool sawChoices = false;
  for (auto field : root) {
    std::string_view key;
    if (field.unescaped_key().get(key)) return false;
    if (key == "choices") {
      sj::array choices;
      if (field.value().get_array().get(choices)) continue;
      for (auto c : choices) {
        sj::object choice;
        if (c.get_object().get(choice)) break;
        sawChoices = true;
        for (auto cf : choice) {
          std::string_view ck;
          if (cf.unescaped_key().get(ck)) break;
          if (ck == "message") {
            sj::object message;
            if (cf.value().get_object().get(message)) continue;
            for (auto mf : message) {
              std::string_view mk;
              if (mf.unescaped_key().get(mk)) break;
              sj::value v;
              if (mf.value().get(v)) continue;
              if (mk == "content") {
                // CapturedOutput applies the cap and records that it cut.
                forEachContentText(v, [&](std::string_view piece) { out.appendText(piece); });
              } else if (mk == "tool_calls") {
                sj::array calls;
                if (!v.get_array().get(calls)) appendToolCalls(calls, out);
              }
            }
          } else if (ck == "text") {
            std::string_view text;
            if (!cf.value().get_string().get(text)) out.appendText(text);
          } else if (ck == "finish_reason") {
            std::string_view reason;
            if (!cf.value().get_string().get(reason)) out.setFinishReason(reason);
          }
        }
        break;  // the first choice speaks for the answer
      }
    } else if (key == "usage") {
      sj::object u;
      if (!field.value().get_object().get(u)) readUsageObject(u, usage);
    }
  }
  return sawChoices;
}

std::string extractPrompt(sj::parser& parser, std::string_view body, std::size_t maxBytes) {
  std::string out;
  // Appends to a string up to maxBytes (the prompt is cut at the end anyway).
  const auto bounded = [maxBytes](std::string& to) {
    return [&to, maxBytes](std::string_view piece) {
      to.append(piece.substr(0, maxBytes > to.size() ? maxBytes - to.size() : 0));
    };
  };
  simdjson::padded_string padded(body);
  sj::document doc;
  if (parser.iterate(padded).get(doc)) return out;
  sj::object root;
  if (doc.get_object().get(root)) return out;
  for (auto field : root) {
    std::string_view key;
    if (field.unescaped_key().get(key)) break;
    if (key == "messages") {
      sj::array messages;
      if (field.value().get_array().get(messages)) continue;
      for (auto m : messages) {
        sj::object message;
        if (m.get_object().get(message)) continue;
        std::string_view role = "?";
        std::string content;
        for (auto mf : message) {
          std::string_view mk;
          if (mf.unescaped_key().get(mk)) break;
          if (mk == "role") {
            if (mf.value().get_string().get(role)) role = "?";
          }
          else if (mk == "content") {
            sj::value v;
            if (!mf.value().get(v)) forEachContentText(v, bounded(content));
          }
        }
        if (!out.empty()) out.push_back('\n');
        out.append(role).append(": ").append(content);
        if (out.size() >= maxBytes) break;
      }
    } else if (key == "prompt" || key == "input") {
      sj::value v;
      if (!field.value().get(v)) forEachContentText(v, bounded(out));
    }
    if (out.size() >= maxBytes) break;
  }
  if (out.size() > maxBytes) out.resize(maxBytes);
  return out;
}

}  // namespace infergate::quality
