--[[ State: what is state and what is the runtime, and restoring a state.

  * Runtime objects (K.BUILTIN, written B[i] in a snapshot): every table and function
    reachable from the globals once the prelude is set up, numbered in a deterministic
    walk. Not state; a delivery that adds a field to a runtime table raises
    AoUnsupported at the assignment (guards), and ao / Handlers fields are compared
    after each delivery.
  * Load-time functions (K.REG, written F[i]): the functions reachable from the state
    after the files ran, numbered in a deterministic walk, and the upvalue cells they
    close over (K.RCELL*): those cells are state (a top-level `local t = {}` that a
    handler mutates).
  * Globals: the runtime's globals live in K.BASEG behind _G's metatable (__index), so
    the raw _G holds exactly the user globals. Assigning to a runtime global's name
    makes a user global that shadows it; assigning nil to one is unsupported.
  * Inbox and Errors are not state: they are fresh, empty tables at every restore.
]]
local K = ...

local rawnext, rawget, rawset, rawequal, type, tostring, _G = next, rawget, rawset, rawequal, type, tostring, _G
local format, find = string.format, string.find
local getupvalue, setupvalue = debug.getupvalue, debug.setupvalue
local upvalueid, upvaluejoin = debug.upvalueid, debug.upvaluejoin
local getmt, setmt = debug.getmetatable, setmetatable
local sortedKeys = K.sortedKeys
local load = load   -- the real one: env.lua restricts the global to text chunks

K.MSGS = setmt({}, { __mode = "k" })    -- message tables built or restored by the runtime
K.MSGFN = setmt({}, { __mode = "k" })   -- msg.reply / msg.forward function -> its message
K.MSGKIND = setmt({}, { __mode = "k" }) -- ... -> "reply" or "forward"
K.TRACKMT = {}                           -- metatables the runtime sets to record reads
local MSGS, MSGFN, TRACKMT = K.MSGS, K.MSGFN, K.TRACKMT

local BUILTIN, BLIST, BNAME = {}, {}, {}
local REG, RLIST = {}, {}
local RCELLF, RCELLI, RCELLNAME, RCELLID = {}, {}, {}, {}
local BASE = {}
-- flat triples (cell index, pattern function, its load-time value) for the cells of the
-- load-time hasMatchingTag patterns (filled by K.buildRegistry; function false: dropped)
local TPCELLS, NTP = {}, 0
local EXCLUDE = { Inbox = true, Errors = true }
local NOTBUILTIN = {}
K.BUILTIN, K.BLIST, K.REG, K.RLIST = BUILTIN, BLIST, REG, RLIST
K.RCELLF, K.RCELLI, K.RCELLID = RCELLF, RCELLI, RCELLID
K.NRCELLS = 0
K.BASEG, K.EXCLUDE, K.NOTBUILTIN = BASE, EXCLUDE, NOTBUILTIN

function K.userMeta(t)
  local mt = getmt(t)
  if mt ~= nil and TRACKMT[mt] then return nil end
  return mt
end
local userMeta = K.userMeta

function K.ownMsgFn(v, t)
  return MSGFN[v] == t
end

local function fmtKey(k)
  if type(k) == "string" and find(k, "^[%a_][%w_]*$") then return "." .. k end
  if type(k) == "string" then return "[" .. format("%q", k) .. "]" end
  return "[" .. K.tostring(k) .. "]"
end
K.fmtKey = fmtKey

-- ------------------------------------------------------------------ problems

-- The path from a state root to `target`, for error messages (computed on failure only).
local function pathTo(target)
  local visited = {}
  local function dfs(v, path)
    if rawequal(v, target) then return path end
    local tv = type(v)
    if tv == "table" then
      if BUILTIN[v] or visited[v] then return nil end
      visited[v] = true
      for k, x in rawnext, v do
        if rawequal(k, target) then return path .. " (a key)" end
        local p = dfs(x, path .. fmtKey(k))
        if p then return p end
      end
      local mt = userMeta(v)
      if mt ~= nil then
        local p = dfs(mt, path .. " (metatable)")
        if p then return p end
      end
    elseif tv == "function" then
      if BUILTIN[v] or visited[v] then return nil end
      visited[v] = true
      local j = 1
      while true do
        local name, x = getupvalue(v, j)
        if name == nil then break end
        local p = dfs(x, "upvalue '" .. name .. "' of the function at " .. K.fnWhere(v))
        if p then return p end
        j = j + 1
      end
    end
    return nil
  end
  for k, v in rawnext, _G do
    if not EXCLUDE[k] then
      local p = dfs(v, type(k) == "string" and k or fmtKey(k))
      if p then return p end
    end
  end
  local p = dfs(rawget(K.handlers, "list"), "Handlers.list") or dfs(K.modules, "a loaded module")
  if p then return p end
  for i = 1, K.NRCELLS do
    local _, x = getupvalue(RCELLF[i], RCELLI[i])
    p = dfs(x, "upvalue '" .. RCELLNAME[i] .. "' of the function at " .. K.fnWhere(RCELLF[i]))
    if p then return p end
  end
  return "?"
