--[[
  TIM3 State Manager: the TIM3 position it tracks per user.

  UpdatePosition (from the configured coordinator only) adds the signed Amount tag to
  the user's position. The other tags the coordinator sends (TokenType, Operation,
  CollateralType, CollateralAmount, Timestamp) are informational and not stored.
]]

Config = Config or {
  Coordinator = nil, -- the coordinator's process id, set by the owner's Configure message
}

Positions = Positions or {} -- user -> TIM3 position

Handlers.add("Configure", Handlers.utils.hasMatchingTag("Action", "Configure"), function(msg)
  if msg.From ~= Owner then
    error("Configure: only the owner may configure the state manager")
  end
  Config.Coordinator = msg.Tags.Coordinator
end)

-- `pattern`, and only from the configured coordinator (msg.From cannot be forged; from
-- anyone else the message matches no handler and goes to the Inbox)
local function fromCoordinator(pattern)
  return function(msg)
    return pattern(msg) and msg.From == Config.Coordinator
  end
end

Handlers.add("UpdatePosition", fromCoordinator(Handlers.utils.hasMatchingTag("Action", "UpdatePosition")), function(msg)
  local user = msg.Tags.User
  Positions[user] = (Positions[user] or 0) + tonumber(msg.Tags.Amount)
end)
