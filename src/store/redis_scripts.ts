/**
 * The Lua scripts of the Redis driver. Every change that touches more than one key, or that
 * must not be applied twice when ioredis re-sends a command after a reconnect, is one script:
 * Redis runs a script atomically and writes its effects to the AOF as one transaction.
 *
 * Times come from the server (`TIME`), so holders on different hosts share one clock.
 *
 * @module
 */

const NOW = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;

/**
 * The lost-store guard (`store_lost.ts`): with `flag` '1' (the driver has seen the layout
 * record), a write whose store no longer has the record refuses with an AYSLOST error before it
 * changes anything. One HEXISTS inside the script: no extra round trip.
 */
const LOST = `local function ays_lost(meta, flag)
  return flag == '1' and redis.call('HEXISTS', meta, 'layout') == 0
end
`;

/** The reply of a guarded write to a store that lost its layout record. */
const LOST_REPLY = `redis.error_reply('AYSLOST the layout record is gone')`;

/**
 * How many keys one `MGET`, `MSET` or `ZADD` of a script takes at most: Lua's `unpack` gives at
 * most about 8,000 values at once.
 */
const CHUNK = 1000;

/**
 * Atomic batch. KEYS: [1] key index (zset), [2] batch marker, [3] meta hash, then one key per
 * guard, then the keys of the steps in order. ARGV: [1] marker ttl (s), [2] lost-store guard
 * flag, [3] the guards' kinds, one letter each (`v` a value / `n` absent), [4] the steps, each
 * `s<keys>/<names>` (set that many keys, then index that many of them) or `d<keys>/0` (delete
 * that many keys), then the value of each `v` guard, then per step: a set's values, one per key,
 * and the index names (keys without the namespace) of the keys it indexes; a delete's index
 * names, one per key. Returns {ok, deleted}; a batch whose marker exists returns the recorded
 * result without applying anything.
 *
 * The client plans the steps (`redis_batch_plan.ts`; a set step's keys to index come last), so
 * the script does no bookkeeping per key and runs few commands, each a call of the server and a
 * line of the AOF: the guards are read with `MGET`; a set step is one `MSET` and, for the keys
 * not known to exist, one `EXISTS` (before the sets) and, when one of them is new, one `ZADD` of
 * their index entries; a delete step is one `DEL` and one `ZREM`; each in chunks of ${CHUNK} keys.
 * Every byte of an argument is hashed when it becomes a Lua string (the server's largest cost
 * per batch), so nothing is sent twice.
 */
