--[[ Utils: aos's utils module (global `Utils`, require(".utils")), written for this
  runtime. matchesPattern / matchesSpec are the handler pattern matching of aos:

  matchesSpec(msg, spec)
    function -> spec(msg), returned as is (the handler loop checks its type)
    table    -> every key must match: the value is msg[key] or msg.Tags[key]; a key
                with neither fails; otherwise matchesPattern on either must hold
    string   -> msg.Action == spec
    anything else -> false
  matchesPattern(pattern, value, msg)
    falsy -> false; "_" -> true; function -> truthiness of pattern(value, msg);
    string with one of ^$()%.[]*+? -> string.match(value, pattern) (a Lua pattern);
    other string -> value == pattern; table -> any sub-pattern matches; else false.
]]
local K = ...

local type, rawget = type, rawget
local match = string.match
local floor, max = math.floor, math.max

local utils = { _version = "0.0.5" }

function utils.matchesPattern(pattern, value, msg)
  if not pattern then return false end
  if pattern == "_" then return true end
  local tp = type(pattern)
  if tp == "function" then
    if pattern(value, msg) then return true end
    return false
  end
  if tp == "string" then
    if match(pattern, "[%^%$%(%)%%%.%[%]%*%+%?]") then
      if match(value, pattern) then return true end
    elseif value == pattern then
      return true
    end
    return false
  end
  if tp == "table" then
    for _, sub in K.pairs(pattern) do
      if utils.matchesPattern(sub, value, msg) then return true end
    end
  end
  return false
end

function utils.matchesSpec(msg, spec)
  local ts = type(spec)
  if ts == "function" then return spec(msg) end
  if ts == "table" then
    for key, pattern in K.pairs(spec) do
      local value = msg[key]
      local tags = msg.Tags
      local tagValue = tags and tags[key]
      if not value and not tagValue then return false end
      if not utils.matchesPattern(pattern, value, msg) and not utils.matchesPattern(pattern, tagValue, msg) then
        return false
      end
    end
    return true
  end
  if ts == "string" and msg.Action and msg.Action == spec then return true end
  return false
end

function utils.capitalize(str)
  if type(str) ~= "string" or str == "" then return str end
  return str:sub(1, 1):upper() .. str:sub(2):lower()
end

--- Title case per segment between "-" or "_" (the separators are kept): the tag-name
-- normalisation of aos PR #451 ("data-PROTOCOL" -> "Data-Protocol", "MESSAGE" ->
-- "Message"); inferred from that PR and its test, see variant "normalized-tags".
function utils.normalize(str)
  if type(str) ~= "string" then return str end
  return (str:gsub("[^%-_]+", utils.capitalize))
end

local function isArray(t)
  if type(t) ~= "table" then return false end
  local top = 0
  for k in K.rawnext, t do
    if type(k) ~= "number" or k < 1 or floor(k) ~= k then return false end
    top = max(top, k)
  end
  return top == #t
end
utils.isArray = isArray

function utils.curry(fn, arity)
  assert(type(fn) == "function", "function is required as first argument")
  arity = arity or debug.getinfo(fn, "u").nparams
  if arity < 2 then return fn end
  return function(...)
    local args = { ... }
    if #args >= arity then return fn(table.unpack(args)) end
    return utils.curry(function(...) return fn(table.unpack(args), ...) end, arity - #args)
  end
end

utils.concat = utils.curry(function(a, b)
  assert(type(a) == "table", "first argument should be a table that is an array")
  assert(type(b) == "table", "second argument should be a table that is an array")
  assert(isArray(a), "first argument should be a table")
  assert(isArray(b), "second argument should be a table")
  local out = {}
  for i = 1, #a do out[#out + 1] = a[i] end
  for i = 1, #b do out[#out + 1] = b[i] end
  return out
end, 2)

utils.reduce = utils.curry(function(fn, initial, t)
  assert(type(fn) == "function", "first argument should be a function that accepts (result, value, key)")
  assert(type(t) == "table" and isArray(t), "third argument should be a table that is an array")
  local acc = initial
  for k, v in K.pairs(t) do
    if acc == nil then acc = v else acc = fn(acc, v, k) end
  end
  return acc
end, 3)

utils.map = utils.curry(function(fn, data)
  assert(type(fn) == "function", "first argument should be a unary function")
  assert(type(data) == "table" and isArray(data), "second argument should be an Array")
  return utils.reduce(function(acc, v, k)
    acc[k] = fn(v, k)
    return acc
  end, {}, data)
end, 2)

utils.filter = utils.curry(function(fn, data)
  assert(type(fn) == "function", "first argument should be a unary function")
  assert(type(data) == "table" and isArray(data), "second argument should be an Array")
  return utils.reduce(function(acc, v)
    if fn(v) then acc[#acc + 1] = v end
    return acc
  end, {}, data)
end, 2)

utils.find = utils.curry(function(fn, t)
  assert(type(fn) == "function", "first argument should be a unary function")
  assert(type(t) == "table", "second argument should be a table that is an array")
  for _, v in K.pairs(t) do
    if fn(v) then return v end
  end
end, 2)

utils.propEq = utils.curry(function(name, value, object)
  assert(type(name) == "string", "first argument should be a string")
  assert(type(value) == "string", "second argument should be a string")
  assert(type(object) == "table", "third argument should be a table<object>")
  return object[name] == value
end, 3)

utils.reverse = function(data)
  assert(type(data) == "table", "argument needs to be a table that is an array")
  return utils.reduce(function(acc, v, i)
    acc[#data - i + 1] = v
    return acc
  end, {}, data)
end

utils.compose = utils.curry(function(...)
  local fns = utils.reverse({ ... })
  return function(v)
    local r = v
    for _, fn in K.pairs(fns) do
      assert(type(fn) == "function", "each argument needs to be a function")
      r = fn(r)
    end
    return r
  end
end, 2)

utils.prop = utils.curry(function(name, object) return object[name] end, 2)

utils.includes = utils.curry(function(val, t)
  assert(type(t) == "table", "argument needs to be a table")
  assert(isArray(t), "argument should be a table that is an array")
  return utils.find(function(v) return v == val end, t) ~= nil
end, 2)

utils.keys = function(t)
  assert(type(t) == "table", "argument needs to be a table")
  local out = {}
  for k in K.pairs(t) do out[#out + 1] = k end
  return out
end

utils.values = function(t)
  assert(type(t) == "table", "argument needs to be a table")
  local out = {}
  for _, v in K.pairs(t) do out[#out + 1] = v end
  return out
end

return utils
