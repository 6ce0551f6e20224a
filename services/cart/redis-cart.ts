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
 *   ver           the cart's version: every change adds one (a writer that read version v and gets
 *                 v + 1 back knows nobody changed the cart in between, and need not read it again)
 *   cur           the cart's currency (set by the first line; cleared when the last line goes)
 * Prices, names and categories are never stored: they are read from the catalog at read time.
 */
import type { Redis } from 'ioredis';
import { LuaScript } from '../../lib/redis';

export function cartKey(userId: string): string {
  return `cart:{${userId}}`;
}

/** addItem: ARGV sku, quantity, sellerId, currency, ttlMs, linesMax, sellersMax, quantityMax. Returns {'OK', version} or a refusal. */
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
local ver = redis.call('HINCRBY', KEYS[1], 'ver', 1)
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return {'OK', tostring(ver)}
`;

/** setQuantity: ARGV sku, quantity, ttlMs. Returns {'OK', version} or {'NOT_IN_CART'}. */
const setQuantityLua = `
local f = 'i:' .. ARGV[1]
local e = redis.call('HGET', KEYS[1], f)
if not e then return {'NOT_IN_CART'} end
local seq, q, seller = string.match(e, '^(%d+)|(%d+)|(.*)$')
redis.call('HSET', KEYS[1], f, seq .. '|' .. ARGV[2] .. '|' .. seller)
local ver = redis.call('HINCRBY', KEYS[1], 'ver', 1)
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return {'OK', tostring(ver)}
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
redis.call('HINCRBY', KEYS[1], 'ver', 1)
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return {'OK', '1'}
`;

/** addVoucher: ARGV code, ttlMs, vouchersMax. Adding a code already present is a no-op. Returns {'OK', version} or a refusal. */
const addVoucherLua = `
local f = 'v:' .. ARGV[1]
if redis.call('HEXISTS', KEYS[1], f) == 1 then return {'OK', ''} end
local count = tonumber(redis.call('HGET', KEYS[1], 'vouchers') or '0')
if count + 1 > tonumber(ARGV[3]) then return {'VOUCHERS_MAX', tostring(count)} end
local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
redis.call('HSET', KEYS[1], f, seq)
redis.call('HINCRBY', KEYS[1], 'vouchers', 1)
local ver = redis.call('HINCRBY', KEYS[1], 'ver', 1)
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return {'OK', tostring(ver)}
`;

/** removeVoucher: ARGV code, ttlMs. */
const removeVoucherLua = `
local f = 'v:' .. ARGV[1]
if redis.call('HDEL', KEYS[1], f) == 0 then return {'OK', '0'} end
redis.call('HINCRBY', KEYS[1], 'vouchers', -1)
redis.call('HINCRBY', KEYS[1], 'ver', 1)
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return {'OK', '1'}
`;

/**
 * removeOrdered: ARGV ttlMs, lineCount, then lineCount triplets (sku, seq, quantity), then voucher
 * pairs (code, seq). Removes a line only while it is exactly the one that was ordered (same seq and
 * quantity) and a voucher only while it has the seq it was ordered with: a line added again or
 * changed after the snapshot, or a voucher applied again, stays. Returns {'OK', removed lines,
 * removed vouchers}. Running it twice removes nothing the second time.
 */
const removeOrderedLua = `
local n = tonumber(ARGV[2])
local removedLines, removedVouchers = 0, 0
for i = 0, n - 1 do
  local sku, seq, qty = ARGV[3 + i * 3], ARGV[4 + i * 3], ARGV[5 + i * 3]
  local f = 'i:' .. sku
  local e = redis.call('HGET', KEYS[1], f)
  if e then
    local s, q, seller = string.match(e, '^(%d+)|(%d+)|(.*)$')
    if s == seq and q == qty then
      redis.call('HDEL', KEYS[1], f)
      local sf = 's:' .. seller
      if redis.call('HINCRBY', KEYS[1], sf, -1) <= 0 then
        redis.call('HDEL', KEYS[1], sf)
        redis.call('HINCRBY', KEYS[1], 'sellers', -1)
      end
      if redis.call('HINCRBY', KEYS[1], 'lines', -1) <= 0 then redis.call('HDEL', KEYS[1], 'cur') end
      removedLines = removedLines + 1
    end
  end
end
for j = 3 + n * 3, #ARGV, 2 do
  local f = 'v:' .. ARGV[j]
  if redis.call('HGET', KEYS[1], f) == ARGV[j + 1] then
    redis.call('HDEL', KEYS[1], f)
    redis.call('HINCRBY', KEYS[1], 'vouchers', -1)
    removedVouchers = removedVouchers + 1
  end
end
if removedLines + removedVouchers > 0 and redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('HINCRBY', KEYS[1], 'ver', 1)
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
return {'OK', tostring(removedLines), tostring(removedVouchers)}
`;

export const cartScripts = {
  removeOrdered: new LuaScript(removeOrderedLua, 1),
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

/** A cart's lines and vouchers with their seq: what a checkout ordered, to remove once it completes. */
export interface CartEntries {
  lines: { sku: string; seq: number; quantity: number }[];
  vouchers: { code: string; seq: number }[];
}

export interface StoredCart {
  lines: StoredLine[];
  vouchers: string[];
  currency: string | null;
  /** The `ver` field (0 for a cart that does not exist or predates it). */
  version: number;
}

/** Reads a cart: lines and voucher codes in the order they were added. */
export async function readCart(redis: Redis, userId: string): Promise<StoredCart> {
  const { lines, vouchers, currency, version } = await readCartEntries(redis, userId);
  return { lines, vouchers: vouchers.map((v) => v.code), currency, version };
}

/** Reads a cart with the seq of each voucher too (what a checkout snapshot records). */
export async function readCartEntries(redis: Redis, userId: string): Promise<Omit<StoredCart, 'vouchers'> & { vouchers: { code: string; seq: number }[] }> {
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
  return { lines, vouchers, currency: lines.length > 0 ? (hash.cur ?? null) : null, version: Number(hash.ver ?? 0) };
}

export function scriptReply(raw: unknown): [string, string | undefined] {
  if (!Array.isArray(raw) || typeof raw[0] !== 'string') throw new Error('unexpected reply from a cart script');
  return [raw[0], typeof raw[1] === 'string' ? raw[1] : undefined];
}
