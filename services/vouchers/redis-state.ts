/**
 * The Redis fast path of the voucher service: one atomic Lua script per operation on the state of
 * one voucher. Redis is never the source of truth (Postgres is, through unique slot indexes); this
 * state only lets a request for an exhausted, expired or per-user-exhausted voucher be turned away
 * without touching Postgres, and hands out slot numbers that are almost always free.
 *
 * Why an atomic script and not a distributed lock (Redlock): a lock lease can expire while its
 * holder is paused (GC, network, a stopped VM) and another process then takes it, so two processes
 * believe they hold it; without a fencing token checked by the storage, the lock cannot keep them
 * from both writing. Here nothing relies on mutual exclusion across processes: each script runs
 * atomically inside Redis (no interleaving, no lease), and the final word is a Postgres unique
 * index that no interleaving, pause or retry can get past. A stale or lost Redis state can only
 * make a request fail or retry, never exceed a limit.
 *
 * Keys of voucher C (one hash tag, so the scripts also work on Redis Cluster):
 *   vch:{C}:def   hash  gen, ver, loadedAt, missing, startsAt, expiresAt, total, perUser, next
 *   vch:{C}:free  set   slot numbers freed by releases/expiries, handed out before `next`
 *   vch:{C}:ord   hash  orderId -> "slot|userSlot|expiresAtMs|state|userId"   (state held|consumed)
 *   vch:{C}:exp   zset  orderId -> hold expiry (ms), for held entries only
 *   vch:{C}:usr   hash  userId -> "1,3" (the user slots in use)
 * Times are epoch milliseconds from the service's injectable clock; -1 means "no limit".
 */
import { LuaScript } from '../../lib/redis';

export function voucherKeys(code: string): string[] {
  const tag = `vch:{${code}}`;
  return [`${tag}:def`, `${tag}:free`, `${tag}:ord`, `${tag}:exp`, `${tag}:usr`];
}

/** Shared Lua helpers: parse an entry, and free an order's slots. */
const luaPrelude = `
local function parse(entry)
  local slot, userSlot, expiresAt, state, userId = string.match(entry, '^(%d+)|(%d+)|(%d+)|(%a+)|(.*)$')
  return slot, userSlot, expiresAt, state, userId
end
local function removeUserSlot(userId, userSlot)
  if userSlot == '0' then return end
  local used = redis.call('HGET', KEYS[5], userId)
  if not used then return end
  local kept = {}
  for s in string.gmatch(used, '%d+') do if s ~= userSlot then kept[#kept + 1] = s end end
  if #kept == 0 then redis.call('HDEL', KEYS[5], userId) else redis.call('HSET', KEYS[5], userId, table.concat(kept, ',')) end
end
local function freeOrder(orderId, expectedSlot)
  local entry = redis.call('HGET', KEYS[3], orderId)
  if not entry then return 0 end
  local slot, userSlot, expiresAt, state, userId = parse(entry)
  if expectedSlot ~= '' and slot ~= expectedSlot then return 0 end
  redis.call('SADD', KEYS[2], slot)
  removeUserSlot(userId, userSlot)
  redis.call('HDEL', KEYS[3], orderId)
  redis.call('ZREM', KEYS[4], orderId)
  return 1
end
`;

/**
 * hold: ARGV orderId, userId, nowMs, holdTimeoutMs, reclaimMax.
 * Returns {status, gen, loadedAt, entry?}: OK (a slot was taken: entry), EXISTS (this order already
 * has an entry), MISSING (no state: load it), NOT_FOUND, NOT_STARTED, EXPIRED, USER_LIMIT, EXHAUSTED.
 */
const holdLua = `${luaPrelude}
local def = redis.call('HMGET', KEYS[1], 'gen', 'missing', 'startsAt', 'expiresAt', 'total', 'perUser', 'next', 'loadedAt')
local gen = def[1]
if not gen then return {'MISSING'} end
local loadedAt = def[8]
if def[2] == '1' then return {'NOT_FOUND', gen, loadedAt} end
local orderId, userId, now = ARGV[1], ARGV[2], tonumber(ARGV[3])
local existing = redis.call('HGET', KEYS[3], orderId)
if existing then return {'EXISTS', gen, loadedAt, existing} end
if def[3] ~= '' and now < tonumber(def[3]) then return {'NOT_STARTED', gen, loadedAt} end
if def[4] ~= '' and now >= tonumber(def[4]) then return {'EXPIRED', gen, loadedAt} end
-- Holds whose time ran out give their slots back first (a bounded number per call).
local stale = redis.call('ZRANGEBYSCORE', KEYS[4], '-inf', now, 'LIMIT', 0, tonumber(ARGV[5]))
for _, o in ipairs(stale) do freeOrder(o, '') end
-- The user's lowest free slot (1..perUser), then the voucher's (freed ones first, then next).
local perUser = tonumber(def[6])
local userSlot = 0
local used = nil
if perUser >= 0 then
  used = redis.call('HGET', KEYS[5], userId)
  local taken = {}
  if used then for s in string.gmatch(used, '%d+') do taken[tonumber(s)] = true end end
  for i = 1, perUser do if not taken[i] then userSlot = i; break end end
  if userSlot == 0 then return {'USER_LIMIT', gen, loadedAt} end
end
local total = tonumber(def[5])
local slot = nil
while true do
  local s = redis.call('SPOP', KEYS[2])
  if not s then break end
  s = tonumber(s)
  if total < 0 or s <= total then slot = s; break end
end
if not slot then
  local nextSlot = tonumber(def[7])
  if total >= 0 and nextSlot > total then return {'EXHAUSTED', gen, loadedAt} end
  slot = nextSlot
  redis.call('HSET', KEYS[1], 'next', nextSlot + 1)
end
local expiresAt = now + tonumber(ARGV[4])
local entry = string.format('%d|%d|%d|held|%s', slot, userSlot, expiresAt, userId)
redis.call('HSET', KEYS[3], orderId, entry)
redis.call('ZADD', KEYS[4], expiresAt, orderId)
if userSlot > 0 then
  if used then redis.call('HSET', KEYS[5], userId, used .. ',' .. userSlot) else redis.call('HSET', KEYS[5], userId, userSlot) end
end
return {'OK', gen, loadedAt, entry}
`;

