// calico-node entry point: environment in, agent running until SIGTERM/SIGINT.
import { loadDatastoreConfig } from '../datastore/index.js';
import { Agent } from './agent.js';
import { loadAgentConfig } from './config.js';
import { createLogger, pinoLevel } from './log.js';

async function main(): Promise<number> {
  const log = createLogger(pinoLevel(process.env.FELIX_LOGSEVERITYSCREEN) ?? 'info');
  let agent: Agent;
  try {
    const config = loadAgentConfig(process.env);
    const datastore = loadDatastoreConfig(process.env, process.env.CALICO_API_CONFIG || undefined);
    agent = new Agent({ config, datastore, log });
    let stopping = false;
    const shutdown = (sig: string) => {
      if (stopping) return;
      stopping = true;
      log.info({ signal: sig }, 'shutting down');
      agent.stop().then(
        () => process.exit(0),
        (err: unknown) => {
          log.error({ err: String(err) }, 'shutdown failed');
          process.exit(1);
        },
      );
    };
    process.on('SIGTERM', () => shutdown('SIGTERM'));
    process.on('SIGINT', () => shutdown('SIGINT'));
    await agent.start(datastore);
  } catch (err) {
    log.fatal(
      { err: err instanceof Error ? err.message : String(err) },
      'calico-node cannot start',
    );
    return 1;
  }
  return -1;
}

main().then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (err: unknown) => {
    process.stderr.write(`calico-node: ${String(err)}\n`);
    process.exit(1);
  },
);
