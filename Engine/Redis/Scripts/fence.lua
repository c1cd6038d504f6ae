-- Fences one SKU: until recovery lifts the fence, reserve-many.lua decides nothing for it (known orders still replay).
-- KEYS: 1 meta. ARGV: 1 reason (kept for operators; the first reason stays).
-- Reply (C#: SkuScripts.FenceAsync): DONE fenced now; ALREADY_DONE fenced before; NOT_WARMED the SKU is not loaded
--        (nothing to fence: a SKU Redis does not hold sells nothing).
if redis.call('EXISTS', KEYS[1]) == 0 then
  return CODE.NOT_WARMED
end
if redis.call('HEXISTS', KEYS[1], 'fenced') == 1 then
  return CODE.ALREADY_DONE
end
fence(KEYS[1], ARGV[1])
return CODE.DONE