/** release: ARGV orderId, expectedSlot ('' = whatever slot). Gives the order's slots back. */
const releaseLua = `${luaPrelude}
return freeOrder(ARGV[1], ARGV[2])
`;

/** consume: ARGV orderId. The entry stays (its slots stay taken) but no longer expires. */
const consumeLua = `${luaPrelude}
local entry = redis.call('HGET', KEYS[3], ARGV[1])
if not entry then return 0 end
local slot, userSlot, expiresAt, state, userId = parse(entry)
redis.call('HSET', KEYS[3], ARGV[1], string.format('%s|%s|%s|consumed|%s', slot, userSlot, expiresAt, userId))
redis.call('ZREM', KEYS[4], ARGV[1])
return 1
`;

/** invalidate: ARGV gen ('' = any). Drops the state when it is still that generation. */
const invalidateLua = `
local gen = redis.call('HGET', KEYS[1], 'gen')
if not gen then return 0 end
if ARGV[1] ~= '' and gen ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5])
return 1
`;

/**
 * load: ARGV ver, gen, loadedAt, missing, startsAt, expiresAt, total, perUser, ttlMs, then pairs of
 * (orderId, entry) of the live usages. Replaces the state unless a state of the same or a newer
 * definition version is present (a slower loader never overwrites a newer one). Slots below the
 * highest live slot that no live usage holds become the free set.
 */
const loadLua = `
local current = redis.call('HMGET', KEYS[1], 'gen', 'ver')
if current[1] and tonumber(current[2]) >= tonumber(ARGV[1]) then return 0 end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5])
local usedSlots = {}
local maxSlot = 0
local users = {}
for i = 10, #ARGV, 2 do
  local orderId, entry = ARGV[i], ARGV[i + 1]
  local slot, userSlot, expiresAt, state, userId = string.match(entry, '^(%d+)|(%d+)|(%d+)|(%a+)|(.*)$')
  local s = tonumber(slot)
  usedSlots[s] = true
  if s > maxSlot then maxSlot = s end
  redis.call('HSET', KEYS[3], orderId, entry)
  if state == 'held' then redis.call('ZADD', KEYS[4], tonumber(expiresAt), orderId) end
  if userSlot ~= '0' then
    if users[userId] then users[userId] = users[userId] .. ',' .. userSlot else users[userId] = userSlot end
  end
end
for userId, slots in pairs(users) do redis.call('HSET', KEYS[5], userId, slots) end
for s = 1, maxSlot do if not usedSlots[s] then redis.call('SADD', KEYS[2], s) end end
redis.call('HSET', KEYS[1], 'ver', ARGV[1], 'gen', ARGV[2], 'loadedAt', ARGV[3], 'missing', ARGV[4],
  'startsAt', ARGV[5], 'expiresAt', ARGV[6], 'total', ARGV[7], 'perUser', ARGV[8], 'next', maxSlot + 1)
for k = 1, 5 do redis.call('PEXPIRE', KEYS[k], tonumber(ARGV[9])) end
return 1
`;


export const voucherScripts = {
  hold: new LuaScript(holdLua, 5),
  release: new LuaScript(releaseLua, 5),
  consume: new LuaScript(consumeLua, 5),
  invalidate: new LuaScript(invalidateLua, 5),
  load: new LuaScript(loadLua, 5),
} as const;

/** An order's entry in the Redis state. */
export interface StateEntry {
  slot: number;
  /** 0 when the voucher has no per-user limit. */
  userSlot: number;
  expiresAtMs: number;
  state: 'held' | 'consumed';
  userId: string;
}

export function formatEntry(entry: StateEntry): string {
  return `${entry.slot}|${entry.userSlot}|${entry.expiresAtMs}|${entry.state}|${entry.userId}`;
}

export function parseEntry(raw: string): StateEntry {
  const match = /^(\d+)\|(\d+)\|(\d+)\|(held|consumed)\|(.*)$/s.exec(raw);
  if (!match) throw new Error(`malformed voucher state entry: ${raw}`);
  return {
    slot: Number(match[1]),
    userSlot: Number(match[2]),
    expiresAtMs: Number(match[3]),
    state: match[4] as 'held' | 'consumed',
    userId: match[5] ?? '',
  };
}

export type HoldScriptStatus = 'OK' | 'EXISTS' | 'MISSING' | 'NOT_FOUND' | 'NOT_STARTED' | 'EXPIRED' | 'USER_LIMIT' | 'EXHAUSTED';

export interface HoldScriptResult {
  status: HoldScriptStatus;
  gen: string;
  loadedAtMs: number;
  entry?: StateEntry;
}

export function parseHoldResult(raw: unknown): HoldScriptResult {
  if (!Array.isArray(raw) || typeof raw[0] !== 'string') throw new Error('unexpected reply from the voucher hold script');
  const [status, gen, loadedAt, entry] = raw as [HoldScriptStatus, string?, string?, string?];
  return {
    status,
    gen: gen ?? '',
    loadedAtMs: Number(loadedAt ?? 0),
    ...(entry === undefined ? {} : { entry: parseEntry(entry) }),
  };
}