export const BATCH_LUA = LOST + `
if ays_lost(KEYS[3], ARGV[2]) then return ${LOST_REPLY} end
local prev = redis.call('GET', KEYS[2])
if prev then
  local ok, deleted = string.match(prev, '^(%d+):(%d+)$')
  return {tonumber(ok), tonumber(deleted)}
end
local chunk = ${CHUNK}
local byte, min, unpack = string.byte, math.min, unpack
local gkinds = ARGV[3]
local ng = #gkinds
local a = 5
local ok = 1
for c = 1, ng, chunk do
  local upto = min(ng, c + chunk - 1)
  local cur = redis.call('MGET', unpack(KEYS, 3 + c, 3 + upto))
  for i = c, upto do
    local v = cur[i - c + 1]
    if byte(gkinds, i) == 110 then
      if v then ok = 0 break end
    else
      if v ~= ARGV[a] then ok = 0 break end
      a = a + 1
    end
  end
  if ok == 0 then break end
end
local deleted = 0
if ok == 1 then
  -- The steps' arguments follow the values of the value guards.
  a = 5
  for i = 1, ng do
    if byte(gkinds, i) ~= 110 then a = a + 1 end
  end
  local k = 3 + ng
  for kind, n, m in string.gmatch(ARGV[4], '(%a)(%d+)/(%d+)') do
    n, m = tonumber(n), tonumber(m)
    if kind == 's' then
      -- Before the sets: which chunks of the keys to index (the step's last m) have a new key.
      local fresh, f = {}, 0
      for c = 0, m - 1, chunk do
        local upto = min(m, c + chunk)
        f = f + 1
        fresh[f] = redis.call('EXISTS', unpack(KEYS, k + n - m + c + 1, k + n - m + upto)) < upto - c
      end
      for c = 0, n - 1, chunk do
        local kv, j = {}, 0
        for i = c + 1, min(n, c + chunk) do
          kv[j + 1] = KEYS[k + i]
          kv[j + 2] = ARGV[a + i - 1]
          j = j + 2
        end
        redis.call('MSET', unpack(kv, 1, j))
      end
      k, a = k + n, a + n
      f = 0
      for c = 0, m - 1, chunk do
        f = f + 1
        if fresh[f] then
          local members, j = {}, 0
          for i = c + 1, min(m, c + chunk) do
            members[j + 1] = '0'
            members[j + 2] = ARGV[a + i - 1]
            j = j + 2
          end
          redis.call('ZADD', KEYS[1], unpack(members, 1, j))
        end
      end
      a = a + m
    else
      for c = 0, n - 1, chunk do
        local upto = min(n, c + chunk)
        deleted = deleted + redis.call('DEL', unpack(KEYS, k + c + 1, k + upto))
        redis.call('ZREM', KEYS[1], unpack(ARGV, a + c, a + upto - 1))
      end
      k, a = k + n, a + n
    end
  end
end
redis.call('SET', KEYS[2], string.format('%d:%d', ok, deleted), 'EX', ARGV[1])
return {ok, deleted}
`;

/**
 * Every key of the index between two ZRANGEBYLEX bounds with its value, in one call.
 * KEYS: [1] key index. ARGV: [1] min, [2] max, [3] namespace prefix. Returns a flat
 * [key, value, …] list; keys whose value vanished are left out. The values are read with one
 * `MGET` per ${CHUNK} keys, not a `GET` each (a run's plan reads every service this way).
 */
export const GET_BY_PREFIX_LUA = `
local members = redis.call('ZRANGEBYLEX', KEYS[1], ARGV[1], ARGV[2])
local prefix = ARGV[3]
local out = {}
for c = 1, #members, ${CHUNK} do
  local upto = math.min(#members, c + ${CHUNK} - 1)
  local names = {}
  for i = c, upto do names[#names + 1] = prefix .. members[i] end
  local values = redis.call('MGET', unpack(names))
  for i = c, upto do
    local v = values[i - c + 1]
    if v then
      out[#out + 1] = members[i]
      out[#out + 1] = v
    end
  end
end
return out
`;

/**
 * Lock acquire. KEYS: [1] lock, [2] meta hash. ARGV: [1] holder JSON, [2] holder id,
 * [3] ttl ms, [4] lost-store guard flag. Returns {1|0, record JSON, ms left, now}. The same
 * holder id re-acquires (and renews).
 */
export const LOCK_ACQUIRE_LUA = NOW + LOST + `
if ays_lost(KEYS[2], ARGV[4]) then return ${LOST_REPLY} end
local cur = redis.call('GET', KEYS[1])
if cur then
  local h = cjson.decode(cur)
  if h.id ~= ARGV[2] then
    return {0, cur, redis.call('PTTL', KEYS[1]), now}
  end
  redis.call('SET', KEYS[1], cur, 'PX', ARGV[3])
  return {1, cur, tonumber(ARGV[3]), now}
end
local h = cjson.decode(ARGV[1])
h.acquiredAt = now
local rec = cjson.encode(h)
redis.call('SET', KEYS[1], rec, 'PX', ARGV[3])
return {1, rec, tonumber(ARGV[3]), now}
`;

/**
 * Takes over a lock whose holder is known dead, only if it is still exactly that record.
 * KEYS: [1] lock. ARGV: [1] expected record, [2] new holder JSON, [3] ttl ms.
 * Returns {1, record, ttl, now} or {0}.
 */
