import { APPEND, script } from './prelude.js';

// The scripts of the session methods; those of the log are in log-scripts.ts. The conventions
// (KEYS[1] layout, KEYS[2] epoch, ARGV[1..3]) are in prelude.ts.

/**
 * KEYS: layout, epoch, session, subject, subject sessions. ARGV[4..]: sid, sub, refreshHash,
 * createdAt, ended, live ('1' unless created revoked), expected generation, then the session's
 * field/value pairs. Returns {'created', gen} or {'banned'} or {'changed'} or {'exists'}.
 */
export const CREATE_SESSION = script(
  'createSession',
  `
local refused = check_layout(true)
if refused then return refused end
local sid, sub, refresh_hash = ARGV[4], ARGV[5], ARGV[6]
local created_at, ended, live = ARGV[7], ARGV[8], ARGV[9]
local subject = redis.call('HMGET', KEYS[4], 'gen', 'banned')
if subject[2] == '1' then return {'banned'} end
local gen = subject[1] or '0'
if tonumber(gen) ~= tonumber(ARGV[10]) then return {'changed'} end
if redis.call('EXISTS', KEYS[3]) == 1 then
  -- A driver that lost its connection after the script ran but before the reply came back sends
  -- it again: that replay finds the session it created, and must succeed as the first run did.
  local existing = redis.call('HMGET', KEYS[3], 'sub', 'refreshHash', 'revokedAt', 'epoch')
  if existing[1] == sub and existing[2] == refresh_hash and not existing[3]
    and not epoch_end(existing[4]) then
    return {'created', gen}
  end
  return {'exists'}
end
local epoch = epoch_name(current_epoch())
local until_at = deadline(ended)
redis.call('HSET', KEYS[3], unpack(ARGV, 11))
redis.call('HSET', KEYS[3], 'epoch', epoch)
redis.call('EXPIREAT', KEYS[3], until_at)
redis.call('ZADD', ends_key(epoch), ended, sid)
if live == '1' then
  redis.call('ZADD', KEYS[5], created_at, sid)
  outlive(KEYS[5], until_at)
end
sweep_ends(epoch)
return {'created', gen}
`,
);

/** KEYS: layout, epoch, session. Returns false, or {fields, gen, banned}. */
export const GET_SESSION = script(
  'getSession',
  `
local refused = check_layout(false)
if refused then return refused end
local fields = session_fields(KEYS[3])
if #fields == 0 then return false end
local sub = redis.call('HGET', KEYS[3], 'sub')
if not sub then return {fields, '0', '0'} end
local subject = redis.call('HMGET', subject_key(sub), 'gen', 'banned')
return {fields, subject[1] or '0', subject[2] or '0'}
`,
);

/**
 * KEYS: layout, epoch, subject sessions. Returns the field lists of the live sessions, newest
 * first, and drops from the index those that Redis expired or a revokeAll ended.
 */
export const LIST_SESSIONS = script(
  'listSessions',
  `
local refused = check_layout(false)
if refused then return refused end
local sessions = {}
for _, sid in ipairs(redis.call('ZRANGE', KEYS[3], 0, -1, 'REV')) do
  local state = redis.call('HMGET', session_key(sid), 'sub', 'revokedAt', 'epoch')
  if not state[1] or epoch_end(state[3]) then
    redis.call('ZREM', KEYS[3], sid)
  elseif not state[2] then
    sessions[#sessions + 1] = redis.call('HGETALL', session_key(sid))
  end
end
return sessions
`,
);

/**
 * KEYS: layout, epoch, session. ARGV[4..]: sid, expected hash, expected generation, then
 * refreshHash, previousHash, rotatedAt, spentHashes, lastSeenAt, idleExpiresAt, and ip and
 * userAgent each as a flag ('1': write it) and a value. Returns {'rotated', gen} or {status}.
 */
export const ROTATE_REFRESH = script(
  'rotateRefresh',
  `
local refused = check_layout(true)
if refused then return refused end
local sid = ARGV[4]
local session = redis.call('HMGET', KEYS[3], 'sub', 'refreshHash', 'revokedAt',
  'absoluteExpiresAt', 'epoch')
local sub = session[1]
if not sub then return {'missing'} end
if session[3] or epoch_end(session[5]) then return {'revoked'} end
local subject = redis.call('HMGET', subject_key(sub), 'gen', 'banned')
if subject[2] == '1' then return {'banned'} end
if session[2] ~= ARGV[5] then return {'stale'} end
local gen = subject[1] or '0'
if tonumber(gen) ~= tonumber(ARGV[6]) then return {'changed'} end
redis.call('HSET', KEYS[3], 'refreshHash', ARGV[7], 'previousHash', ARGV[8], 'rotatedAt', ARGV[9],
  'spentHashes', ARGV[10], 'lastSeenAt', ARGV[11], 'idleExpiresAt', ARGV[12])
if ARGV[13] == '1' then redis.call('HSET', KEYS[3], 'ip', ARGV[14]) end
if ARGV[15] == '1' then redis.call('HSET', KEYS[3], 'userAgent', ARGV[16]) end
local ended = earlier(ARGV[12], session[4])
local until_at = deadline(ended)
redis.call('ZADD', ends_key(session[5]), ended, sid)
redis.call('EXPIREAT', KEYS[3], until_at)
outlive(sessions_key(sub), until_at)
return {'rotated', gen}
`,
);

