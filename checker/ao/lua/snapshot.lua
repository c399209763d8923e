--[[ Snapshot: the process state as canonical text.

  Text layout (Snapshot.text):
    line 1   "--" and the JSON view of the user globals (what Snapshot.decode reads):
             a table is a JSON array [k1, v1, k2, v2, ...] (positional keys 1..n
             first, then the others in canonical order), a string's bytes that are not
             UTF-8 are \udcXX escapes (Python's surrogateescape), functions and
             runtime objects are left out, and a table
             reached again inside itself (a cycle: Class.__index = Class) is null there.
    the rest a Lua chunk that rebuilds the state (state.lua's K.restore):
             "return {V=..., H=..., O=..., R=..., M=..., C={...}, G={...}}": the
             fingerprint of the process's code (a restore checks it), the handler
             list, Handlers.onceNonce, the PRNG state, the loaded modules' values, the
             upvalue cells of the load-time functions, the user globals.
  Tree mode (no table reached twice, no closure created after loading): every table
  is written inline. Graph mode otherwise: "local S={...}" declares the shared tables
  ({}) and the later closures (N"prototype"), statements fill them (X(S[i],{...})) and
  set or join the closures' upvalues (U, J, UJ), so identity and cycles survive.
  Atoms: B[i] a runtime object, F[i] a load-time function, M{...} a message table
  (msg.reply/forward reattached), T({...},mt) a table with a metatable, MR(m,"reply")
  a message's reply/forward function held elsewhere.

  Canonical: keys in (type, value) order (booleans, numbers, strings), integers as
  "%d", floats as "%.17g" with ".0" when integral, strings with \xNN escapes for
  control characters, quotes, backslashes and bytes >= 128; graph-mode numbers in
  first-visit order.

  Speed: the handler list and the upvalue cells rarely change, so their text is reused
  when every field compares equal (rawequal) to the last serialization and holds only
  atoms; strings and keys are formatted through memo tables.
]]
local K = ...

local rawnext, rawget, rawequal, type, tostring, _G = next, rawget, rawequal, type, tostring, _G
local mtype = math.type
local format, find, gsub, char, byte = string.format, string.find, string.gsub, string.char, string.byte
local concat = table.concat
local getupvalue, upvalueid = debug.getupvalue, debug.upvalueid
local getmetatable = debug.getmetatable
local huge, minint = math.huge, math.mininteger
local sortedKeys, keyLess = K.sortedKeys, K.keyLess
local BUILTIN, REG, MSGS, MSGFN = K.BUILTIN, K.REG, K.MSGS, K.MSGFN
local RCELLF, RCELLI, RCELLID = K.RCELLF, K.RCELLI, K.RCELLID
local EXCLUDE = K.EXCLUDE
local userMeta, ownMsgFn, stateProblem = K.userMeta, K.ownMsgFn, K.stateProblem
local FINGERPRINT

-- ------------------------------------------------------------------ scalars

local ESC = {}
for i = 0, 255 do ESC[char(i)] = format("\\x%02x", i) end
local JESC = {}
for i = 0, 31 do JESC[char(i)] = format("\\u%04x", i) end
JESC['"'] = '\\"'
JESC["\\"] = "\\\\"

local MEMO_MAX = 20000
local QC, JC, LKC, QN, JN, LKN = {}, {}, {}, 0, 0, 0

local quote

quote = function(s)
  local q = QC[s]
  if q then return q end
  if find(s, '[%c"\\\128-\255]') then q = '"' .. gsub(s, '[%c"\\\128-\255]', ESC) .. '"' else q = '"' .. s .. '"' end
  QN = QN + 1
  if QN > MEMO_MAX then QC, QN = {}, 0 end
  QC[s] = q
  return q
end

-- A JSON string literal Python decodes to exactly the str that
-- bytes.decode("utf-8", "surrogateescape") gives: valid UTF-8 (RFC 3629: no overlong
-- forms, no surrogates, nothing above U+10FFFF) as it is, every other byte b as the
-- escape of the lone surrogate U+DC00 + b.
local function seqLen(s, i)
  local b = byte(s, i)
  if b < 0x80 then return 1 end
  local lo, hi, n = 0x80, 0xBF, 0
  if b >= 0xC2 and b <= 0xDF then n = 1
  elseif b == 0xE0 then n, lo = 2, 0xA0
  elseif (b >= 0xE1 and b <= 0xEC) or b == 0xEE or b == 0xEF then n = 2
  elseif b == 0xED then n, hi = 2, 0x9F
  elseif b == 0xF0 then n, lo = 3, 0x90
  elseif b >= 0xF1 and b <= 0xF3 then n = 3
  elseif b == 0xF4 then n, hi = 3, 0x8F
  else return 0 end
  for k = 1, n do
    local c = byte(s, i + k)
    if c == nil or c < lo or c > hi then return 0 end
    lo, hi = 0x80, 0xBF
  end
  return n + 1
end

local function escapeInvalidUtf8(s)
  local out, n, i, len = {}, 0, 1, #s
  while i <= len do
    local l = seqLen(s, i)
    n = n + 1
    if l == 0 then
      out[n] = format("\\udc%02x", byte(s, i))
      i = i + 1
    else
      out[n] = gsub(s:sub(i, i + l - 1), '[\0-\31"\\]', JESC)
      i = i + l
    end
  end
  return concat(out)
end

local function jstr(s)
  local q = JC[s]
  if q then return q end
  if find(s, "[\128-\255]") then
    q = '"' .. escapeInvalidUtf8(s) .. '"'
  elseif find(s, '[\0-\31"\\]') then
    q = '"' .. gsub(s, '[\0-\31"\\]', JESC) .. '"'
  else
    q = '"' .. s .. '"'
  end
  JN = JN + 1
  if JN > MEMO_MAX then JC, JN = {}, 0 end
  JC[s] = q
  return q
end
K.jsonString = jstr
FINGERPRINT = quote(K.config.fingerprint)

local function floatText(v)
  local s = format("%.17g", v)
  if not find(s, "[%.eEn]") then s = s .. ".0" end
  return s
end

local function num(v)
  if mtype(v) == "integer" then
    if v == minint then return "MININT" end
    return v .. ""
  end
  if v ~= v then return "NAN" end
  if v == huge then return "INF" end
  if v == -huge then return "(-INF)" end
  return floatText(v)
end
K.formatNumber = num

local function jnum(v)
  if mtype(v) == "integer" then return v .. "" end
  if v ~= v then return "NaN" end
  if v == huge then return "Infinity" end
  if v == -huge then return "-Infinity" end
  return floatText(v)
end
K.jsonNumber = jnum

local KEYWORDS = {}
for w in ("and break do else elseif end false for function goto if in local nil not or "
  .. "repeat return then true until while"):gmatch("%a+") do KEYWORDS[w] = true end

local function lkey(k)
  local tk = type(k)
  if tk == "string" then
    local s = LKC[k]
    if s then return s end
    if not KEYWORDS[k] and find(k, "^[%a_][%w_]*$") then s = k .. "=" else s = "[" .. quote(k) .. "]=" end
    LKN = LKN + 1
    if LKN > MEMO_MAX then LKC, LKN = {}, 0 end
    LKC[k] = s
    return s
  elseif tk == "number" then
    return "[" .. num(k) .. "]="
  end
  return k and "[true]=" or "[false]="
end

local function jkey(k)
  local tk = type(k)
  if tk == "string" then return jstr(k) end
  if tk == "number" then return jnum(k) end
  return k and "true" or "false"
end

-- ------------------------------------------------------------------ emission

local RETRY = setmetatable({}, { __name = "retry in graph mode" })
local seen                                            -- tree mode: tables visited
local count, ids, queue, nids, cellseen, cellOwner    -- graph mode
local depth, scratch = 0, {}

local enc

local function newId(obj)
  nids = nids + 1
  local id = "S[" .. nids .. "]"
  ids[obj] = id
  queue[nids] = obj
  return id
end

-- The constructor "{...}" of t (and its JSON view when j).
local function encBody(t, j)
  local len = 0
  local plainTable = getmetatable(t) == nil   -- plain indexing is faster than rawget
  if plainTable then
    while t[len + 1] ~= nil do len = len + 1 end
  else
    while rawget(t, len + 1) ~= nil do len = len + 1 end
  end
  depth = depth + 1
  local keys = scratch[depth]
  if keys == nil then
    keys = {}
    scratch[depth] = keys
  end
  local nk
  keys, nk = sortedKeys(t, len, keys)
  if keys == nil then
    depth = 0
    stateProblem("a " .. type(nk) .. " used as a table key", t)
  end
  local ismsg = MSGS[t]
  local lp, np, jp, nj = {}, 0, nil, 0
  if j then jp = {} end
  for i = 1, len do
    local lv, jv = enc(plainTable and t[i] or rawget(t, i), j)
    np = np + 1
    lp[np] = lv
    if jv then
      nj = nj + 1
      jp[nj] = i .. "," .. jv
    end
  end
  for i = 1, nk do
    local k = keys[i]
    local v
    if plainTable then v = t[k] else v = rawget(t, k) end
    if not (ismsg and (k == "reply" or k == "forward") and ownMsgFn(v, t)) then
      local lv, jv = enc(v, j)
      np = np + 1
      lp[np] = lkey(k) .. lv
      if jv then
        nj = nj + 1
        jp[nj] = jkey(k) .. "," .. jv
      end
    end
  end
  depth = depth - 1
  if j then return "{" .. concat(lp, ",") .. "}", "[" .. concat(jp, ",") .. "]" end
  return "{" .. concat(lp, ",") .. "}"
end

-- A metatable whose effect depends on the garbage collector cannot be state.
local function checkMeta(mt, t)
  if type(mt) == "table" and not BUILTIN[mt] then
    if rawget(mt, "__gc") ~= nil then
      depth = 0
      stateProblem("a table with a __gc finalizer (it would run at garbage-collection time)", t)
    end
    if rawget(mt, "__mode") ~= nil then
      depth = 0
      stateProblem("a weak table (__mode: its contents depend on garbage collection)", t)
    end
  end
end

local function encTable(t, j)
  local body, jbody = encBody(t, j)
  if MSGS[t] then return "M(" .. body .. ")", jbody end
  local mt = userMeta(t)
  if mt ~= nil then
    checkMeta(mt, t)
    return "T(" .. body .. "," .. enc(mt) .. ")", jbody
  end
  return body, jbody
end

--- Lua text of v (and its JSON view when j; nil when the view leaves v out).
enc = function(v, j)
  local tv = type(v)
  if tv == "string" then
    if j then return quote(v), jstr(v) end
    return quote(v)
  elseif tv == "number" then
    if j then return num(v), jnum(v) end
    return num(v)
  elseif tv == "boolean" then
    local s = v and "true" or "false"
    if j then return s, s end
    return s
  elseif tv == "table" then
    local b = BUILTIN[v]
    if b then return b end
    if ids then
      local id = ids[v]
      if id then return id end
      if count[v] > 1 then return newId(v) end
    else
      if seen[v] then error(RETRY, 0) end
      seen[v] = true
    end
    return encTable(v, j)
  elseif tv == "function" then
    local b = BUILTIN[v] or REG[v]
    if b then return b end
    local mf = MSGFN[v]
    if mf then return "MR(" .. enc(mf) .. "," .. quote(K.MSGKIND[v]) .. ")" end
    if not ids then error(RETRY, 0) end
    return ids[v] or newId(v)
  elseif tv == "nil" then
    if j then return "nil", "null" end
    return "nil"
  end
  depth = 0
  stateProblem("a " .. tv .. " value", v)
end

local function isAtom(v)
  local tv = type(v)
  if tv == "function" then return BUILTIN[v] ~= nil or REG[v] ~= nil end
  return tv ~= "table" and tv ~= "thread" and tv ~= "userdata"
end

-- the handler list: its text is reused while every entry compares equal
local HN, HTEXT, HNAME, HPAT, HHANDLE, HMAX, HKEYS = -1, nil, {}, {}, {}, {}, {}
local ENTRYKEYS = { name = true, pattern = true, handle = true, maxRuns = true }

-- (entries without metatables hold only atoms, so plain indexing and == are exact)
local function cachedList(list)
  if HTEXT == nil or ids ~= nil or type(list) ~= "table" or BUILTIN[list] or seen[list] then return nil end
  if getmetatable(list) ~= nil then return nil end
  local n = 0
  for _ in rawnext, list do n = n + 1 end
  if n ~= HN then return nil end
  for i = 1, n do
    local e = list[i]
    if type(e) ~= "table" or seen[e] or getmetatable(e) ~= nil or MSGS[e] then return nil end
    if e.name ~= HNAME[i] or e.pattern ~= HPAT[i] or e.handle ~= HHANDLE[i] or e.maxRuns ~= HMAX[i] then
      return nil
    end
    local c = 0
    for _ in rawnext, e do c = c + 1 end
    if c ~= HKEYS[i] then return nil end
  end
  seen[list] = true
  for i = 1, n do seen[list[i]] = true end
  return HTEXT
end

local function rememberList(list, text)
  HTEXT = nil
  if ids ~= nil or type(list) ~= "table" or BUILTIN[list] or userMeta(list) ~= nil then return end
  local n = 0
  for k in rawnext, list do
    n = n + 1
    if mtype(k) ~= "integer" then return end
  end
  for i = 1, n do
    local e = rawget(list, i)
    if type(e) ~= "table" or userMeta(e) ~= nil or MSGS[e] then return end
    local c = 0
    for k, v in rawnext, e do
      if not ENTRYKEYS[k] or not isAtom(v) then return end
      c = c + 1
    end
    HNAME[i], HPAT[i], HHANDLE[i], HMAX[i], HKEYS[i] = rawget(e, "name"), rawget(e, "pattern"),
      rawget(e, "handle"), rawget(e, "maxRuns"), c
  end
  HN, HTEXT = n, text
end

local function encList(list)
  local text = cachedList(list)
  if text then return text end
  text = enc(list)
  rememberList(list, text)
  return text
end

-- the upvalue cells of the load-time functions: atoms' texts are reused
local CVAL, CTEXT = {}, {}

local function encCells()
  local parts = {}
  for i = 1, K.NRCELLS do
    local _, x = getupvalue(RCELLF[i], RCELLI[i])
    local t = CTEXT[i]
    if t == nil or not rawequal(CVAL[i], x) or ids ~= nil then
      t = enc(x)
      if ids == nil and isAtom(x) then CVAL[i], CTEXT[i] = x, t else CVAL[i], CTEXT[i] = nil, nil end
    end
    parts[i] = t
  end
  return "{" .. concat(parts, ",") .. "}"
end

--- The user globals' names in canonical order.
function K.userGlobalKeys()
  local keys, n = {}, 0
  local allStrings = true
  for k in rawnext, _G do
    if not EXCLUDE[k] then
      n = n + 1
      keys[n] = k
      local tk = type(k)
      if tk ~= "string" then
        allStrings = false
        if tk ~= "number" and tk ~= "boolean" then stateProblem("a " .. tk .. " used as a global name", k) end
      end
    end
  end
  if n > 1 then
    if allStrings then table.sort(keys) else table.sort(keys, keyLess) end
  end
  return keys, n
end
local userGlobalKeys = K.userGlobalKeys

-- "return {H=...,G={...}}" and, when j, the JSON view of the globals.
local function encRoots(gkeys, ng, j)
  local h = encList(rawget(K.handlers, "list"))
  local o = enc(rawget(K.handlers, "onceNonce"))
  local m = enc(K.modules)
  local c = encCells()
  local lp, jp = {}, {}
  local nj = 0
  for i = 1, ng do
    local k = gkeys[i]
    local lv, jv = enc(rawget(_G, k), j)
    lp[i] = lkey(k) .. lv
    if jv then
      nj = nj + 1
      jp[nj] = jkey(k) .. "," .. jv
    end
  end
  local text = "{V=" .. FINGERPRINT .. ",H=" .. h .. ",O=" .. o .. ",R=" .. num(K.rng) .. ",M=" .. m .. ",C=" .. c
    .. ",G={" .. concat(lp, ",") .. "}}"
  if j then return text, "[" .. concat(jp, ",") .. "]" end
  return text
end

local function countRefs(v)
  local tv = type(v)
  if tv == "table" then
    if BUILTIN[v] then return end
    local c = count[v]
    if c then
      count[v] = c + 1
      return
    end
    count[v] = 1
    local ismsg = MSGS[v]
    for _, x in rawnext, v do
      if not (ismsg and ownMsgFn(x, v)) then countRefs(x) end
    end
    local mt = userMeta(v)
    if mt ~= nil then countRefs(mt) end
  elseif tv == "function" then
    if BUILTIN[v] or REG[v] then return end
    local mf = MSGFN[v]
    if mf then
      countRefs(mf)
      return
    end
    local c = count[v]
    if c then
      count[v] = c + 1
      return
    end
    count[v] = 1
    local j = 1
    while true do
      local name, x = getupvalue(v, j)
      if name == nil then break end
      local uid = upvalueid(v, j)
      if not RCELLID[uid] and not cellseen[uid] then
        cellseen[uid] = true
        countRefs(x)
      end
      j = j + 1
    end
  end
end

local function definition(i)
  local obj = queue[i]
  local id = "S[" .. i .. "]"
  if type(obj) == "table" then
    local body = encBody(obj)
    local mt = userMeta(obj)
    if MSGS[obj] then return "X(" .. id .. "," .. body .. ",nil,true)\n" end
    if mt ~= nil then
      checkMeta(mt, obj)
      return "X(" .. id .. "," .. body .. "," .. enc(mt) .. ")\n"
    end
    return "X(" .. id .. "," .. body .. ")\n"
  end
  local out = {}
  local j = 1
  while true do
    local name, x = getupvalue(obj, j)
    if name == nil then break end
    local uid = upvalueid(obj, j)
    local rc = RCELLID[uid]
    if rc then
      out[j] = format("J(%s,%d,%d)\n", id, j, rc)
    else
      local owner = cellOwner[uid]
      if owner then
        out[j] = format("UJ(%s,%d,S[%d],%d)\n", id, j, owner[1], owner[2])
      else
        cellOwner[uid] = { i, j }
        out[j] = format("U(%s,%d,", id, j) .. enc(x) .. ")\n"
      end
    end
    j = j + 1
  end
  return concat(out)
end

local function encGraph(gkeys, ng)
  count, cellseen = {}, {}
  countRefs(rawget(K.handlers, "list"))
  countRefs(K.modules)
  for i = 1, K.NRCELLS do
    local _, x = getupvalue(RCELLF[i], RCELLI[i])
    countRefs(x)
  end
  for i = 1, ng do countRefs(rawget(_G, gkeys[i])) end
  ids, queue, nids, cellOwner = {}, {}, 0, {}
  local roots = encRoots(gkeys, ng, false)
  local defs = {}
  local i = 1
  while i <= nids do
    defs[i] = definition(i)
    i = i + 1
  end
  local kinds = {}
  for k = 1, nids do
    local obj = queue[k]
    kinds[k] = type(obj) == "table" and "{}" or ("N" .. quote(K.protoKey(obj)))
  end
  local text = "local S={" .. concat(kinds, ",") .. "}\n" .. concat(defs) .. "return " .. roots
  count, cellseen, ids, queue, cellOwner = nil, nil, nil, nil, nil
  return text
end

-- ------------------------------------------------------------------ JSON view (graph mode)

local function skipped(v)
  local tv = type(v)
  return tv == "function" or tv == "thread" or tv == "userdata" or (tv == "table" and BUILTIN[v] ~= nil)
end

local function jvalue(v, visiting)
  local tv = type(v)
  if tv == "string" then return jstr(v) end
  if tv == "number" then return jnum(v) end
  if tv == "boolean" then return v and "true" or "false" end
  if tv ~= "table" then return "null" end
  if visiting[v] then return "null" end
  visiting[v] = true
  local keys, n = sortedKeys(v)
  if keys == nil then stateProblem("a " .. type(n) .. " used as a table key", v) end
  local parts, np = {}, 0
  for i = 1, n do
    local k = keys[i]
    local x = rawget(v, k)
    if not skipped(x) then
      np = np + 1
      parts[np] = jkey(k) .. "," .. jvalue(x, visiting)
    end
  end
  visiting[v] = nil
  return "[" .. concat(parts, ",") .. "]"
end

local function jsonGlobals(gkeys, ng)
  local parts, np, visiting = {}, 0, {}
  for i = 1, ng do
    local k = gkeys[i]
    local v = rawget(_G, k)
    if not skipped(v) then
      np = np + 1
      parts[np] = jkey(k) .. "," .. jvalue(v, visiting)
    end
  end
  return "[" .. concat(parts, ",") .. "]"
end

--- The JSON view of one value ("null" for functions and runtime objects, and where a
-- table is reached again inside itself).
function K.jsonOf(v)
  if skipped(v) then return "null" end
  return jvalue(v, {})
end

-- ------------------------------------------------------------------ serialize

--- The canonical text of the current state.
function K.serialize()
  local gkeys, ng = userGlobalKeys()
  seen, depth = {}, 0
  local ok, text, view = pcall(encRoots, gkeys, ng, true)
  seen = nil
  if ok then return "--" .. view .. "\nreturn " .. text end
  if text ~= RETRY then error(text, 0) end
  depth = 0
  text = encGraph(gkeys, ng)
  return "--" .. jsonGlobals(gkeys, ng) .. "\n" .. text
end
