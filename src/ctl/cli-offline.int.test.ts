// calicoctl end to end without a datastore: version, validate, completion, help and usage errors.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fails, file, launcherCopy, MANIFESTS, ok, runCtl, tmp } from './testkit.js';

describe('calicoctl without a datastore', () => {
  const ctl = (args: string[], input?: string) =>
    runCtl({ CALICO_DATA_DIR: join(tmp, 'unused') }, args, input);

  test('version and validate', async () => {
    assert.match(
      ok(await ctl(['version']), 'version').stdout,
      /^Client Version:\s+v\d+\.\d+\.\d+$/m,
    );
    // bin/calicoctl is what users run: it execs the bundle in dist/.
    const viaBin = await runCtl(
      { CALICO_DATA_DIR: join(tmp, 'unused') },
      ['version'],
      undefined,
      true,
    );
    assert.match(ok(viaBin, 'bin/calicoctl version').stdout, /^Client Version:/m);
    // bin/calicoctl spares the offline commands Node's eager read of NODE_EXTRA_CA_CERTS
    // (a missing file makes Node warn, so the warning shows who read it) and keeps it for
    // commands that may open a connection
    const noCerts = { CALICO_DATA_DIR: join(tmp, 'unused'), NODE_EXTRA_CA_CERTS: '/nonexistent' };
    for (const args of [['version'], ['validate', '-f', file(MANIFESTS)], ['--help']]) {
      const r = ok(await runCtl(noCerts, args, undefined, true), `bin/calicoctl ${args[0]}`);
      assert.equal(r.stderr, '', `${args[0]} does not load the extra certificates`);
    }
    const get = ok(await runCtl(noCerts, ['get', 'ippool'], undefined, true), 'get');
    assert.match(get.stderr, /Ignoring extra certs from `\/nonexistent`/);
    const good = ok(await ctl(['validate', '-f', file(MANIFESTS)]), 'validate');
    assert.equal(good.stdout, 'Successfully validated 5 resource(s)\n');
    ok(await ctl(['validate', '-f', '-'], MANIFESTS), 'stdin');
    fails(await ctl(['validate', '-f', file('')]), 'empty', /contains no resources/);
    ok(await ctl(['validate', '-f', file(''), '--skip-empty']), 'skip-empty');
    fails(
      await ctl(['validate', '-f', join(tmp, 'missing.yaml')]),
      'missing file',
      /Cannot read .*ENOENT/,
    );
  });

  test('-f DIR reads manifests in the directory, -R also in subdirectories', async () => {
    const dir = mkdtempSync(join(tmp, 'dir-'));
    writeFileSync(join(dir, 'a.yaml'), MANIFESTS.split('---')[0]!);
    writeFileSync(join(dir, 'ignored.txt'), 'not a manifest');
    mkdtempSync(join(dir, 'empty-'));
    const nested = mkdtempSync(join(dir, 'nested-'));
    writeFileSync(
      join(nested, 'b.json'),
      JSON.stringify({
        apiVersion: 'projectcalico.org/v3',
        kind: 'Tier',
        metadata: { name: 't1' },
        spec: { order: 1 },
      }),
    );
    assert.equal(
      ok(await ctl(['validate', '-f', dir]), 'dir').stdout,
      'Successfully validated 1 resource(s)\n',
    );
    assert.equal(
      ok(await ctl(['validate', '-f', dir, '-R']), 'dir -R').stdout,
      'Successfully validated 2 resource(s)\n',
    );
  });

  test('completion scripts are valid shell', async () => {
    const bash = ok(await ctl(['completion', 'bash']), 'bash').stdout;
    assert.match(bash, /complete -o default -F _calicoctl calicoctl/);
    assert.match(
      bash,
      /"ipam" \) words="show check release configure|"ipam"\) words="show check release configure/,
    );
    const check = spawnSync('bash', ['-n'], { input: bash, encoding: 'utf8' });
    assert.equal(check.status, 0, check.stderr);
    const zsh = ok(await ctl(['completion', 'zsh']), 'zsh').stdout;
    assert.match(zsh, /^#compdef calicoctl/);
    fails(await ctl(['completion', 'fish']), 'fish', /Unsupported shell/);
  });

  test('--help for every command, usage errors exit 1', async () => {
    const commands = [
      [],
      ['apply'],
      ['create'],
      ['replace'],
      ['delete'],
      ['get'],
      ['patch'],
      ['label'],
      ['validate'],
      ['version'],
      ['completion'],
      ['policy'],
      ['policy', 'trace'],
      ['policy', 'matrix'],
      ['ipam'],
      ['ipam', 'show'],
      ['ipam', 'check'],
      ['ipam', 'release'],
      ['ipam', 'configure'],
      ['node'],
      ['node', 'status'],
    ];
    for (const c of commands) {
      const r = ok(await ctl([...c, '--help']), `${c.join(' ')} --help`);
      assert.match(
        r.stdout,
        new RegExp(`^Usage: calicoctl${c.map((w) => ` ${w}`).join('')}`),
        c.join(' '),
      );
    }
    fails(await ctl(['frobnicate']), 'unknown command', /unknown command/);
    fails(
      await ctl(['get', 'ippool', '-o', 'xml']),
      'bad output',
      /Allowed choices are ps, wide, yaml, json, name/,
    );
    fails(await ctl(['get', 'frobs']), 'unknown kind', /"frobs" is not supported/);
    fails(await ctl(['apply']), 'no -f', /required option '-f, --filename <file>'/);
    fails(
      await ctl(['node', 'status', '--status-file', '/nonexistent/bgp-status.json']),
      'no calico-node here',
      /^Calico process is not running\./,
    );
  });

  test('version and validate run without the command tree, with the same results', async () => {
    // `--allow-version-mismatch` (accepted and ignored) sends a command line to the tree
    const viaTree = (args: string[], input?: string) =>
      ctl(['--allow-version-mismatch', ...args], input);
    const dir = mkdtempSync(join(tmp, 'direct-'));
    writeFileSync(join(dir, 'a.yaml'), MANIFESTS);
    const cases: [string[], string?][] = [
      [['version']],
      [['version', '--client']],
      [['validate', '-f', file(MANIFESTS)]],
      [['validate', '--filename', '-'], MANIFESTS],
      [['validate', `--filename=${dir}`, '-R']],
      [['validate', '-f', file('kind: Frob\n')]],
      [['validate', '-f', file(MANIFESTS.replace('order:', 'order: x #'))]],
      [['validate', '-f', file(''), '--skip-empty']],
      [['validate', '-f', file('')]],
      [['validate', '-f', join(tmp, 'missing.yaml')]],
    ];
    for (const [args, input] of cases) {
      const direct = await ctl(args, input);
      const tree = await viaTree(args, input);
      assert.deepEqual(direct, tree, JSON.stringify(args));
    }
  });

  test('the launcher runs from a code cache it keeps matched to its bundle', async () => {
    const bundle = launcherCopy().replace(/\.cjs$/, '.validate.cjs');
    const cache = `${bundle}.v8cache`;
    const st = statSync(bundle);
    const header = `calico-ts code cache 1 ${st.ino} ${st.size} ${st.mtimeMs}\n`;
    const validate = ['validate', '-f', file(MANIFESTS)];
    const expected = 'Successfully validated 5 resource(s)\n';
    rmSync(cache, { force: true });
    assert.equal(ok(await ctl(validate), 'no cache').stdout, expected);
    assert.ok(existsSync(cache), 'the first run writes the cache');
    assert.equal(readFileSync(cache, 'latin1').slice(0, header.length), header);
    const written = statSync(cache).mtimeMs;
    assert.equal(ok(await ctl(validate), 'cached').stdout, expected);
    assert.equal(statSync(cache).mtimeMs, written, 'a current cache is used, not rewritten');
    // V8 checks only the source length: a cache made from another bundle must be ignored
    // (its payload here is a cache V8 would accept: only the first line says it is stale)
    const payload = readFileSync(cache).subarray(header.length);
    writeFileSync(
      cache,
      Buffer.concat([Buffer.from(`calico-ts code cache 1 1 ${st.size} 0\n`), payload]),
    );
    assert.equal(ok(await ctl(validate), 'stale').stdout, expected);
    assert.equal(readFileSync(cache, 'latin1').slice(0, header.length), header);
    // a cache V8 rejects (here: not a cache at all) is replaced too
    writeFileSync(cache, `${header}${'garbage'.repeat(1000)}`);
    assert.equal(ok(await ctl(validate), 'rejected').stdout, expected);
    assert.ok(!readFileSync(cache, 'latin1').includes('garbage'), 'rejected cache rewritten');
    // `version` loads no bundle; the command tree's bundle has a cache of its own
    const tree = launcherCopy().replace(/\.cjs$/, '.bundle.cjs.v8cache');
    rmSync(tree, { force: true });
    rmSync(cache);
    assert.match(ok(await ctl(['version']), 'version').stdout, /^Client Version:/m);
    assert.ok(!existsSync(tree) && !existsSync(cache), 'version runs no bundle');
    ok(await ctl(['get', 'kinds-do-not-matter', '--help']), 'help');
    assert.ok(existsSync(tree) && !existsSync(cache), 'the command tree has its own cache');
  });

  test('an unreachable etcd is one clear line and exit 1', async () => {
    const r = await runCtl({ DATASTORE_TYPE: 'etcdv3', ETCD_ENDPOINTS: 'http://127.0.0.1:1' }, [
      'get',
      'ippool',
    ]);
    fails(r, 'unreachable');
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  });
});