/**
 * KEYS: layout, epoch, log, log:ids, log:until, log:seq, then one session key per sid.
 * ARGV[4..]: at, reason, the number of sids, the sids, the number of events, for each event the
 * listed sid whose end it records ('' for none), then (id, until, body) per event. Such an event
 * is appended only when this call revoked its session (src/stores/internal/session-events.ts).
 * Returns the sids revoked now.
 */
export const REVOKE_SESSIONS = script(
  'revokeSessions',
  `${APPEND}
local refused = check_layout(true)
if refused then return refused end
local at, reason, count = ARGV[4], ARGV[5], tonumber(ARGV[6])
local owners_at = 7 + count
local events = tonumber(ARGV[owners_at])
local from = owners_at + 1 + events
-- Which sessions this call ends, read before anything is written: the events of the others are
-- neither written nor checked, as in the other stores.
local function live(session)
  return session[1] and not session[2] and not epoch_end(session[3])
end
local sessions, ending = {}, {}
for i = 1, count do
  sessions[i] = redis.call('HMGET', KEYS[6 + i], 'sub', 'revokedAt', 'epoch')
  if live(sessions[i]) then ending[ARGV[6 + i]] = true end
end
local skip = {}
for k = 1, events do
  local owner = ARGV[owners_at + k]
  if owner ~= '' and not ending[owner] then skip[ARGV[from + (k - 1) * 3]] = true end
end
local conflict = check_events(from, skip)
if conflict then return conflict end
local revoked = {}
for i = 1, count do
  local key, sid, session = KEYS[6 + i], ARGV[6 + i], sessions[i]
  -- A sid listed twice is ended once: the read above predates this loop's writes.
  if ending[sid] then
    ending[sid] = false
    redis.call('HSET', key, 'revokedAt', at, 'revokedReason', reason)
    local ends = ends_key(session[3])
    local ended = earlier(at, redis.call('ZSCORE', ends, sid))
    redis.call('ZADD', ends, ended, sid)
    redis.call('EXPIREAT', key, deadline(ended))
    redis.call('ZREM', sessions_key(session[1]), sid)
    revoked[#revoked + 1] = sid
  end
end
append(from, skip)
return revoked
`,
);

/**
 * KEYS: layout, epoch, log, log:ids, log:until, log:seq. ARGV[4..]: at, then (id, until, body) per
 * event. Ends the current epoch at `at`: every session created so far reads back revoked.
 */
export const REVOKE_ALL = script(
  'revokeAll',
  `${APPEND}
local refused = check_layout(true)
if refused then return refused end
local conflict = check_events(5)
if conflict then return conflict end
local current = current_epoch()
redis.call('HSET', KEYS[2], epoch_name(current), ARGV[4], 'current', epoch_name(current + 1))
-- Only creations sweep the end index of the current epoch: this is the ended epochs' turn.
for epoch = 0, current do sweep_ends(epoch) end
append(5)
return 1
`,
);

/** KEYS: layout, epoch, subject. Returns {gen, banned}. */
export const GET_SUBJECT = script(
  'getSubject',
  `
local refused = check_layout(false)
if refused then return refused end
local subject = redis.call('HMGET', KEYS[3], 'gen', 'banned')
return {subject[1] or '0', subject[2] or '0'}
`,
);

/**
 * KEYS: layout, epoch, subject, subject sessions. ARGV[4..]: '1' and the claims JSON to replace
 * the claims of the subject's live sessions, or '0'. Returns the new generation.
 */
export const BUMP_GENERATION = script(
  'bumpGeneration',
  `
local refused = check_layout(true)
if refused then return refused end
local gen = redis.call('HINCRBY', KEYS[3], 'gen', 1)
if ARGV[4] == '1' then
  for _, sid in ipairs(redis.call('ZRANGE', KEYS[4], 0, -1)) do
    local key = session_key(sid)
    local state = redis.call('HMGET', key, 'sub', 'revokedAt', 'epoch')
    if not state[1] or epoch_end(state[3]) then
      redis.call('ZREM', KEYS[4], sid)
    elseif not state[2] then
      redis.call('HSET', key, 'claims', ARGV[5])
    end
  end
end
return gen
`,
);

/** KEYS: layout, epoch, subject. ARGV[4..]: '1' or '0', at. */
export const SET_BANNED = script(
  'setBanned',
  `
local refused = check_layout(true)
if refused then return refused end
if ARGV[4] == '1' then
  redis.call('HSET', KEYS[3], 'banned', '1', 'bannedAt', ARGV[5])
else
  redis.call('HSET', KEYS[3], 'banned', '0')
  redis.call('HDEL', KEYS[3], 'bannedAt')
end
return 1
`,
);

/** KEYS: layout, epoch. Stamps a fresh prefix (or one of layout 1); returns the version. */
export const MIGRATE = script(
  'migrate',
  `
local refused = check_layout(true)
if refused then return refused end
return redis.call('GET', KEYS[1])
`,
);
