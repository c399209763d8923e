--[[ Snapshot: the process state as canonical text, and back.

  Text layout (Snapshot.text):
    line 1   "--" followed by the JSON view of the user globals (what Snapshot.decode
             reads): a table is a JSON array [k1, v1, k2, v2, ...] in canonical key order,
             a string that is not UTF-8 is {"b": "<hex>"}, functions are left out.
             "--!cycle" when the globals hold a cycle.
    the rest a Lua chunk that rebuilds the state: "return {H=..., O=..., R=..., M=...,
             C={...}, G={...}}" (handler list, once-nonce, PRNG state, loaded modules,
             the upvalue cells of the functions that existed after loading, user
             globals). When tables are shared or cyclic, or functions created after
             loading are in the state, a preamble "local S={...}" and statements
             rebuild them with their identity (graph mode); otherwise every table is
             written inline (tree mode).

  Atoms: B[i] is a runtime object (prelude table or function, standard library),
  F[i] a function that existed after the files were loaded (numbered in a
  deterministic walk), N"key" a fresh closure of a function prototype created later
  (rebuilt from string.dump; its upvalues are set by U/J/UJ statements), M{...} a
  message table (msg.reply/msg.forward reattached), T({...},mt) a table with a
  metatable, MR(m,"reply") a message's reply/forward function held elsewhere.
]]
local K = ...

local rawnext, rawget, rawset, rawequal, type = next, rawget, rawset, rawequal, type
local mtype = math.type
local format, find, gsub, byte, char = string.format, string.find, string.gsub, string.byte, string.char
local concat, sort = table.concat, table.sort
local getupvalue, setupvalue = debug.getupvalue, debug.setupvalue
local upvalueid, upvaluejoin = debug.upvalueid, debug.upvaluejoin
local getmt, setmt = debug.getmetatable, setmetatable
local huge, minint = math.huge, math.mininteger
local sortedKeys, keyLess = K.sortedKeys, K.keyLess

K.MSGS = setmt({}, { __mode = "k" })    -- message tables built or restored by the runtime
K.MSGFN = setmt({}, { __mode = "k" })   -- msg.reply / msg.forward function -> {msg, kind}
K.TRACKMT = {}                           -- metatables the runtime sets to record reads
local MSGS, MSGFN, TRACKMT = K.MSGS, K.MSGFN, K.TRACKMT

local BUILTIN, BLIST, BNAME = {}, {}, {}   -- runtime objects -> "B[i]"
local REG, RLIST = {}, {}                  -- load-time functions -> "F[i]"
local RCELLF, RCELLI, RCELLNAME, RCELLID = {}, {}, {}, {}
local NRCELLS = 0
local FNKEY = setmt({}, { __mode = "k" })
local PROTO = {}
local NILV = setmt({}, { __name = "deleted global" })
local BASE, NBASE = {}, 0
local EXCLUDE = { Inbox = true, Errors = true }
local NOTBUILTIN = {}
K.NOTBUILTIN = NOTBUILTIN
K.EXCLUDE = EXCLUDE

-- ------------------------------------------------------------------ scalars

local ESC = {}
for i = 0, 255 do ESC[char(i)] = format("\\x%02x", i) end

local function quote(s)
  if find(s, '[%c"\\\128-\255]') then return '"' .. gsub(s, '[%c"\\\128-\255]', ESC) .. '"' end
  return '"' .. s .. '"'
end

local function num(v)
  if mtype(v) == "integer" then
    if v == minint then return "MININT" end
    return format("%d", v)
  end
  if v ~= v then return "NAN" end
  if v == huge then return "INF" end
  if v == -huge then return "(-INF)" end
  local s = format("%.17g", v)
  if not find(s, "[%.eEn]") then s = s .. ".0" end
  return s
end
K.formatNumber = num

local KEYWORDS = {}
for w in ("and break do else elseif end false for function goto if in local nil not or "
  .. "repeat return then true until while"):gmatch("%a+") do KEYWORDS[w] = true end

local function keyStr(k)
  local tk = type(k)
  if tk == "string" then
    if not KEYWORDS[k] and find(k, "^[%a_][%w_]*$") then return k .. "=" end
    return "[" .. quote(k) .. "]="
  elseif tk == "number" then
    return "[" .. num(k) .. "]="
  end
  return k and "[true]=" or "[false]="
