-- wrk script for `make bench`: POST one registration per request, each with
-- an e-mail no other request uses (run tag + thread number + counter), and
-- the same body as helper.py's reg_body() and the pgbench script.
--   wrk ... -s tests/bench/register.lua URL -- TAG
local nthreads = 0

function setup(thread)
	thread:set("tid", nthreads)
	nthreads = nthreads + 1
end

function init(args)
	tag = args[1] or "wrk"
	n = 0
end

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

function request()
	n = n + 1
	return wrk.format(nil, nil, nil, string.format(
		'{"name":"Bench Attendee","email":"%s-t%d-%d@bench.example.com",' ..
		'"company":"Bench Co","job_title":"Engineer",' ..
		'"identity":"professional",' ..
		'"consent":{"sponsors":true,"fields":["email","job_title"]}}',
		tag, tid, n))
end
