// The official openai client against a gateway that requires API keys and
// limits them: it must authenticate with its key, see a wrong key as an
// AuthenticationError, and see a rate limit as a RateLimitError carrying
// Retry-After and the x-ratelimit-* headers it reads.
//   node openai_sdk_keys_check.mjs http://127.0.0.1:PORT/v1 KEY LIMIT
import OpenAI from "openai";

const [baseURL, apiKey, limitText] = process.argv.slice(2);
const limit = Number(limitText);

function check(name, condition, detail = "") {
  if (!condition) {
    console.log(`FAIL ${name} ${detail}`);
    process.exit(1);
  }
  console.log(`ok ${name}`);
}

const wrong = new OpenAI({ baseURL, apiKey: "sk-not-a-key-of-this-gateway", maxRetries: 0 });
try {
  await wrong.chat.completions.create({ model: "mock-model", messages: [{ role: "user", content: "Hi" }] });
  check("wrong key refused", false);
} catch (e) {
  check("wrong key refused", e instanceof OpenAI.AuthenticationError && e.status === 401, `${e}`);
  check("invalid_api_key", e.code === "invalid_api_key", JSON.stringify(e.error));
}

const client = new OpenAI({ baseURL, apiKey, maxRetries: 0 });
for (let i = 0; i < limit; i++) {
  const { data, response } = await client.chat.completions
    .create({ model: "mock-model", messages: [{ role: "user", content: "Hi" }] })
    .withResponse();
  check(`admitted ${i + 1}`, data.choices.length === 1);
  check(`remaining ${i + 1}`, response.headers.get("x-ratelimit-remaining-requests") === String(limit - i - 1),
        response.headers.get("x-ratelimit-remaining-requests"));
}
try {
  await client.chat.completions.create({ model: "mock-model", messages: [{ role: "user", content: "Hi" }] });
  check("over the limit", false);
} catch (e) {
  check("over the limit", e instanceof OpenAI.RateLimitError && e.status === 429, `${e}`);
  check("rate_limit_exceeded", e.code === "rate_limit_exceeded", JSON.stringify(e.error));
  check("limit header", e.headers["x-ratelimit-limit-requests"] === String(limit), JSON.stringify(e.headers));
  check("remaining header", e.headers["x-ratelimit-remaining-requests"] === "0", JSON.stringify(e.headers));
  check("reset header", /^[0-9.]+s$/.test(e.headers["x-ratelimit-reset-requests"] ?? ""), JSON.stringify(e.headers));
  check("retry-after", Number(e.headers["retry-after"]) >= 1, JSON.stringify(e.headers));
}
console.log("all checks passed");
