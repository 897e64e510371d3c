/**
 * The calicoctl command tree. Every command's implementation is imported only when that
 * command runs: the bundle is one file, but esbuild wraps lazily imported modules so their
 * code (yaml, the datastore, the policy engine) is evaluated on demand. `completion` and
 * `--help` evaluate commander alone. The plain spellings of `version` and `validate` never
 * get here: the launcher runs them itself (direct.ts).
 */
import { Command, Option } from 'commander';
import { writeStdout } from './output.js';
import { run } from './run.js';
import { versionText } from './version.js';

const OUTPUTS = ['ps', 'wide', 'yaml', 'json', 'name'] as const;

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

type Opts = Record<string, unknown>;

function globals(cmd: Command): { config?: string } {
  const g = cmd.optsWithGlobals() as Opts;
  return typeof g.config === 'string' ? { config: g.config } : {};
}

function withFileFlags(c: Command, required: boolean): Command {
  const f = new Option(
    '-f, --filename <file>',
    'file, directory or - (stdin) to read; repeatable',
  ).argParser(collect);
  if (required) f.makeOptionMandatory();
  return c
    .addOption(f)
    .option('-R, --recursive', 'process directories given with -f recursively')
    .option('--skip-empty', 'do not fail on files that hold no resources');
}

export function buildProgram(): Command {
  const program = new Command('calicoctl')
    .description('Manage Calico resources and answer policy and IPAM questions')
    .option(
      '-c, --config <file>',
      'CalicoAPIConfig file (default /etc/calico/calicoctl.cfg if present)',
    )
    .option('--log-level <level>', 'accepted for compatibility; calicoctl logs nothing', 'panic')
    .option('--allow-version-mismatch', 'accepted for compatibility')
    .showHelpAfterError();

  const ns = (c: Command) =>
    c.option('-n, --namespace <ns>', 'namespace of namespaced resources (default "default")');

  for (const [name, desc] of [
    ['apply', 'Create resources, or replace them if they exist'],
    ['replace', 'Replace existing resources'],
  ] as const) {
    ns(withFileFlags(program.command(name).description(desc), true)).action(
      async (_o, cmd: Command) =>
        run(async () => {
          const m = await import('./resources.js');
          await m[name === 'apply' ? 'apply' : 'replace']({
            ...(cmd.opts() as Opts),
            ...globals(cmd),
          });
        }),
    );
  }

  ns(
    withFileFlags(
      program.command('create').description('Create resources that do not exist yet'),
      true,
    ),
  )
    .option('--skip-exists', 'skip resources that already exist instead of failing')
    .action(async (_o, cmd: Command) =>
      run(async () => {
        const m = await import('./resources.js');
        await m.create({ ...(cmd.opts() as Opts), ...globals(cmd) });
      }),
    );

  ns(
    withFileFlags(
      program
        .command('delete')
        .description('Delete resources given by file or by KIND and NAME')
        .argument('[kind]', 'resource kind (kind, plural or short name; any case)')
        .argument('[names...]', 'names of the resources'),
      false,
    ),
  )
    .option('-s, --skip-not-exists', 'do not fail on resources that do not exist')
    .action(async (kind: string | undefined, names: string[], _o, cmd: Command) =>
      run(async () => {
        const m = await import('./resources.js');
        await m.del(kind, names, { ...(cmd.opts() as Opts), ...globals(cmd) });
      }),
    );

  ns(
    withFileFlags(
      program
        .command('get')
        .description('Show resources')
        .argument('[kind]', 'resource kind (kind, plural or short name; any case)')
        .argument('[names...]', 'names of the resources (default: all)'),
      false,
    ),
  )
    .addOption(new Option('-o, --output <format>', 'output format').choices(OUTPUTS).default('ps'))
    .option('-A, --all-namespaces', 'list namespaced resources of every namespace')
    .option('-a', 'same as -A')
    .option('-l, --selector <selector>', 'only resources whose labels match this Calico selector')
    .option(
      '--export',
      'leave out cluster-specific metadata (resourceVersion, uid, creationTimestamp)',
    )
    .action(async (kind: string | undefined, names: string[], _o, cmd: Command) =>
      run(async () => {
        const o = cmd.opts() as Opts;
        if (o.a) o.allNamespaces = true;
        const m = await import('./resources.js');
        await m.get(kind, names, { ...o, ...globals(cmd) } as never);
      }),
    );

  ns(
    program
      .command('patch')
      .description('Change one resource with a merge patch or a JSON patch')
      .argument('<kind>', 'resource kind')
      .argument('<name>', 'resource name')
      .requiredOption('-p, --patch <patch>', 'the patch, as JSON')
      .addOption(
        new Option('-t, --type <type>', 'merge (RFC 7386) or json (RFC 6902); strategic = merge')
          .choices(['merge', 'json', 'strategic'])
          .default('strategic'),
      ),
  ).action(async (kind: string, name: string, _o, cmd: Command) =>
    run(async () => {
      const m = await import('./resources.js');
      await m.patch(kind, name, { ...(cmd.opts() as Opts), ...globals(cmd) } as never);
    }),
  );

  ns(
    program
      .command('label')
      .description('Set or remove one label of a resource (safe against concurrent writers)')
      .argument('<kind>', 'resource kind')
      .argument('<name>', 'resource name')
      .argument('<label>', 'key=value to set, or key with --remove')
      .option('--overwrite', 'replace the value of a label that is already set')
      .option('--remove', 'remove the label instead of setting it'),
  ).action(async (kind: string, name: string, lbl: string, _o, cmd: Command) =>
    run(async () => {
      const m = await import('./resources.js');
      await m.label(kind, name, lbl, { ...(cmd.opts() as Opts), ...globals(cmd) });
    }),
  );

  withFileFlags(
    program.command('validate').description('Check resource files offline; writes nothing'),
    true,
  ).action(async (_o, cmd: Command) =>
    run(async () => {
      const m = await import('./validate.js');
      m.validate(cmd.opts() as Opts);
    }),
  );

  program
    .command('version')
    .description('Print the calicoctl version')
    .option('--client', 'only the client version (the only one calicoctl prints)')
    .action(() =>
      run(() => {
        writeStdout(versionText());
      }),
    );

  program
    .command('completion')
    .description('Print a shell completion script')
    .argument('<shell>', 'bash or zsh')
    .action(async (shell: string) =>
      run(async () => {
        const m = await import('./completion.js');
        process.stdout.write(m.completionScript(program, shell));
      }),
    );

  const policy = program.command('policy').description('Ask what policy does with traffic');
  policy
    .command('trace')
    .description('Explain the verdict for one new flow between two endpoints or addresses')
    .requiredOption('--from <endpoint>', 'source: <namespace>/<workload>, hep/<name> or an IP')
    .requiredOption('--to <endpoint>', 'destination: <namespace>/<workload>, hep/<name> or an IP')
    .option('--protocol <protocol>', 'TCP, UDP, ICMP, ... or a number', 'TCP')
    .option('--port <port>', 'destination port')
    .option('--src-port <port>', 'source port')
    .addOption(
      new Option('-o, --output <format>', 'output format')
        .choices(['text', 'json'])
        .default('text'),
    )
    .action(async (_o, cmd: Command) =>
      run(async () => {
        const m = await import('./policy.js');
        await m.trace({ ...(cmd.opts() as Opts), ...globals(cmd) } as never);
      }),
    );
  policy
    .command('matrix')
    .description('Reachability between all workload endpoints for one protocol and port')
    .option('--protocol <protocol>', 'TCP, UDP, ICMP, ... or a number', 'TCP')
    .option('--port <port>', 'destination port')
    .option('-n, --namespace <ns>', 'only workload endpoints of this namespace')
    .option('-A, --all-namespaces', 'workload endpoints of every namespace (the default)')
    .addOption(
      new Option('-o, --output <format>', 'output format').choices(['ps', 'json']).default('ps'),
    )
    .action(async (_o, cmd: Command) =>
      run(async () => {
        const m = await import('./policy.js');
        await m.matrix({ ...(cmd.opts() as Opts), ...globals(cmd) } as never);
      }),
    );

  const ipam = program.command('ipam').description('IP address management');
  ipam
    .command('show')
    .description('Show pool and block utilisation, or what IPAM knows about one address')
    .option(
      '--ip <addr>',
      'show one address: whether it is in use, by which handle, with which attributes',
    )
    .option('--show-blocks', 'also show every block with its utilisation')
    .option('--show-borrowed', 'show addresses borrowed from blocks other hosts own')
    .option('--show-configuration', 'show the IPAM configuration')
    .action(async (_o, cmd: Command) =>
      run(async () => {
        const m = await import('./ipam.js');
        await m.show({ ...(cmd.opts() as Opts), ...globals(cmd) });
      }),
    );
  ipam
    .command('check')
    .description('Check IPAM for leaks and inconsistencies (read-only)')
    .option(
      '-o, --output <format|file>',
      'json prints the report as JSON; any other value writes it to that file',
    )
    .action(async (_o, cmd: Command) =>
      run(async () => {
        const m = await import('./ipam.js');
        await m.check({ ...(cmd.opts() as Opts), ...globals(cmd) });
      }),
    );
  ipam
    .command('release')
    .description('Release allocated addresses')
    .requiredOption('--ip <addr>', 'address to release; repeatable', collect)
    .action(async (_o, cmd: Command) =>
      run(async () => {
        const m = await import('./ipam.js');
        await m.release({ ...(cmd.opts() as Opts), ...globals(cmd) } as never);
      }),
    );
  ipam
    .command('configure')
    .description('Change the IPAM configuration')
    .addOption(
      new Option('--strictaffinity <bool>', "never borrow from other hosts' blocks").choices([
        'true',
        'false',
      ]),
    )
    .option('--max-blocks-per-host <n>', 'most blocks one host may claim (0: no limit)')
    .action(async (_o, cmd: Command) =>
      run(async () => {
        const m = await import('./ipam.js');
        await m.configure({ ...(cmd.opts() as Opts), ...globals(cmd) });
      }),
    );

  const node = program.command('node').description('Calico node (this host) operations');
  node
    .command('status')
    .description("Show this host's BGP peers (IPv4 and IPv6) as its calico-node sees them")
    .option(
      '--status-file <file>',
      'status file the BGP speaker writes (default $CALICO_BGP_STATUS_FILE or /var/run/calico/bgp-status.json)',
    )
    .action(async (_o, cmd: Command) =>
      run(async () => {
        const m = await import('./node.js');
        m.status(cmd.opts() as Opts);
      }),
    );

  return program;
}
