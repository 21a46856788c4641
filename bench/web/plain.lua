dofile(debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "report.lua")
function done(summary, latency, requests) report(summary, latency) end
