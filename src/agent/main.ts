// calico-node entry point: environment in, agent running until SIGTERM/SIGINT.
import { runSpeakerService } from '../bgp/index.js';
import { loadDatastoreConfig } from '../datastore/index.js';
import { Agent } from './agent.js';
import { loadAgentConfig } from './config.js';
import { createLogger, pinoLevel } from './log.js';

const USAGE = `Usage: calico-node

calico-node takes no arguments: it is configured by its environment (NODENAME, IP, IP6, AS,
DATASTORE_TYPE, ETCD_ENDPOINTS, CALICO_DATA_DIR, CALICO_NETNS, FELIX_*; see docs/calico-node.md)
and runs until SIGTERM or SIGINT. It programs the kernel of the network namespace it runs in,
or of CALICO_NETNS when that is set.
`;

async function main(): Promise<number> {
  // The agent re-runs itself as its BGP speaker (networking.ts), inside the host's
  // namespace; the config arrives on stdin, so there is no argument to refuse.
  if (process.env.CALICO_BGP_SPEAKER === 'stdin') {
    await runSpeakerService('stdin');
    return -1;
  }
  // Any argument is a mistake (often "--help"): refuse it rather than start programming the
  // kernel of whatever namespace we happen to be in.
  const args = process.argv.slice(2);
  if (args.length > 0) {
    const help = args.length === 1 && (args[0] === '--help' || args[0] === '-h');
    (help ? process.stdout : process.stderr).write(
      help ? USAGE : `calico-node: unexpected argument "${args[0]}"\n\n${USAGE}`,
    );
    return help ? 0 : 2;
  }
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
