-- wrk script: POST /chat/query, going round questions of several kinds.
-- The bearer token comes from the command line (-H).
local questions = {
  "What is my portfolio worth?",
  "top 5 gainers by %",
  "How many SYM7 do I have?",
  "allocation by sector",
  "realized P&L for FY 2024-25",
  "show my 10 biggest holdings",
  "what did I pay for SYM12",
  "how much have I made overall",
}
local i = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  i = i % #questions + 1
  return wrk.format(nil, "/chat/query", nil, '{"message":"' .. questions[i] .. '"}')
end
