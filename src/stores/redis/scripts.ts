import { KEY_NAMES } from './keys.js';
import { LuaScript } from './lua-script.js';

// Every script takes the layout key as KEYS[1] and the same three leading arguments: the layout
// version, the key prefix (to build the keys of sessions and subjects found in data) and the
// session retention in seconds. Its own arguments start at ARGV[4].
//
// Redis runs a script alone: nothing else executes between its first and last command, which is
// what makes each store method atomic, and one script is one round trip. Redis does not roll a
// script back, so each one checks everything before its first write.
//
// Keys a script finds in data (the subject of a session, the sessions of a subject, the sessions
// prune selects) are built inside it from the prefix, so they cannot be declared in KEYS. Redis
// allows that for scripts without flags, and on a Cluster they share the prefix's hash tag, hence
// the slot of the declared keys, which is where ioredis sends the script.
//
// Times travel as the strings JavaScript's String(n) made, and are written back as received:
// Lua's tostring() keeps 14 significant digits and would lose a double's precision. Numbers
// passed to redis.call() are formatted exactly by Redis itself, so integers may travel as numbers.
const PRELUDE = `
local VERSION = ARGV[1]
local PREFIX = ARGV[2]
local RETENTION = tonumber(ARGV[3])
-- No key needs to outlive the year 3000 (MAX_EVENT_TIME), and EXPIREAT takes integers only.
local MAX_DEADLINE = 32503680000

-- Refuses keys written by another layout version; a write stamps a fresh prefix with ours.
local function check_layout(write)
  local version = redis.call('GET', KEYS[1])
  if not version then
    if write then redis.call('SET', KEYS[1], VERSION) end
  elseif version ~= VERSION then
    return redis.error_reply('REVOCABLE_LAYOUT ' .. version)
  end
  return nil
end

-- The earlier of two times, returned as given (b may be false: no time).
local function earlier(a, b)
  if b and tonumber(b) < tonumber(a) then return b end
  return a
end

-- When the keys of a session that ended at this time may go: its end plus the retention.
local function deadline(ended)
  local at = math.ceil(tonumber(ended) + RETENTION)
  if at > MAX_DEADLINE then at = MAX_DEADLINE end
  return string.format('%d', at)
end

local function now()
  return tonumber(redis.call('TIME')[1])
end

-- A subject's session index lives as long as its longest-lived session key.
local function outlive(key, at)
  local ttl = redis.call('TTL', key)
  if ttl == -1 or tonumber(at) > now() + ttl then redis.call('EXPIREAT', key, at) end
end

local function session_key(sid) return PREFIX .. '${KEY_NAMES.session}' .. sid end
local function subject_key(sub) return PREFIX .. '${KEY_NAMES.subject}' .. sub end
local function sessions_key(sub) return PREFIX .. '${KEY_NAMES.subjectSessions}' .. sub end
`;

// KEYS[2..5] are log, log:ids, log:until, log:seq. Every (id, until, body) triple from ARGV[from]
// on is appended unless its id is already in the log. INCR runs inside the script, so positions
// are handed out in commit order.
const APPEND = `
local function append(from)
  for i = from, #ARGV, 3 do
    local id, until_at, body = ARGV[i], ARGV[i + 1], ARGV[i + 2]
    if redis.call('HEXISTS', KEYS[3], id) == 0 then
      local seq = redis.call('INCR', KEYS[5])
      redis.call('ZADD', KEYS[2], seq, body)
      redis.call('HSET', KEYS[3], id, seq)
      redis.call('ZADD', KEYS[4], until_at, id)
    end
  end
end
`;

function script(name: string, body: string): LuaScript {
  return new LuaScript(name, `${PRELUDE}${body}`);
}

/**
 * KEYS: layout, session, subject, subject sessions, ends. ARGV[4..]: sid, createdAt, ended, live
 * ('1' unless created revoked), then the session's field/value pairs.
 * Returns {'created', gen} or {'banned'} or {'exists'}.
 */
export const CREATE_SESSION = script(
  'createSession',
  `
local refused = check_layout(true)
if refused then return refused end
if redis.call('HGET', KEYS[3], 'banned') == '1' then return {'banned'} end
if redis.call('EXISTS', KEYS[2]) == 1 then return {'exists'} end
local sid, created_at, ended = ARGV[4], ARGV[5], ARGV[6]
local until_at = deadline(ended)
redis.call('HSET', KEYS[2], unpack(ARGV, 8))
redis.call('EXPIREAT', KEYS[2], until_at)
redis.call('ZADD', KEYS[5], ended, sid)
if ARGV[7] == '1' then
  redis.call('ZADD', KEYS[4], created_at, sid)
  outlive(KEYS[4], until_at)
end
-- Index entries of sessions whose keys Redis has expired by now, so that the index stays bounded
-- even if prune() never runs.
redis.call('ZREMRANGEBYSCORE', KEYS[5], '-inf', '(' .. string.format('%d', now() - RETENTION - 1))
return {'created', redis.call('HGET', KEYS[3], 'gen') or '0'}
`,
);

