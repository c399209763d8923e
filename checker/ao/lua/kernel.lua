--[[ Kernel: helpers every prelude module shares.

  * where: "file:line" of the first frame that is process code (not "[ao]/...").
  * unsupported / runtime errors: recorded in K.flagged before they are raised, so the
    Python side reports them even if process code catches the Lua error with pcall.
  * deterministic iteration: pairs() and next() visit keys in (type, value) order
    (booleans, then numbers, then strings; K.reversed flips it), never in Lua's
    hash order, which depends on a per-runtime string-hash seed.
]]
local K = ...

local rawnext, rawget, type, tostring = next, rawget, type, tostring
local mtype = math.type
local find, sub = string.find, string.sub
local sort = table.sort
local getinfo = debug.getinfo

local PRELUDE = "=[ao]/"
K.PRELUDE = PRELUDE
K.rawnext = rawnext
K.rawpairs = pairs

local function isPrelude(source)
  return find(source, PRELUDE, 1, true) == 1
end
K.isPrelude = isPrelude

local function srcName(info)
  local s = info.source
  local c = sub(s, 1, 1)
  if c == "=" or c == "@" then return sub(s, 2) end
  return info.short_src
end
K.srcName = srcName

-- function -> its source name when it is process code, false for the runtime and C
local FNMETA = setmetatable({}, { __mode = "k" })
local FNWHERE = setmetatable({}, { __mode = "k" })

local function fnMeta(f)
  local m = FNMETA[f]
  if m == nil then
    local info = getinfo(f, "S")
    if info.what == "C" or isPrelude(info.source) then m = false else m = srcName(info) end
    FNMETA[f] = m
  end
  return m
end
K.fnMeta = fnMeta

--- "file:line" of the first process-code frame at or above `level` (1 = caller).
function K.userWhere(level)
  level = (level or 1) + 1
  while true do
    local info = getinfo(level, "fl")
    if info == nil then return "?" end
    local f = info.func
    local name = f and fnMeta(f)
    if name then return name .. ":" .. tostring(info.currentline) end
    level = level + 1
  end
end

--- "file:line" where function f is defined.
function K.fnWhere(f)
  if type(f) ~= "function" then return "?" end
  local w = FNWHERE[f]
  if w == nil then
    local info = getinfo(f, "S")
    if info.what == "C" then w = "[C]" else w = srcName(info) .. ":" .. tostring(info.linedefined) end
    FNWHERE[f] = w
  end
  return w
end

--- Report a feature the runtime does not implement (AoUnsupported on the Python side).
function K.unsupported(feature, level)
  local text = "unsupported: " .. feature .. " at " .. K.userWhere(1)
  if K.flagged == nil then K.flagged = { "unsupported", text } end
  error(text, 0)
end

--- Report a set-up problem such as an unknown module (AoRuntimeError on the Python side).
function K.runtimeError(text)
  if K.flagged == nil then K.flagged = { "runtime", text } end
  error(text, 0)
end

-- ------------------------------------------------------------------ ordering

local RANK = { boolean = 1, number = 2, string = 3 }

local function keyLess(a, b)
  local ta, tb = type(a), type(b)
  if ta == tb then
    if ta == "boolean" then return (not a) and b end
    return a < b
  end
  return RANK[ta] < RANK[tb]
end
K.keyLess = keyLess

--- The keys of t in canonical order, or nil and an offending key (a table, function...).
-- Integer keys 1..skip are left out when skip is given; `into` is a scratch array to
-- fill (entries past the returned count are stale). Small sets: insertion sort.
function K.sortedKeys(t, skip, into)
  local keys, n, kinds = into or {}, 0, 0
  skip = skip or 0
  for k in rawnext, t do
    local tk = type(k)
    if tk == "string" then
      kinds = kinds | 1
      n = n + 1
      keys[n] = k
    elseif tk == "number" then
      if skip == 0 or not (mtype(k) == "integer" and k >= 1 and k <= skip) then
        kinds = kinds | 2
        n = n + 1
        keys[n] = k
      end
    elseif tk == "boolean" then
      kinds = kinds | 4
      n = n + 1
      keys[n] = k
    else
      return nil, k
    end
  end
  if n < 2 then return keys, n end
  local plain = kinds == 1 or kinds == 2
  if n <= 12 then
    for i = 2, n do
      local x = keys[i]
      local j = i - 1
      if plain then
        while j > 0 and x < keys[j] do
          keys[j + 1] = keys[j]
          j = j - 1
        end
      else
        while j > 0 and keyLess(x, keys[j]) do
          keys[j + 1] = keys[j]
          j = j - 1
        end
      end
      keys[j + 1] = x
    end
    return keys, n
  end
  local j = n + 1
  while keys[j] ~= nil do
    keys[j] = nil
    j = j + 1
  end
  if plain then sort(keys) else sort(keys, keyLess) end
  return keys, n
