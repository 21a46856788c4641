-- GET a page as a signed-in user; __ID__ in the path is replaced by a random
-- client id from the file IDS (one per line)
dofile(debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "report.lua")
local ids = {}
local file = os.getenv("IDS")
if file and file ~= "" then
  for line in io.lines(file) do if line ~= "" then ids[#ids + 1] = line end end
end
wrk.headers["cookie"] = os.getenv("COOKIE")
local path = wrk.path
function request()
  local p = path
  if #ids > 0 then p = p:gsub("__ID__", ids[math.random(#ids)]) end
  return wrk.format("GET", p)
end
function done(summary, latency, requests) report(summary, latency) end