export const LOCK_TAKEOVER_LUA = NOW + `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return {0} end
local h = cjson.decode(ARGV[2])
h.acquiredAt = now
local rec = cjson.encode(h)
redis.call('SET', KEYS[1], rec, 'PX', ARGV[3])
return {1, rec, tonumber(ARGV[3]), now}
`;

/**
 * Lock heartbeat. KEYS: [1] lock, [2] meta hash. ARGV: [1] holder id, [2] ttl ms, [3] lost-store
 * guard flag. Returns 1 or 0.
 */
export const LOCK_HEARTBEAT_LUA = LOST + `
if ays_lost(KEYS[2], ARGV[3]) then return ${LOST_REPLY} end
local cur = redis.call('GET', KEYS[1])
if cur and cjson.decode(cur).id == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
`;

/** Lock release. KEYS: [1] lock. ARGV: [1] holder id. Returns 1 or 0. */
export const LOCK_RELEASE_LUA = `
local cur = redis.call('GET', KEYS[1])
if cur and cjson.decode(cur).id == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
`;

/** Lock read. KEYS: [1] lock. Returns {record or false, ms left, now}. */
export const LOCK_READ_LUA = NOW + `
local cur = redis.call('GET', KEYS[1])
if not cur then return {false, 0, now} end
return {cur, redis.call('PTTL', KEYS[1]), now}
`;

/**
 * Queue push, idempotent by item id. KEYS: [1] pending list, [2] items hash, [3] meta hash.
 * ARGV: [1] id, [2] value, [3] lost-store guard flag.
 */
export const QUEUE_PUSH_LUA = LOST + `
if ays_lost(KEYS[3], ARGV[3]) then return ${LOST_REPLY} end
if redis.call('HSETNX', KEYS[2], ARGV[1], ARGV[2]) == 1 then
  redis.call('LPUSH', KEYS[1], ARGV[1])
end
return 1
`;

/**
 * Queue pop. KEYS: [1] pending, [2] items, [3] in-flight zset (score: lease end),
 * [4] owners hash, [5] deliveries hash, [6] request marker. ARGV: [1] consumer JSON,
 * [2] lease ms, [3] marker ttl s. Lapsed leases go back to the head first. A re-sent pop
 * (same marker) returns the item it handed out the first time, while still held.
 * Returns {id, value, deliveries, leaseUntil} or false.
 */
export const QUEUE_POP_LUA = NOW + `
local prev = redis.call('GET', KEYS[6])
if prev then
  if redis.call('HGET', KEYS[4], prev) == ARGV[1] then
    return {prev, redis.call('HGET', KEYS[2], prev), redis.call('HGET', KEYS[5], prev),
      redis.call('ZSCORE', KEYS[3], prev)}
  end
  return false
end
local lapsed = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now)
for _, id in ipairs(lapsed) do
  redis.call('ZREM', KEYS[3], id)
  redis.call('HDEL', KEYS[4], id)
  redis.call('RPUSH', KEYS[1], id)
end
local id = redis.call('RPOP', KEYS[1])
if not id then return false end
local lease = now + tonumber(ARGV[2])
redis.call('ZADD', KEYS[3], lease, id)
redis.call('HSET', KEYS[4], id, ARGV[1])
local d = redis.call('HINCRBY', KEYS[5], id, 1)
redis.call('SET', KEYS[6], id, 'EX', tonumber(ARGV[3]))
return {id, redis.call('HGET', KEYS[2], id), tostring(d), tostring(lease)}
`;

/**
 * Puts an in-flight item back when its owner is (still) the given dead consumer.
 * KEYS: [1] pending, [3] in-flight, [4] owners (2 unused). ARGV: [1] id, [2] owner JSON.
 */
export const QUEUE_REQUEUE_LUA = `
if redis.call('HGET', KEYS[4], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('HDEL', KEYS[4], ARGV[1])
redis.call('RPUSH', KEYS[1], ARGV[1])
return 1
`;

/**
 * Gives an item back when it is held by the given consumer id. KEYS: [1] pending,
 * [2] in-flight, [3] owners. ARGV: [1] id, [2] consumer id. Returns 1 or 0.
 */
