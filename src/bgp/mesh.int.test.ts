// Full iBGP mesh of three of our own speakers, each in its own namespace, peering the way
// Calico's node-to-node mesh does (AS 64512, the lexically greater address initiates).
// One node frozen: its routes go after the hold time. One node killed and restarted
// gracefully: its routes stay for its restart time and are refreshed when it returns.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BgpLab, kernelRoutes, type SpeakerProcess, waitFor } from './test-lab.js';

const AS = 64512;

interface MeshNode {
  ns: string;
  id: string;
  /** this node's address on each link, by peer index */
  addr: Record<number, string>;
}

test('three-node mesh: routes everywhere, hold-time withdrawal, graceful restart', {
  timeout: 300_000,
}, async (t) => {
  const lab = new BgpLab('ctb');
  t.after(() => lab.cleanup());
  const nodes: MeshNode[] = [];
  for (let i = 1; i <= 3; i++)
    nodes.push({ ns: await lab.ns(`n${i}`), id: `10.253.0.${i}`, addr: {} });
  for (const [a, b] of [
    [1, 2],
    [1, 3],
    [2, 3],
  ] as const) {
    const na = nodes[a - 1]!;
    const nb = nodes[b - 1]!;
    na.addr[b] = `10.253.${a}${b}.${a}`;
    nb.addr[a] = `10.253.${a}${b}.${b}`;
    await lab.link(na.ns, `e${b}`, nb.ns, `e${a}`, [na.addr[b], nb.addr[a]]);
  }

  const config = (i: number, extra: Record<string, unknown> = {}) => {
    const me = nodes[i - 1]!;
    return {
      routerId: me.id,
      asNumber: AS,
      gracefulRestart: { restartTime: 60, selectionDeferralTime: 30 },
      peers: [1, 2, 3]
        .filter((j) => j !== i)
        .map((j) => {
          const peerAddr = nodes[j - 1]!.addr[i]!;
          return {
            address: peerAddr,
            asNumber: AS,
            type: 'node-to-node mesh',
            // Calico: passive towards a peer whose IP string is greater than ours.
            passive: peerAddr > me.addr[j]!,
            holdTime: 3,
            connectRetryTime: 1,
          };
        }),
      ...extra,
    };
  };
  const blocks = (i: number) => [`10.240.${i}.0/26`];
  const speakers: SpeakerProcess[] = [];
  for (let i = 1; i <= 3; i++) {
    const sp = await lab.speaker(nodes[i - 1]!.ns, config(i));
    await sp.request('originate', { prefixes: blocks(i) });
    speakers.push(sp);
  }
  const allUp = async (sp: SpeakerProcess) =>
    (await sp.status()).every((s) => s.bgpState === 'Established');
  const hasBlock = async (from: number, at: number) => {
    const r = await kernelRoutes(nodes[at - 1]!.ns, 81);
    return r.get(blocks(from)[0]!)?.[0] === nodes[from - 1]!.addr[at];
  };

  await t.test('every node has every other node block, via the direct link', async () => {
    for (const sp of speakers) await waitFor('mesh up', () => allUp(sp), 60_000);
    for (let at = 1; at <= 3; at++) {
      for (let from = 1; from <= 3; from++) {
        if (from !== at) await waitFor(`block ${from} at ${at}`, () => hasBlock(from, at));
      }
    }
    const st = await speakers[0]!.status();
    assert.deepEqual(st.map((s) => s.name).sort(), ['Mesh_10_253_12_2', 'Mesh_10_253_13_3']);
    assert.ok(st.every((s) => s.type === 'node-to-node mesh' && s.state === 'up'));
  });

  await t.test('the same /32 from two nodes gives an ECMP kernel route on the third', async () => {
    await speakers[0]!.request('originate', { prefixes: ['10.240.100.1/32'] });
    await speakers[1]!.request('originate', { prefixes: ['10.240.100.1/32'] });
    const want = [nodes[0]!.addr[3]!, nodes[1]!.addr[3]!].sort();
    await waitFor('ECMP route at n3', async () => {
      const r = await kernelRoutes(nodes[2]!.ns, 81);
      return JSON.stringify(r.get('10.240.100.1/32')) === JSON.stringify(want);
    });
    await speakers[0]!.request('withdraw', { prefixes: ['10.240.100.1/32'] });
    await waitFor('single path again', async () => {
      const r = await kernelRoutes(nodes[2]!.ns, 81);
      return JSON.stringify(r.get('10.240.100.1/32')) === JSON.stringify([nodes[1]!.addr[3]]);
    });
    await speakers[1]!.request('withdraw', { prefixes: ['10.240.100.1/32'] });
    await waitFor(
      'gone',
      async () => !(await kernelRoutes(nodes[2]!.ns, 81)).has('10.240.100.1/32'),
    );
  });

  await t.test(
    'a frozen node loses its routes after the hold time, regains them when it thaws',
    async () => {
      const n3 = speakers[2]!;
      process.kill(n3.pid, 'SIGSTOP');
      try {
        await waitFor(
          'n1 and n2 withdraw block 3',
          async () => !(await hasBlock(3, 1)) && !(await hasBlock(3, 2)),
        );
        const st = await speakers[0]!.status();
        assert.match(st.find((s) => s.address === nodes[2]!.addr[1])!.info, /Hold Timer Expired/);
      } finally {
        process.kill(n3.pid, 'SIGCONT');
      }
      await waitFor(
        'block 3 back',
        async () => (await hasBlock(3, 1)) && (await hasBlock(3, 2)),
        60_000,
      );
    },
  );

  await t.test(
    'graceful restart: routes kept while the node restarts, refreshed after',
    async () => {
      const n3ns = nodes[2]!.ns;
      await speakers[2]!.request('originate', { prefixes: ['10.240.33.0/26'] });
      await waitFor('extra block at n1', async () =>
        (await kernelRoutes(nodes[0]!.ns, 81)).has('10.240.33.0/26'),
      );
      // A leftover route of ours in n3 that the next incarnation will not learn again.
      await lab.lab.ipBatch(n3ns, [
        `route add 10.240.99.0/26 via ${nodes[0]!.addr[3]} proto 81 metric 32`,
      ]);

      process.kill(speakers[2]!.pid, 'SIGKILL');
      await speakers[2]!.exited;
      await waitFor('n1 sees n3 down', async () => !(await allUp(speakers[0]!)));
      // Forwarding continues everywhere: n1/n2 keep n3's blocks (stale), n3's kernel keeps its routes.
      assert.ok(await hasBlock(3, 1));
      assert.ok(await hasBlock(3, 2));
      assert.ok((await kernelRoutes(nodes[0]!.ns, 81)).has('10.240.33.0/26'));
      assert.ok(
        (await speakers[0]!.routes())
          .filter((r) => r.from === nodes[2]!.addr[1])
          .every((r) => r.stale),
      );
      const n3kernel = await kernelRoutes(n3ns, 81);
      assert.ok(n3kernel.has(blocks(1)[0]!) && n3kernel.has(blocks(2)[0]!));

      // The new incarnation restarts gracefully, without 10.240.33.0/26 this time.
      const again = await lab.speaker(
        n3ns,
        config(3, {
          gracefulRestart: { restarting: true, restartTime: 10, selectionDeferralTime: 30 },
        }),
      );
      speakers[2] = again;
      await again.request('originate', { prefixes: blocks(3) });
      await waitFor('n3 back up', () => allUp(again), 60_000);
      await waitFor(
        'n3 finished its restart',
        () => again.events.some((e) => e.event === 'resynced'),
        60_000,
      );
      await waitFor('stale extra block flushed at n1 and n2', async () => {
        const r1 = await kernelRoutes(nodes[0]!.ns, 81);
        const r2 = await kernelRoutes(nodes[1]!.ns, 81);
        return !r1.has('10.240.33.0/26') && !r2.has('10.240.33.0/26');
      });
      assert.ok(await hasBlock(3, 1));
      assert.ok((await speakers[0]!.routes()).every((r) => !r.stale));
      await waitFor('n3 removed its leftover, kept the relearned', async () => {
        const r = await kernelRoutes(n3ns, 81);
        return !r.has('10.240.99.0/26') && r.has(blocks(1)[0]!) && r.has(blocks(2)[0]!);
      });
    },
  );

  await t.test('a node that does not come back within its restart time is withdrawn', async () => {
    // This incarnation advertised a 10 s restart time.
    process.kill(speakers[2]!.pid, 'SIGKILL');
    await speakers[2]!.exited;
    await waitFor('n1 sees n3 down', async () => !(await allUp(speakers[0]!)));
    assert.ok(await hasBlock(3, 1), 'kept at first');
    await waitFor(
      'dropped after the restart time',
      async () => !(await hasBlock(3, 1)) && !(await hasBlock(3, 2)),
    );
  });
});
