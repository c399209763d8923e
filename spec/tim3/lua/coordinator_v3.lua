--[[
  TIM3 Coordinator v3 — the corrected design (spec/tim3/coordinator.py, v3).

  Mint:  user --MintTIM3--> coordinator --LockCollateral--> Lock Manager
         --LockCollateral-Success--> coordinator --Mint--> Token Manager
         --Mint-Response success--> coordinator --UpdatePosition(+amount)--> State Manager
                                    coordinator --MintTIM3-Response success--> user
         --Mint-Response error-->   coordinator --UnlockCollateral--> Lock Manager (rollback)
         --UnlockCollateral-Success--> coordinator --MintTIM3-Response error--> user
  Burn:  user --BurnTIM3--> coordinator --Burn--> Token Manager
         --Burn-Response success--> coordinator --UpdatePosition(-amount)--> State Manager
                                    coordinator --UnlockCollateral--> Lock Manager
         --UnlockCollateral-Success--> coordinator --BurnTIM3-Response success--> user

  What changed against v1/v2:
  * every response handler accepts its Action only from the process that sends it
    (msg.From cannot be forged; a message from anyone else matches no handler and
    goes to the Inbox);
  * a request id that is already open is refused (error: AO rolls the message back);
  * a response must find its request at the stage that expects it (else error);
  * the position is updated exactly when the supply changes: on a successful
    Mint-Response and on a successful Burn-Response (not after the unlock);
  * a refused mint rolls its lock back before the user gets the error;
  * a refused unlock is retried: the collateral is owed, the request stays open.

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
--   stage = "locking" | "minting" | "rollback" | "burning" | "unlocking",
--   updateSent = true once the UpdatePosition of this request has been sent (absent before) }
PendingRequests = PendingRequests or {}

-- `pattern`, and only from the process configured as Config[configKey] (msg.From cannot
-- be forged; from anyone else the message matches no handler and goes to the Inbox)
local function onlyFrom(configKey, pattern)
  return function(msg)
    return pattern(msg) and msg.From == Config[configKey]
  end
end

-- the open request a response refers to, at one of the stages that expect this response
local function expectRequest(msg, ...)
  local request = PendingRequests[msg.Tags.Request]
  if not request then
    error("unknown request " .. tostring(msg.Tags.Request))
  end
  for _, stage in ipairs({ ... }) do
    if request.stage == stage then
      return request
    end
  end
  error("request " .. msg.Tags.Request .. " is " .. request.stage .. ", not " .. table.concat({ ... }, "/"))
end

local function respond(request, requestId, status)
  ao.send({
    Target = request.originalMsg.From,
    Action = request.operation == "mint" and "MintTIM3-Response" or "BurnTIM3-Response",
    Request = requestId,
    Status = status
  })
end

local function updatePosition(request, delta)
  ao.send({
    Target = Config.stateManagerProcess,
    Action = "UpdatePosition",
    Tags = {
      User = request.originalMsg.From,
      TokenType = "TIM3",
      Amount = tostring(delta),
      Operation = request.operation,
      CollateralType = "USDA",
      CollateralAmount = tostring(delta),
      Timestamp = tostring(os.time())
    }
  })
end

local function unlock(request, requestId)
  ao.send({
    Target = Config.lockManagerProcess,
    Action = "UnlockCollateral",
    Request = requestId,
    User = request.originalMsg.From,
    Amount = tostring(request.amount)
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
  if PendingRequests[msg.Id] then
    error("duplicate request " .. msg.Id)
  end
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

Handlers.add("LockCollateral-Success", onlyFrom("lockManagerProcess", Handlers.utils.hasMatchingTag("Action", "LockCollateral-Success")), function(msg)
  local request = expectRequest(msg, "locking")
  ao.send({
    Target = Config.tokenManagerProcess,
    Action = "Mint",
    Request = msg.Tags.Request,
    User = request.originalMsg.From,
    Amount = tostring(request.amount)
  })
  request.stage = "minting"
end)

Handlers.add("LockCollateral-Failed", onlyFrom("lockManagerProcess", Handlers.utils.hasMatchingTag("Action", "LockCollateral-Failed")), function(msg)
  local request = expectRequest(msg, "locking")
  respond(request, msg.Tags.Request, "error")
  PendingRequests[msg.Tags.Request] = nil
end)

Handlers.add("Mint-Response", onlyFrom("tokenManagerProcess", Handlers.utils.hasMatchingTag("Action", "Mint-Response")), function(msg)
  local request = expectRequest(msg, "minting")
  if msg.Tags.Status == "success" then
    updatePosition(request, request.amount)
    respond(request, msg.Tags.Request, "success")
    PendingRequests[msg.Tags.Request] = nil
    return
  end
  -- refused: give the collateral back before answering (UnlockCollateral-Success answers)
  unlock(request, msg.Tags.Request)
  request.stage = "rollback"
end)

-- ------------------------------------------------------------------ burn flow

Handlers.add("BurnTIM3", Handlers.utils.hasMatchingTag("Action", "BurnTIM3"), function(msg)
  if PendingRequests[msg.Id] then
    error("duplicate request " .. msg.Id)
  end
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

Handlers.add("Burn-Response", onlyFrom("tokenManagerProcess", Handlers.utils.hasMatchingTag("Action", "Burn-Response")), function(msg)
  local request = expectRequest(msg, "burning")
  if msg.Tags.Status ~= "success" then
    respond(request, msg.Tags.Request, "error")
    PendingRequests[msg.Tags.Request] = nil
    return
  end
  -- burned: the supply changed now, so the position changes now
  updatePosition(request, -request.amount)
  unlock(request, msg.Tags.Request)
  request.stage = "unlocking"
  request.updateSent = true
end)

-- ------------------------------------------------------------------ unlock (burn, or a mint's rollback)

Handlers.add("UnlockCollateral-Success", onlyFrom("lockManagerProcess", Handlers.utils.hasMatchingTag("Action", "UnlockCollateral-Success")), function(msg)
  local request = expectRequest(msg, "unlocking", "rollback")
  respond(request, msg.Tags.Request, request.stage == "unlocking" and "success" or "error")
  PendingRequests[msg.Tags.Request] = nil
end)

Handlers.add("UnlockCollateral-Failed", onlyFrom("lockManagerProcess", Handlers.utils.hasMatchingTag("Action", "UnlockCollateral-Failed")), function(msg)
  local request = expectRequest(msg, "unlocking", "rollback")
  -- the collateral is owed: ask again, the request stays open
  unlock(request, msg.Tags.Request)
end)
