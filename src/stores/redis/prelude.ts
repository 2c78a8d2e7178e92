import { REVOKE_EVERYTHING_REASON } from '../types.js';
import { KEY_NAMES } from './keys.js';
import { LuaScript } from './lua-script.js';

// Every script takes the layout key as KEYS[1], the epoch hash as KEYS[2], and the same three
// leading arguments: the layout version, the key prefix (to build the keys of sessions and subjects
// found in data) and the session retention in seconds. Its own arguments start at ARGV[4].
//
// Redis runs a script alone: nothing else executes between its first and last command, which is
// what makes each store method atomic, and one script is one round trip. Redis does not roll a
// script back, so each one checks everything before its first write.
//
// Keys a script finds in data (the subject of a session, the sessions of a subject, the sessions
// prune selects, the end index of a session's epoch) are built inside it from the prefix, so they
// cannot be declared in KEYS. Redis allows that for scripts without flags, and on a Cluster they
// share the prefix's hash tag, hence the slot of the declared keys, which is where ioredis sends
// the script.
//
// Times travel as the strings JavaScript's String(n) made, and are written back as received:
// Lua's tostring() keeps 14 significant digits and would lose a double's precision. Numbers
// passed to redis.call() are formatted exactly by Redis itself, so integers may travel as numbers.
//
// Epochs (revokeAll): no script may touch every session, so each session records the epoch it was
// created in, and revokeAll only ends the current epoch (KEYS[2]: `current` and, per ended epoch,
// its end time). Every script that reads, lists, rotates or revokes a session asks whether its
// epoch has ended, and if so treats it as revoked at that time.
const PRELUDE = `
local VERSION = ARGV[1]
local PREFIX = ARGV[2]
local RETENTION = tonumber(ARGV[3])
-- Layout 1 is layout 2 without epochs: its sessions read as created in epoch 0, which is what
-- they are. A write restamps it, so that a process of the old layout, which knows no epochs and
-- would let a session a revokeAll ended rotate, is refused from then on.
local UPGRADABLE = '1'
local EPOCH_REASON = '${REVOKE_EVERYTHING_REASON}'
-- No key needs to outlive the year 3000 (MAX_EVENT_TIME), and EXPIREAT takes integers only.
local MAX_DEADLINE = 32503680000

-- Refuses keys written by another layout version; a write stamps a fresh prefix with ours.
local function check_layout(write)
  local version = redis.call('GET', KEYS[1])
  if not version or version == UPGRADABLE then
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

-- An epoch as the field name it has in KEYS[2] and in a session (a session without one, written
-- by layout 1, is of epoch 0).
local function epoch_name(epoch) return string.format('%d', tonumber(epoch or 0)) end

local function current_epoch() return tonumber(redis.call('HGET', KEYS[2], 'current') or '0') end

-- The time the revokeAll that ended this epoch ran, or false while the epoch is current.
local function epoch_end(epoch) return redis.call('HGET', KEYS[2], epoch_name(epoch)) end

-- The end index of the sessions of an epoch: epoch 0's is the one layout 1 had.
local function ends_key(epoch)
  local name = epoch_name(epoch)
  if name == '0' then return PREFIX .. '${KEY_NAMES.ends}' end
  return PREFIX .. '${KEY_NAMES.epochEnds}' .. name
end

-- Drops index entries of sessions whose keys Redis has expired by now, so that the index stays
-- bounded even if prune() never runs.
local function sweep_ends(epoch)
  local before = '(' .. string.format('%d', now() - RETENTION - 1)
  redis.call('ZREMRANGEBYSCORE', ends_key(epoch), '-inf', before)
end

-- A session's fields as stored, plus the revocation of a revokeAll that ended its epoch, unless it
-- was revoked before that.
local function session_fields(key)
  local fields = redis.call('HGETALL', key)
  if #fields == 0 then return fields end
  local state = redis.call('HMGET', key, 'revokedAt', 'epoch')
  if not state[1] then
    local ended = epoch_end(state[2])
    if ended then
      fields[#fields + 1] = 'revokedAt'
      fields[#fields + 1] = ended
      fields[#fields + 1] = 'revokedReason'
      fields[#fields + 1] = EPOCH_REASON
    end
  end
  return fields
end
`;

// KEYS[3..6] are log, log:ids, log:until, log:seq. The (id, until, body) triples start at
// ARGV[from]. check_events runs before a script's first write: an id in the log with another body
// refuses the whole call. append then adds every triple whose id is not in the log yet; both
// leave out the ids in `skip` (a table, optional). INCR runs inside the script, so positions are
// handed out in commit order.
//
// A log without a counter starts counting at the server's clock in microseconds, not at 0. A Redis
// that restarts empty (no persistence, a failover to an empty replica, a FLUSHALL) looks exactly
// like a new prefix, and a follower still running holds a position of the log before: had the new
// log counted from 1 again, that follower would read "events after 31" for as long as the new log
// had fewer than 31, and skip the first 31 of them, while every read still marked its index fresh.
// Counting from the clock, the new log's positions come after every position the old one handed
// out (unless it handed out more than a million a second on average), so such a follower reads
// every event of the new log at its next poll. Microseconds since 1970 stay safe integers (and
// exact as doubles, in Lua and as sorted-set scores) until the year 2255.
export const APPEND = `
local function next_seq()
  if redis.call('EXISTS', KEYS[6]) == 0 then
    local time = redis.call('TIME')
    local origin = tonumber(time[1]) * 1000000 + tonumber(time[2])
    redis.call('SET', KEYS[6], string.format('%d', origin))
  end
  return redis.call('INCR', KEYS[6])
end

local function check_events(from, skip)
  for i = from, #ARGV, 3 do
    local seq = not (skip and skip[ARGV[i]]) and redis.call('HGET', KEYS[4], ARGV[i])
    if seq then
      local body = redis.call('ZRANGE', KEYS[3], seq, seq, 'BYSCORE')[1]
      if body and body ~= ARGV[i + 2] then return redis.error_reply('REVOCABLE_EVENT_CONFLICT') end
    end
  end
  return nil
end

-- Appends the events not in the log yet, then publishes them on <prefix>revocations, in the same
-- script: a message names the log position of its first event, and its events follow one another
-- in the log, so a follower that heard every message up to a position sees a gap at once. Nothing
-- is published for an append that adds nothing; no subscriber costs nothing.
local function append(from, skip)
  local first, bodies = nil, {}
  for i = from, #ARGV, 3 do
    local id, until_at, body = ARGV[i], ARGV[i + 1], ARGV[i + 2]
    if not (skip and skip[id]) and redis.call('HEXISTS', KEYS[4], id) == 0 then
      local seq = next_seq()
      redis.call('ZADD', KEYS[3], seq, body)
      redis.call('HSET', KEYS[4], id, seq)
      redis.call('ZADD', KEYS[5], until_at, id)
      if first == nil then first = seq end
      bodies[#bodies + 1] = body
    end
  end
  local channel = PREFIX .. 'revocations'
  -- In messages of at most 500 events: a ban wave is many messages, none of them huge.
  for start = 1, #bodies, 500 do
    local last = math.min(start + 499, #bodies)
    local text = '{"t":"e","s":' .. string.format('%d', first + start - 1) .. ',"e":['
      .. table.concat(bodies, ',', start, last) .. ']}'
    redis.call('PUBLISH', channel, text)
  end
end
`;

/** A script of the store: the shared prelude, then `body`. */
export function script(name: string, body: string): LuaScript {
  return new LuaScript(name, `${PRELUDE}${body}`);
}
