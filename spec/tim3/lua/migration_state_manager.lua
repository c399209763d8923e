--[[
  TIM3 State Manager for the migration (spec/tim3/migration.py, --impl lua): the shipped
  state_manager.lua with the coordinators it accepts as a table (as in
  migration_lock_manager.lua), and the operator's Backfill and Mark-Stale.

  UpdatePosition(User, Amount[, Request]) from an accepted coordinator adds Amount to the
  user's position (from anyone else it raises). Owner (operator wallet) messages:
    Configure(Coordinator)       accept this coordinator, and only it
    Add-Coordinator(Coordinator) boot: accept one more
    Backfill(Mode) + Data = JSON {Positions = {user: total}, Entries = {request: delta}}
                                 Mode "overwrite": positions := the totals; "add": += them
    Mark-Stale                   flag the positions as not current (Stale = true)
  Backfilled = true once a backfill was applied. Counted[request]: how many times each
  supply change is counted in the positions (the Request tag of an UpdatePosition, the
  Entries of a Backfill) — an audit log the release's properties read.
]]

Coordinators = Coordinators or {}
Positions = Positions or {}
Stale = Stale or false
Backfilled = Backfilled or false
Counted = Counted or {}

local function fromOwner(action)
  return function(msg)
    return msg.Tags.Action == action and msg.From == Owner
  end
end

Handlers.add("Configure", fromOwner("Configure"), function(msg)
  Coordinators = { [msg.Tags.Coordinator] = "active" }
end)

Handlers.add("Add-Coordinator", fromOwner("Add-Coordinator"), function(msg)
  Coordinators[msg.Tags.Coordinator] = "active"
end)

Handlers.add("UpdatePosition", Handlers.utils.hasMatchingTag("Action", "UpdatePosition"), function(msg)
  if Coordinators[msg.From] == nil then
    error(tostring(msg.From) .. " is not an authorised coordinator")
  end
  local user = msg.Tags.User
  Positions[user] = (Positions[user] or 0) + tonumber(msg.Tags.Amount)
  local request = msg.Tags.Request
  if request ~= nil then
    Counted[request] = (Counted[request] or 0) + 1
  end
end)

Handlers.add("Backfill", fromOwner("Backfill"), function(msg)
  local body = json.decode(msg.Data)
  if msg.Tags.Mode == "overwrite" then
    Positions, Counted = {}, {}
    for user, total in pairs(body.Positions) do
      Positions[user] = total
    end
    for request in pairs(body.Entries) do
      Counted[request] = 1
    end
  else
    for user, total in pairs(body.Positions) do
      Positions[user] = (Positions[user] or 0) + total
    end
    for request in pairs(body.Entries) do
      Counted[request] = (Counted[request] or 0) + 1
    end
  end
  Backfilled = true
end)

Handlers.add("Mark-Stale", fromOwner("Mark-Stale"), function(msg)
  Stale = true
end)
