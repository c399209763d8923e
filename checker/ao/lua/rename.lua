--[[ Rename: every string of the live process state renamed by a mapping (symmetry
  reduction over interchangeable users; checker/symmetry.py's rename_value for strings).

  K.renameState(map) works on the state K.restore just rebuilt, in place; the caller
  then takes a fresh snapshot (K.serialize), whose canonical key order puts renamed
  keys where they belong. A string s becomes map[s] when that is set, else
  map[head] .. "#" .. tail when s is head .. "#" .. tail (split at the first "#") and
  map[head] is set, else stays s.

  What is renamed: exactly what a snapshot holds as data, walked as snapshot.lua walks
  it (shared tables once, cycles kept):
  * the user globals: their names (a global named by data, _G[msg.From] = ...) and
    their values;
  * in every table of the state: string keys and string values, recursively, and the
    metatables of user tables; message tables too (their own reply/forward are rebuilt
    from the message, so they are not walked);
  * upvalues that are state: the cells of the load-time functions (K.RCELL*) and the
    upvalues of closures created after loading (each cell once, shared cells stay
    shared);
  * the handler list as data: names, string patterns, pattern tables and maxRuns
    (numbers or "inf", unchanged), and the handle/pattern functions' upvalues. A name
    is renamed like any other string: a name the code writes as a literal ("MintTIM3")
    is not a user id and stays, while a name built from data (Handlers.once(msg.Id,
    ...)) must follow its data, or Handlers.remove(msg.Id) after a renaming would miss
    it. (A literal that *is* a user id singles that user out: the code is not symmetric,
    and Symmetry's initial-state check or the commuting check of checker/ao/commute.py
    reports it, even where only the name differs.) A delivery on a renamed state
    reports a data-built name renamed (coverage counts representatives' names);
  * Handlers.onceNonce and the loaded modules' values.
  Not renamed: code (function prototypes and their constants, runtime objects), the
  PRNG state (a number) and the code's fingerprint.

  Two keys of one table that become equal (impossible for a permutation) raise
  "rename collision: ..." (an InternalError on the Python side).

  A renamed load-time cell may be one of a hasMatchingTag pattern's (name, value),
  which the handler loop reads inline from K.TAGPATTERNS: K.restore drops such an
  entry when a state's cells disagree with it (state.lua).
]]
local K = ...

local rawnext, rawget, rawset, type, tostring = next, rawget, rawset, type, tostring
local find, sub = string.find, string.sub
local getupvalue, setupvalue, upvalueid = debug.getupvalue, debug.setupvalue, debug.upvalueid
local BUILTIN, REG, MSGS, MSGFN = K.BUILTIN, K.REG, K.MSGS, K.MSGFN
local RCELLF, RCELLI, RCELLID = K.RCELLF, K.RCELLI, K.RCELLID
local EXCLUDE, userMeta, ownMsgFn = K.EXCLUDE, K.userMeta, K.ownMsgFn

local map, seen, cells

local function rename(s)
  local hit = map[s]
  if hit ~= nil then return hit end
  local p = find(s, "#", 1, true)
  if p then
    local h = map[sub(s, 1, p - 1)]
    if h ~= nil then return h .. sub(s, p) end
  end
  return s
end

local walk

-- rename the keys and values of t in place (for _G: the user globals only)
local function walkTable(t, isG)
  if seen[t] then return end
  seen[t] = true
  local ismsg = MSGS[t]
  local moved, nm = nil, 0       -- keys that change: old, new, new value
  local set, ns = nil, 0         -- values that change under an unchanged key
  local children, nc = nil, 0
  for k, v in rawnext, t do
    if not (isG and EXCLUDE[k]) then
      local nk, nv = k, v
      if type(k) == "string" then nk = rename(k) end
      local tv = type(v)
      if tv == "string" then
        nv = rename(v)
      elseif (tv == "table" or tv == "function") and not (ismsg and ownMsgFn(v, t)) then
        if children == nil then children = {} end
        nc = nc + 1
        children[nc] = v
      end
      if nk ~= k then
        if moved == nil then moved = {} end
        moved[nm + 1], moved[nm + 2], moved[nm + 3] = k, nk, nv
        nm = nm + 3
      elseif nv ~= v then
        if set == nil then set = {} end
        set[ns + 1], set[ns + 2] = k, nv
        ns = ns + 2
      end
    end
  end
  for i = 1, nm, 3 do rawset(t, moved[i], nil) end
  for i = 1, nm, 3 do
    local nk = moved[i + 1]
    if rawget(t, nk) ~= nil then
      error("rename collision: the keys " .. K.fmtKey(moved[i]) .. " and " .. K.fmtKey(nk)
        .. " of one table both become " .. K.fmtKey(nk), 0)
    end
    rawset(t, nk, moved[i + 2])
  end
  for i = 1, ns, 2 do rawset(t, set[i], set[i + 1]) end
  if not isG then
    local mt = userMeta(t)
    if mt ~= nil then walk(mt) end
  end
  for i = 1, nc do walk(children[i]) end
end

local function walkFunction(f)
  -- load-time functions: their upvalues are the cells, renamed once in renameCells
  if REG[f] or seen[f] then return end
  seen[f] = true
  local m = MSGFN[f]
  if m ~= nil then   -- a message's reply/forward: rebuilt from the message
    walk(m)
    return
  end
  local j = 1
  while true do
    local name, x = getupvalue(f, j)
    if name == nil then break end
    local uid = upvalueid(f, j)
    if not RCELLID[uid] and not cells[uid] then
      cells[uid] = true
      local tx = type(x)
      if tx == "string" then
        local y = rename(x)
        if y ~= x then setupvalue(f, j, y) end
      elseif tx == "table" or tx == "function" then
        walk(x)
      end
    end
    j = j + 1
  end
end

walk = function(v)
  if BUILTIN[v] then return end
  local tv = type(v)
  if tv == "table" then
    walkTable(v, false)
  elseif tv == "function" then
    walkFunction(v)
  end
  -- anything else in the state (a coroutine, userdata) is a snapshot error, raised by
  -- the serialization that follows
end

local function renameCells()
  for i = 1, K.NRCELLS do
    local f, j = RCELLF[i], RCELLI[i]
    local _, x = getupvalue(f, j)
    local tx = type(x)
    if tx == "string" then
      local y = rename(x)
      if y ~= x then setupvalue(f, j, y) end
    elseif tx == "table" or tx == "function" then
      walk(x)
    end
  end
end

--- Rename every string of the restored state by `mapping` (see the header).
function K.renameState(mapping)
  map, seen, cells = mapping, {}, {}
  local ok, err = pcall(function()
    walkTable(_G, true)
    local h = K.handlers
    walk(rawget(h, "list"))
    local o = rawget(h, "onceNonce")
    if type(o) == "string" then rawset(h, "onceNonce", rename(o)) end
    walk(K.modules)
    renameCells()
  end)
  map, seen, cells = nil, nil, nil
  if not ok then error(err, 0) end
end
