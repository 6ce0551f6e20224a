/**
 * The cart's data model in Redis: one hash per user, changed only by atomic Lua scripts, so that
 * concurrent changes to one cart never lose a write (no read-modify-write from the client) and the
 * limits are checked in the same atomic step as the change. Every change resets the cart's
 * lifetime (PEXPIRE); reading does not.
 *
 * Key `cart:{<userId>}` (a hash; one key, so the scripts also work on Redis Cluster). Fields:
 *   i:<sku>       "seq|quantity|sellerId"   one per line; seq keeps the order lines were added in
 *   v:<code>      "seq"                     one per applied voucher code
 *   s:<sellerId>  number of lines of that seller (for the sellers limit)
 *   lines, sellers, vouchers                counters
 *   seq           the last sequence number handed out
 *   cur           the cart's currency (set by the first line; cleared when the last line goes)
 * Prices, names and categories are never stored: they are read from the catalog at read time.
 */
import type { Redis } from 'ioredis';
import { LuaScript } from '../vouchers/redis-state';

export function cartKey(userId: string): string {
  return `cart:{${userId}}`;
}

/** addItem: ARGV sku, quantity, sellerId, currency, ttlMs, linesMax, sellersMax, quantityMax. */
const addItemLua = `
local f = 'i:' .. ARGV[1]
local qty = tonumber(ARGV[2])
local lines = tonumber(redis.call('HGET', KEYS[1], 'lines') or '0')
local cur = redis.call('HGET', KEYS[1], 'cur')
if cur and lines > 0 and cur ~= ARGV[4] then return {'CURRENCY_MISMATCH', cur} end
local e = redis.call('HGET', KEYS[1], f)
if e then
  local seq, q, seller = string.match(e, '^(%d+)|(%d+)|(.*)$')
  local total = tonumber(q) + qty
  if total > tonumber(ARGV[8]) then return {'QUANTITY_MAX', q} end
  redis.call('HSET', KEYS[1], f, seq .. '|' .. total .. '|' .. seller)
else
  if lines + 1 > tonumber(ARGV[6]) then return {'LINES_MAX', tostring(lines)} end
  local sf = 's:' .. ARGV[3]
  if tonumber(redis.call('HGET', KEYS[1], sf) or '0') == 0 then
    local sellers = tonumber(redis.call('HGET', KEYS[1], 'sellers') or '0')
    if sellers + 1 > tonumber(ARGV[7]) then return {'SELLERS_MAX', tostring(sellers)} end
    redis.call('HINCRBY', KEYS[1], 'sellers', 1)
  end
  local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
  redis.call('HSET', KEYS[1], f, seq .. '|' .. qty .. '|' .. ARGV[3], 'cur', ARGV[4])
  redis.call('HINCRBY', KEYS[1], sf, 1)
  redis.call('HINCRBY', KEYS[1], 'lines', 1)
end
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return {'OK'}
`;

/** setQuantity: ARGV sku, quantity, ttlMs. */
const setQuantityLua = `
local f = 'i:' .. ARGV[1]
local e = redis.call('HGET', KEYS[1], f)
if not e then return {'NOT_IN_CART'} end
local seq, q, seller = string.match(e, '^(%d+)|(%d+)|(.*)$')
redis.call('HSET', KEYS[1], f, seq .. '|' .. ARGV[2] .. '|' .. seller)
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return {'OK'}
`;

/** removeItem: ARGV sku, ttlMs. A no-op (and no lifetime reset) when the line is absent. */
const removeItemLua = `
local f = 'i:' .. ARGV[1]
local e = redis.call('HGET', KEYS[1], f)
if not e then return {'OK', '0'} end
local seq, q, seller = string.match(e, '^(%d+)|(%d+)|(.*)$')
redis.call('HDEL', KEYS[1], f)
local sf = 's:' .. seller
if redis.call('HINCRBY', KEYS[1], sf, -1) <= 0 then
  redis.call('HDEL', KEYS[1], sf)
  redis.call('HINCRBY', KEYS[1], 'sellers', -1)
end
if redis.call('HINCRBY', KEYS[1], 'lines', -1) <= 0 then redis.call('HDEL', KEYS[1], 'cur') end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return {'OK', '1'}
`;

/** addVoucher: ARGV code, ttlMs, vouchersMax. Adding a code already present is a no-op. */
const addVoucherLua = `
local f = 'v:' .. ARGV[1]
if redis.call('HEXISTS', KEYS[1], f) == 1 then return {'OK'} end
local count = tonumber(redis.call('HGET', KEYS[1], 'vouchers') or '0')
if count + 1 > tonumber(ARGV[3]) then return {'VOUCHERS_MAX', tostring(count)} end
local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
redis.call('HSET', KEYS[1], f, seq)
redis.call('HINCRBY', KEYS[1], 'vouchers', 1)
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return {'OK'}
`;

/** removeVoucher: ARGV code, ttlMs. */
const removeVoucherLua = `
local f = 'v:' .. ARGV[1]
if redis.call('HDEL', KEYS[1], f) == 0 then return {'OK', '0'} end
redis.call('HINCRBY', KEYS[1], 'vouchers', -1)
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return {'OK', '1'}
`;

export const cartScripts = {
  addItem: new LuaScript(addItemLua, 1),
  setQuantity: new LuaScript(setQuantityLua, 1),
  removeItem: new LuaScript(removeItemLua, 1),
  addVoucher: new LuaScript(addVoucherLua, 1),
  removeVoucher: new LuaScript(removeVoucherLua, 1),
} as const;

export interface StoredLine {
  sku: string;
  quantity: number;
  /** The seller when the line was added (for the sellers limit); display data comes from the catalog. */
  sellerId: string;
  seq: number;
}

export interface StoredCart {
  lines: StoredLine[];
  vouchers: string[];
  currency: string | null;
}

/** Reads a cart: lines and voucher codes in the order they were added. */
export async function readCart(redis: Redis, userId: string): Promise<StoredCart> {
  const hash = await redis.hgetall(cartKey(userId));
  const lines: StoredLine[] = [];
  const vouchers: { code: string; seq: number }[] = [];
  for (const [field, value] of Object.entries(hash)) {
    if (field.startsWith('i:')) {
      const match = /^(\d+)\|(\d+)\|(.*)$/s.exec(value);
      if (match) lines.push({ sku: field.slice(2), seq: Number(match[1]), quantity: Number(match[2]), sellerId: match[3] ?? '' });
    } else if (field.startsWith('v:')) {
      vouchers.push({ code: field.slice(2), seq: Number(value) });
    }
  }
  lines.sort((a, b) => a.seq - b.seq);
  vouchers.sort((a, b) => a.seq - b.seq);
  return { lines, vouchers: vouchers.map((v) => v.code), currency: lines.length > 0 ? (hash.cur ?? null) : null };
}

export function scriptReply(raw: unknown): [string, string | undefined] {
  if (!Array.isArray(raw) || typeof raw[0] !== 'string') throw new Error('unexpected reply from a cart script');
  return [raw[0], typeof raw[1] === 'string' ? raw[1] : undefined];
}