end

--- Raise AoUnsupported for a value the state cannot hold, naming where it is.
function K.stateProblem(what, obj)
  local text = "unsupported: " .. what .. " in the process state, at " .. pathTo(obj)
  if K.flagged == nil then K.flagged = { "unsupported", text } end
  error(text, 0)
end

-- ------------------------------------------------------------------ closures

local FNKEY = setmt({}, { __mode = "k" })
local PROTO = {}

--- A stable name for the prototype of a closure created after loading (its dump is kept
-- so a restore can make a fresh closure of it).
function K.protoKey(f)
  local key = FNKEY[f]
  if key then return key end
  local info = debug.getinfo(f, "S")
  if info.what == "C" then K.stateProblem("a C function that is not part of the runtime", f) end
  local dump = string.dump(f)
  local base = K.srcName(info) .. ":" .. info.linedefined .. "-" .. info.lastlinedefined
  key = base
  local i = 1
  while PROTO[key] ~= nil and PROTO[key] ~= dump do
    i = i + 1
    key = base .. "#" .. i
  end
  PROTO[key] = dump
  FNKEY[f] = key
  return key
end

-- ------------------------------------------------------------------ restore

local CHUNKENV = {
  B = BLIST, F = RLIST, MININT = math.mininteger, NAN = 0 / 0, INF = math.huge,
  N = function(key)
    local f, err = load(PROTO[key], "=" .. key, "b")
    if not f then error(err, 0) end
    FNKEY[f] = key
    return f
  end,
  X = function(t, contents, mt, ismsg)
    for k, v in rawnext, contents do rawset(t, k, v) end
    if mt ~= nil then setmt(t, mt) end
    if ismsg then K.attachMsg(t) end
  end,
  T = function(t, mt) return setmt(t, mt) end,
  M = function(t)
    K.attachMsg(t)
    return t
  end,
  MR = function(m, kind) return K.msgFunction(m, kind) end,
  U = function(f, j, v) setupvalue(f, j, v) end,
  J = function(f, j, r) upvaluejoin(f, j, RCELLF[r], RCELLI[r]) end,
  UJ = function(f, j, g, i) upvaluejoin(f, j, g, i) end,
}

--- Compile a snapshot text into a chunk that rebuilds the state when called.
function K.compile(text)
  local chunk, err = load(text, "=[ao]/state", "t", CHUNKENV)
  if not chunk then error("corrupt snapshot: " .. tostring(err), 0) end
  return chunk
end

--- Make the live globals exactly the state the chunk rebuilds.
function K.restore(chunk)
  local r = chunk()
  if r.V ~= K.config.fingerprint then
    error("a snapshot of another process's code (fingerprint " .. tostring(r.V) .. ", this process "
      .. K.config.fingerprint .. ")", 0)
  end
  local G = r.G
  for k in rawnext, _G do
    if G[k] == nil then _G[k] = nil end   -- an existing raw key: no metamethod runs
  end
  for k, v in rawnext, G do _G[k] = v end   -- a new raw key goes through __newindex
  rawset(_G, "Inbox", {})
  rawset(_G, "Errors", {})
  rawset(K.handlers, "list", r.H)
  rawset(K.handlers, "onceNonce", r.O)
  K.rng = r.R
  K.modules = r.M
  local C = r.C
  for i = 1, K.NRCELLS do setupvalue(RCELLF[i], RCELLI[i], C[i]) end
  -- a hasMatchingTag pattern made at load time is evaluated inline from the (name, value)
  -- K.TAGPATTERNS recorded; a state whose cells hold other values (a renamed state,
  -- rename.lua) drops the entry, and the pattern is called from then on
  local tp = TPCELLS
  for k = 1, NTP, 3 do
    local f = tp[k + 1]
    if f ~= false and not rawequal(C[tp[k]], tp[k + 2]) then
      K.TAGPATTERNS[f] = nil
      tp[k + 1] = false
    end
  end
end

-- ------------------------------------------------------------------ set-up

