// Drives a running infergate with the official openai client and prints one
// line per check; exits non-zero on the first failure.
//   node openai_sdk_check.mjs http://127.0.0.1:PORT/v1
import OpenAI from "openai";

const baseURL = process.argv[2];
const client = new OpenAI({ baseURL, apiKey: "sk-client-key", maxRetries: 0, timeout: 10_000 });

function check(name, condition, detail = "") {
  if (!condition) {
    console.log(`FAIL ${name} ${detail}`);
    process.exit(1);
  }
  console.log(`ok ${name}`);
}

const completion = await client.chat.completions.create({
  model: "mock-model",
  messages: [{ role: "user", content: "Hello" }],
});
check("chat", completion.choices[0].message.content.startsWith("The mock model"), JSON.stringify(completion));
check("usage", completion.usage.completion_tokens === 16, JSON.stringify(completion.usage));

const { data, response } = await client.chat.completions
  .create({ model: "mock-model", messages: [{ role: "user", content: "Hi" }] })
  .withResponse();
check("request-id", /^[0-9a-f]{32}$/.test(response.headers.get("x-request-id") ?? ""), response.headers.get("x-request-id"));

const stream = await client.chat.completions.create({
  model: "mock-model",
  messages: [{ role: "user", content: "Stream please" }],
  stream: true,
  stream_options: { include_usage: true },
});
let text = "";
let chunks = 0;
let usage = null;
for await (const chunk of stream) {
  chunks++;
  if (chunk.choices.length > 0) text += chunk.choices[0].delta?.content ?? "";
  if (chunk.usage) usage = chunk.usage;
}
check("stream", text.startsWith("The mock model answers") && chunks >= 16, `${chunks} chunks: ${text}`);
check("stream-usage", usage?.completion_tokens === 16, JSON.stringify(usage));

const embedding = await client.embeddings.create({ model: "mock-embed", input: "hello" });
check("embeddings", embedding.data[0].embedding.length === 8 && embedding.data[0].embedding[7] === 1, JSON.stringify(embedding.data[0]));

const models = await client.models.list();
check("models", models.data.some((m) => m.id === "mock-model"));

try {
  await client.chat.completions.create({ model: "unrouted-model", messages: [{ role: "user", content: "x" }] });
  check("not-found", false, "no error thrown");
} catch (err) {
  check("not-found", err instanceof OpenAI.NotFoundError && err.code === "route_not_found", String(err));
}

try {
  await client.chat.completions.create({
    model: "mock-model",
    messages: [{ role: "user", content: "x" }],
  }, { headers: { "x-mock-hang": "1" } });
  check("timeout-504", false, "no error thrown");
} catch (err) {
  check("timeout-504", err.status === 504 && err.code === "upstream_first_token_timeout", String(err));
}
console.log("all checks passed");
