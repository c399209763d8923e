--[[
  TIM3 Token Manager for the migration (spec/tim3/migration.py, --impl lua): the shipped
  token_manager.lua with the coordinators it accepts as a table (as in
  migration_lock_manager.lua) and its history kept in the process.

  History: Prior[request] = { request, user, delta, origin } for the supply changes made
  before the release (by request id), then Log, one entry per supply change in order;
  origin is msg.From, the coordinator that asked (AO records it with every message).
  Cutoff = #Log when the operator recorded a cut-off (-1: none).

  Coordinators[id] = "active" | "retired": a retired coordinator may still Mint (its
  Mint follows a lock granted before) but its Burn is refused (Burn-Response error;
  Refused[request] = coordinator). Owner (operator wallet) messages: Configure,
  Add-Coordinator (boot), Retire-/Reinstate-Coordinator (-> Ack), Record-Cutoff (-> Ack),
  GetHistory (-> History, the history as JSON in Data: {Prior = {request: row},
  Log = [row], Cutoff}, each row [request, user, delta, origin]).

  Boot (owner only): Import-Mint(Request, User, Amount, Origin) records a mint made
  before the release.
]]

Coordinators = Coordinators or {}
Balances = Balances or {}
TotalSupply = TotalSupply or 0
Prior = Prior or {}
Log = Log or {}
Cutoff = Cutoff or -1
Refused = Refused or {}

local function fromOwner(action)
  return function(msg)
    return msg.Tags.Action == action and msg.From == Owner
  end
end

local function standing(msg)
  local s = Coordinators[msg.From]
  if s == nil then
    error(tostring(msg.From) .. " is not an authorised coordinator")
  end
  return s
end

Handlers.add("Configure", fromOwner("Configure"), function(msg)
  Coordinators = { [msg.Tags.Coordinator] = "active" }
end)

Handlers.add("Add-Coordinator", fromOwner("Add-Coordinator"), function(msg)
  Coordinators[msg.Tags.Coordinator] = "active"
end)

Handlers.add("Import-Mint", fromOwner("Import-Mint"), function(msg)
  local user, amount, request = msg.Tags.User, tonumber(msg.Tags.Amount), msg.Tags.Request
  Prior[request] = { request = request, user = user, delta = amount, origin = msg.Tags.Origin }
  Balances[user] = (Balances[user] or 0) + amount
  TotalSupply = TotalSupply + amount
end)

local function setStanding(msg, value)
  local c = msg.Tags.Coordinator
  if Coordinators[c] == nil then
    error("unknown coordinator " .. tostring(c))
  end
  msg.reply({ Action = "Ack", Of = msg.Tags.Action })
  Coordinators[c] = value
end

Handlers.add("Retire-Coordinator", fromOwner("Retire-Coordinator"), function(msg)
  setStanding(msg, "retired")
end)

Handlers.add("Reinstate-Coordinator", fromOwner("Reinstate-Coordinator"), function(msg)
  setStanding(msg, "active")
end)

Handlers.add("Record-Cutoff", fromOwner("Record-Cutoff"), function(msg)
  msg.reply({ Action = "Ack", Of = "Record-Cutoff" })
  Cutoff = #Log
end)

local function row(e)
  return { e.request, e.user, e.delta, e.origin }
end

Handlers.add("GetHistory", fromOwner("GetHistory"), function(msg)
  local prior, log = {}, {}
  for request, e in pairs(Prior) do
    prior[request] = row(e)
  end
  for i, e in ipairs(Log) do
    log[i] = row(e)
  end
  local body = { Log = log, Cutoff = Cutoff }
  if next(prior) ~= nil then
    body.Prior = prior -- an empty table would be encoded as a JSON array
  end
  msg.reply({ Action = "History", Data = json.encode(body) })
end)

local function record(msg, user, delta)
  Balances[user] = (Balances[user] or 0) + delta
  TotalSupply = TotalSupply + delta
  Log[#Log + 1] = { request = msg.Tags.Request, user = user, delta = delta, origin = msg.From }
end

Handlers.add("Mint", Handlers.utils.hasMatchingTag("Action", "Mint"), function(msg)
  local user, amount = msg.Tags.User, tonumber(msg.Tags.Amount)
  standing(msg) -- a retired coordinator may still mint
  msg.reply({ Action = "Mint-Response", Request = msg.Tags.Request, Status = "success", Amount = tostring(amount) })
  record(msg, user, amount)
end)

Handlers.add("Burn", Handlers.utils.hasMatchingTag("Action", "Burn"), function(msg)
  local user, amount, request = msg.Tags.User, tonumber(msg.Tags.Amount), msg.Tags.Request
  local reply = { Action = "Burn-Response", Request = request, Amount = tostring(amount) }
  if standing(msg) == "retired" then
    reply.Status = "error"
    msg.reply(reply)
    Refused[request] = msg.From
    return
  end
  if (Balances[user] or 0) < amount then
    reply.Status = "error"
    msg.reply(reply)
    return
  end
  reply.Status = "success"
  msg.reply(reply)
  record(msg, user, -amount)
end)
