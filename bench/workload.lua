-- wrk script: one connection per wrk thread (-t = -c), each connection one user with its own token.
-- The run's configuration is a Lua table written by bench/loadgen.py, named by BENCH_WRK_CONFIG.
-- Each thread's state lives in that thread's own Lua state; done() sums it over all threads.

local cfg = dofile(os.getenv("BENCH_WRK_CONFIG"))
local threads = {}
local next_index = 0

function setup(thread)
  next_index = next_index + 1
  thread:set("index", next_index)
  table.insert(threads, thread)
end

local me, tasks_path, auth, json_headers
local last_op = "none"
local deleted, pool_used = 0, 0
local created = {}
local list_statuses = { "all", "pending", "completed" }
-- Globals: what done() reads from each thread with thread:get().
non2xx, exhausted = 0, 0
ops = { list = 0, ["list-filtered"] = 0, get = 0, create = 0, update = 0, toggle = 0, delete = 0 }
statuses = {}

function init(args)
  me = cfg.users[index]
  math.randomseed(index * 7919 + cfg.seed)
  tasks_path = "/api/" .. me.uid .. "/tasks"
  auth = { ["Authorization"] = "Bearer " .. me.token }
  json_headers = { ["Authorization"] = "Bearer " .. me.token, ["Content-Type"] = "application/json" }
end

local function pick()
  local mode = cfg.mode
  if mode == "update" then
    if math.random(2) == 1 then return "update" else return "toggle" end
  end
  if mode ~= "mixed" then return mode end
  local roll = math.random(100)
  if roll <= 60 then return "list" end
  if roll <= 75 then return "get" end
  if roll <= 85 then return "create" end
  if roll <= 90 then return "update" end
  if roll <= 95 then return "toggle" end
  return "delete"
end

-- Gets and updates touch the lower half of the user's seeded block; deletes eat the upper half from
-- the top, then tasks this connection created; delete-only runs eat the user's delete pool.
local function kept_id()
  return me.first + math.random(0, me.half - 1)
end

local function victim()
  if cfg.mode == "delete" then
    if pool_used < me.pool then
      pool_used = pool_used + 1
      return me.pool_first + pool_used - 1
    end
    exhausted = exhausted + 1
    return 9000000000000000
  end
  if deleted < me.half then
    deleted = deleted + 1
    return me.first + me.per_user - deleted
  end
  return table.remove(created)
end

function request()
  local op = pick()
  local id
  if op == "delete" then
    id = victim()
    if id == nil then op = "create" end
  end
  last_op = op
  ops[op] = ops[op] + 1
  if op == "list" then
    local query = cfg.list_query
    if query == nil then
      local status = list_statuses[math.random(3)]
      local pages = 2
      if status == "all" then pages = 3 end
      query = "?status=" .. status .. "&limit=20&offset=" .. (20 * (math.random(pages) - 1))
    end
    return wrk.format("GET", tasks_path .. query, auth)
  elseif op == "list-filtered" then
    -- One combination at random, then one of its pages that has tasks (see bench/loadgen.py FILTERED).
    local filter = cfg.filtered[math.random(#cfg.filtered)]
    local offset = 20 * (math.random(filter.pages) - 1)
    return wrk.format("GET", tasks_path .. "?" .. filter.query .. "&limit=20&offset=" .. offset, auth)
  elseif op == "get" then
    return wrk.format("GET", tasks_path .. "/" .. kept_id(), auth)
  elseif op == "create" then
    return wrk.format("POST", tasks_path, json_headers, '{"title":"Bench task"}')
  elseif op == "update" then
    return wrk.format("PATCH", tasks_path .. "/" .. kept_id(), json_headers, '{"title":"Bench task"}')
  elseif op == "toggle" then
    return wrk.format("PATCH", tasks_path .. "/" .. kept_id() .. "/complete", auth)
  end
  return wrk.format("DELETE", tasks_path .. "/" .. id, auth)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
  elseif last_op == "create" then
    local id = body:match('"id":%s*(%d+)')
    if id then table.insert(created, tonumber(id)) end
  end
end

if cfg.pause_ms > 0 then
  -- "About 100 ms": uniform over half to one and a half times the pause, so users do not march in step.
  function delay()
    return math.random(math.floor(cfg.pause_ms / 2), math.floor(cfg.pause_ms * 3 / 2))
  end
end

function done(summary, latency, requests)
  local total_non2xx, total_exhausted = 0, 0
  local total_ops, merged = {}, {}
  for _, thread in ipairs(threads) do
    total_non2xx = total_non2xx + thread:get("non2xx")
    total_exhausted = total_exhausted + thread:get("exhausted")
    for name, n in pairs(thread:get("ops")) do total_ops[name] = (total_ops[name] or 0) + n end
    for code, n in pairs(thread:get("statuses")) do merged[code] = (merged[code] or 0) + n end
  end
  local status_parts = {}
  for code, n in pairs(merged) do table.insert(status_parts, string.format('"%d":%d', code, n)) end
  local op_parts = {}
  for name, n in pairs(total_ops) do table.insert(op_parts, string.format('"%s":%d', name, n)) end
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests":%d,"duration_us":%d,"bytes":%d,"connect_errors":%d,"read_errors":%d,' ..
    '"write_errors":%d,"status_errors":%d,"timeouts":%d,"non2xx":%d,"pool_exhausted":%d,' ..
    '"latency_us":{"p50":%d,"p90":%d,"p99":%d,"mean":%.1f,"max":%d},"statuses":{%s},"ops":{%s}}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    total_non2xx, total_exhausted,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.mean, latency.max,
    table.concat(status_parts, ","), table.concat(op_parts, ",")))
end
