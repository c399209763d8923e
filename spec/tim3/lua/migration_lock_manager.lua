--[[
  TIM3 Lock Manager for the migration (spec/tim3/migration.py, --impl lua): the
  shipped lock_manager.lua with the coordinators it accepts as a table instead of one
  id, so that two coordinators can be live at once.

  Coordinators[id] = "active" (may lock and unlock) | "retired" (may only unlock: it
  finishes what it started). Every change comes from the owner, the operator's wallet:
    Configure(Coordinator)             accept this coordinator, and only it (as the
                                       shipped Configure: the id is replaced)
    Add-Coordinator(Coordinator)       boot: accept one more (the new one, deployed alongside)
    Retire-Coordinator(Coordinator)    -> Ack(Of)
    Reinstate-Coordinator(Coordinator) -> Ack(Of)
  A lock or unlock from a sender that is no coordinator here raises (AO rolls it back).
  Refused[request] = coordinator: the locks refused because their coordinator was
  retired (an audit log).

  Boot (owner only, before the release): Credit(User, Amount) funds free collateral;
  Credit-Locked(User, Amount) records collateral locked against TIM3 minted before.
]]

Coordinators = Coordinators or {}
FreeCollateral = FreeCollateral or {}
LockedCollateral = LockedCollateral or {}
Refused = Refused or {}

local function fromOwner(action)
  return function(msg)
    return msg.Tags.Action == action and msg.From == Owner
  end
end

-- the sender's standing; a sender that is no coordinator raises
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

Handlers.add("Credit", fromOwner("Credit"), function(msg)
  local user = msg.Tags.User
  FreeCollateral[user] = (FreeCollateral[user] or 0) + tonumber(msg.Tags.Amount)
end)

Handlers.add("Credit-Locked", fromOwner("Credit-Locked"), function(msg)
  local user = msg.Tags.User
  LockedCollateral[user] = (LockedCollateral[user] or 0) + tonumber(msg.Tags.Amount)
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

Handlers.add("LockCollateral", Handlers.utils.hasMatchingTag("Action", "LockCollateral"), function(msg)
  local user, amount, request = msg.Tags.User, tonumber(msg.Tags.Amount), msg.Tags.Request
  local reply = { Request = request, User = user, Amount = tostring(amount) }
  if standing(msg) == "retired" then
    reply.Action = "LockCollateral-Failed"
    msg.reply(reply)
    Refused[request] = msg.From
    return
  end
  local free = FreeCollateral[user] or 0
  if free < amount then
    reply.Action = "LockCollateral-Failed"
    msg.reply(reply)
    return
  end
  reply.Action = "LockCollateral-Success"
  msg.reply(reply)
  FreeCollateral[user] = free - amount
  LockedCollateral[user] = (LockedCollateral[user] or 0) + amount
end)

-- a retired coordinator may still unlock: it finishes its burns
Handlers.add("UnlockCollateral", Handlers.utils.hasMatchingTag("Action", "UnlockCollateral"), function(msg)
  local user, amount = msg.Tags.User, tonumber(msg.Tags.Amount)
  standing(msg)
  local locked = LockedCollateral[user] or 0
  local reply = { Request = msg.Tags.Request, User = user, Amount = tostring(amount) }
  if locked < amount then
    reply.Action = "UnlockCollateral-Failed"
    msg.reply(reply)
    return
  end
  reply.Action = "UnlockCollateral-Success"
  msg.reply(reply)
  FreeCollateral[user] = (FreeCollateral[user] or 0) + amount
  LockedCollateral[user] = locked - amount
end)
