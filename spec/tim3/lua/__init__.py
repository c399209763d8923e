"""The TIM3 processes as deployed Lua (aos): coordinator v1/v2/v3 and the three managers.

Package data only: ``spec.tim3.lua_observe.LUA_FILES`` names the files and maps their
globals to the model's states.
"""