--- Number every runtime object and move the runtime's globals behind _G's metatable
-- (called once, after the prelude has set its globals, before the files load).
function K.markBuiltins()
  -- name: a path for the runtime tables process code sees (for the guards); nil
  -- below the runtime's internals, which change by design
  local function walk(v, name)
    local tv = type(v)
    if tv ~= "table" and tv ~= "function" then return end
    if BUILTIN[v] or NOTBUILTIN[v] then return end
    BLIST[#BLIST + 1] = v
    BUILTIN[v] = "B[" .. #BLIST .. "]"
    if tv == "table" then
      BNAME[v] = name
      local keys, n = sortedKeys(v)
      if keys then
        for i = 1, n do
          local k = keys[i]
          if not (v == _G and EXCLUDE[k]) then
            local child = nil
            if name ~= nil then child = (name == "_G") and tostring(k) or (name .. fmtKey(k)) end
            walk(rawget(v, k), child)
          end
        end
      end
      local mt = getmt(v)
      if mt ~= nil then walk(mt, name and (name .. " (metatable)")) end
    end
  end
  for k, v in rawnext, _G do
    if not EXCLUDE[k] then BASE[k] = v end
  end
  for k in rawnext, BASE do rawset(_G, k, nil) end
  local protect = function(_, k, v)
    if v == nil and BASE[k] ~= nil then
      K.unsupported("assigning nil to the runtime global '" .. tostring(k) .. "'", 2)
    end
    rawset(_G, k, v)
  end
  setmt(_G, { __index = BASE, __newindex = protect, __metatable = false })
  walk(BASE, "_G")
  walk(_G, "_G")
  walk(getmt(""), "string metatable")
  walk(K, nil)
end

--- Number the functions that exist after loading and the upvalue cells they close over.
function K.buildRegistry(userGlobalKeys)
  local visited = {}
  local walk
  local function walkFunction(f)
    if REG[f] then return end
    RLIST[#RLIST + 1] = f
    REG[f] = "F[" .. #RLIST .. "]"
    local j = 1
    while true do
      local name, x = getupvalue(f, j)
      if name == nil then break end
      local uid = upvalueid(f, j)
      if not RCELLID[uid] then
        local n = K.NRCELLS + 1
        K.NRCELLS = n
        RCELLF[n], RCELLI[n], RCELLNAME[n] = f, j, name
        RCELLID[uid] = n
      end
      walk(x)
      j = j + 1
    end
  end
  walk = function(v)
    local tv = type(v)
    if tv == "table" then
      if BUILTIN[v] or visited[v] then return end
      visited[v] = true
      local keys, n = sortedKeys(v)
      if keys then
        for i = 1, n do walk(rawget(v, keys[i])) end
      end
      local mt = userMeta(v)
      if mt ~= nil then walk(mt) end
    elseif tv == "function" then
      if BUILTIN[v] then return end
      if debug.getinfo(v, "S").what == "C" then return end
      walkFunction(v)
    end
  end
  local gkeys, ng = userGlobalKeys()
  for i = 1, ng do walk(rawget(_G, gkeys[i])) end
  walk(rawget(K.handlers, "list"))
  walk(K.modules)
  -- functions the files stored in runtime tables (string.trim = ..., Utils.x = ...)
  for i = 1, #BLIST do
    local t = BLIST[i]
    if type(t) == "table" and t ~= _G then
      local keys, n = sortedKeys(t)
      if keys then
        for j = 1, n do
          local x = rawget(t, keys[j])
          if not BUILTIN[x] then walk(x) end
        end
      end
    end
  end
  local tp = K.TAGPATTERNS
  for i = 1, #RLIST do
    local f = RLIST[i]
    if tp[f] ~= nil then
      local j = 1
      while true do
        local name, x = getupvalue(f, j)
        if name == nil then break end
        TPCELLS[NTP + 1], TPCELLS[NTP + 2], TPCELLS[NTP + 3] = RCELLID[upvalueid(f, j)], f, x
        NTP = NTP + 3
        j = j + 1
      end
    end
  end
end

-- Adding a field to a runtime table after loading raises AoUnsupported at the
-- assignment (a __newindex guard); the data fields of ao and Handlers (ao.id,
-- ao.authorities, ...), which a process might overwrite, are also compared after each
-- delivery. (Overwriting an existing function of a runtime table in a handler,
-- string.format = f or ao.send = f, is not detected.)
local WATCHED = {}

function K.installGuards()
  for i = 1, #BLIST do
    local t = BLIST[i]
    local name = BNAME[t]
    if type(t) == "table" and name ~= nil and t ~= _G and t ~= BASE and getmt(t) == nil then
      setmt(t, { __newindex = function(_, k)
        K.unsupported("adding the field " .. fmtKey(k) .. " to the runtime table " .. name
          .. " (runtime tables are not part of the process state)", 2)
      end })
    end
  end
  for _, t in ipairs({ K.ao, K.handlers }) do
    local keys, n = sortedKeys(t)
    for i = 1, n do
      local k = keys[i]
      local v = rawget(t, k)
      if type(v) ~= "function" and not (t == K.handlers and (k == "list" or k == "onceNonce")) then
        WATCHED[#WATCHED + 1] = { t, k, v }
      end
    end
  end
end

--- nil, or the name of a data field of ao or Handlers the delivery changed or removed
-- (the fields are put back: runtime tables are the same for every state).
function K.changedRuntimeTable()
  local changed = nil
  for i = 1, #WATCHED do
    local w = WATCHED[i]
    local t, k, v = w[1], w[2], w[3]
    if t[k] ~= v then   -- (guards have no __index or __eq: a plain read is exact)
      changed = changed or (BNAME[t] .. fmtKey(k))
      rawset(t, k, v)
    end
  end
  return changed
end
