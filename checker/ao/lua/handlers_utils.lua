--[[ Handlers.utils: aos's handlers-utils module, written for this runtime.

  hasMatchingTag(name, value)   -> pattern: msg.Tags[name] == value (exact, a boolean)
  hasMatchingTagOf(name, values)-> the first non-skip result of hasMatchingTag over
                                   values, else 0
  hasMatchingData(value)        -> pattern: msg.Data == value
  reply(input)                  -> handler: msg.reply({Data = input}) for a string,
                                   msg.reply(input) for a table (the same table every
                                   time, so its Target sticks after the first reply,
                                   as in aos)
  continue(pattern)             -> pattern: 1 where `pattern` matches, so the handler
                                   loop goes on; its result unchanged otherwise
]]
local K = ...

local type, assert, ipairs = type, assert, ipairs

local hutils = { _version = "0.0.2" }

-- pattern function -> {name, value}: the handler loop evaluates these inline
K.TAGPATTERNS = setmetatable({}, { __mode = "k" })

function hutils.hasMatchingTag(name, value)
  assert(type(name) == "string" and type(value) == "string", "invalid arguments: (name : string, value : string)")
  local f = function(msg)
    return msg.Tags[name] == value
  end
  K.TAGPATTERNS[f] = { name, value }
  return f
end

function hutils.hasMatchingTagOf(name, values)
  assert(type(name) == "string" and type(values) == "table", "invalid arguments: (name : string, values : string[])")
  return function(msg)
    for _, value in ipairs(values) do
      local r = hutils.hasMatchingTag(name, value)(msg)
      if r ~= 0 and r ~= false and r ~= "skip" then return r end
    end
    return 0
  end
end

function hutils.hasMatchingData(value)
  assert(type(value) == "string", "invalid arguments: (value : string)")
  return function(msg)
    return msg.Data == value
  end
end

function hutils.reply(input)
  assert(type(input) == "table" or type(input) == "string", "invalid arguments: (input : table or string)")
  return function(msg)
    if type(input) == "string" then
      if msg.reply then
        msg.reply({ Data = input })
        return
      end
      Send({ Target = msg.From, Data = input })
      return
    end
    if msg.reply then
      msg.reply(input)
    else
      Send({ Target = msg.From, Data = input })
    end
  end
end

function hutils.continue(pattern)
  return function(msg)
    local m = K.utils.matchesSpec(msg, pattern)
    if not m or m == 0 or m == "skip" then return m end
    return 1
  end
end

return hutils
