--[[
  TIM3 Token Manager: TIM3 balances and total supply.

  The coordinator asks it to Mint (refused above the max supply) and to Burn (refused
  above the user's balance); it answers Mint-Response / Burn-Response with Status
  "success" or "error", echoing Request and Amount. Applied[Request] records the
  supply change applied for each request (an audit log). Only the coordinator
  configured at boot may mint or burn.
]]

Config = Config or {
  Coordinator = nil, -- the coordinator's process id, set by the owner's Configure message
  MaxSupply = nil,   -- the supply cap (a number), set by the same Configure message
}

Balances = Balances or {}   -- user -> TIM3 balance
TotalSupply = TotalSupply or 0
Applied = Applied or {}     -- request id -> supply change applied for it

-- `pattern`, and only from the configured coordinator (msg.From cannot be forged; from
-- anyone else the message matches no handler and goes to the Inbox)
local function fromCoordinator(pattern)
  return function(msg)
    return pattern(msg) and msg.From == Config.Coordinator
  end
end

Handlers.add("Configure", Handlers.utils.hasMatchingTag("Action", "Configure"), function(msg)
  if msg.From ~= Owner then
    error("Configure: only the owner may configure the token manager")
  end
  Config.Coordinator = msg.Tags.Coordinator
  Config.MaxSupply = tonumber(msg.Tags.MaxSupply)
end)

Handlers.add("Mint", fromCoordinator(Handlers.utils.hasMatchingTag("Action", "Mint")), function(msg)
  local user, amount, request = msg.Tags.User, tonumber(msg.Tags.Amount), msg.Tags.Request
  if TotalSupply + amount > Config.MaxSupply or (Checker and Checker.fault("mint-fail")) then
    msg.reply({ Action = "Mint-Response", Request = request, Status = "error", Amount = tostring(amount) })
    return
  end
  msg.reply({ Action = "Mint-Response", Request = request, Status = "success", Amount = tostring(amount) })
  Balances[user] = (Balances[user] or 0) + amount
  TotalSupply = TotalSupply + amount
  Applied[request] = (Applied[request] or 0) + amount
end)

Handlers.add("Burn", fromCoordinator(Handlers.utils.hasMatchingTag("Action", "Burn")), function(msg)
  local user, amount, request = msg.Tags.User, tonumber(msg.Tags.Amount), msg.Tags.Request
  local balance = Balances[user] or 0
  if balance < amount then
    msg.reply({ Action = "Burn-Response", Request = request, Status = "error", Amount = tostring(amount) })
    return
  end
  msg.reply({ Action = "Burn-Response", Request = request, Status = "success", Amount = tostring(amount) })
  Balances[user] = balance - amount
  TotalSupply = TotalSupply - amount
  Applied[request] = (Applied[request] or 0) - amount
end)