/** KEYS: layout, session. Returns false, or {fields, gen, banned}. */
export const GET_SESSION = script(
  'getSession',
  `
local refused = check_layout(false)
if refused then return refused end
local fields = redis.call('HGETALL', KEYS[2])
if #fields == 0 then return false end
local sub = redis.call('HGET', KEYS[2], 'sub')
if not sub then return {fields, '0', '0'} end
local subject = redis.call('HMGET', subject_key(sub), 'gen', 'banned')
return {fields, subject[1] or '0', subject[2] or '0'}
`,
);

/** KEYS: layout, subject sessions. Returns the field lists of the unrevoked sessions, newest first. */
export const LIST_SESSIONS = script(
  'listSessions',
  `
local refused = check_layout(false)
if refused then return refused end
local sessions = {}
for _, sid in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1, 'REV')) do
  local fields = redis.call('HGETALL', session_key(sid))
  if #fields == 0 then
    redis.call('ZREM', KEYS[2], sid) -- Redis expired the session's key
  elseif redis.call('HEXISTS', session_key(sid), 'revokedAt') == 0 then
    sessions[#sessions + 1] = fields
  end
end
return sessions
`,
);

/**
 * KEYS: layout, session, ends. ARGV[4..]: sid, expected hash, then refreshHash, previousHash,
 * rotatedAt, spentHashes, lastSeenAt, idleExpiresAt. Returns {'rotated', gen} or {status}.
 */
export const ROTATE_REFRESH = script(
  'rotateRefresh',
  `
local refused = check_layout(true)
if refused then return refused end
local session = redis.call('HMGET', KEYS[2], 'sub', 'refreshHash', 'revokedAt', 'absoluteExpiresAt')
local sub = session[1]
if not sub then return {'missing'} end
if session[3] then return {'revoked'} end
local subject = redis.call('HMGET', subject_key(sub), 'gen', 'banned')
if subject[2] == '1' then return {'banned'} end
if session[2] ~= ARGV[5] then return {'stale'} end
redis.call('HSET', KEYS[2], 'refreshHash', ARGV[6], 'previousHash', ARGV[7], 'rotatedAt', ARGV[8],
  'spentHashes', ARGV[9], 'lastSeenAt', ARGV[10], 'idleExpiresAt', ARGV[11])
local ended = earlier(ARGV[11], session[4])
local until_at = deadline(ended)
redis.call('ZADD', KEYS[3], ended, ARGV[4])
redis.call('EXPIREAT', KEYS[2], until_at)
outlive(sessions_key(sub), until_at)
return {'rotated', subject[1] or '0'}
`,
);

/**
 * KEYS: layout, log, log:ids, log:until, log:seq, ends, then one session key per sid.
 * ARGV[4..]: at, reason, the number of sids, the sids, then (id, until, body) per event.
 * Returns the sids revoked now.
 */
export const REVOKE_SESSIONS = script(
  'revokeSessions',
  `${APPEND}
local refused = check_layout(true)
if refused then return refused end
local at, reason, count = ARGV[4], ARGV[5], tonumber(ARGV[6])
local revoked = {}
for i = 1, count do
  local key, sid = KEYS[6 + i], ARGV[6 + i]
  local session = redis.call('HMGET', key, 'sub', 'revokedAt')
  if session[1] and not session[2] then
    redis.call('HSET', key, 'revokedAt', at, 'revokedReason', reason)
    local ended = earlier(at, redis.call('ZSCORE', KEYS[6], sid))
    redis.call('ZADD', KEYS[6], ended, sid)
    redis.call('EXPIREAT', key, deadline(ended))
    redis.call('ZREM', sessions_key(session[1]), sid)
    revoked[#revoked + 1] = sid
  end
end
append(7 + count)
return revoked
`,
);

/** KEYS: layout, subject sessions. ARGV[4]: the claims JSON. Returns how many sessions. */
export const UPDATE_CLAIMS = script(
  'updateClaims',
  `
local refused = check_layout(true)
if refused then return refused end
local count = 0
for _, sid in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
  local key = session_key(sid)
  local session = redis.call('HMGET', key, 'sub', 'revokedAt')
  if not session[1] then
    redis.call('ZREM', KEYS[2], sid) -- Redis expired the session's key
  elseif not session[2] then
    redis.call('HSET', key, 'claims', ARGV[4])
    count = count + 1
  end
end
return count
`,
);

