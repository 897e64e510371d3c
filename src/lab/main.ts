// calico-lab: a Calico data centre in network namespaces on this machine.
import { spawn } from 'node:child_process';
import { Command, Option } from 'commander';
import {
  addWorkload,
  DEFAULT_PORTS,
  deleteWorkload,
  down,
  findWorkload,
  LabError,
  requireState,
  status,
  up,
  waitRoutes,
} from './lab.js';
import { runListeners } from './listener.js';
import { formatMatrix, type ProbeProtocol, probeAll } from './probe.js';
import { createProgress } from './progress.js';
import { labDir } from './state.js';
import { parseLabels, parsePorts } from './workloads.js';

const program = new Command('calico-lab')
  .description(
    'A Calico data centre in network namespaces on this machine: a router, hosts running calico-node, workloads added through the CNI plugin.\nState lives in $CALICO_LAB_DIR (default /var/run/calico-lab).',
  )
  .showHelpAfterError();

const int = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n)) throw new LabError('INVALID', `${name} must be an integer, got "${v}"`);
  return n;
};

program
  .command('up')
  .description('build the fabric, the hosts (each running calico-node) and the workloads')
  .addOption(new Option('--hosts <n>', 'number of hosts').default(3).argParser(int('--hosts')))
  .addOption(
    new Option('--workloads <m>', 'workloads per host (roles frontend, backend, db in turn)')
      .default(3)
      .argParser(int('--workloads')),
  )
  .option('-q, --quiet', 'no progress output')
  .action(async (o: { hosts: number; workloads: number; quiet?: boolean }) => {
    const total = 4 + o.hosts * 3 + o.hosts * o.workloads;
    const progress = createProgress(total, process.stderr, o.quiet === true);
    const start = Date.now();
    const state = await up({ dir: labDir(), hosts: o.hosts, workloads: o.workloads, progress });
    progress.done(
      `lab up: ${state.hosts.length} hosts, ${state.workloads.length} workloads in ${((Date.now() - start) / 1000).toFixed(1)} s`,
    );
    process.stdout.write(
      `export DATASTORE_TYPE=embedded CALICO_DATA_DIR=${state.dataDir}   # for calicoctl\n`,
    );
  });

const workload = program.command('workload').description('add or delete workloads');
workload
  .command('add')
  .description('create a Kubernetes-style workload through the CNI plugin, with listeners')
  .requiredOption('--host <host>', 'host to run on (e.g. host1)')
  .requiredOption('--namespace <ns>', 'Kubernetes namespace')
  .requiredOption('--name <name>', 'pod name')
  .option('--labels <k=v,...>', 'pod labels')
  .option(
    '--ports <spec,...>',
    'listeners: PORT[/tcp|/udp], NAME=PORT[/proto] also declares a named port',
    DEFAULT_PORTS.map((p) => `${p.name}=${p.port}/${p.protocol.toLowerCase()}`).join(','),
  )
  .action(
    async (o: {
      host: string;
      namespace: string;
      name: string;
      labels?: string;
      ports: string;
    }) => {
      const state = requireState(labDir());
      const wl = await addWorkload(state, {
        host: o.host,
        namespace: o.namespace,
        name: o.name,
        labels: parseLabels(o.labels),
        ports: parsePorts(o.ports),
      });
      process.stdout.write(`${wl.namespace}/${wl.name} ${wl.ip ?? ''} on ${wl.host}\n`);
    },
  );
workload
  .command('del')
  .description('delete a workload (CNI DEL, listeners stopped, namespace removed)')
  .argument('<ns/name>')
  .action(async (ref: string) => {
    await deleteWorkload(requireState(labDir()), ref);
  });

program
  .command('exec')
  .description('run a command inside a workload: calico-lab exec NS/NAME -- COMMAND...')
  .argument('<ns/name>')
  .argument('<command...>')
  .action(async (ref: string, command: string[]) => {
    const wl = findWorkload(requireState(labDir()), ref);
    const child = spawn('ip', ['netns', 'exec', wl.ns, ...command], { stdio: 'inherit' });
    const code = await new Promise<number>((resolve) =>
      child.on('close', (c, sig) => resolve(c ?? (sig ? 128 : 1))),
    );
    process.exitCode = code;
  });