export const QUEUE_RELEASE_LUA = `
local o = redis.call('HGET', KEYS[3], ARGV[1])
if (not o) or cjson.decode(o).id ~= ARGV[2] then return 0 end
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[3], ARGV[1])
redis.call('RPUSH', KEYS[1], ARGV[1])
return 1
`;

/**
 * Queue ack. KEYS: [1] items, [2] in-flight, [3] owners, [4] deliveries.
 * ARGV: [1] id, [2] consumer id. Returns 1 or 0 (not held by that consumer).
 */
export const QUEUE_ACK_LUA = `
local o = redis.call('HGET', KEYS[3], ARGV[1])
if (not o) or cjson.decode(o).id ~= ARGV[2] then return 0 end
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[3], ARGV[1])
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[4], ARGV[1])
return 1
`;

/**
 * Renews the unexpired leases of one consumer. KEYS: [1] in-flight, [2] owners.
 * ARGV: [1] consumer id, [2] lease ms. Returns how many.
 */
export const QUEUE_HEARTBEAT_LUA = NOW + `
local owners = redis.call('HGETALL', KEYS[2])
local n = 0
for i = 1, #owners, 2 do
  local id = owners[i]
  if cjson.decode(owners[i + 1]).id == ARGV[1] then
    local s = redis.call('ZSCORE', KEYS[1], id)
    if s and tonumber(s) > now then
      redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[2]), id)
      n = n + 1
    end
  end
end
return n
`;

/**
 * Appends capped log lines. KEYS: [1] list, [2] meta hash. ARGV: [1] cap, [2] lost-store guard
 * flag, then the lines.
 */
export const LOG_APPEND_LUA = LOST + `
if ays_lost(KEYS[2], ARGV[2]) then return ${LOST_REPLY} end
for i = 3, #ARGV do
  redis.call('RPUSH', KEYS[1], ARGV[i])
end
redis.call('LTRIM', KEYS[1], -tonumber(ARGV[1]), -1)
return 1
`;

/**
 * Appends events to the repository's event log. KEYS: [1] sorted set of events (score = id,
 * member = `<id> <data>`), [2] id counter, [3] append marker, [4] meta hash. ARGV: [1] cap,
 * [2] lost-store guard flag, [3] marker ttl (s), then the events' texts. Returns the first id;
 * an append whose marker exists returns the recorded first id without appending again.
 */
export const EVENTS_APPEND_LUA = LOST + `
if ays_lost(KEYS[4], ARGV[2]) then return ${LOST_REPLY} end
local prev = redis.call('GET', KEYS[3])
if prev then return tonumber(prev) end
local n = #ARGV - 3
local last = redis.call('INCRBY', KEYS[2], n)
local first = last - n + 1
-- One ZADD per ${CHUNK} events, not one per event. Each id is made text once, for its score and
-- its member both, as an integer ('%d'): a number handed to a command or joined to a string is
-- formatted as a float with snprintf, several times the work.
local format, min, unpack = string.format, math.min, unpack
for c = 1, n, ${CHUNK} do
  local members, j = {}, 0
  for i = c, min(n, c + ${CHUNK} - 1) do
    local id = format('%d', first + i - 1)
    members[j + 1] = id
    members[j + 2] = id .. ' ' .. ARGV[3 + i]
    j = j + 2
  end
  redis.call('ZADD', KEYS[1], unpack(members, 1, j))
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', format('%d', last - tonumber(ARGV[1])))
redis.call('SET', KEYS[3], format('%d', first), 'EX', ARGV[3])
return first
`;

/**
 * Records the layout version. KEYS: [1] meta hash. ARGV: [1] version, [2] lost-store guard flag
 * (a store that lost its record must not get a new one silently).
 */
export const LAYOUT_SET_LUA = LOST + `
if ays_lost(KEYS[1], ARGV[2]) then return ${LOST_REPLY} end
redis.call('HSET', KEYS[1], 'layout', ARGV[1])
return 1
`;
