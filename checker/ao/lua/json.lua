--[[ json: the behaviour of the json module aos processes get (ao's dev-cli json.lua,
  "_version 0.2.0"), written for this runtime.

  encode: nil -> null; a number with an integral value -> "%.0f" (so 1.0 -> "1", and an
  integer above 2^53 is rounded through a double, as in aos); other numbers -> "%.14g";
  NaN and infinities are errors. A table whose [1] is set, or an empty table, is an
  array (every key must be a number, no holes); otherwise an object (every key a
  string; function values are left out). Object keys come in this runtime's pairs()
  order (sorted; aos uses Lua's hash order). Cycles are errors.
  decode: JSON text -> Lua values; integral numbers without a point or exponent become
  integers (tonumber), null leaves the key out. Errors name line and column.
]]
local K = ...

local format, byte, sub, find, gsub, char = string.format, string.byte, string.sub, string.find, string.gsub, string.char
local concat = table.concat
local rawget, type, tostring, tonumber = rawget, type, tostring, tonumber
local floor, huge = math.floor, math.huge

local json = { _version = "0.2.0" }

local ESCAPES = { ["\\"] = "\\\\", ['"'] = '\\"', ["\b"] = "\\b", ["\f"] = "\\f",
  ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t" }
for i = 0, 31 do
  local c = char(i)
  if ESCAPES[c] == nil then ESCAPES[c] = format("\\u%04x", i) end
end

local encodeValue

local function encodeTable(t, stack)
  if stack[t] then error("circular reference", 0) end
  stack[t] = true
  local parts = {}
  if rawget(t, 1) ~= nil or K.rawnext(t) == nil then
    local n = 0
    for k in K.pairs(t) do
      if type(k) ~= "number" then error("invalid table: mixed or invalid key types", 0) end
      n = n + 1
    end
    if n ~= #t then error("invalid table: sparse array", 0) end
    for i = 1, #t do parts[i] = encodeValue(t[i], stack) end
    stack[t] = nil
    return "[" .. concat(parts, ",") .. "]"
  end
  local n = 0
  for k, v in K.pairs(t) do
    if type(k) ~= "string" then error("invalid table: mixed or invalid key types", 0) end
    if type(v) ~= "function" then
      n = n + 1
      parts[n] = encodeValue(k, stack) .. ":" .. encodeValue(v, stack)
    end
  end
  stack[t] = nil
  return "{" .. concat(parts, ",") .. "}"
end

encodeValue = function(v, stack)
  local tv = type(v)
  if tv == "nil" then return "null" end
  if tv == "boolean" then return v and "true" or "false" end
  if tv == "string" then return '"' .. gsub(v, '[%z\1-\31\\"]', ESCAPES) .. '"' end
  if tv == "number" then
    if v ~= v or v <= -huge or v >= huge then
      error("unexpected number value '" .. tostring(v) .. "'", 0)
    end
    if floor(v) == v then return format("%.0f", v) end
    return format("%.14g", v)
  end
  if tv == "table" then return encodeTable(v, stack) end
  error("unexpected type '" .. tv .. "'", 0)
end

function json.encode(value)
  return (encodeValue(value, {}))
end

-- ------------------------------------------------------------------ decode

local function position(str, idx)
  local line, col = 1, 1
  for i = 1, idx - 1 do
    col = col + 1
    if byte(str, i) == 10 then
      line = line + 1
      col = 1
    end
  end
  return line, col
end

local function fail(str, idx, msg)
  local line, col = position(str, idx)
  error(format("%s at line %d col %d", msg, line, col), 0)
end

local function skipSpace(str, i)
  local _, e = find(str, "^[ \t\r\n]*", i)
  return e + 1
end

local function utf8char(n)
  if n <= 0x7f then return char(n) end
  if n <= 0x7ff then return char(floor(n / 64) + 192, n % 64 + 128) end
  if n <= 0xffff then return char(floor(n / 4096) + 224, floor(n % 4096 / 64) + 128, n % 64 + 128) end
  if n <= 0x10ffff then
    return char(floor(n / 262144) + 240, floor(n % 262144 / 4096) + 128, floor(n % 4096 / 64) + 128, n % 64 + 128)
  end
  error(format("invalid unicode codepoint '%x'", n), 0)
end

local UNESCAPE = { ['"'] = '"', ["\\"] = "\\", ["/"] = "/", b = "\b", f = "\f", n = "\n", r = "\r", t = "\t" }

local parseValue

local function parseString(str, i)
  local parts, np = {}, 0
  local j = i + 1
  local from = j
  local len = #str
  while j <= len do
    local c = byte(str, j)
    if c < 32 then
      fail(str, j, "control character in string")
    elseif c == 92 then
      np = np + 1
      parts[np] = sub(str, from, j - 1)
      local e = sub(str, j + 1, j + 1)
      if e == "u" then
        local hex = str:match("^[dD][89aAbB]%x%x\\u%x%x%x%x", j + 2) or str:match("^%x%x%x%x", j + 2)
        if not hex then fail(str, j, "invalid unicode escape in string") end
        local n1 = tonumber(sub(hex, 1, 4), 16)
        local n2 = tonumber(sub(hex, 7, 10), 16)
        np = np + 1
        if n2 then
          parts[np] = utf8char((n1 - 0xd800) * 0x400 + (n2 - 0xdc00) + 0x10000)
        else
          parts[np] = utf8char(n1)
        end
        j = j + 1 + #hex
      else
        local r = UNESCAPE[e]
        if r == nil then fail(str, j, "invalid escape char '" .. e .. "' in string") end
        np = np + 1
        parts[np] = r
        j = j + 1
      end
      from = j + 1
    elseif c == 34 then
      np = np + 1
      parts[np] = sub(str, from, j - 1)
      return concat(parts), j + 1
    end
    j = j + 1
  end
  fail(str, i, "expected closing quote for string")
end

local function parseNumber(str, i)
  local _, e = find(str, "^[^ \t\r\n%]},]*", i)
  local s = sub(str, i, e)
  local n = tonumber(s)
  if n == nil then fail(str, i, "invalid number '" .. s .. "'") end
  return n, e + 1
end

local LITERALS = { ["true"] = true, ["false"] = false }

local function parseLiteral(str, i)
  local _, e = find(str, "^[^ \t\r\n%]},]*", i)
  local word = sub(str, i, e)
  if word == "null" then return nil, e + 1 end
  local v = LITERALS[word]
  if v == nil then fail(str, i, "invalid literal '" .. word .. "'") end
  return v, e + 1
end

local function parseArray(str, i)
  local res, n = {}, 1
  i = i + 1
  while true do
    i = skipSpace(str, i)
    if sub(str, i, i) == "]" then return res, i + 1 end
    local x
    x, i = parseValue(str, i)
    res[n] = x
    n = n + 1
    i = skipSpace(str, i)
    local c = sub(str, i, i)
    i = i + 1
    if c == "]" then return res, i end
    if c ~= "," then fail(str, i, "expected ']' or ','") end
  end
end

local function parseObject(str, i)
  local res = {}
  i = i + 1
  while true do
    i = skipSpace(str, i)
    if sub(str, i, i) == "}" then return res, i + 1 end
    if sub(str, i, i) ~= '"' then fail(str, i, "expected string for key") end
    local key, val
    key, i = parseString(str, i)
    i = skipSpace(str, i)
    if sub(str, i, i) ~= ":" then fail(str, i, "expected ':' after key") end
    i = skipSpace(str, i + 1)
    val, i = parseValue(str, i)
    res[key] = val
    i = skipSpace(str, i)
    local c = sub(str, i, i)
    i = i + 1
    if c == "}" then return res, i end
    if c ~= "," then fail(str, i, "expected '}' or ','") end
  end
end

local DISPATCH = { ['"'] = parseString, ["-"] = parseNumber, t = parseLiteral, f = parseLiteral,
  n = parseLiteral, ["["] = parseArray, ["{"] = parseObject }
for d = 0, 9 do DISPATCH[tostring(d)] = parseNumber end

parseValue = function(str, i)
  local c = sub(str, i, i)
  local f = DISPATCH[c]
  if f == nil then fail(str, i, "unexpected character '" .. c .. "'") end
  return f(str, i)
end

function json.decode(str)
  if type(str) ~= "string" then
    error("expected argument of type string, got " .. type(str), 2)
  end
  local res, i = parseValue(str, skipSpace(str, 1))
  i = skipSpace(str, i)
  if i <= #str then fail(str, i, "trailing garbage") end
  if type(res) == "table" and K.msgData ~= nil and str == K.msgData and debug.getmetatable(res) == nil then
    setmetatable(res, K.TRACK_DATA)
  end
  return res
end

return json
