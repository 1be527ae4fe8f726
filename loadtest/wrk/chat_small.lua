-- A small non-streaming chat request, as most API traffic is.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
-- The key peer infergate-keys requires; the other peers pass it on.
wrk.headers["Authorization"] = "Bearer sk-loadtest-key-0123456789abcdef"
wrk.body = '{"model":"mock-model","messages":[{"role":"system","content":"You are terse."},{"role":"user","content":"Say hello in five words."}],"max_tokens":16,"temperature":0.2}'
