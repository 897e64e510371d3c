// Test support for the calicoctl end-to-end tests: the bundle is built by the project's
// build script, then each test file runs its own copy of it, so a rebuild by another
// test file (or another engineer) never swaps the file under a running test.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parse as parseYaml } from 'yaml';
import type { Backend } from '../datastore/index.js';
import { IpamClient } from '../ipam/index.js';
import { spawnTracked } from '../testing/processes.js';

const root = new URL('../..', import.meta.url).pathname;
/** the launcher users run; it execs dist/calicoctl.cjs */
export const BIN = join(root, 'bin/calicoctl');

const LOCK = join(root, 'dist/.calicoctl-test-build.lock');
/** the bundles beside dist/calicoctl.cjs, named after it (see launcher.ts) */
const BUNDLES = ['.bundle.cjs', '.validate.cjs'];
/** this file's copy of calicoctl (launcher + bundles); in dist/ so node_modules resolve */
let bundle = '';

/** Builds under a lock shared by the calicoctl test files, then takes a private copy. */
async function buildOnce(): Promise<void> {
  mkdirSync(join(root, 'dist'), { recursive: true });
  for (let waited = 0; ; waited += 200) {
    try {
      mkdirSync(LOCK);
      break;
    } catch {
      // A lock older than two minutes belongs to a test run that died.
      if (waited > 120_000) rmSync(LOCK, { recursive: true, force: true });
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  try {
    const r = spawnSync(process.execPath, [join(root, 'scripts/build.mjs')], {
      cwd: root,
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, `build failed: ${r.stderr}`);
    bundle = join(root, `dist/.calicoctl-test-${process.pid}.cjs`);
    for (const suffix of BUNDLES)
      copyFileSync(join(root, `dist/calicoctl${suffix}`), bundle.replace(/\.cjs$/, suffix));
    copyFileSync(join(root, 'dist/calicoctl.cjs'), bundle);
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}

before(buildOnce);
after(() => {
  if (bundle === '') return;
  const copies = BUNDLES.map((suffix) => bundle.replace(/\.cjs$/, suffix));
  for (const f of [bundle, ...copies, ...copies.map((c) => `${c}.v8cache`)])
    rmSync(f, { force: true });
});

/** This file's copy of dist/calicoctl.cjs (its bundles beside it, named after it). */
export function launcherCopy(): string {
  return bundle;
}

export interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Environment without any datastore selection inherited from the test runner's shell. */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of ['DATASTORE_TYPE', 'ETCD_ENDPOINTS', 'CALICO_DATA_DIR', 'ETCD_CA_CERT_FILE']) {
    delete env[k];
  }
  return { ...env, NO_COLOR: '1', ...extra };
}

/** Runs this file's copy of the bundle, or the launcher with `viaLauncher`. */
export function runCtl(
  env: Record<string, string>,
  args: string[],
  input?: string,
  viaLauncher = false,
): Promise<Result> {
  const [cmd, argv] = viaLauncher ? [BIN, args] : [process.execPath, [bundle, ...args]];
  const child = spawnTracked(cmd, argv, { env: cleanEnv(env), stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (c: Buffer) => {
    stdout += c.toString();
  });
  child.stderr?.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  child.stdin?.end(input ?? '');
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

export const tmp = mkdtempSync(join(tmpdir(), 'ctl-int-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

let fileCount = 0;
export function file(text: string, ext = 'yaml'): string {
  const p = join(tmp, `f${fileCount++}.${ext}`);
  writeFileSync(p, text);
  return p;
}

export function ok(r: Result, what: string): Result {
  assert.equal(r.code, 0, `${what}: exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r;
}

export function fails(r: Result, what: string, stderr?: RegExp): Result {
  assert.equal(r.code, 1, `${what}: expected exit 1, got ${r.code}\nstdout: ${r.stdout}`);
  if (stderr !== undefined) assert.match(r.stderr, stderr, what);
  return r;
}

export const MANIFESTS = `apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
  name: pool-a
  labels: {env: prod}
spec:
  cidr: 10.60.0.0/16
---
apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
  name: pool-b
  labels: {env: dev}
spec:
  cidr: 10.61.0.0/16
  natOutgoing: yes
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata:
  name: deny-db-from-web
spec:
  order: 10
  selector: app == 'db'
  ingress:
    - action: Deny
      source: {selector: app == 'web'}
---
apiVersion: v1
kind: Namespace
metadata:
  name: shop
  labels: {team: a}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db, namespace: shop}
spec:
  podSelector: {matchLabels: {app: db}}
  policyTypes: [Ingress]
  ingress:
    - from: [{podSelector: {}}]
      ports: [{port: 5432}]
`;

export function wep(ns: string, pod: string, ip: string, labels: Record<string, string>): string {
  return `apiVersion: projectcalico.org/v3
kind: WorkloadEndpoint
metadata:
  name: node1-k8s-${pod}-eth0
  namespace: ${ns}
  labels: ${JSON.stringify(labels)}
spec:
  node: node1
  orchestrator: k8s
  pod: ${pod}
  workload: ${pod}
  endpoint: eth0
  interfaceName: cali${pod.padEnd(8, '0').slice(0, 8)}
  ipNetworks: [${ip}/32]
  profiles: [kns.${ns}]
`;
}

export interface StoreUnderTest {
  env: Record<string, string>;
  open(): Promise<Backend>;
  stop(): Promise<void>;
}

export type Part = 1 | 2 | 3 | 4;

export const PART_TITLES: Record<Part, string> = {
  1: 'apply, get, selectors, round trip',
  2: 'invalid input, create, replace, delete, patch',
  3: 'label, concurrent label, -c',
  4: 'policy trace and matrix, ipam',
};

/**
 * The datastore-backed cases, in parts so that each test file stays well inside the
 * runner's per-file timeout on a heavily loaded machine. Parts after the first start by
 * applying the manifests part 1 applies.
 */
export function suite(name: string, part: Part, setup: () => Promise<StoreUnderTest>) {
  describe(`calicoctl on ${name}, part ${part}: ${PART_TITLES[part]}`, {
    concurrency: false,
  }, () => {
    let s: StoreUnderTest;
    const ctl = (args: string[], input?: string) => runCtl(s.env, args, input);
    const inPart = (p: Part, title: string, fn: () => Promise<void>) => {
      if (p === part) test(title, fn);
    };
    before(async () => {
      s = await setup();
      if (part !== 1) ok(await ctl(['apply', '-f', file(MANIFESTS)]), 'seed');
    });
    after(async () => {
      await s?.stop();
    });

    inPart(
      1,
      'apply a multi-document file with Calico and Kubernetes kinds; get in every format',
      async () => {
        const r = ok(await ctl(['apply', '-f', file(MANIFESTS)]), 'apply');
        assert.equal(r.stdout, 'Successfully applied 5 resource(s)\n');

        const ps = ok(await ctl(['get', 'ippools']), 'get ps').stdout;
        assert.equal(
          ps,
          'NAME     CIDR           SELECTOR\npool-a   10.60.0.0/16   all()\npool-b   10.61.0.0/16   all()\n',
        );
        const wide = ok(await ctl(['get', 'IPPool', '-o', 'wide']), 'get wide').stdout;
        assert.match(wide.split('\n')[0]!, /^NAME\s+CIDR\s+NAT\s+IPIPMODE\s+VXLANMODE\s+DISABLED/);
        assert.match(wide, /pool-b\s+10\.61\.0\.0\/16\s+true\s+Never\s+Never\s+false/);

        const one = parseYaml(ok(await ctl(['get', 'ipp', 'pool-a', '-o', 'yaml']), 'yaml').stdout);
        assert.equal(one.kind, 'IPPool');
        assert.equal(one.metadata.name, 'pool-a');
        assert.equal(one.spec.blockSize, 26);
        assert.match(one.metadata.resourceVersion, /^\d+$/);

        const list = JSON.parse(ok(await ctl(['get', 'pools', '-o', 'json']), 'json').stdout);
        assert.equal(list.kind, 'IPPoolList');
        assert.deepEqual(
          list.items.map((i: { metadata: { name: string } }) => i.metadata.name),
          ['pool-a', 'pool-b'],
        );
        const two = JSON.parse(
          ok(await ctl(['get', 'ippool', 'pool-a', 'pool-b', '-o', 'json']), 'two').stdout,
        );
        assert.equal(two.kind, 'IPPoolList');
        assert.equal(two.items.length, 2);

        assert.equal(
          ok(await ctl(['get', 'ippool', '-o', 'name']), 'name').stdout,
          'ippool/pool-a\nippool/pool-b\n',
        );
        assert.equal(
          ok(await ctl(['get', 'gnp', '-o', 'wide']), 'gnp').stdout,
          "NAME               TIER      ORDER   SELECTOR\ndeny-db-from-web   default   10      app == 'db'\n",
        );
        // Kubernetes documents are stored converted.
        assert.equal(
          ok(await ctl(['get', 'profile', 'kns.shop', '-o', 'json']), 'kns').stdout.includes(
            '"pcns.team": "a"',
          ),
          true,
        );
        const knp = JSON.parse(
          ok(
            await ctl(['get', 'networkpolicy', 'knp.default.db', '-n', 'shop', '-o', 'json']),
            'knp',
          ).stdout,
        );
        assert.equal(knp.spec.order, 1000);
        assert.equal(knp.spec.selector, "projectcalico.org/orchestrator == 'k8s' && app == 'db'");
        assert.equal(ok(await ctl(['get', 'np']), 'np default ns').stdout, 'NAMESPACE   NAME\n');
        assert.equal(
          ok(await ctl(['get', 'np', '-A']), 'np -A').stdout,
          'NAMESPACE   NAME\nshop        knp.default.db\n',
        );
      },
    );

    inPart(1, 'get -l filters by a Calico selector over labels', async () => {
      assert.equal(
        ok(await ctl(['get', 'ippool', '-l', "env == 'dev'", '-o', 'name']), 'sel').stdout,
        'ippool/pool-b\n',
      );
      assert.equal(
        ok(await ctl(['get', 'ippool', '-l', 'has(env)', '-o', 'name']), 'has').stdout,
        'ippool/pool-a\nippool/pool-b\n',
      );
      assert.equal(
        ok(await ctl(['get', 'ippool', '-l', "env == 'none'"]), 'none').stdout,
        'NAME   CIDR   SELECTOR\n',
      );
      fails(await ctl(['get', 'ippool', '-l', 'env ==']), 'bad selector', /Invalid --selector/);
    });

    inPart(1, 'get -o yaml output applies back unchanged (round trip)', async () => {
      const before = ok(await ctl(['get', 'ippool', '-o', 'yaml']), 'get').stdout;
      const r = ok(await ctl(['apply', '-f', '-'], before), 'apply stdin');
      assert.equal(r.stdout, "Successfully applied 2 'IPPool' resource(s)\n");
      const afterApply = parseYaml(ok(await ctl(['get', 'ippool', '-o', 'yaml']), 'get2').stdout);
      const beforeDoc = parseYaml(before);
      for (const d of [afterApply, beforeDoc]) {
        for (const i of d.items) delete i.metadata.resourceVersion;
      }
      assert.deepEqual(afterApply, beforeDoc);
      // A stale copy (its resourceVersion is now old) is a conflict, not a silent overwrite.
      fails(await ctl(['apply', '-f', '-'], before), 'stale apply', /revision/);
    });

    inPart(
      2,
      'a multi-document file with one invalid document writes nothing and names every problem',
      async () => {
        const path = file(`apiVersion: projectcalico.org/v3
kind: IPPool
metadata: {name: fresh-1}
spec: {cidr: 10.70.0.0/16}
---
apiVersion: projectcalico.org/v3
kind: IPPool
metadata: {name: broken}
spec: {cidr: 10.71.0.1/16, ipipMode: always}
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkSet
metadata: {name: fresh-2}
spec: {nets: [10.0.0.0/8]}
`);
        for (const verb of ['apply', 'create', 'replace']) {
          const r = fails(await ctl([verb, '-f', path]), verb);
          assert.match(r.stderr, /^Invalid input: 2 problems, nothing was written$/m);
          assert.match(
            r.stderr,
            new RegExp(`${path}:\\d+: document 1 \\(IPPool "broken"\\): spec\\.cidr: .*\\[cidr\\]`),
          );
          assert.match(r.stderr, /document 1 \(IPPool "broken"\): spec\.ipipMode: .*\[enum\]/);
        }
        fails(
          await ctl(['get', 'ippool', 'fresh-1']),
          'nothing written',
          /IPPool "fresh-1" does not exist/,
        );
        fails(await ctl(['get', 'gns', 'fresh-2']), 'nothing written', /does not exist/);
        const v = fails(await ctl(['validate', '-f', path]), 'validate');
        assert.match(v.stderr, /^Invalid input: 2 problems$/m);
        const syntax = fails(await ctl(['apply', '-f', file('a: [1,\n')]), 'yaml syntax');
        assert.match(syntax.stderr, /f\d+\.yaml:\d+:\d+: document 0: /);
      },
    );

    inPart(
      2,
      'create, --skip-exists, replace and delete keep all-or-nothing on existence',
      async () => {
        const fresh = `apiVersion: projectcalico.org/v3
kind: GlobalNetworkSet
metadata: {name: set-new}
spec: {nets: [192.0.2.0/24]}
`;
        const existing = `apiVersion: projectcalico.org/v3
kind: IPPool
metadata: {name: pool-a}
spec: {cidr: 10.60.0.0/16}
`;
        const both = file(`${fresh}---\n${existing}`);
        fails(
          await ctl(['create', '-f', both]),
          'create',
          /Cannot create IPPool "pool-a": it already exists/,
        );
        fails(await ctl(['get', 'gns', 'set-new']), 'not created', /does not exist/);
        const skip = ok(await ctl(['create', '-f', both, '--skip-exists']), 'skip');
        assert.match(skip.stdout, /Successfully created 1 'GlobalNetworkSet' resource\(s\)/);
        ok(await ctl(['get', 'gns', 'set-new']), 'created');

        const replacementText = `apiVersion: projectcalico.org/v3
kind: GlobalNetworkSet
metadata: {name: set-new}
spec: {nets: [198.51.100.0/24]}
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkSet
metadata: {name: set-missing}
spec: {nets: [203.0.113.0/24]}
`;
        const replacement = file(replacementText);
        fails(
          await ctl(['replace', '-f', replacement]),
          'replace missing',
          /set-missing.*does not exist/,
        );
        assert.match(
          ok(await ctl(['get', 'gns', 'set-new', '-o', 'wide']), 'get').stdout,
          /192\.0\.2\.0\/24/,
        );
        ok(await ctl(['replace', '-f', file(replacementText.split('---')[0]!)]), 'replace');
        assert.match(
          ok(await ctl(['get', 'gns', 'set-new', '-o', 'wide']), 'get').stdout,
          /198\.51\.100\.0\/24/,
        );

        fails(
          await ctl(['delete', 'gns', 'set-new', 'set-missing']),
          'delete',
          /set-missing.*does not exist/,
        );
        ok(await ctl(['get', 'gns', 'set-new']), 'still there');
        const del = ok(
          await ctl(['delete', 'gns', 'set-new', 'set-missing', '--skip-not-exists']),
          'del -s',
        );
        assert.equal(del.stdout, "Successfully deleted 1 'GlobalNetworkSet' resource(s)\n");
        fails(await ctl(['delete', 'GlobalNetworkSets', 'set-new']), 'gone', /does not exist/);

        // Delete by file, Kubernetes kinds included (they name the converted resources).
        const k8s = file(MANIFESTS.split('---').slice(3).join('---'));
        assert.equal(
          ok(await ctl(['delete', '-f', k8s]), 'delete -f').stdout,
          'Successfully deleted 2 resource(s)\n',
        );
        fails(await ctl(['get', 'profile', 'kns.shop']), 'kns gone');
        ok(await ctl(['apply', '-f', k8s]), 're-apply');
      },
    );

    inPart(
      2,
      'patch with a merge patch and a JSON patch; invalid results are refused',
      async () => {
        const m = ok(
          await ctl(['patch', 'ippool', 'pool-a', '-p', '{"spec":{"disabled":true}}']),
          'merge',
        );
        assert.equal(m.stdout, "Successfully patched 1 'IPPool' resource\n");
        assert.equal(
          JSON.parse(ok(await ctl(['get', 'ippool', 'pool-a', '-o', 'json']), 'g').stdout).spec
            .disabled,
          true,
        );
        ok(
          await ctl([
            'patch',
            'ippool',
            'pool-a',
            '--type',
            'json',
            '-p',
            '[{"op":"replace","path":"/spec/disabled","value":false},{"op":"add","path":"/metadata/labels/x","value":"y"}]',
          ]),
          'json',
        );
        const got = JSON.parse(
          ok(await ctl(['get', 'ippool', 'pool-a', '-o', 'json']), 'g').stdout,
        );
        assert.equal(got.spec.disabled, false);
        assert.equal(got.metadata.labels.x, 'y');
        fails(
          await ctl(['patch', 'ippool', 'pool-a', '-p', '{"spec":{"ipipMode":"sometimes"}}']),
          'invalid',
          /spec\.ipipMode.*\[enum\]/,
        );
        fails(await ctl(['patch', 'ippool', 'nope', '-p', '{}']), 'missing', /does not exist/);
        fails(
          await ctl([
            'patch',
            'ippool',
            'pool-a',
            '-t',
            'json',
            '-p',
            '[{"op":"test","path":"/spec/cidr","value":"1.2.3.0/24"}]',
          ]),
          'test op',
          /test failed/,
        );
        fails(
          await ctl(['patch', 'ippool', 'pool-a', '-p', '{"metadata":{"name":"other"}}']),
          'rename',
          /may not change/,
        );
        fails(
          await ctl(['patch', 'ippool', 'pool-a', '-p', 'not json']),
          'bad json',
          /Cannot parse --patch/,
        );
      },
    );

    inPart(3, 'label sets, refuses to overwrite without --overwrite, and removes', async () => {
      assert.equal(
        ok(await ctl(['label', 'ippool', 'pool-b', 'tier=gold']), 'set').stdout,
        'Successfully set label tier on IPPool(pool-b)\n',
      );
      fails(await ctl(['label', 'ippool', 'pool-b', 'tier=silver']), 'no overwrite', /--overwrite/);
      ok(await ctl(['label', 'ippool', 'pool-b', 'tier=silver', '--overwrite']), 'overwrite');
      assert.equal(
        ok(await ctl(['get', 'ippool', '-l', "tier == 'silver'", '-o', 'name']), 'sel').stdout,
        'ippool/pool-b\n',
      );
      ok(await ctl(['label', 'ippool', 'pool-b', 'tier', '--remove']), 'remove');
      fails(
        await ctl(['label', 'ippool', 'pool-b', 'tier', '--remove']),
        'remove again',
        /no such label/,
      );
      fails(await ctl(['label', 'ippool', 'pool-b', 'Bad!=1']), 'bad key', /label-key/);
      fails(await ctl(['label', 'ippool', 'missing', 'a=b']), 'missing', /does not exist/);
    });

    inPart(3, 'label from two processes at once never loses an update', async () => {
      ok(
        await ctl([
          'apply',
          '-f',
          file(
            'apiVersion: projectcalico.org/v3\nkind: Tier\nmetadata: {name: busy}\nspec: {order: 5}\n',
          ),
        ]),
        'tier',
      );
      const N = 6;
      const writer = async (prefix: string) => {
        const failures: string[] = [];
        for (let i = 0; i < N; i++) {
          const r = await ctl(['label', 'tier', 'busy', `${prefix}${i}=v`]);
          if (r.code !== 0) failures.push(`${prefix}${i}: exit ${r.code}: ${r.stderr.trim()}`);
        }
        return failures;
      };
      const [a, b] = await Promise.all([writer('a'), writer('b')]);
      assert.deepEqual([...a, ...b], []);
      const labels = JSON.parse(ok(await ctl(['get', 'tier', 'busy', '-o', 'json']), 'get').stdout)
        .metadata.labels;
      const want: Record<string, string> = {};
      for (let i = 0; i < N; i++) {
        want[`a${i}`] = 'v';
        want[`b${i}`] = 'v';
      }
      assert.deepEqual(labels, want);
    });

    inPart(4, 'policy trace and matrix answer from the stored policy', async () => {
      const weps = [
        wep('shop', 'web', '10.60.1.1', { app: 'web' }),
        wep('shop', 'api', '10.60.1.2', { app: 'api' }),
        wep('shop', 'db', '10.60.1.3', { app: 'db' }),
        wep('other', 'cli', '10.60.1.4', { app: 'cli' }),
      ];
      ok(await ctl(['apply', '-f', file(weps.join('---\n'))]), 'weps');
      ok(
        await ctl([
          'apply',
          '-f',
          file('apiVersion: v1\nkind: Namespace\nmetadata: {name: other}\n'),
        ]),
        'ns',
      );

      const allow = JSON.parse(
        ok(
          await ctl([
            'policy',
            'trace',
            '--from',
            'shop/api',
            '--to',
            'shop/db',
            '--protocol',
            'TCP',
            '--port',
            '5432',
            '-o',
            'json',
          ]),
          'trace',
        ).stdout,
      );
      assert.equal(allow.verdict, 'Allow');
      assert.equal(allow.ingress.verdict, 'Allow');
      assert.equal(allow.ingress.decidedBy.policy, 'knp.default.db');
      assert.equal(allow.egress.verdict, 'Allow');

      const deny = JSON.parse(
        ok(
          await ctl([
            'policy',
            'trace',
            '--from',
            '10.60.1.1',
            '--to',
            'shop/db',
            '--port',
            '5432',
            '-o',
            'json',
          ]),
          'trace deny',
        ).stdout,
      );
      assert.equal(deny.verdict, 'Deny');
      assert.equal(deny.ingress.decidedBy.policy, 'deny-db-from-web');

      const text = ok(
        await ctl(['policy', 'trace', '--from', 'shop/web', '--to', 'shop/db', '--port', '5432']),
        'text',
      ).stdout;
      assert.match(text, /^Verdict: Deny$/m);
      assert.match(text, /GlobalNetworkPolicy deny-db-from-web, rule 0: Deny/);
      fails(
        await ctl(['policy', 'trace', '--from', 'shop/nope', '--to', 'shop/db']),
        'unknown',
        /no WorkloadEndpoint/,
      );

      const m = JSON.parse(
        ok(await ctl(['policy', 'matrix', '--port', '5432', '-n', 'shop', '-o', 'json']), 'matrix')
          .stdout,
      );
      assert.equal(m.protocol, 'TCP');
      assert.equal(m.port, 5432);
      const verdict = (from: string, to: string) =>
        m.results.find((x: { from: string; to: string }) => x.from === from && x.to === to)
          ?.verdict;
      assert.equal(m.results.length, 6);
      assert.equal(verdict('shop/api', 'shop/db'), 'Allow');
      assert.equal(verdict('shop/web', 'shop/db'), 'Deny');
      assert.equal(verdict('shop/db', 'shop/web'), 'Allow');
      const all = JSON.parse(
        ok(await ctl(['policy', 'matrix', '--port', '5432', '-A', '-o', 'json']), 'all').stdout,
      );
      assert.equal(all.results.length, 12);
      // knp.default.db admits pods of its own namespace only.
      assert.equal(
        all.results.find(
          (x: { from: string; to: string }) => x.from === 'other/cli' && x.to === 'shop/db',
        ).verdict,
        'Deny',
      );
      const table = ok(
        await ctl(['policy', 'matrix', '--port', '5432', '-n', 'shop']),
        'table',
      ).stdout;
      assert.match(table, /^FROM \\ TO\s+shop\/api\s+shop\/db\s+shop\/web$/m);
      assert.match(table, /^shop\/web\s+Allow\s+Deny\s+-$/m);
    });

    inPart(4, 'ipam show, check, release and configure', async () => {
      ok(
        await ctl([
          'apply',
          '-f',
          file(
            'apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {name: ipam-pool}\nspec: {cidr: 10.90.0.0/24, blockSize: 28}\n',
          ),
        ]),
        'pool',
      );
      const backend = await s.open();
      try {
        const ipam = new IpamClient({ backend });
        await ipam.autoAssign({
          node: 'node-a',
          handleId: 'h-live',
          num4: 2,
          pools: ['ipam-pool'],
          attributes: { namespace: 'shop', pod: 'x' },
        });
        const leaked = await ipam.autoAssign({
          node: 'node-a',
          handleId: 'h-leak',
          num4: 1,
          pools: ['ipam-pool'],
        });
        const live = await ipam.addressesOf('h-live');
        // node-b takes an address from node-a's block: borrowed.
        const block = (await ipam.ipInfo(live[0]!)).block!;
        const [base, lastOctet] = [
          block.split('.').slice(0, 3).join('.'),
          Number(block.split('.')[3]!.split('/')[0]),
        ];
        const borrowedIp = `${base}.${lastOctet + 14}`;
        await ipam.assignIp({ ip: borrowedIp, node: 'node-b', handleId: 'h-borrow' });
        ok(
          await ctl([
            'apply',
            '-f',
            file(
              wep('shop', 'live', live[0]!, {}).replace(
                /ipNetworks: .*/,
                `ipNetworks: [${live.map((i) => `${i}/32`).join(', ')}]`,
              ),
            ),
          ]),
          'wep',
        );
        const leakIp = leaked.ipv4[0]!.ip;

        const show = ok(await ctl(['ipam', 'show']), 'show').stdout;
        assert.match(show, /\| GROUPING \|/);
        assert.match(
          show,
          /\| IP Pool\s+\| 10\.90\.0\.0\/24\s+\|\s+256 \| 4 \(2%\)\s+\| 252 \(98%\)\s+\|/,
        );
        const blocks = ok(await ctl(['ipam', 'show', '--show-blocks']), 'blocks').stdout;
        assert.match(blocks, /\| Block\s+\| 10\.90\.0\.\d+\/28\s+\|\s+16 \| 4 \(25%\)/);
        const ip = ok(await ctl(['ipam', 'show', '--ip', live[0]!]), 'ip').stdout;
        assert.match(ip, new RegExp(`^IP ${live[0]!.replace(/\./g, '\\.')} is in use$`, 'm'));
        assert.match(ip, /^Handle: h-live$/m);
        assert.match(ip, /^ {2}pod: x$/m);
        assert.match(
          ok(await ctl(['ipam', 'show', '--ip', '10.90.0.250']), 'free').stdout,
          /is not assigned/,
        );
        const borrowed = ok(await ctl(['ipam', 'show', '--show-borrowed']), 'borrowed').stdout;
        assert.match(
          borrowed,
          new RegExp(
            `\\| ${borrowedIp.replace(/\./g, '\\.')}\\s*\\| node-b\\s+\\|.*\\| node-a\\s+\\|`,
          ),
        );

        const report = JSON.parse(ok(await ctl(['ipam', 'check', '-o', 'json']), 'check').stdout);
        assert.equal(report.ok, false);
        assert.deepEqual(report.leakedHandles.map((l: { handleId: string }) => l.handleId).sort(), [
          'h-borrow',
          'h-leak',
        ]);
        assert.match(
          ok(await ctl(['ipam', 'check']), 'check text').stdout,
          /Leaked handles: 2 \(2 addresses\)/,
        );

        assert.equal(
          ok(await ctl(['ipam', 'release', '--ip', leakIp]), 'release').stdout,
          `Successfully released IP address ${leakIp}\n`,
        );
        fails(await ctl(['ipam', 'release', '--ip', leakIp]), 'again', /is not assigned/);
        fails(
          await ctl(['ipam', 'release', '--ip', '10.90.0.999']),
          'bad ip',
          /Invalid IP address/,
        );

        assert.equal(
          ok(
            await ctl([
              'ipam',
              'configure',
              '--strictaffinity',
              'true',
              '--max-blocks-per-host',
              '4',
            ]),
            'configure',
          ).stdout,
          'Successfully set StrictAffinity to: true\nSuccessfully set MaxBlocksPerHost to: 4\n',
        );
        assert.deepEqual(await ipam.getConfig(), {
          strictAffinity: true,
          autoAllocateBlocks: true,
          maxBlocksPerHost: 4,
        });
        assert.match(
          ok(await ctl(['ipam', 'show', '--show-configuration']), 'conf').stdout,
          /\| StrictAffinity\s+\| true\s+\|/,
        );
        fails(await ctl(['ipam', 'configure', '--strictaffinity', 'maybe']), 'bad bool');
        fails(await ctl(['ipam', 'configure']), 'nothing', /Nothing to configure/);
      } finally {
        await backend.close();
      }
    });

    inPart(3, 'the datastore can be chosen with -c (a CalicoAPIConfig file)', async () => {
      const spec =
        s.env.DATASTORE_TYPE === 'etcdv3'
          ? `datastoreType: etcdv3\n  etcdEndpoints: ${s.env.ETCD_ENDPOINTS}`
          : `datastoreType: embedded\n  dataDir: ${s.env.CALICO_DATA_DIR}`;
      const cfg = file(
        `apiVersion: projectcalico.org/v3\nkind: CalicoAPIConfig\nmetadata: {}\nspec:\n  ${spec}\n`,
      );
      const r = await runCtl({}, ['get', 'ippool', 'pool-a', '-o', 'name', '-c', cfg]);
      assert.equal(ok(r, 'with -c').stdout, 'ippool/pool-a\n');
    });
  });
}
