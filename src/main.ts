/**
 * Process entry point (`npm start`): load configuration, start the service, and stop
 * it cleanly on SIGTERM/SIGINT. A second signal forces exit.
 */
import { ConfigError, loadConfig } from './config.js';
import { startService } from './service.js';

const DRAIN_TIMEOUT_MS = 25_000;

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`ticket-service: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  const service = await startService(config);
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals += 1;
    if (signals > 1) {
      service.log.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    service.log.info({ signal }, 'draining');
    const force = setTimeout(() => {
      service.log.error('drain timed out; exiting');
      process.exit(1);
    }, DRAIN_TIMEOUT_MS);
    force.unref();
    service.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        service.log.error({ err }, 'stop failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

main().catch((err: unknown) => {
  process.stderr.write(`ticket-service: failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
