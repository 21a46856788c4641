-- POST /api/v1/checks as the advisor, on their own client
dofile(debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "report.lua")
wrk.method = "POST"
wrk.headers["content-type"] = "application/json"
wrk.headers["cookie"] = os.getenv("COOKIE")
wrk.headers["x-csrf-token"] = os.getenv("CSRF")
wrk.body = string.format('{"client_id":"%s","product_id":"%s","initiated_by":"client","channel":"branch"}',
  os.getenv("CLIENT"), os.getenv("PRODUCT"))
function done(summary, latency, requests) report(summary, latency) end
