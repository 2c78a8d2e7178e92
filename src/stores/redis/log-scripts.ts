import { APPEND, script } from './prelude.js';

// The scripts of the revocation log, and prune. The conventions (KEYS[1] layout, KEYS[2] epoch,
// ARGV[1..3]) are in prelude.ts.

/** KEYS: layout, epoch, log, log:ids, log:until, log:seq. ARGV[4..]: (id, until, body) per event. */
export const APPEND_EVENTS = script(
  'appendEvents',
  `${APPEND}
local refused = check_layout(true)
if refused then return refused end
local conflict = check_events(4)
if conflict then return conflict end
append(4)
return 1
`,
);

/** KEYS: layout, epoch, log. ARGV[4..]: '(' .. after, limit. Returns {body, seq, ...} oldest first. */
export const READ_EVENTS = script(
  'readEvents',
  `
local refused = check_layout(false)
if refused then return refused end
return redis.call('ZRANGE', KEYS[3], ARGV[4], '+inf', 'BYSCORE', 'LIMIT', 0, ARGV[5], 'WITHSCORES')
`,
);

/**
 * KEYS: layout, epoch, log, log:ids, log:until, log:seq. ARGV[4]: '(' .. horizon.
 * Returns {position, {seq, body, ...}} in one snapshot of the log.
 */
export const LIVE_EVENTS = script(
  'liveEvents',
  `
local refused = check_layout(false)
if refused then return refused end
local events = {}
for _, id in ipairs(redis.call('ZRANGE', KEYS[5], ARGV[4], '+inf', 'BYSCORE')) do
  local seq = redis.call('HGET', KEYS[4], id)
  if seq then
    local body = redis.call('ZRANGE', KEYS[3], seq, seq, 'BYSCORE')[1]
    if body then
      events[#events + 1] = seq
      events[#events + 1] = body
    end
  end
end
return {redis.call('GET', KEYS[6]) or '0', events}
`,
);

/**
 * KEYS: layout, epoch, log, log:ids, log:until. ARGV[4..]: the session cut-off (exclusive), the
 * event horizon (inclusive), the batch size. Deletes at most one batch of sessions and one of
 * events; returns {sessions deleted, events deleted, sessions looked at, events looked at}.
 *
 * A session of an epoch that a revokeAll ended counts as ended at the earlier of its own end and
 * that revokeAll's time: when that time is before the cut-off, the whole epoch goes.
 */
export const PRUNE = script(
  'prune',
  `
local refused = check_layout(true)
if refused then return refused end
local cutoff, batch = tonumber(ARGV[4]), tonumber(ARGV[6])
local sessions, seen = 0, 0
for epoch = 0, current_epoch() do
  if seen >= batch then break end
  local ends = ends_key(epoch)
  local ended = epoch_end(epoch)
  local upper = '(' .. ARGV[4]
  if ended and tonumber(ended) < cutoff then upper = '+inf' end
  local sids = redis.call('ZRANGE', ends, '-inf', upper, 'BYSCORE', 'LIMIT', 0, batch - seen)
  for _, sid in ipairs(sids) do
    local key = session_key(sid)
    local sub = redis.call('HGET', key, 'sub')
    if sub then
      redis.call('DEL', key)
      redis.call('ZREM', sessions_key(sub), sid)
      sessions = sessions + 1
    end
    redis.call('ZREM', ends, sid)
  end
  seen = seen + #sids
end
local ids = redis.call('ZRANGE', KEYS[5], '-inf', ARGV[5], 'BYSCORE', 'LIMIT', 0, batch)
for _, id in ipairs(ids) do
  local seq = redis.call('HGET', KEYS[4], id)
  if seq then redis.call('ZREMRANGEBYSCORE', KEYS[3], seq, seq) end
  redis.call('HDEL', KEYS[4], id)
  redis.call('ZREM', KEYS[5], id)
end
return {sessions, #ids, seen, #ids}
`,
);
