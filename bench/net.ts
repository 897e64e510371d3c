// `npm run bench -- net [--json]`: IP parsing and matching costs of src/net, with
// ipaddr.js (parse) and a linear scan (matching) measured in the same run as baselines.
import ipaddr from 'ipaddr.js';
import {
  type Cidr,
  cidrContainsIp,
  compileCidrMatcher,
  formatIp,
  maskOf,
  PrefixSet,
  parseCidr,
  parseIp,
  parseIpv4,
} from '../src/net/index.js';
import type { Benchmark, Figure } from './lib/report.js';
import { opsPerSecond } from './lib/report.js';

// deterministic pseudo-random numbers so runs are comparable
let seed = 0x9e3779b9;
function rnd(): number {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return seed >>> 0;
}

const N = 10_000;
const v4Texts = Array.from({ length: N }, () => formatIp({ family: 4, value: BigInt(rnd()) }));
const v6Texts = Array.from({ length: N }, () =>
  formatIp({ family: 6, value: (0xfd00n << 112n) | (BigInt(rnd()) << 32n) | BigInt(rnd()) }),
);
const cidrTexts = Array.from({ length: N }, (_, i) => `${v4Texts[i]}/${(rnd() % 33) | 0}`);
const v4Numbers = Uint32Array.from({ length: N }, () => rnd());

function randomCidrs(count: number): Cidr[] {
  return Array.from({ length: count }, () => {
    const len = 8 + (rnd() % 25);
    return { family: 4, address: BigInt(rnd()) & maskOf(4, len), prefixLength: len };
  });
}

let sink = 0;

const bench: Benchmark = async () => {
  const figures: Figure[] = [];
  const perSec = (fn: () => void) => opsPerSecond(fn, N);

  figures.push({
    name: 'parse_v4_per_s',
    label: 'parseIp, IPv4 text',
    value: perSec(() => {
      for (const t of v4Texts) sink ^= Number(parseIp(t).value & 1n);
    }),
    baseline: perSec(() => {
      for (const t of v4Texts) sink ^= ipaddr.parse(t).toByteArray()[3]!;
    }),
    baselineLabel: 'ipaddr.js parse',
    unit: 'ops/s',
    better: 'higher',
  });
  figures.push({
    name: 'parse_v4_number_per_s',
    label: 'parseIpv4 to uint32',
    value: perSec(() => {
      for (const t of v4Texts) sink ^= parseIpv4(t);
    }),
    unit: 'ops/s',
    better: 'higher',
  });
  figures.push({
    name: 'parse_v6_per_s',
    label: 'parseIp, IPv6 text',
    value: perSec(() => {
      for (const t of v6Texts) sink ^= Number(parseIp(t).value & 1n);
    }),
    baseline: perSec(() => {
      for (const t of v6Texts) sink ^= ipaddr.parse(t).toByteArray()[15]!;
    }),
    baselineLabel: 'ipaddr.js parse',
    unit: 'ops/s',
    better: 'higher',
  });
  figures.push({
    name: 'parse_cidr_v4_per_s',
    label: 'parseCidr (strict:false), IPv4',
    value: perSec(() => {
      for (const t of cidrTexts) sink ^= parseCidr(t, { strict: false }).prefixLength;
    }),
    baseline: perSec(() => {
      for (const t of cidrTexts) sink ^= ipaddr.parseCIDR(t)[1];
    }),
    baselineLabel: 'ipaddr.js parseCIDR',
    unit: 'ops/s',
    better: 'higher',
  });
  figures.push({
    name: 'format_v6_per_s',
    label: 'formatIp, IPv6',
    value: (() => {
      const ips = v6Texts.map(parseIp);
      return perSec(() => {
        for (const ip of ips) sink ^= formatIp(ip).length;
      });
    })(),
    unit: 'ops/s',
    better: 'higher',
  });

  for (const size of [10, 1000]) {
    const cidrs = randomCidrs(size);
    const matcher = compileCidrMatcher(cidrs);
    const ips = Array.from(v4Numbers, (n) => ({ family: 4 as const, value: BigInt(n) }));
    figures.push({
      name: `match_v4_${size}_per_s`,
      label: `CidrMatcher.matchesV4, ${size} CIDRs`,
      value: perSec(() => {
        for (const n of v4Numbers) if (matcher.matchesV4(n)) sink++;
      }),
      baseline: opsPerSecond(() => {
        for (let i = 0; i < 1000; i++) {
          const ip = ips[i]!;
          for (const c of cidrs) {
            if (cidrContainsIp(c, ip)) {
              sink++;
              break;
            }
          }
        }
      }, 1000),
      baselineLabel: 'linear scan of cidrContainsIp',
      unit: 'ops/s',
      better: 'higher',
    });
  }

  const routes = new PrefixSet(randomCidrs(10_000));
  const probes = Array.from(v4Numbers, (n) => ({ family: 4 as const, value: BigInt(n) }));
  figures.push({
    name: 'prefix_set_lpm_10k_per_s',
    label: 'PrefixSet.lookup (LPM), 10k routes',
    value: perSec(() => {
      for (const p of probes) if (routes.lookup(p)) sink++;
    }),
    unit: 'ops/s',
    better: 'higher',
  });
  figures.push({
    name: 'minimal_cidrs_10k_ms',
    label: 'PrefixSet.toMinimalCidrs, 10k CIDRs',
    value: (() => {
      const start = process.hrtime.bigint();
      const reps = 5;
      for (let i = 0; i < reps; i++) sink ^= routes.toMinimalCidrs().length;
      return Number(process.hrtime.bigint() - start) / 1e6 / reps;
    })(),
    unit: 'ms',
    better: 'lower',
  });

  return {
    title: 'src/net: parsing and matching',
    figures,
    notes: [`(checksum ${sink & 0xff}; inputs are ${N} pseudo-random addresses, fixed seed)`],
  };
};

export default bench;
