--[[ Handlers: aos 2.0's handlers module (handlers.lua, _version 0.0.5), written for
  this runtime. What it pins (tests/ao/test_handlers.py):

  * add / append (the same function) and prepend: a name already in the list is
    updated in place (pattern, handle, maxRuns); else appended / inserted first.
    add(name, handle) with two arguments uses the name as the pattern (an Action).
  * once([name,] pattern, handle): prepend with maxRuns 1; without a name it is
    "_once_<n>" with n = Handlers.onceNonce (counted from 0).
  * before(target) / after(target): the target's index is looked up when before/after
    is called; .add(name, pattern, handle, maxRuns) inserts there (after: one later)
    WITHOUT checking whether the name exists (a duplicate entry), and adds nothing at
    all when the target is not in the list.
  * remove(name): removes the first entry with that name (when it is the only entry the
    list is replaced by a new empty table, as in aos).
  * A pattern is a function, a string (the Action) or a table of tag patterns (see
    Utils.matchesSpec); the handler loop (process.lua) interprets its result.
  * A table of resolvers as the handle is reported unsupported.
]]
local K = ...

local type, assert, select, ipairs = type, assert, select, ipairs
local insert, remove = table.insert, table.remove

local handlers = { _version = "0.0.5", list = {}, coroutines = {}, onceNonce = 0 }
handlers.utils = K.hutils
K.NOTBUILTIN[handlers.list] = true

local function indexOf(list, name)
  for i, o in ipairs(list) do
    if o.name == name then return i end
  end
  return nil
end
K.indexOf = indexOf

local function checkArgs(name, pattern, handle)
  assert(type(name) == "string"
      and (type(pattern) == "function" or type(pattern) == "table" or type(pattern) == "string"),
    "Invalid arguments given. Expected: \n\tname : string, \tpattern : Action : string | MsgMatch : table,\n"
      .. "\t\tfunction(msg: Message) : {-1 = break, 0 = skip, 1 = continue},\n"
      .. "\thandle(msg : Message) : void) | Resolver,\n\tMaxRuns? : number | \"inf\" | nil")
  if type(handle) == "table" then
    K.unsupported("a table of resolvers as the handle of handler '" .. name .. "'", 3)
  end
end

local function addArgs(...)
  local n = select("#", ...)
  local name, pattern, handle, maxRuns = ...
  if n == 2 then
    pattern, handle = name, pattern
  end
  return name, pattern, handle, maxRuns
end

local function upsert(position, name, pattern, handle, maxRuns)
  local list = handlers.list
  local idx = indexOf(list, name)
  if idx then
    local o = list[idx]
    o.pattern, o.handle, o.maxRuns = pattern, handle, maxRuns
  elseif position == 1 then
    insert(list, 1, { name = name, pattern = pattern, handle = handle, maxRuns = maxRuns })
  else
    insert(list, { name = name, pattern = pattern, handle = handle, maxRuns = maxRuns })
  end
end

function handlers.add(...)
  local name, pattern, handle, maxRuns = addArgs(...)
  checkArgs(name, pattern, handle)
  upsert(nil, name, pattern, handle, maxRuns)
  return #handlers.list
end

handlers.append = handlers.add

function handlers.prepend(...)
  local name, pattern, handle, maxRuns = addArgs(...)
  checkArgs(name, pattern, handle)
  upsert(1, name, pattern, handle, maxRuns)
end

function handlers.once(...)
  local name, pattern, handle
  if select("#", ...) == 3 then
    name, pattern, handle = ...
  else
    name = "_once_" .. tostring(handlers.onceNonce)
    handlers.onceNonce = handlers.onceNonce + 1
    pattern, handle = ...
  end
  handlers.prepend(name, pattern, handle, 1)
end

local function positioned(target, offset)
  local idx = indexOf(handlers.list, target)
  return {
    add = function(name, pattern, handle, maxRuns)
      checkArgs(name, pattern, handle)
      if idx then
        insert(handlers.list, idx + offset, { name = name, pattern = pattern, handle = handle, maxRuns = maxRuns })
      end
    end
  }
end

function handlers.before(target)
  assert(type(target) == "string", "Handler name MUST be a string")
  return positioned(target, 0)
end

function handlers.after(target)
  assert(type(target) == "string", "Handler name MUST be a string")
  return positioned(target, 1)
end

function handlers.remove(name)
  assert(type(name) == "string", "name MUST be string")
  if #handlers.list == 1 and handlers.list[1].name == name then
    handlers.list = {}
  end
  local idx = indexOf(handlers.list, name)
  if idx then remove(handlers.list, idx) end
end

function handlers.generateResolver(spec)
  if type(spec) == "table" then
    K.unsupported("Handlers.generateResolver with a table of resolvers", 2)
  end
  return function(msg) return spec(msg) end
end

function handlers.receive()
  K.unsupported("Handlers.receive (a handler waiting for another message)", 2)
end

function handlers.evaluate()
  K.unsupported("Handlers.evaluate called by process code", 2)
end

function handlers.advanced()
  K.unsupported("Handlers.advanced (not in aos 2.0)", 2)
end

return handlers
