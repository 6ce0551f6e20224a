import assert from 'node:assert/strict';
import { testRedis, uniqueId } from '../../test/support/env';
import { createScriptPipeline, LuaScript } from './redis-state';

/** A script that appends its argument to a list and returns the list's length (order is visible). */
const append = new LuaScript(`return redis.call('RPUSH', KEYS[1], ARGV[1])`, 1);
/** A script that fails with a Redis error when its argument is 'fail'. */
const failing = new LuaScript(`if ARGV[1] == 'fail' then return redis.error_reply('refused ' .. ARGV[1]) end return ARGV[1]`, 1);

describe('Redis script pipeline @integration', () => {
  const redis = testRedis();

  it('runs concurrent calls as pipelined writes: every call once, in submission order, each with its own reply', async () => {
    const key = `test:{${uniqueId('pipe')}}`;
    const pipeline = createScriptPipeline(redis, { batchMax: 16, inFlightMax: 1 });
    await redis.script('LOAD', append.source);
    const replies = await Promise.all(Array.from({ length: 100 }, (_, i) => pipeline.run(append, [key], [String(i)])));
    // RPUSH returns the length after the push: calls ran one at a time, in the order they were submitted.
    assert.deepEqual(replies, Array.from({ length: 100 }, (_, i) => i + 1));
    assert.deepEqual(await redis.lrange(key, 0, -1), Array.from({ length: 100 }, (_, i) => String(i)));
    await redis.del(key);
  });

  it('a failing call rejects alone; the other calls of its write succeed', async () => {
    const key = `test:{${uniqueId('pipe')}}`;
    const pipeline = createScriptPipeline(redis, { batchMax: 16, inFlightMax: 1 });
    await redis.script('LOAD', failing.source);
    const outcomes = await Promise.allSettled(['a', 'fail', 'b', 'fail', 'c'].map((arg) => pipeline.run(failing, [key], [arg])));
    assert.deepEqual(
      outcomes.map((o) => (o.status === 'fulfilled' ? o.value : 'rejected')),
      ['a', 'rejected', 'b', 'rejected', 'c'],
    );
    const failure = outcomes[1];
    assert.ok(failure?.status === 'rejected' && /refused fail/.test(String(failure.reason)));
  });

  it('after Redis lost its script cache (SCRIPT FLUSH) between two writes, every queued call still runs, once', async () => {
    const key = `test:{${uniqueId('pipe')}}`;
    const pipeline = createScriptPipeline(redis, { batchMax: 64, inFlightMax: 1 });
    await redis.script('LOAD', append.source);
    // The first call goes out alone; the flush follows it on the same connection; the other 19
    // calls wait for the first and then go out as one pipelined write that meets NOSCRIPT.
    const first = pipeline.run(append, [key], ['0']);
    const flushed = redis.script('FLUSH');
    const rest = Array.from({ length: 19 }, (_, i) => pipeline.run(append, [key], [String(i + 1)]));
    await Promise.all([first, flushed, ...rest]);
    assert.deepEqual(await redis.lrange(key, 0, -1), Array.from({ length: 20 }, (_, i) => String(i)));
    await redis.del(key);
  });

  it('refuses a call with the wrong number of keys without sending anything', async () => {
    const pipeline = createScriptPipeline(redis, { batchMax: 4, inFlightMax: 1 });
    await assert.rejects(pipeline.run(append, ['a', 'b'], ['x']), /expects 1 keys/);
  });
});
