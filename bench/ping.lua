-- wrk script: POST /ping with a JSON body
wrk.method = "POST"
wrk.path = "/ping"
wrk.body = '{"name":"World"}'
wrk.headers["Content-Type"] = "application/json"