end

-- ------------------------------------------------------------------ problems

local function fmtKey(k)
  if type(k) == "string" and find(k, "^[%a_][%w_]*$") then return "." .. k end
  if type(k) == "string" then return "[" .. format("%q", k) .. "]" end
  return "[" .. K.tostring(k) .. "]"
end

-- The path from a state root to obj, for error messages (only computed on failure).
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
      local mt = getmt(v)
      if mt ~= nil and not TRACKMT[mt] then
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
    if not EXCLUDE[k] and not rawequal(BASE[k], v) then
      local p = dfs(v, type(k) == "string" and k or fmtKey(k))
      if p then return p end
    end
  end
  local p = dfs(rawget(K.handlers, "list"), "Handlers.list") or dfs(K.modules, "a loaded module")
  if p then return p end
  for i = 1, NRCELLS do
    local _, x = getupvalue(RCELLF[i], RCELLI[i])
    p = dfs(x, "upvalue '" .. RCELLNAME[i] .. "' of the function at " .. K.fnWhere(RCELLF[i]))
    if p then return p end
  end
  return "?"
end

local function stateProblem(what, obj)
  local text = "unsupported: " .. what .. " in the process state, at " .. pathTo(obj)
  if K.flagged == nil then K.flagged = { "unsupported", text } end
  error(text, 0)
end

-- ------------------------------------------------------------------ emission

local RETRY = setmt({}, { __name = "retry in graph mode" })
local buf, nb
local seen                         -- tree mode: tables visited
local count, ids, queue, nids, cellseen, cellOwner   -- graph mode

local function put(s)
  nb = nb + 1
  buf[nb] = s
end

local function ownMsgFn(v, t)
  local m = MSGFN[v]
  return m ~= nil and m[1] == t
end

local function protoKey(f)
  local key = FNKEY[f]
  if key then return key end
  local info = debug.getinfo(f, "S")
  if info.what == "C" then stateProblem("a C function that is not part of the runtime", f) end
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

local emit

local function emitBody(t)
  local len = 0
  while rawget(t, len + 1) ~= nil do len = len + 1 end
  local keys, nk = sortedKeys(t, len)
  if keys == nil then stateProblem("a " .. type(nk) .. " used as a table key", t) end
  local ismsg = MSGS[t]
  put("{")
  local sep = false
  for i = 1, len do
    if sep then put(",") end
    sep = true
    emit(rawget(t, i))
  end
  for i = 1, nk do
    local k = keys[i]
    local v = rawget(t, k)
    if not (ismsg and (k == "reply" or k == "forward") and ownMsgFn(v, t)) then
      if sep then put(",") end
      sep = true
      put(keyStr(k))
      emit(v)
    end
  end
  put("}")
end

local function userMeta(t)
  local mt = getmt(t)
  if mt ~= nil and TRACKMT[mt] then return nil end
  return mt
end

local function emitTable(t)
  if MSGS[t] then
    put("M(")
    emitBody(t)
    put(")")
    return
  end
  local mt = userMeta(t)
  if mt ~= nil then
    put("T(")
    emitBody(t)
    put(",")
    emit(mt)
    put(")")
  else
    emitBody(t)
  end
end

local function newId(obj)
  nids = nids + 1
  local id = "S[" .. nids .. "]"
  ids[obj] = id
  queue[nids] = obj
  return id
end

emit = function(v)
  local tv = type(v)
  if tv == "string" then
    put(quote(v))
  elseif tv == "number" then
    put(num(v))
  elseif tv == "boolean" then
    put(v and "true" or "false")
  elseif tv == "table" then
    local b = BUILTIN[v]
    if b then put(b) return end
    if ids then
      local id = ids[v]
      if id then put(id) return end
      if count[v] > 1 then put(newId(v)) return end
    else
      if seen[v] then error(RETRY, 0) end
      seen[v] = true
    end
    emitTable(v)
  elseif tv == "function" then
    local b = BUILTIN[v] or REG[v]
    if b then put(b) return end
    local mf = MSGFN[v]
    if mf then
      put("MR(")
      emit(mf[1])
      put(",")
      put(quote(mf[2]))
      put(")")
      return
    end
    if not ids then error(RETRY, 0) end
    put(ids[v] or newId(v))
  elseif tv == "nil" then
    put("nil")
  else
    stateProblem("a " .. tv .. " value", v)
  end