program
  .command('probe')
  .description('attempt a connection between every ordered pair of workloads')
  .addOption(
    new Option('--protocol <p>', 'what to attempt').choices(['tcp', 'udp', 'icmp']).default('tcp'),
  )
  .option('--port <n>', 'destination port (default 80 for TCP, 7 for UDP)')
  .option('--timeout <s>', 'seconds per attempt', '2')
  .addOption(new Option('-o, --output <fmt>', 'output').choices(['table', 'json']).default('table'))
  .action(
    async (o: { protocol: ProbeProtocol; port?: string; timeout: string; output: string }) => {
      const state = requireState(labDir());
      const port = o.port !== undefined ? int('--port')(o.port) : o.protocol === 'udp' ? 7 : 80;
      const report = await probeAll(state.workloads, o.protocol, port, {
        timeoutS: int('--timeout')(o.timeout),
      });
      if (o.output === 'json') process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      else {
        const names = state.workloads.map((w) => `${w.namespace}/${w.name}`);
        process.stdout.write(`${formatMatrix(report, names)}\n`);
      }
    },
  );

program
  .command('status')
  .description('hosts, workloads and the calicoctl environment')
  .addOption(new Option('-o, --output <fmt>', 'output').choices(['table', 'json']).default('table'))
  .action((o: { output: string }) => {
    const s = status(requireState(labDir()));
    if (o.output === 'json') {
      process.stdout.write(`${JSON.stringify(s, null, 2)}\n`);
      return;
    }
    const lines = [
      `lab ${s.dir} (namespaces ${s.prefix}*, router ${s.router}, outside ${s.outside ?? '-'})`,
      `router BGP: birdc -s ${s.birdSocket} show protocols`,
      'hosts:',
    ];
    for (const h of s.hosts) {
      lines.push(
        `  ${h.name.padEnd(8)} ${h.address.padEnd(14)} calico-node ${h.agentRunning ? `running (pid ${h.agentPid})` : 'NOT running'}  BGP: calicoctl node status --status-file ${h.bgpStatusFile}`,
      );
    }
    lines.push('workloads:');
    for (const w of s.workloads) {
      const labels = Object.entries(w.labels)
        .map(([k, v]) => `${k}=${v}`)
        .join(',');
      lines.push(
        `  ${`${w.namespace}/${w.name}`.padEnd(22)} ${(w.address ?? '-').padEnd(14)} ${w.host.padEnd(8)} ${w.interface}  ${labels}  ${w.ports.join(',')}`,
      );
    }
    lines.push('calicoctl environment:');
    lines.push(
      `  export ${Object.entries(s.env)
        .map(([k, v]) => `${k}=${v}`)
        .join(' ')}`,
    );
    process.stdout.write(`${lines.join('\n')}\n`);
  });

program
  .command('routes')
  .description("the router's BGP routes, once every affine block has one")
  .action(async () => {
    const routes = await waitRoutes(requireState(labDir()));
    for (const [dst, hops] of [...routes].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      process.stdout.write(`${dst.padEnd(18)} via ${hops.join(', ')}\n`);
  });

program
  .command('down')
  .description('remove every namespace, process and file the lab made')
  .action(async () => {
    const r = await down(labDir());
    process.stderr.write(
      `lab down: stopped ${r.processes} processes, removed ${r.namespaces} namespaces\n`,
    );
  });

// Internal: the listeners inside a workload (started by `workload add`).
program
  .command('_listen', { hidden: true })
  .requiredOption('--ports <spec>')
  .action(async (o: { ports: string }) => {
    await runListeners(parsePorts(o.ports));
  });

program.parseAsync(process.argv).catch((err: unknown) => {
  const msg = err instanceof Error ? err.message : String(err);
  process.stderr.write(`calico-lab: ${msg}\n`);
  if (process.argv[2] === 'up' && !(err instanceof LabError && err.code === 'LAB_EXISTS')) {
    process.stderr.write(
      'calico-lab: the partly built lab stays for inspection; remove it with: calico-lab down\n',
    );
  }
  process.exitCode = 1;
});
