--[[
  TIM3 Coordinator v2 — the seed's fix: v1 plus the two State Manager calls of the plan
  (1.1: UpdatePosition after a successful Mint-Response; 1.2: UpdatePosition after
  UnlockCollateral-Success). Nothing else differs from coordinator_v1.lua.

  Mint:  user --MintTIM3--> coordinator --LockCollateral--> Lock Manager
         --LockCollateral-Success--> coordinator --Mint--> Token Manager
         --Mint-Response--> coordinator --UpdatePosition--> State Manager (new)
                            coordinator --MintTIM3-Response--> user
  Burn:  user --BurnTIM3--> coordinator --Burn--> Token Manager
         --Burn-Response--> coordinator --UnlockCollateral--> Lock Manager
         --UnlockCollateral-Success--> coordinator --UpdatePosition--> State Manager (new)
                                       coordinator --BurnTIM3-Response--> user

  Still as in v1: no handler checks msg.From, a refused mint leaves its collateral
  locked.

  Requests are keyed by the Id of the user's MintTIM3/BurnTIM3 message and every
  message of the flow carries it in its Request tag.
]]

Config = Config or {
  -- process ids, set by the owner's Configure message after spawn
  lockManagerProcess = nil,
  tokenManagerProcess = nil,
  stateManagerProcess = nil,
}

-- open requests: PendingRequests[requestId] = {
--   originalMsg = { From = <user>, Id = <requestId> },
--   operation = "mint" | "burn", amount = <number>,
--   stage = "locking" | "minting" | "burning" | "unlocking" }
PendingRequests = PendingRequests or {}

local function findRequest(msg)
  local request = PendingRequests[msg.Tags.Request]
  if not request then
    error("unknown request " .. tostring(msg.Tags.Request))
  end
  return request
end

local function respond(request, requestId, status)
  ao.send({
    Target = request.originalMsg.From,
    Action = request.operation == "mint" and "MintTIM3-Response" or "BurnTIM3-Response",
    Request = requestId,
    Status = status
  })
end

Handlers.add("Configure", Handlers.utils.hasMatchingTag("Action", "Configure"), function(msg)
  if msg.From ~= Owner then
    error("Configure: only the owner may configure the coordinator")
  end
  Config.lockManagerProcess = msg.Tags.LockManager
  Config.tokenManagerProcess = msg.Tags.TokenManager
  Config.stateManagerProcess = msg.Tags.StateManager
end)

-- ------------------------------------------------------------------ mint flow

Handlers.add("MintTIM3", Handlers.utils.hasMatchingTag("Action", "MintTIM3"), function(msg)
  local amount = tonumber(msg.Tags.Amount)
  ao.send({
    Target = Config.lockManagerProcess,
    Action = "LockCollateral",
    Request = msg.Id,
    User = msg.From,
    Amount = tostring(amount)
  })
  PendingRequests[msg.Id] = {
    originalMsg = { From = msg.From, Id = msg.Id },
    operation = "mint",
    amount = amount,
    stage = "locking"
  }
end)

Handlers.add("LockCollateral-Success", Handlers.utils.hasMatchingTag("Action", "LockCollateral-Success"), function(msg)
  local request = findRequest(msg)
  ao.send({
    Target = Config.tokenManagerProcess,
    Action = "Mint",
    Request = msg.Tags.Request,
    User = request.originalMsg.From,
    Amount = tostring(request.amount)
  })
  request.stage = "minting"
end)

Handlers.add("LockCollateral-Failed", Handlers.utils.hasMatchingTag("Action", "LockCollateral-Failed"), function(msg)
  local request = findRequest(msg)
  respond(request, msg.Tags.Request, "error")
  PendingRequests[msg.Tags.Request] = nil
end)

Handlers.add("Mint-Response", Handlers.utils.hasMatchingTag("Action", "Mint-Response"), function(msg)
  local request = findRequest(msg)
  local originalMsg = request.originalMsg
  -- Add after successful mint confirmation
  if Config.stateManagerProcess and msg.Tags.Status == "success" then
      ao.send({
          Target = Config.stateManagerProcess,
          Action = "UpdatePosition",
          Tags = {
              User = originalMsg.From,
              TokenType = "TIM3",
              Amount = msg.Tags.Amount,
              Operation = "mint",
              CollateralType = "USDA",
              CollateralAmount = msg.Tags.Amount,
              Timestamp = tostring(os.time())
          }
      })
  end
  respond(request, msg.Tags.Request, msg.Tags.Status == "success" and "success" or "error")
  PendingRequests[msg.Tags.Request] = nil
end)

-- ------------------------------------------------------------------ burn flow

Handlers.add("BurnTIM3", Handlers.utils.hasMatchingTag("Action", "BurnTIM3"), function(msg)
  local amount = tonumber(msg.Tags.Amount)
  ao.send({
    Target = Config.tokenManagerProcess,
    Action = "Burn",
    Request = msg.Id,
    User = msg.From,
    Amount = tostring(amount)
  })
  PendingRequests[msg.Id] = {
    originalMsg = { From = msg.From, Id = msg.Id },
    operation = "burn",
    amount = amount,
    stage = "burning"
  }
end)

Handlers.add("Burn-Response", Handlers.utils.hasMatchingTag("Action", "Burn-Response"), function(msg)
  local request = findRequest(msg)
  if msg.Tags.Status ~= "success" then
    respond(request, msg.Tags.Request, "error")
    PendingRequests[msg.Tags.Request] = nil
    return
  end
  ao.send({
    Target = Config.lockManagerProcess,
    Action = "UnlockCollateral",
    Request = msg.Tags.Request,
    User = request.originalMsg.From,
    Amount = tostring(request.amount)
  })
  request.stage = "unlocking"
end)

Handlers.add("UnlockCollateral-Success", Handlers.utils.hasMatchingTag("Action", "UnlockCollateral-Success"), function(msg)
  local request = findRequest(msg)
  local originalMsg = request.originalMsg
  -- Add after successful burn completion
  if Config.stateManagerProcess then
      ao.send({
          Target = Config.stateManagerProcess,
          Action = "UpdatePosition",
          Tags = {
              User = originalMsg.From,
              TokenType = "TIM3",
              Amount = "-" .. msg.Tags.Amount, -- Negative for burn
              Operation = "burn",
              CollateralType = "USDA",
              CollateralAmount = "-" .. msg.Tags.Amount,
              Timestamp = tostring(os.time())
          }
      })
  end
  respond(request, msg.Tags.Request, "success")
  PendingRequests[msg.Tags.Request] = nil
end)

Handlers.add("UnlockCollateral-Failed", Handlers.utils.hasMatchingTag("Action", "UnlockCollateral-Failed"), function(msg)
  local request = findRequest(msg)
  respond(request, msg.Tags.Request, "error")
  PendingRequests[msg.Tags.Request] = nil
end)
