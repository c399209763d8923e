--[[ ao: aos's ao module (ao.lua _version 0.0.6 with process.lua's wrappers), written
  for this runtime.

  ao.send(m): Data that is a table is json-encoded and gets Content-Type
  application/json (process.lua's wrapper; it changes m); every field of m except
  Target, Data, Anchor, Tags and From becomes a tag (so a handler cannot forge From);
  m.Tags (an array of {name, value} or a name -> value map) adds more. The message is
  queued as a Send and a message table {Target, Data, Tags} is returned. Differences
  from aos, on purpose: the Data-Protocol/Variant/Type/Reference tags aos adds are not
  added (Reference is a per-process counter: it would make every send a new state);
  .receive() and .onReply() are unsupported.
  ao.spawn, ao.assign, ao.addAssignable, ao.isAssignable: unsupported.
]]
local K = ...

local type, tostring, rawget = type, tostring, rawget

local config = K.config

-- the process's spawn message, as aos keeps it in ao.env.Process
local tagArray, tagMap, authorities, module = {}, {}, {}, ""
for i, pair in ipairs(config.tags) do
  local name, value = pair[1], pair[2]
  tagArray[i] = { name = name, value = value }
  if tagMap[name] == nil then tagMap[name] = value end
  if name == "Authority" then authorities[#authorities + 1] = value end
  if name == "Module" then module = value end
end
K.env = { Process = { Id = config.pid, Owner = config.owner, Tags = tagMap, TagArray = tagArray } }
K.authorities = authorities

local ao = {
  _version = "0.0.6",
  id = config.pid,
  _module = module,
  authorities = {},
  env = K.env,
  nonExtractableTags = { "Data-Protocol", "Variant", "From-Process", "From-Module", "Type",
    "From", "Owner", "Anchor", "Target", "Data", "Tags", "Read-Only" },
  nonForwardableTags = { "Data-Protocol", "Variant", "From-Process", "From-Module", "Type",
    "From", "Owner", "Anchor", "Target", "Tags", "TagArray", "Hash-Chain", "Timestamp",
    "Nonce", "Epoch", "Signature", "Forwarded-By", "Pushed-For", "Read-Only", "Cron",
    "Block-Height", "Reference", "Id", "Reply-To" },
}
for _, v in ipairs(K.authorities) do ao.authorities[#ao.authorities + 1] = v end

local NONEXTRACT, NONFORWARD = {}, {}
for _, v in ipairs(ao.nonExtractableTags) do NONEXTRACT[v] = true end
for _, v in ipairs(ao.nonForwardableTags) do NONFORWARD[v] = true end
K.NONEXTRACT = NONEXTRACT

local ROOTFIELDS = { Target = true, Data = true, Anchor = true, Tags = true, From = true }

function ao.clone(obj, seen)
  if type(obj) ~= "table" then return obj end
  if seen and seen[obj] then return seen[obj] end
  local s = seen or {}
  local res = {}
  s[obj] = res
  for k, v in K.rawnext, obj do res[ao.clone(k, s)] = ao.clone(v, s) end
  local mt = debug.getmetatable(obj)
  if mt ~= nil and K.TRACKMT[mt] then mt = nil end
  return setmetatable(res, mt)
end

function ao.normalize(msg)
  for _, o in ipairs(msg.Tags) do
    if not NONEXTRACT[o.name] then msg[o.name] = o.value end
  end
  return msg
end

function ao.sanitize(msg)
  local m = ao.clone(msg)
  for k in K.pairs(m) do
    if NONFORWARD[k] then m[k] = nil end
  end
  return m
end

function ao.init() end

function ao.log(txt)
  K.print(txt)
end

local function tagValue(name, v)
  local tv = type(v)
  if tv == "string" or tv == "number" or tv == "boolean" then return v end
  K.unsupported("a " .. tv .. " as the value of tag '" .. tostring(name) .. "'", 4)
end

local function unsupportedCallback(what)
  return function()
    K.unsupported(what, 2)
  end
end
-- the table ao.send returns builds its Tags ({name, value} list) on first use
local SENTTAGS = setmetatable({}, { __mode = "k" })
local SENT = {
  __index = function(t, k)
    if k ~= "Tags" then return nil end
    local flat, list = SENTTAGS[t] or {}, {}
    for i = 1, #flat, 2 do list[#list + 1] = { name = flat[i], value = flat[i + 1] } end
    rawset(t, "Tags", list)
    return list
  end,
}
K.TRACKMT[SENT] = true

local RECEIVE = unsupportedCallback("ao.send(...).receive() (a handler waiting for a reply)")
local ONREPLY = unsupportedCallback("ao.send(...).onReply() (a reply callback keyed by Reference)")

function ao.send(msg)
  assert(type(msg) == "table", "msg should be a table")
  local data = msg.Data
  if data and type(data) == "table" then
    msg["Content-Type"] = "application/json"
    data = K.json.encode(data)
    msg.Data = data
  end
  if data == nil then
    data = ""
  elseif type(data) ~= "string" then
    K.unsupported("Data of type " .. type(data) .. " in ao.send", 2)
  end
  local target = msg.Target
  if target == nil then
    target = ""
  elseif type(target) ~= "string" then
    K.unsupported("a Target of type " .. type(target) .. " in ao.send", 2)
  end
  -- tags as a flat list name, value, name, value, ...
  local flat, n, bad = {}, 0, nil
  for k, v in K.rawnext, msg do
    if not ROOTFIELDS[k] then
      local tv = type(v)
      if tv == "string" or tv == "number" or tv == "boolean" then
        if type(k) ~= "string" then k = tostring(k) end
        flat[n + 1], flat[n + 2] = k, v
        n = n + 2
      elseif bad == nil then
        bad = k
      end
    end
  end
  if bad ~= nil then tagValue(bad, msg[bad]) end
  local extra = msg.Tags
  if extra then
    if K.utils.isArray(extra) then
      for _, o in ipairs(extra) do
        flat[n + 1], flat[n + 2] = tostring(o.name), tagValue(o.name, o.value)
        n = n + 2
      end
    else
      for k, v in K.pairs(extra) do
        flat[n + 1], flat[n + 2] = tostring(k), tagValue(k, v)
        n = n + 2
      end
    end
  end
  K.queueSend(target, data, flat, K.userWhere(2))
  local sent = setmetatable({ Target = msg.Target, Data = msg.Data, receive = RECEIVE, onReply = ONREPLY }, SENT)
  SENTTAGS[sent] = flat
  return sent
end

function ao.spawn()
  K.unsupported("ao.spawn (spawning a process)", 2)
end

function ao.assign()
  K.unsupported("ao.assign (assignments)", 2)
end

function ao.isTrusted(msg)
  for _, authority in ipairs(ao.authorities) do
    if msg.From == authority or msg.Owner == authority then return true end
  end
  return false
end

function ao.isAssignment(msg)
  return msg.Target ~= ao.id
end

function ao.isAssignable()
  K.unsupported("ao.isAssignable (assignments)", 2)
end

function ao.addAssignable()
  K.unsupported("ao.addAssignable (assignments)", 2)
end

function ao.removeAssignable()
  K.unsupported("ao.removeAssignable (assignments)", 2)
end

function ao.result()
  K.unsupported("ao.result (building a process result by hand)", 2)
end

function ao.clearOutbox() end

return ao
