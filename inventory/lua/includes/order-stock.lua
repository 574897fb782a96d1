--[[
order-stock: an order's quantities summed per SKU (an order may name one SKU twice), in order of
first appearance, with the stock keys the caller passed checked against them.

KEYS[4..n]  stock:<sku> for each distinct SKU of the order, in that order
ARGV[8]     stock key prefix ("stock:" or "<namespace>:stock:")

order_stock(items, script) returns skus, totals (totals[sku] = the order's quantity of sku), or nil
and an error reply naming `script` when KEYS[4..n] are not the order's stock keys.
]]
local function order_stock(items, script)
  local skus, totals = {}, {}
  for _, item in ipairs(items) do
    if totals[item.sku] == nil then
      skus[#skus + 1] = item.sku
      totals[item.sku] = 0
    end
    totals[item.sku] = totals[item.sku] + item.quantity
  end
  if #skus ~= #KEYS - 3 then
    return nil, redis.error_reply(script .. ': expected ' .. #skus .. ' stock keys, got ' .. (#KEYS - 3))
  end
  for i, sku in ipairs(skus) do
    if KEYS[i + 3] ~= ARGV[8] .. sku then
      return nil, redis.error_reply(script .. ': KEYS[' .. (i + 3) .. '] does not match sku ' .. sku)
    end
  end
  return skus, totals
end