end

local function countRefs(v)
  local tv = type(v)
  if tv == "table" then
    if BUILTIN[v] then return end
    local c = count[v]
    if c then count[v] = c + 1 return end
    count[v] = 1
    local ismsg = MSGS[v]
    for k, x in rawnext, v do
      if not (ismsg and ownMsgFn(x, v)) then countRefs(x) end
    end
    local mt = userMeta(v)
    if mt ~= nil then countRefs(mt) end
  elseif tv == "function" then
    if BUILTIN[v] or REG[v] then return end
    local mf = MSGFN[v]
    if mf then countRefs(mf[1]) return end
    local c = count[v]
    if c then count[v] = c + 1 return end
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

local function emitDefinition(i)
  local obj = queue[i]
  local id = "S[" .. i .. "]"
  if type(obj) == "table" then
    put("X(" .. id .. ",")
    emitBody(obj)
    local mt = userMeta(obj)
    if MSGS[obj] then
      put(",nil,true")
    elseif mt ~= nil then
      put(",")
      emit(mt)
    end
    put(")\n")
    return
  end
  local j = 1
  while true do
    local name, x = getupvalue(obj, j)
    if name == nil then break end
    local uid = upvalueid(obj, j)
    local rc = RCELLID[uid]
    if rc then
      put(format("J(%s,%d,%d)\n", id, j, rc))
    else
      local owner = cellOwner[uid]
      if owner then
        put(format("UJ(%s,%d,S[%d],%d)\n", id, j, owner[1], owner[2]))
      else
        cellOwner[uid] = { i, j }
        put(format("U(%s,%d,", id, j))
        emit(x)
        put(")\n")
      end
    end
    j = j + 1
  end
end

local function userGlobalKeys()
  local keys, n, nbase = {}, 0, 0
  for k, v in rawnext, _G do
    if not EXCLUDE[k] then
      local b = BASE[k]
      if b ~= nil and rawequal(b, v) then
        nbase = nbase + 1
      else
        n = n + 1
        keys[n] = k
      end
    end
  end
  if nbase ~= NBASE then
    for k in rawnext, BASE do
      if rawget(_G, k) == nil then
        n = n + 1
        keys[n] = k
      end
    end
  end
  local allStrings = true
  for i = 1, n do
    local tk = type(keys[i])
    if tk ~= "string" then
      allStrings = false
      if tk ~= "number" and tk ~= "boolean" then stateProblem("a " .. tk .. " used as a global name", keys[i]) end
    end
  end
  if allStrings then sort(keys) else sort(keys, keyLess) end
  return keys, n
end

local function emitRoots(gkeys, ng)
  put("{H=")
  emit(rawget(K.handlers, "list"))
  put(",O=")
  emit(rawget(K.handlers, "onceNonce"))
  put(",R=")
  emit(K.rng)
  put(",M=")
  emit(K.modules)
  put(",C={")
  for i = 1, NRCELLS do
    if i > 1 then put(",") end
    local _, x = getupvalue(RCELLF[i], RCELLI[i])
    emit(x)
  end
  put("},G={")
  for i = 1, ng do
    if i > 1 then put(",") end
    local k = gkeys[i]
    put(keyStr(k))
    local v = rawget(_G, k)
    if v == nil then put("NILV") else emit(v) end
  end
  put("}}")
end

local function emitTree(gkeys, ng)
  buf, nb, seen = {}, 0, {}
  put("return ")
  emitRoots(gkeys, ng)
  local text = concat(buf)
  buf, seen = nil, nil
  return text
end

