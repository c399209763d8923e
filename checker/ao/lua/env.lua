--[[ env: the globals an aos process sees (besides Handlers, ao and json themselves).

  * math.random: xorshift64 seeded from the process id; its state (K.rng) is state.
  * os.time() = msg.Timestamp (ms; 0 while loading), os.date in UTC, os.time(table) as
    UTC; host access (io, os.clock, os.execute, dofile, package.loadlib, ...) is
    unsupported; the `python` table lupa provides is removed.
  * pairs/next (K.pairs, K.next: canonical order), tostring and string.format("%s")
    without addresses, print captured (first argument only, as aos's print).
  * coroutines: a coroutine created during a delivery gets the instruction budget too.
  * require (see runtime.py), aos's globals (Colors, Bell, Dump, Utils, Handlers, ao,
    json unless variant "require-json", Send, Spawn, Receive, Assign, Tab, Prompt,
    Version) and Checker.
  * the instruction budget: a count hook; after it runs out it fires at every
    instruction and raises whenever process code (not the runtime) is running, so a
    pcall in process code cannot swallow it.
]]
local K = ...

local rawget, type, tostring, ipairs, select, error = rawget, type, tostring, ipairs, select, error
local getinfo, sethook = debug.getinfo, debug.sethook
local byte, sub = string.byte, string.sub
local concat = table.concat
local floor = math.floor

local config = K.config
local json, utils, handlers, ao = K.json, K.utils, K.handlers, K.ao
local fnMeta = K.fnMeta

-- ------------------------------------------------------------------ instruction budget

local BUDGET = config.budget
K.budgetText = "instruction budget of " .. tostring(BUDGET) .. " exceeded (endless loop?)"

local budgetHook
budgetHook = function()
  if not K.exhausted then
    K.exhausted = true
    sethook(budgetHook, "", 1)
  end
  local info = getinfo(2, "f")
  if info ~= nil and info.func and fnMeta(info.func) then error(K.budgetText, 0) end
end

function K.startBudget()
  K.exhausted = false
  K.budgetOn = true
  sethook(budgetHook, "", BUDGET)
end

function K.stopBudget()
  K.budgetOn = false
  sethook()
end


function K.sendVia()
  local a = _G.ao
  if type(a) == "table" and type(a.send) == "function" then return a.send end
  return ao.send
end

-- ------------------------------------------------------------------ the globals

local function unsupportedFn(what)
  return function() K.unsupported(what, 2) end
end

-- deterministic math.random: xorshift64, seeded from the process id (state: K.rng)
local function seedOf(s)
  local h = -3750763034362895579 -- FNV-1a offset basis
  for i = 1, #s do h = (h ~ byte(s, i)) * 1099511628211 end
  if h == 0 then h = 1 end
  return h
end
K.rng = seedOf(config.pid)

local function nextUnit()
  local x = K.rng
  x = x ~ (x << 13)
  x = x ~ (x >> 7)
  x = x ~ (x << 17)
  K.rng = x
  return (x >> 11) / 9007199254740992.0
end

math.random = function(m, n)
  local f = nextUnit()
  if m == nil then return f end
  local lo, hi
  if n == nil then
    lo, hi = 1, math.tointeger(m)
  else
    lo, hi = math.tointeger(m), math.tointeger(n)
  end
  if lo == nil or hi == nil then error("bad argument to 'random' (number has no integer representation)", 2) end
  if lo > hi then error("bad argument #" .. (n == nil and 1 or 2) .. " to 'random' (interval is empty)", 2) end
  return lo + floor(f * (hi - lo + 1.0))
end
math.randomseed = function(x) K.rng = seedOf(tostring(x)) end

-- os: time is the message's Timestamp (milliseconds), dates are UTC
local realDate, realDifftime = os.date, os.difftime
local function utcTime(t)
  local function field(name, default)
    local v = t[name]
    if v == nil then
      if default == nil then error("field '" .. name .. "' missing in date table", 3) end
      return default
    end
    return math.tointeger(v) or error("field '" .. name .. "' is not an integer", 3)
  end
  local y, m, d = field("year"), field("month"), field("day")
  local hour, min, sec = field("hour", 12), field("min", 0), field("sec", 0)
  y = y + (m - 1) // 12
  m = (m - 1) % 12 + 1
  if m <= 2 then y = y - 1 end
  local era = y // 400
  local yoe = y - era * 400
  local doy = (153 * ((m + 9) % 12) + 2) // 5 + d - 1
  local doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
  return (era * 146097 + doe - 719468) * 86400 + hour * 3600 + min * 60 + sec
end
local function now()
  local m = K.msg
  if m == nil then return 0 end
  return rawget(m, "Timestamp")
end
os = {
  time = function(t)
    if t == nil then return now() end
    return utcTime(t)
  end,
  date = function(fmt, t)
    fmt = fmt or "%c"
    if sub(fmt, 1, 1) ~= "!" then fmt = "!" .. fmt end
    if t == nil then t = (math.tointeger(now()) or 0) // 1000 end
    return realDate(fmt, t)
  end,
  difftime = realDifftime,
  getenv = function() return nil end,
  clock = unsupportedFn("os.clock (host time)"),
  execute = unsupportedFn("os.execute"),
  exit = unsupportedFn("os.exit"),
  remove = unsupportedFn("os.remove (files)"),
  rename = unsupportedFn("os.rename (files)"),
  tmpname = unsupportedFn("os.tmpname (files)"),
  setlocale = unsupportedFn("os.setlocale"),
}
io = {}
for _, name in ipairs({ "close", "flush", "input", "lines", "open", "output", "popen", "read", "tmpfile", "type", "write" }) do
  io[name] = unsupportedFn("io." .. name .. " (files and streams)")
