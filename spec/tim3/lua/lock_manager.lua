--[[
  TIM3 Lock Manager: USDA collateral per user, free and locked.

  The coordinator asks it to lock a user's free collateral (mint) and to unlock it
  again (burn, or the rollback of a refused mint); it answers with
  <Action>-Success or <Action>-Failed, echoing Request, User and Amount.
  Only the coordinator configured at boot may lock or unlock.
]]

Config = Config or {
  Coordinator = nil, -- the coordinator's process id, set by the owner's Configure message
}

FreeCollateral = FreeCollateral or {}   -- user -> USDA the user may lock
LockedCollateral = LockedCollateral or {} -- user -> USDA locked against minted TIM3

-- `pattern`, and only from the configured coordinator (msg.From cannot be forged; from
-- anyone else the message matches no handler and goes to the Inbox)
local function fromCoordinator(pattern)
  return function(msg)
    return pattern(msg) and msg.From == Config.Coordinator
  end
end

Handlers.add("Configure", Handlers.utils.hasMatchingTag("Action", "Configure"), function(msg)
  if msg.From ~= Owner then
    error("Configure: only the owner may configure the lock manager")
  end
  Config.Coordinator = msg.Tags.Coordinator
end)

-- the owner funds a user's free collateral (a USDA deposit, at boot)
Handlers.add("Credit", Handlers.utils.hasMatchingTag("Action", "Credit"), function(msg)
  if msg.From ~= Owner then
    error("Credit: only the owner may credit collateral")
  end
  local user, amount = msg.Tags.User, tonumber(msg.Tags.Amount)
  FreeCollateral[user] = (FreeCollateral[user] or 0) + amount
end)

Handlers.add("LockCollateral", fromCoordinator(Handlers.utils.hasMatchingTag("Action", "LockCollateral")), function(msg)
  local user, amount = msg.Tags.User, tonumber(msg.Tags.Amount)
  local free = FreeCollateral[user] or 0
  local reply = { Request = msg.Tags.Request, User = user, Amount = tostring(amount) }
  if free < amount or (Checker and Checker.fault("lock-fail")) then
    reply.Action = "LockCollateral-Failed"
    msg.reply(reply)
    return
  end
  reply.Action = "LockCollateral-Success"
  msg.reply(reply)
  FreeCollateral[user] = free - amount
  LockedCollateral[user] = (LockedCollateral[user] or 0) + amount
end)

Handlers.add("UnlockCollateral", fromCoordinator(Handlers.utils.hasMatchingTag("Action", "UnlockCollateral")), function(msg)
  local user, amount = msg.Tags.User, tonumber(msg.Tags.Amount)
  local locked = LockedCollateral[user] or 0
  local reply = { Request = msg.Tags.Request, User = user, Amount = tostring(amount) }
  if locked < amount or (Checker and Checker.fault("unlock-fail")) then
    reply.Action = "UnlockCollateral-Failed"
    msg.reply(reply)
    return
  end
  reply.Action = "UnlockCollateral-Success"
  msg.reply(reply)
  FreeCollateral[user] = (FreeCollateral[user] or 0) + amount
  LockedCollateral[user] = locked - amount
end)
