-- wrk script for `make bench`: POST /api/v1/checkins, rotating through the
-- ticket tokens in a file (one a line, registration id order), each
-- request with the door token, a gate and a nonce no other request uses.
-- Thread t of T scans tokens t, t+T, t+2T, ... wrapping around, so the
-- first pass over the file admits and later passes are already_checked_in,
-- as pgbench's check-in script does with its clients.
--   wrk -tT ... -s tests/bench/checkin.lua URL -- TOKENFILE DOORTOKEN TAG T
local nthreads = 0

function setup(thread)
	thread:set("tid", nthreads)
	nthreads = nthreads + 1
end

function init(args)
	local file = assert(args[1], "checkin.lua: TOKENFILE missing")
	door = assert(args[2], "checkin.lua: DOORTOKEN missing")
	tag = args[3] or "wrk"
	nthr = tonumber(args[4] or "1")
	tokens = {}
	for line in io.lines(file) do
		if #line > 0 then
			tokens[#tokens + 1] = line
		end
	end
	assert(#tokens > 0, "checkin.lua: no tokens in " .. file)
	k = 0
	wrk.method = "POST"
	wrk.headers["Content-Type"] = "application/json"
	wrk.headers["Authorization"] = "Bearer " .. door
end

function request()
	local i = (tid + nthr * k) % #tokens
	k = k + 1
	return wrk.format(nil, nil, nil, string.format(
		'{"token":"%s","gate":"bench","nonce":"%s-t%d-%d"}',
		tokens[i + 1], tag, tid, k))
end
