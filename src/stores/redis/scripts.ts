/**
 * The Lua scripts of the Redis store. Each runs atomically on the server, which is what makes every
 * store method one atomic step (and one round trip). Numbers travel as the strings JavaScript
 * wrote (`String(n)` round-trips a double exactly); the scripts compare and copy them, never do
 * arithmetic on them, because Lua's number formatting would lose precision.
 *
 * Keys are built inside the scripts from the prefix (ARGV[1]); in Redis Cluster the prefix must
 * carry a hash tag (`{revocable}:`) so that every key of the store lives in one slot.
 */

// Appends events given as ARGV triples (id, until, body) starting at ARGV[first]; skips known ids.
const APPEND = `
local function append(prefix, first)
  for i = first, #ARGV, 3 do
    local id = ARGV[i]
    if redis.call('HEXISTS', prefix .. 'log:ids', id) == 0 then
      local seq = redis.call('INCR', prefix .. 'log:seq')
      redis.call('HSET', prefix .. 'log:ids', id, seq)
      redis.call('HSET', prefix .. 'log:bodies', seq, ARGV[i + 2])
      redis.call('ZADD', prefix .. 'log:byseq', seq, seq)
      redis.call('ZADD', prefix .. 'log:byuntil', ARGV[i + 1], seq)
    end
  end
end
`;

const SUBJECT = `
local function subject(prefix, sub)
  local values = redis.call('HMGET', prefix .. 'u:' .. sub, 'gen', 'banned')
  return values[1] or '0', values[2] == '1'
end
`;

/**
 * ARGV: prefix, sid, sub, createdAt, expireAt, end, field/value pairs... → {'created', gen} or
 * {reason}. `end` is when the session stops being usable (the earlier expiry), the score by which
 * prune finds it.
 */
export const CREATE_SESSION = `${SUBJECT}
local prefix, sid, sub = ARGV[1], ARGV[2], ARGV[3]
local gen, banned = subject(prefix, sub)
if banned then return {'banned'} end
local key = prefix .. 's:' .. sid
if redis.call('EXISTS', key) == 1 then return {'exists'} end
redis.call('HSET', key, unpack(ARGV, 7))
redis.call('EXPIREAT', key, ARGV[5])
redis.call('ZADD', prefix .. 'ends', ARGV[6], sid)
local list = prefix .. 'us:' .. sub
redis.call('ZADD', list, ARGV[4], sid)
redis.call('EXPIREAT', list, ARGV[5], 'GT')
if redis.call('TTL', list) < 0 then redis.call('EXPIREAT', list, ARGV[5]) end
return {'created', gen}
`;

/** ARGV: prefix, sid → {fields..., gen, banned} flattened, or {} when unknown. */
export const GET_SESSION = `${SUBJECT}
local prefix, sid = ARGV[1], ARGV[2]
local fields = redis.call('HGETALL', prefix .. 's:' .. sid)
if #fields == 0 then return {} end
local sub
for i = 1, #fields, 2 do if fields[i] == 'sub' then sub = fields[i + 1] end end
local gen, banned = subject(prefix, sub)
table.insert(fields, 'gen')
table.insert(fields, gen)
table.insert(fields, 'banned')
table.insert(fields, banned and '1' or '0')
return fields
`;

/** ARGV: prefix, sid, expected hash, new idle expiry, field/value pairs... → {status, gen?}. */
export const ROTATE = `${SUBJECT}
local prefix, sid, expected = ARGV[1], ARGV[2], ARGV[3]
local key = prefix .. 's:' .. sid
local current = redis.call('HMGET', key, 'sub', 'refreshHash', 'revokedAt')
if not current[1] then return {'missing'} end
if current[3] then return {'revoked'} end
local gen, banned = subject(prefix, current[1])
if banned then return {'banned'} end
if current[2] ~= expected then return {'stale'} end
redis.call('HSET', key, unpack(ARGV, 5))
redis.call('ZADD', prefix .. 'ends', ARGV[4], sid)
return {'rotated', gen}
`;