end

local sortedKeys = K.sortedKeys

local function unorderable(what, key)
  K.unsupported(what .. " over a table with a " .. type(key) .. " key (no deterministic order)", 3)
end

--- pairs() in canonical order (honours __pairs, as Lua 5.3's pairs does).
-- Cost: the keys are collected and sorted at every call, O(n log n).
function K.pairs(t)
  local mt = debug.getmetatable(t)
  if mt ~= nil then
    local h = rawget(mt, "__pairs")
    if h ~= nil then
      local f, s, c = h(t)
      return f, s, c
    end
  end
  if type(t) ~= "table" then
    error("bad argument #1 to 'pairs' (table expected, got " .. type(t) .. ")", 2)
  end
  local keys, n = sortedKeys(t)
  if keys == nil then unorderable("pairs()", n) end
  local i, step = 0, 1
  if K.reversed then i, step = n + 1, -1 end
  return function()
    while true do
      i = i + step
      local k = keys[i]
      if k == nil then return nil end
      local v = rawget(t, k)
      if v ~= nil then return k, v end
    end
  end, t, nil
end

--- next() in canonical order: the key after k (the first when k is nil). O(n) a call.
function K.next(t, k)
  if type(t) ~= "table" then
    error("bad argument #1 to 'next' (table expected, got " .. type(t) .. ")", 2)
  end
  if rawnext(t) == nil then return nil end
  local rev = K.reversed
  local best
  for key in rawnext, t do
    local tk = type(key)
    if RANK[tk] == nil then unorderable("next()", key) end
    if k == nil or (rev and keyLess(key, k)) or (not rev and keyLess(k, key)) then
      if best == nil or (rev and keyLess(best, key)) or (not rev and keyLess(key, best)) then
        best = key
      end
    end
  end
  if best == nil then return nil end
  return best, rawget(t, best)
end

-- ------------------------------------------------------------------ rendering

local function renderValue(v, depth, seen)
  local tv = type(v)
  if tv == "string" then return string.format("%q", v) end
  if tv ~= "table" then return K.tostring(v) end
  if seen[v] then return "<cycle>" end
  if depth > 8 then return "{...}" end
  seen[v] = true
  local keys, n = sortedKeys(v)
  if keys == nil then seen[v] = nil return K.tostring(v) end
  local parts = {}
  for i = 1, n do
    local key = keys[i]
    local ks
    if type(key) == "string" and find(key, "^[%a_][%w_]*$") then ks = key
    else ks = "[" .. renderValue(key, depth + 1, seen) .. "]" end
    parts[i] = ks .. " = " .. renderValue(rawget(v, key), depth + 1, seen)
  end
  seen[v] = nil
  if n == 0 then return "{}" end
  return "{ " .. table.concat(parts, ", ") .. " }"
end

--- A deterministic rendering of any value (tables with sorted keys), for print().
function K.render(v)
  if type(v) == "string" then return v end
  return renderValue(v, 0, {})
end

-- tostring() without addresses: tables, functions and threads get a number counted
-- from the start of the delivery (deterministic for one state and message).
local rawtostring = tostring
local addr = nil

function K.resetAddresses()
  addr = nil
  K.addrCount = 0
end
K.addrCount = 0

function K.tostring(v)
  local tv = type(v)
  if tv == "table" or tv == "function" or tv == "thread" or tv == "userdata" then
    local mt = debug.getmetatable(v)
    if mt ~= nil and rawget(mt, "__tostring") ~= nil then return rawtostring(v) end
    if addr == nil then addr = setmetatable({}, { __mode = "k" }) end
    local a = addr[v]
    if a == nil then
      K.addrCount = K.addrCount + 1
      a = string.format("0x%08x", K.addrCount)
      addr[v] = a
    end
    return tv .. ": " .. a
  end
  return rawtostring(v)
end