end
-- load: text chunks only (binary chunks are not checked by Lua and can crash it)
local realLoad = load
load = function(chunk, name, mode, ...)
  if select("#", ...) > 0 then return realLoad(chunk, name, "t", ...) end
  return realLoad(chunk, name, "t")
end
-- the instruction budget is the runtime's count hook
debug.sethook = unsupportedFn("debug.sethook (the runtime's instruction budget uses the hook)")
debug.debug = unsupportedFn("debug.debug (interactive)")
dofile = unsupportedFn("dofile (files)")
loadfile = unsupportedFn("loadfile (files)")
python = nil
package.loaded.python = nil
package.loaded.io, package.loaded.os = io, os
package.loadlib = unsupportedFn("package.loadlib (C libraries)")

-- string.format("%s", t) would print an address: tables, functions and threads go
-- through the runtime's tostring first
local realFormat = string.format
string.format = function(fmt, ...)
  local n = select("#", ...)
  for i = 1, n do
    local tv = type((select(i, ...)))
    if tv == "table" or tv == "function" or tv == "thread" or tv == "userdata" then
      local args = table.pack(...)
      for j = 1, n do
        local tj = type(args[j])
        if tj == "table" or tj == "function" or tj == "thread" or tj == "userdata" then args[j] = K.tostring(args[j]) end
      end
      return realFormat(fmt, table.unpack(args, 1, n))
    end
  end
  return realFormat(fmt, ...)
end

local rawcreate, rawresume = coroutine.create, coroutine.resume
coroutine.create = function(f)
  local co = rawcreate(f)
  if K.budgetOn then sethook(co, budgetHook, "", BUDGET) end
  return co
end
coroutine.wrap = function(f)
  local co = coroutine.create(f)
  return function(...)
    local r = table.pack(rawresume(co, ...))
    if not r[1] then error(r[2], 0) end
    return table.unpack(r, 2, r.n)
  end
end

pairs = K.pairs
next = K.next
rawset(_G, "tostring", K.tostring)
print = function(a) K.print(a) end

-- require: the runtime's modules, then the loaded files by module name
K.modules = {}
K.NOTBUILTIN[K.modules] = true
local BUILTIN_MODULES = {
  json = json, ao = ao, [".ao"] = ao, [".utils"] = utils, [".handlers"] = handlers,
  [".handlers-utils"] = K.hutils, string = string, table = table, math = math,
  coroutine = coroutine, utf8 = utf8, os = os, debug = debug,
}
local AOS_ONLY = { ".bint", ".crypto", ".crypto.init", ".base64", ".pretty", ".stringify", ".dump",
  ".chance", ".eval", ".process", ".boot", ".default", ".assignment", "bint", "crypto", "base64" }
local AOS_ONLY_SET = {}
for _, n in ipairs(AOS_ONLY) do AOS_ONLY_SET[n] = true end

local files = { names = {}, sources = {}, modnames = {}, state = {} }
K.files = files

require = function(name)
  if type(name) ~= "string" then error("bad argument #1 to 'require' (string expected, got " .. type(name) .. ")", 2) end
  local b = BUILTIN_MODULES[name]
  if b ~= nil then return b end
  local idx = files.modnames[name]
  if idx == 0 then
    K.runtimeError("module name '" .. name .. "' is ambiguous among the loaded files (required at " .. K.userWhere(2) .. ")")
  end
  if idx ~= nil then
    local st = files.state[idx]
    if st == "done" then return K.modules[idx] end
    if st == "running" then
      K.runtimeError("require loop: '" .. name .. "' is still loading (required at " .. K.userWhere(2) .. ")")
    end
    K.runFile(idx)
    return K.modules[idx]
  end
  if AOS_ONLY_SET[name] then
    K.unsupported("the aos module '" .. name .. "'", 2)
  end
  local known = {}
  for k in K.pairs(BUILTIN_MODULES) do known[#known + 1] = k end
  for k in K.pairs(files.modnames) do known[#known + 1] = k end
  K.runtimeError("unknown module '" .. name .. "' (required at " .. K.userWhere(2) .. "); known: " .. concat(known, ", "))
end

-- aos's globals
Colors = { red = "\27[31m", green = "\27[32m", blue = "\27[34m", reset = "\27[0m", gray = "\27[90m" }
Bell = "\x07"
Dump = K.render
Utils = utils
Handlers = handlers
rawset(_G, "ao", ao)
if config.variant ~= "require-json" then rawset(_G, "json", json) end

function Send(msg)
  if not msg.Target then
    K.print("WARN: No target specified for message. Data will be stored, but no process will receive it.")
  end
  local result = K.sendVia()(msg)
  return { output = "Message added to outbox", receive = result.receive, onReply = result.onReply }
end
Spawn = unsupportedFn("Spawn (spawning a process)")
Receive = unsupportedFn("Receive (a handler waiting for another message)")
Assign = unsupportedFn("Assign (assignments)")

function Tab(msg)
  local inputs = {}
  for _, o in ipairs(msg.Tags) do
    if inputs[o.name] == nil then inputs[o.name] = o.value end
  end
  return inputs
end
function Prompt() return "aos> " end
function Version() K.print("version: aos 2.0 (tim3check runtime, variant " .. config.variant .. ")") end

--- Not part of aos (nil there): the checker's hook for modelled refusals in stand-in
-- processes. Checker.fault(name) is true when the checker decides that fault happens.
Checker = {
  fault = function(name)
    if type(name) ~= "string" then error("Checker.fault: the fault name must be a string", 2) end
    local h = K.hook
    if h == nil then return false end
    return h(name) == true
  end,
}