/** ARGV: prefix, at, reason, count, sids..., then event triples → the sids revoked now. */
export const REVOKE_SESSIONS = `${APPEND}
local prefix, at, reason, count = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
local revoked = {}
for i = 5, 4 + count do
  local sid = ARGV[i]
  local key = prefix .. 's:' .. sid
  local current = redis.call('HMGET', key, 'sub', 'revokedAt')
  if current[1] and not current[2] then
    redis.call('HSET', key, 'revokedAt', at, 'revokedReason', reason)
    redis.call('ZREM', prefix .. 'us:' .. current[1], sid)
    redis.call('ZADD', prefix .. 'ends', 'LT', at, sid)
    table.insert(revoked, sid)
  end
end
append(prefix, 5 + count)
return revoked
`;

/** ARGV: prefix, event triples. */
export const APPEND_EVENTS = `${APPEND}
append(ARGV[1], 2)
return 0
`;

/** ARGV: prefix, sub → {sid, fields...} per live session, newest first, as a flat list of lists. */
export const LIST_SESSIONS = `
local prefix, sub = ARGV[1], ARGV[2]
local list = prefix .. 'us:' .. sub
local sids = redis.call('ZREVRANGE', list, 0, -1)
local out = {}
for _, sid in ipairs(sids) do
  local fields = redis.call('HGETALL', prefix .. 's:' .. sid)
  if #fields == 0 then redis.call('ZREM', list, sid) else table.insert(out, fields) end
end
return out
`;

/** ARGV: prefix, sub, claims JSON → how many sessions changed. */
export const UPDATE_CLAIMS = `
local prefix, sub, claims = ARGV[1], ARGV[2], ARGV[3]
local count = 0
for _, sid in ipairs(redis.call('ZRANGE', prefix .. 'us:' .. sub, 0, -1)) do
  local key = prefix .. 's:' .. sid
  if redis.call('EXISTS', key) == 1 and redis.call('HEXISTS', key, 'revokedAt') == 0 then
    redis.call('HSET', key, 'claims', claims)
    count = count + 1
  end
end
return count
`;

/** ARGV: prefix, after, limit → {seq, body, seq, body, ...}. */
export const READ_EVENTS = `
local prefix = ARGV[1]
local seqs = redis.call('ZRANGEBYSCORE', prefix .. 'log:byseq', '(' .. ARGV[2], '+inf', 'LIMIT', 0, ARGV[3])
local out = {}
for _, seq in ipairs(seqs) do
  table.insert(out, seq)
  table.insert(out, redis.call('HGET', prefix .. 'log:bodies', seq))
end
return out
`;

/** ARGV: prefix, now → {position, seq, body, ...} for events whose until is after now. */
export const LIVE_EVENTS = `
local prefix = ARGV[1]
local out = { redis.call('GET', prefix .. 'log:seq') or '0' }
for _, seq in ipairs(redis.call('ZRANGEBYSCORE', prefix .. 'log:byuntil', '(' .. ARGV[2], '+inf')) do
  table.insert(out, seq)
  table.insert(out, redis.call('HGET', prefix .. 'log:bodies', seq))
end
return out
`;

/** ARGV: prefix, now → the number of events removed (the position counter stays). */
export const PRUNE_EVENTS = `
local prefix = ARGV[1]
local seqs = redis.call('ZRANGEBYSCORE', prefix .. 'log:byuntil', '-inf', ARGV[2])
for _, seq in ipairs(seqs) do
  local body = redis.call('HGET', prefix .. 'log:bodies', seq)
  local id = cjson.decode(body).id
  redis.call('HDEL', prefix .. 'log:ids', id)
  redis.call('HDEL', prefix .. 'log:bodies', seq)
  redis.call('ZREM', prefix .. 'log:byseq', seq)
  redis.call('ZREM', prefix .. 'log:byuntil', seq)
end
return #seqs
`;

/** ARGV: prefix, cutoff → the number of sessions deleted that ended before the cut-off. */
export const PRUNE_SESSIONS = `
local prefix = ARGV[1]
local sids = redis.call('ZRANGEBYSCORE', prefix .. 'ends', '-inf', '(' .. ARGV[2])
for _, sid in ipairs(sids) do
  local key = prefix .. 's:' .. sid
  local sub = redis.call('HGET', key, 'sub')
  if sub then redis.call('ZREM', prefix .. 'us:' .. sub, sid) end
  redis.call('DEL', key)
  redis.call('ZREM', prefix .. 'ends', sid)
end
return #sids
`;
