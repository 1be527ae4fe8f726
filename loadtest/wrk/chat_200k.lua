-- A chat request with a ~200 KB prompt: tests body reading, parsing and relaying
-- of large uploads (long-context RAG traffic).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
-- The key peer infergate-keys requires; the other peers pass it on.
wrk.headers["Authorization"] = "Bearer sk-loadtest-key-0123456789abcdef"
local words = {}
for i = 1, 20000 do words[i] = "context " end
local prompt = table.concat(words) .. "context " .. string.rep("x", 39990)
wrk.body = '{"model":"mock-model","messages":[{"role":"user","content":"' .. prompt .. '"}],"max_tokens":16}'
