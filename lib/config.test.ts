import assert from 'node:assert/strict';
import { devSecrets, loadConfig, loadTestConfig, localPorts, productionSecretProblems } from './config';

describe('configuration', () => {
  it('uses the documented local defaults when nothing is set', () => {
    const config = loadConfig({});
    assert.equal(config.port, 3000);
    assert.equal(config.databaseUrl, `postgres://checkout@127.0.0.1:${localPorts.postgres}/checkout`);
    assert.equal(config.redisUrl, `redis://127.0.0.1:${localPorts.redis}/0`);
    assert.equal(config.temporalAddress, `127.0.0.1:${localPorts.temporal}`);
    assert.equal(config.temporalNamespace, 'default');
    assert.equal(config.jwtSecret, devSecrets.jwtSecret);
    assert.equal(config.webhookSecret, devSecrets.webhookSecret);
    assert.deepEqual(config.local, { postgres: true, redis: true, temporal: true });
  });

  it('honours every documented variable, and an external service is not local', () => {
    const config = loadConfig({
      PORT: '8080',
      DATABASE_URL: 'postgres://u:p@db:5432/shop',
      REDIS_URL: 'redis://cache:6379/0',
      TEMPORAL_ADDRESS: 'temporal:7233',
      TEMPORAL_NAMESPACE: 'shop',
      JWT_SECRET: 'j',
      WEBHOOK_SECRET: 'w',
    });
    assert.equal(config.port, 8080);
    assert.equal(config.databaseUrl, 'postgres://u:p@db:5432/shop');
    assert.equal(config.redisUrl, 'redis://cache:6379/0');
    assert.equal(config.temporalAddress, 'temporal:7233');
    assert.equal(config.temporalNamespace, 'shop');
    assert.equal(config.jwtSecret, 'j');
    assert.equal(config.webhookSecret, 'w');
    assert.deepEqual(config.local, { postgres: false, redis: false, temporal: false });
  });

  it('treats empty variables as unset', () => {
    assert.equal(loadConfig({ DATABASE_URL: '  ', PORT: '' }).local.postgres, true);
  });

  it('rejects a port that is not a port, naming the variable', () => {
    assert.throws(() => loadConfig({ PORT: 'abc' }), /PORT must be a port number/);
    assert.throws(() => loadConfig({ PORT: '70000' }), /PORT must be a port number/);
    assert.throws(() => loadConfig({ PORT: '3000.5' }), /PORT must be a port number/);
  });

  it('gives tests their own database and Redis db on the local stack, never the dev ones', () => {
    const config = loadTestConfig({});
    assert.match(config.databaseUrl, /\/checkout_test$/);
    assert.match(config.redisUrl, /\/1$/);
    assert.equal(loadTestConfig({ TEST_DATABASE_URL: 'postgres://x/y' }).databaseUrl, 'postgres://x/y');
  });

  describe('secrets in production (NODE_ENV=production)', () => {
    const own = { JWT_SECRET: 'prod-jwt-0123456789', WEBHOOK_SECRET: 'whsec_prod_0123456789' };

    it('refuses unset, empty and documented dev secrets, naming each variable', () => {
      assert.deepEqual(productionSecretProblems({ NODE_ENV: 'production' }), ['JWT_SECRET is unset', 'WEBHOOK_SECRET is unset']);
      assert.deepEqual(productionSecretProblems({ NODE_ENV: 'production', JWT_SECRET: '  ', WEBHOOK_SECRET: own.WEBHOOK_SECRET }), ['JWT_SECRET is unset']);
      assert.deepEqual(productionSecretProblems({ NODE_ENV: 'production', JWT_SECRET: own.JWT_SECRET, WEBHOOK_SECRET: devSecrets.webhookSecret }), ['WEBHOOK_SECRET is the documented dev value']);
      assert.deepEqual(productionSecretProblems({ NODE_ENV: 'production', JWT_SECRET: ` ${devSecrets.jwtSecret} `, WEBHOOK_SECRET: own.WEBHOOK_SECRET }), ['JWT_SECRET is the documented dev value']);
    });

    it('accepts secrets of its own in production, and anything outside production', () => {
      assert.deepEqual(productionSecretProblems({ NODE_ENV: 'production', ...own }), []);
      assert.deepEqual(productionSecretProblems({}), []);
      assert.deepEqual(productionSecretProblems({ NODE_ENV: 'development' }), []);
      assert.deepEqual(productionSecretProblems({ NODE_ENV: 'test', JWT_SECRET: devSecrets.jwtSecret }), []);
    });
  });
});