/** KEYS: layout, subject. Returns {gen, banned}. */
export const GET_SUBJECT = script(
  'getSubject',
  `
local refused = check_layout(false)
if refused then return refused end
local subject = redis.call('HMGET', KEYS[2], 'gen', 'banned')
return {subject[1] or '0', subject[2] or '0'}
`,
);

/** KEYS: layout, subject. Returns the new generation. */
export const BUMP_GENERATION = script(
  'bumpGeneration',
  `
local refused = check_layout(true)
if refused then return refused end
return redis.call('HINCRBY', KEYS[2], 'gen', 1)
`,
);

/** KEYS: layout, subject. ARGV[4..]: '1' or '0', at. */
export const SET_BANNED = script(
  'setBanned',
  `
local refused = check_layout(true)
if refused then return refused end
if ARGV[4] == '1' then
  redis.call('HSET', KEYS[2], 'banned', '1', 'bannedAt', ARGV[5])
else
  redis.call('HSET', KEYS[2], 'banned', '0')
  redis.call('HDEL', KEYS[2], 'bannedAt')
end
return 1
`,
);

/** KEYS: layout, log, log:ids, log:until, log:seq. ARGV[4..]: (id, until, body) per event. */
export const APPEND_EVENTS = script(
  'appendEvents',
  `${APPEND}
local refused = check_layout(true)
if refused then return refused end
append(4)
return 1
`,
);

/** KEYS: layout, log. ARGV[4..]: '(' .. after, limit. Returns {body, seq, ...} oldest first. */
export const READ_EVENTS = script(
  'readEvents',
  `
local refused = check_layout(false)
if refused then return refused end
return redis.call('ZRANGE', KEYS[2], ARGV[4], '+inf', 'BYSCORE', 'LIMIT', 0, ARGV[5], 'WITHSCORES')
`,
);

/**
 * KEYS: layout, log, log:ids, log:until, log:seq. ARGV[4]: '(' .. now.
 * Returns {position, {seq, body, ...}} in one snapshot of the log.
 */
export const LIVE_EVENTS = script(
  'liveEvents',
  `
local refused = check_layout(false)
if refused then return refused end
local events = {}
for _, id in ipairs(redis.call('ZRANGE', KEYS[4], ARGV[4], '+inf', 'BYSCORE')) do
  local seq = redis.call('HGET', KEYS[3], id)
  if seq then
    local body = redis.call('ZRANGE', KEYS[2], seq, seq, 'BYSCORE')[1]
    if body then
      events[#events + 1] = seq
      events[#events + 1] = body
    end
  end
end
return {redis.call('GET', KEYS[5]) or '0', events}
`,
);

/**
 * KEYS: layout, ends, log, log:ids, log:until. ARGV[4..]: '(' .. session cut-off, event cut-off
 * (inclusive), batch size. Deletes at most one batch of each; returns {sessions deleted, events
 * deleted, sessions looked at, events looked at}.
 */
export const PRUNE = script(
  'prune',
  `
local refused = check_layout(true)
if refused then return refused end
local batch = ARGV[6]
local sessions = 0
local sids = redis.call('ZRANGE', KEYS[2], '-inf', ARGV[4], 'BYSCORE', 'LIMIT', 0, batch)
for _, sid in ipairs(sids) do
  local key = session_key(sid)
  local sub = redis.call('HGET', key, 'sub')
  if sub then
    redis.call('DEL', key)
    redis.call('ZREM', sessions_key(sub), sid)
    sessions = sessions + 1
  end
  redis.call('ZREM', KEYS[2], sid)
end
local ids = redis.call('ZRANGE', KEYS[5], '-inf', ARGV[5], 'BYSCORE', 'LIMIT', 0, batch)
for _, id in ipairs(ids) do
  local seq = redis.call('HGET', KEYS[4], id)
  if seq then redis.call('ZREMRANGEBYSCORE', KEYS[3], seq, seq) end
  redis.call('HDEL', KEYS[4], id)
  redis.call('ZREM', KEYS[5], id)
end
return {sessions, #ids, #sids, #ids}
`,
);

/** KEYS: layout. Stamps a fresh prefix; returns the version found or written. */
export const MIGRATE = script(
  'migrate',
  `
local refused = check_layout(true)
if refused then return refused end
return redis.call('GET', KEYS[1])
`,
);
