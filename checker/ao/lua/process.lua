--[[ process: message construction, aos's checks, the handler loop and the API the
  Python side calls (load, deliver, evaluate). The globals are env.lua's.

  Message construction (aos process.lua + ao.normalize): msg = {Id, From, Owner,
  Target, Timestamp, Data}; every tag except the non-extractable ones (From, Owner,
  Target, Data, Type, ... see ao.nonExtractableTags) is promoted to msg[name] (the last
  of equal names wins); msg.TagArray holds the tags as {name, value} in order and
  msg.Tags maps name -> value (the first wins). A Content-Type of application/json
  replaces msg.Data by json.decode(msg.Data). msg.reply / msg.forward as aos 2.0; where
  aos uses msg.Reference (the sender's send counter, which this runtime does not add)
  the message's Id stands in. Reads of absent fields of msg, msg.Tags and the table
  decoded from msg.Data are recorded (Outcome.reads).

  The handler loop is aos's Handlers.evaluate: handlers in list order, "_default"
  skipped; a pattern result true/-1/"break" runs the handler and stops, 1/"continue"
  (any positive number) runs it and goes on, false/0/"skip"/any other string skips, and
  any other type (nil too) is an error "Pattern result is not valid"; maxRuns counts
  down after a run and removes the handler at 0 (the loop then skips the next
  handler, as aos's ipairs does). When no handler broke the loop (only "continue"
  matches, or none) the message goes to the Inbox.
]]
local K = ...

local rawget, rawset, type, tostring, ipairs = rawget, rawset, type, tostring, ipairs
local xpcall, pcall, error, setmetatable = xpcall, pcall, error, setmetatable
local getinfo = debug.getinfo
local concat = table.concat
local sfind = string.find

local config = K.config
local json, utils, handlers, ao = K.json, K.utils, K.handlers, K.ao
local TAGPATTERNS = K.TAGPATTERNS

-- ------------------------------------------------------------------ records

local function resetRecord()
  K.sends, K.runs = {}, {}
  K.prints, K.reads, K.readSeen = nil, nil, nil
  K.flagged, K.hook, K.msg, K.msgData = nil, nil, nil, nil
  K.resetAddresses()
end

function K.print(a)
  local p = K.prints
  if p == nil then
    p = {}
    K.prints = p
  end
  p[#p + 1] = K.render(a)
end

function K.queueSend(target, data, tags, where)
  local s = K.sends
  s[#s + 1] = { target, data, tags, where }
end

local fnMeta = K.fnMeta
local files = K.files
local makeReply, makeForward

-- Reads of absent fields are recorded (kind, field, "file:line") when process code
-- makes them; on the message itself reply/forward are made on first use.
local function tracker(kind)
  local mt = {
    __index = function(t, k)
      if kind == "msg" and K.MSGS[t] then
        if k == "reply" then
          local f = makeReply(t)
          rawset(t, "reply", f)
          return f
        elseif k == "forward" then
          local f = makeForward(t)
          rawset(t, "forward", f)
          return f
        end
      end
      local info = getinfo(2, "fl")
      local name = info ~= nil and info.func and fnMeta(info.func)
      if name and K.runs ~= nil then
        local field = type(k) == "string" and k or K.tostring(k)
        local where = name .. ":" .. tostring(info.currentline)
        local key = kind .. "\0" .. field .. "\0" .. where
        local seenReads = K.readSeen
        if seenReads == nil then
          seenReads = {}
          K.readSeen, K.reads = seenReads, {}
        end
        if not seenReads[key] then
          seenReads[key] = true
          K.reads[#K.reads + 1] = { kind, field, where }
        end
      end
      return nil
    end,
  }
  K.TRACKMT[mt] = true
  return mt
end
K.TRACK_MSG, K.TRACK_TAGS, K.TRACK_DATA = tracker("msg"), tracker("Tags"), tracker("Data")

-- ------------------------------------------------------------------ failures

local FAIL = {}

local function msgh(e)
  if type(e) == "table" and rawget(e, FAIL) then return e end
  return { [FAIL] = true, err = e, where = K.userWhere(2) }
end

local function failureOf(res, handler, fallbackWhere)
  local err, where = res, "?"
  if type(res) == "table" and rawget(res, FAIL) then err, where = res.err, res.where end
  if where == "?" and fallbackWhere ~= nil then where = fallbackWhere end
  local text, kind
  if err == "not enough memory" then
    text, kind = "memory limit of " .. tostring(config.memoryMb) .. " MB exceeded", "memory"
  elseif err == K.budgetText then
    text, kind = err, "budget"
  elseif type(err) == "string" then
    text = err
  else
    text = K.render(err)
  end
  return { text, where, handler, kind }
end

-- ------------------------------------------------------------------ messages

local function refOf(m)
  return rawget(m, "X-Reference") or rawget(m, "Reference") or rawget(m, "Id")
end

makeReply = function(m)
  local f = function(replyMsg)
    replyMsg.Target = rawget(m, "Reply-To") or (replyMsg.Target or rawget(m, "From"))
    replyMsg["X-Reference"] = refOf(m)
    replyMsg["X-Origin"] = rawget(m, "X-Origin") or nil
    return K.sendVia()(replyMsg)
  end
  K.MSGFN[f], K.MSGKIND[f] = m, "reply"
  return f
end

makeForward = function(m)
  local f = function(target, forwardMsg)
    local newMsg = ao.sanitize(m)
    forwardMsg = forwardMsg or {}
    for k, v in K.pairs(forwardMsg) do newMsg[k] = v end
    newMsg.Target = target
    newMsg["Reply-To"] = rawget(m, "Reply-To") or rawget(m, "From")
    newMsg["X-Reference"] = refOf(m)
    newMsg["X-Origin"] = rawget(m, "X-Origin") or rawget(m, "From")
    newMsg.reply = nil
    newMsg.forward = nil
    K.sendVia()(newMsg)
  end
  K.MSGFN[f], K.MSGKIND[f] = m, "forward"
  return f
end

--- Mark t as a message table and give it reply/forward (unless it has its own).
function K.attachMsg(t)
  K.MSGS[t] = true
  if rawget(t, "reply") == nil then rawset(t, "reply", makeReply(t)) end
  if rawget(t, "forward") == nil then rawset(t, "forward", makeForward(t)) end
end

function K.msgFunction(m, kind)
  if kind == "reply" then return makeReply(m) end
  return makeForward(m)
end

local normalizeTags = config.variant == "normalized-tags"

local rejected

local function buildMsg(id, from, target, owner, ts, data, n, args)
  local msg = { Id = id, From = from, Owner = owner, Target = target, Timestamp = ts, Data = data }
  local arr = {}
  for i = 1, n do
    local name = args[2 * i - 1]
    if normalizeTags then name = utils.normalize(name) end
    arr[i] = { name = name, value = args[2 * i] }
  end
  msg.Tags = arr
  ao.normalize(msg)
  msg.TagArray = arr
  local map = {}
  for i = 1, n do
    local o = arr[i]
    if map[o.name] == nil then map[o.name] = o.value end
  end
  msg.Tags = map
  K.msg = msg
  K.msgData = data
  if map["Content-Type"] == "application/json" then
    msg.Data = json.decode(msg.Data or "{}")
  end
  K.MSGS[msg] = true
  setmetatable(map, K.TRACK_TAGS)
  setmetatable(msg, K.TRACK_MSG)
  return msg
end

-- ------------------------------------------------------------------ the runtime's handlers

local EVAL_PATTERN = function(msg)
  return rawget(msg, "Action") == "Eval" and rawget(_G, "Owner") == rawget(msg, "From")
end
local EVAL_HANDLE = function(msg)
  local text = "unsupported: an Eval message from the owner (aos's _eval handler would run its Data as Lua), message "
    .. tostring(rawget(msg, "Id"))
  if K.flagged == nil then K.flagged = { "unsupported", text } end
  error(text, 0)
end
local DEFAULT_PATTERN = function() return true end
local DEFAULT_HANDLE = function(msg)
  local inbox = rawget(_G, "Inbox")
  if type(inbox) == "table" then inbox[#inbox + 1] = msg end
end

local function upsertRuntimeHandler(name, pattern, handle, guess)
  local list = handlers.list
  local g = rawget(list, guess)
  local idx
  if type(g) == "table" and rawget(g, "name") == name then idx = guess else idx = K.indexOf(list, name) end
  if idx then
    local o = list[idx]
    o.pattern, o.handle, o.maxRuns = pattern, handle, nil
  else
    list[#list + 1] = { name = name, pattern = pattern, handle = handle }
  end
end

local function evaluate(msg, env)
  local handled = false
  for _, o in ipairs(handlers.list) do
    if o.name ~= "_default" then
      local pattern = o.pattern
      local tp = type(pattern)
      local ok, match = true, nil
      local tagPattern = tp == "function" and TAGPATTERNS[pattern]
      local tags = tagPattern and msg.Tags
      if tagPattern and type(tags) == "table" then
        match = tags[tagPattern[1]] == tagPattern[2]   -- Handlers.utils.hasMatchingTag, inline
      elseif tp == "string" then
        match = msg.Action == pattern                   -- what matchesSpec does for a string
      elseif tp == "function" then
        ok, match = xpcall(pattern, msgh, msg)          -- ... and for a function
      else
        ok, match = xpcall(utils.matchesSpec, msgh, msg, pattern)
      end
      if not ok then
        return failureOf(match, o.name, K.fnWhere(o.pattern) ~= "?" and K.fnWhere(o.pattern) or K.fnWhere(o.handle))
      end
      local tm = type(match)
      if tm ~= "number" and tm ~= "string" and tm ~= "boolean" then
        return { "Pattern result is not valid, it MUST be string, number, or boolean", K.fnWhere(o.pattern), o.name }
      end
      if tm == "boolean" then
        match = match and -1 or 0
      elseif tm == "string" then
        match = (match == "continue" and 1) or (match == "break" and -1) or 0
      end
      if match ~= 0 then
        if match < 0 then handled = true end
        local runs = K.runs
        local nr = #runs
        runs[nr + 1], runs[nr + 2] = o.name, K.fnWhere(o.handle)
        local ok2, res = xpcall(o.handle, msgh, msg, env)
        if not ok2 then return failureOf(res, o.name, K.fnWhere(o.handle)) end
        if o.maxRuns ~= nil and o.maxRuns ~= "inf" then
          o.maxRuns = o.maxRuns - 1
          if o.maxRuns == 0 then handlers.remove(o.name) end
        end
      end
      if match < 0 then return nil, handled end
    end
  end
  if not handled then
    local idx = K.indexOf(handlers.list, "_default")
    handlers.list[idx].handle(msg, env)
  end
  return nil, handled
end

K.runtimeHandlers = { EVAL_PATTERN, EVAL_HANDLE, DEFAULT_PATTERN, DEFAULT_HANDLE }
handlers.list[1] = { name = "_eval", pattern = EVAL_PATTERN, handle = EVAL_HANDLE }
handlers.list[2] = { name = "_default", pattern = DEFAULT_PATTERN, handle = DEFAULT_HANDLE }

K.markBuiltins()

Owner = config.owner
Name = K.env.Process.Tags.Name or "aos"
Inbox = {}
Errors = {}

-- ------------------------------------------------------------------ outcome as JSON

local jstr, jnum = K.jsonString, K.jsonNumber

local function jscalar(v)
  local tv = type(v)
  if tv == "string" then return jstr(v) end
  if tv == "number" then return jnum(v) end
  if tv == "boolean" then return v and "true" or "false" end
  return "null"
end

-- [handlers, sends, prints, reads, error, inbox]: handlers as [name, where, ...], each
-- send as [target, data, where, [name, value, ...]], each read as [kind, field, where],
-- the error as [text, where, handler, kind] (kind "budget", "memory" or null).
local function metaJson(failure, inbox)
  local out, n = { "[[" }, 1
  local runs = K.runs
  for i = 1, #runs do
    n = n + 1
    out[n] = (i > 1 and "," or "") .. jstr(runs[i])
  end
  n = n + 1
  out[n] = "],["
  if failure == nil then
    for i, s in ipairs(K.sends) do
      local flat, tags = s[3], {}
      for j = 1, #flat, 2 do tags[#tags + 1] = jstr(flat[j]) .. "," .. jscalar(flat[j + 1]) end
      n = n + 1
      out[n] = (i > 1 and ",[" or "[") .. jstr(s[1]) .. "," .. jstr(s[2]) .. "," .. jstr(s[4])
        .. ",[" .. concat(tags, ",") .. "]]"
    end
  end
  n = n + 1
  out[n] = "],["
  for i, p in ipairs(K.prints or {}) do
    n = n + 1
    out[n] = (i > 1 and "," or "") .. jstr(p)
  end
  n = n + 1
  out[n] = "],["
  for i, r in ipairs(K.reads or {}) do
    n = n + 1
    out[n] = (i > 1 and ",[" or "[") .. jstr(r[1]) .. "," .. jstr(r[2]) .. "," .. jstr(r[3]) .. "]"
  end
  n = n + 1
  if failure == nil then
    out[n] = "],null,"
  else
    out[n] = "],[" .. jstr(failure[1]) .. "," .. jstr(failure[2]) .. "," .. jscalar(failure[3]) .. ","
      .. jscalar(failure[4]) .. "],"
  end
  out[n + 1] = inbox and "true]" or "false]"
  return concat(out)
end

-- aos's process.handle refuses, before any handler: a message whose signer (Owner)
-- is not its sender (From) unless one of them is an Authority of the process; and an
-- assignment (a message whose Target is another process), since nothing is assignable.
-- Either way the sender gets a notice and the message goes nowhere (not the Inbox).
rejected = function(msg)
  local from, owner = rawget(msg, "From"), rawget(msg, "Owner")
  local notice
  if from ~= owner and not ao.isTrusted(msg) then
    notice = "Message is not trusted by this process!"
    K.print("Message is not trusted! From: " .. tostring(from) .. " - Owner: " .. tostring(owner))
  elseif rawget(msg, "Target") ~= config.pid then
    notice = "Assignment is not trusted by this process!"
    K.print("Assignment is not trusted! From: " .. tostring(from) .. " - Owner: " .. tostring(owner))
  else
    return false
  end
  if from ~= config.pid then
    K.queueSend(from, notice, {}, "[aos process.handle: " .. notice .. "]")
  end
  return true
end

-- ------------------------------------------------------------------ API

local api = {}

K.runFile = function(i)
  files.state[i] = "running"
  local chunk, err = load(files.sources[i], "@" .. files.names[i], "t", _G)
  if not chunk then
    if K.flagged == nil then K.flagged = { "runtime", err } end
    error(err, 0)
  end
  local ok, res = xpcall(chunk, msgh)
  if not ok then error(res, 0) end
  if res == nil then res = true end
  K.modules[i] = res
  files.state[i] = "done"
end

--- Run the files in order (a file required earlier runs then, once). Returns status,
-- text-or-message, prints.
function api.load(names, sources, modnames)
  resetRecord()
  for i = 1, #names do
    files.names[i], files.sources[i] = names[i], sources[i]
  end
  for k, v in K.rawpairs(modnames) do files.modnames[k] = v end
  local failure
  for i = 1, #names do
    if files.state[i] == nil then
      K.startBudget()
      local ok, res = xpcall(K.runFile, msgh, i)
      K.stopBudget()
      if not ok then
        failure = failureOf(res, nil, files.names[i] .. ":?")
        break
      end
    end
  end
  local prints = {}
  for i, p in ipairs(K.prints or {}) do prints[i] = jstr(p) end
  local printsJson = "[" .. concat(prints, ",") .. "]"
  if K.flagged then return K.flagged[1], K.flagged[2], printsJson end
  if failure then return "error", failure[1] .. " (at " .. failure[2] .. ")", printsJson end
  K.buildRegistry(K.userGlobalKeys)
  K.installGuards()
  local ok, text = pcall(K.serialize)
  if not ok then
    if K.flagged then return K.flagged[1], K.flagged[2], printsJson end
    return "internal", text, printsJson
  end
  return "ok", text, printsJson
end

--- Deliver one message to a state (a text, or a chunk compiled earlier). Returns
-- status ("ok", "error", "unsupported", "runtime", "internal"), the new state text
-- (status "ok") or a message, the outcome JSON, and the chunk when one was compiled.
function api.deliver(state, order, hook, id, from, target, owner, ts, data, n, ...)
  local compiled
  if type(state) == "string" then
    state = K.compile(state)
    compiled = state
  end
  resetRecord()
  K.reversed = (order == "reversed")
  K.restore(state)
  K.hook = hook
  local args = { ... }
  K.startBudget()
  local ok, res = xpcall(buildMsg, msgh, id, from, target, owner, ts, data, n, args)
  local failure, handled
  if not ok then
    failure = failureOf(res, nil, nil)
  elseif rejected(res) then
    handled = true
  else
    local msg = res
    upsertRuntimeHandler("_eval", EVAL_PATTERN, EVAL_HANDLE, 1)
    upsertRuntimeHandler("_default", DEFAULT_PATTERN, DEFAULT_HANDLE, 2)
    local ok2, f, h = xpcall(evaluate, msgh, msg, K.env)
    if not ok2 then failure = failureOf(f, nil, nil) else failure, handled = f, h end
  end
  K.stopBudget()
  K.hook = nil
  local changed = K.changedRuntimeTable()
  if K.flagged then return K.flagged[1], K.flagged[2], nil, compiled end
  if failure then return "error", nil, metaJson(failure, false), compiled end
  if changed then
    return "unsupported", "unsupported: the delivery changed the runtime table field " .. changed
      .. " (runtime tables are not part of the process state)", nil, compiled
  end
  local ok3, text = pcall(K.serialize)
  if not ok3 then
    if K.flagged then return K.flagged[1], K.flagged[2], nil, compiled end
    return "internal", tostring(text), nil, compiled
  end
  return "ok", text, metaJson(nil, not handled), compiled
end

--- Evaluate a Lua expression in the globals of a state; returns status and JSON view.
function api.evaluate(state, expr)
  local compiled
  if type(state) == "string" then
    state = K.compile(state)
    compiled = state
  end
  resetRecord()
  K.reversed = false
  K.restore(state)
  local f, err = load("return " .. expr, "=observable", "t", _G)
  if not f then return "error", err, compiled end
  K.startBudget()
  local ok, v = xpcall(f, msgh)
  K.stopBudget()
  K.changedRuntimeTable()
  if K.flagged then return K.flagged[1], K.flagged[2], compiled end
  if not ok then return "error", failureOf(v, nil, nil)[1], compiled end
  return "ok", K.jsonOf(v), compiled
end

--- Rename every string of a state by `mapping` (rename.lua); returns status ("ok",
-- "collision", "unsupported", "internal"), the new canonical text or a message, and
-- the chunk when one was compiled.
function api.rename(state, mapping)
  local compiled
  if type(state) == "string" then
    state = K.compile(state)
    compiled = state
  end
  resetRecord()
  K.reversed = false
  K.restore(state)
  local ok, err = pcall(K.renameState, mapping)
  if not ok then
    if type(err) == "string" and sfind(err, "rename collision: ", 1, true) == 1 then
      return "collision", err, compiled
    end
    return "internal", tostring(err), compiled
  end
  local ok2, text = pcall(K.serialize)
  if not ok2 then
    if K.flagged then return K.flagged[1], K.flagged[2], compiled end
    return "internal", tostring(text), compiled
  end
  return "ok", text, compiled
end

function api.compile(text)
  return K.compile(text)
end

function api.memoryCollect()
  collectgarbage()
end

return api
