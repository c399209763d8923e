--[[ tim3check's aos-compatible runtime: boot.

  Called once per process by checker/ao/runtime.py as boot(sources, config): loads
  the other prelude modules (each as a chunk named "=[ao]/<name>.lua", which is how the
  runtime tells its own frames from the process's code) and returns the API table the
  Python side calls. The kernel table K passed to every module is never reachable from
  the process's globals.
]]
local sources, config = ...
local K = { config = config }

local function module(name)
  local chunk, err = load(sources[name], "=[ao]/" .. name .. ".lua", "t", _G)
  if not chunk then error(err, 0) end
  return chunk(K)
end

module("kernel")
module("state")
module("snapshot")
module("rename")
K.json = module("json")
K.utils = module("utils")
K.hutils = module("handlers_utils")
K.handlers = module("handlers")
K.ao = module("ao")
module("env")
return module("process")