local function emitGraph(gkeys, ng)
  count, cellseen = {}, {}
  countRefs(rawget(K.handlers, "list"))
  countRefs(K.modules)
  for i = 1, NRCELLS do
    local _, x = getupvalue(RCELLF[i], RCELLI[i])
    countRefs(x)
  end
  for i = 1, ng do countRefs(rawget(_G, gkeys[i])) end
  ids, queue, nids, cellOwner = {}, {}, 0, {}
  buf, nb = {}, 0
  emitRoots(gkeys, ng)
  local roots = concat(buf)
  buf, nb = {}, 0
  local i = 1
  while i <= nids do
    emitDefinition(i)
    i = i + 1
  end
  local defs = concat(buf)
  local kinds = {}
  for j = 1, nids do
    local obj = queue[j]
    kinds[j] = type(obj) == "table" and "{}" or ("N" .. quote(protoKey(obj)))
  end
  local text = "local S={" .. concat(kinds, ",") .. "}\n" .. defs .. "return " .. roots
  count, cellseen, ids, queue, cellOwner, buf = nil, nil, nil, nil, nil, nil
  return text
end

-- ------------------------------------------------------------------ JSON view

local JESC = {}
for i = 0, 31 do JESC[char(i)] = format("\\u%04x", i) end
JESC['"'] = '\\"'
JESC["\\"] = "\\\\"
local HEX = {}
for i = 0, 255 do HEX[char(i)] = format("%02x", i) end

--- Strict UTF-8 (no surrogates, nothing above U+10FFFF), as Python decodes it.
local function validUtf8(s)
  local ok, bad = pcall(function()
    for _, c in utf8.codes(s) do
      if c > 0x10FFFF or (c >= 0xD800 and c <= 0xDFFF) then return true end
    end
    return false
  end)
  return ok and not bad
end

local function jstr(s)
  if find(s, "[\128-\255]") and not validUtf8(s) then
    return '{"b":"' .. gsub(s, ".", HEX) .. '"}'
  end
  if find(s, '[\0-\31"\\]') then s = gsub(s, '[\0-\31"\\]', JESC) end
  return '"' .. s .. '"'
end
K.jsonString = jstr

local function jnum(v)
  if mtype(v) == "integer" then return format("%d", v) end
  if v ~= v then return "NaN" end
  if v == huge then return "Infinity" end
  if v == -huge then return "-Infinity" end
  local s = format("%.17g", v)
  if not find(s, "[%.eE]") then s = s .. ".0" end
  return s
end
K.jsonNumber = jnum

local CYCLE = setmt({}, { __name = "cycle" })

local function skipped(v)
  local tv = type(v)
  return tv == "function" or tv == "thread" or tv == "userdata" or (tv == "table" and BUILTIN[v] ~= nil)
end

local jvalue

local function jkey(k, out)
  local tk = type(k)
  if tk == "string" then out[#out + 1] = jstr(k)
  elseif tk == "number" then out[#out + 1] = jnum(k)
  else out[#out + 1] = k and "true" or "false" end
end

jvalue = function(v, out, visiting)
  local tv = type(v)
  if tv == "string" then
    out[#out + 1] = jstr(v)
  elseif tv == "number" then
    out[#out + 1] = jnum(v)
  elseif tv == "boolean" then
    out[#out + 1] = v and "true" or "false"
  elseif tv == "table" then
    if visiting[v] then error(CYCLE, 0) end
    visiting[v] = true
    local keys, n = sortedKeys(v)
    if keys == nil then stateProblem("a " .. type(n) .. " used as a table key", v) end
    out[#out + 1] = "["
    local first = true
    for i = 1, n do
      local k = keys[i]
      local x = rawget(v, k)
      if not skipped(x) then
        if not first then out[#out + 1] = "," end
        first = false
        jkey(k, out)
        out[#out + 1] = ","
        jvalue(x, out, visiting)
      end
    end
    out[#out + 1] = "]"
    visiting[v] = nil
  else
    out[#out + 1] = "null"
  end
end

local function jsonGlobals(gkeys, ng)
  local out, visiting = { "[" }, {}
  local first = true
  for i = 1, ng do
    local k = gkeys[i]
    local v = rawget(_G, k)
    if v ~= nil and not skipped(v) then
      if not first then out[#out + 1] = "," end
      first = false
      jkey(k, out)
      out[#out + 1] = ","
      jvalue(v, out, visiting)
    end
  end
  out[#out + 1] = "]"
  return concat(out)
end

--- The JSON view of one value ("null" for functions and runtime objects).
function K.jsonOf(v)
  if skipped(v) then return "null" end
  local out = {}
  local ok, err = pcall(jvalue, v, out, {})
  if not ok then
    if err == CYCLE then return nil, "the value holds a cycle" end
    error(err, 0)
  end
  return concat(out)
end

-- ------------------------------------------------------------------ serialize

--- The canonical text of the current state.
function K.serialize()
  local gkeys, ng = userGlobalKeys()
  local ok, text = pcall(emitTree, gkeys, ng)
  if not ok then
    buf, seen = nil, nil
    if text ~= RETRY then error(text, 0) end
    text = emitGraph(gkeys, ng)
  end
  local ok2, view = pcall(jsonGlobals, gkeys, ng)
  if not ok2 then
    if view ~= CYCLE then error(view, 0) end
    view = "!cycle"
  end
  return "--" .. view .. "\n" .. text
end

-- ------------------------------------------------------------------ restore

local CHUNKENV = {
  B = BLIST, F = RLIST, MININT = minint, NAN = 0 / 0, INF = huge, NILV = NILV,
  N = function(key)
    local f, err = load(PROTO[key], "=" .. key, "b")
    if not f then error(err, 0) end
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
  local G = r.G
  for k, v in rawnext, _G do
    local b = BASE[k]
    if b == nil then
      if G[k] == nil then rawset(_G, k, nil) end
    elseif not rawequal(b, v) then
      rawset(_G, k, b)
    end
  end
  for k, b in rawnext, BASE do
    if rawget(_G, k) == nil then rawset(_G, k, b) end
  end
  for k, v in rawnext, G do
    if v == NILV then rawset(_G, k, nil) else rawset(_G, k, v) end
  end
  rawset(_G, "Inbox", {})
  rawset(_G, "Errors", {})
  rawset(K.handlers, "list", r.H)
  rawset(K.handlers, "onceNonce", r.O)
  K.rng = r.R
  K.modules = r.M
  local C = r.C
  for i = 1, NRCELLS do setupvalue(RCELLF[i], RCELLI[i], C[i]) end
end

-- ------------------------------------------------------------------ set-up

--- Number every runtime object reachable from the globals (before the files load).
function K.markBuiltins()
  -- name: a dotted path for the runtime tables the process sees (checked after each
  -- delivery); nil below the runtime's internals, which change by design
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
  walk(_G, "_G")
  walk(getmt(""), "string metatable")
  walk(K, nil)
  for k, v in rawnext, _G do
    if not EXCLUDE[k] then
      BASE[k] = v
      NBASE = NBASE + 1
    end
  end
end

--- Number the functions that exist after loading and the upvalue cells they close over.
function K.buildRegistry()
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
        NRCELLS = NRCELLS + 1
        RCELLF[NRCELLS], RCELLI[NRCELLS], RCELLNAME[NRCELLS] = f, j, name
        RCELLID[uid] = NRCELLS
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
end

-- Runtime tables the process may not change after loading (they are not state).
local SHADOW = {}

function K.captureShadows()
  for i = 1, #BLIST do
    local t = BLIST[i]
    if type(t) == "table" and t ~= _G and BNAME[t] ~= nil then
      local copy = {}
      for k, v in rawnext, t do copy[k] = v end
      SHADOW[#SHADOW + 1] = { t, copy }
    end
  end
end

local MUTABLE = { list = true, onceNonce = true }

--- nil, or the name of a runtime table (and field) the delivery changed.
function K.changedRuntimeTable()
  local handlers = K.handlers
  for i = 1, #SHADOW do
    local entry = SHADOW[i]
    local t, copy = entry[1], entry[2]
    local n = 0
    for k, v in rawnext, t do
      n = n + 1
      if not rawequal(copy[k], v) and not (t == handlers and MUTABLE[k]) then
        return BNAME[t] .. fmtKey(k)
      end
    end
    for k in rawnext, copy do
      if rawget(t, k) == nil and not (t == handlers and MUTABLE[k]) then
        return BNAME[t] .. fmtKey(k)
      end
    end
  end
  return nil
end
