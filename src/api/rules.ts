// Policy rules (api/pkg/apis/projectcalico/v3/policy_common.go) and the cross-field
// rules Calico's validator applies to each of them.

import {
  addProblem,
  isProblem,
  networkString,
  parsePort,
  portValue,
  protocolNumber,
  protocolValue,
  selectorString,
  tryParseNetwork,
} from './formats.js';
import { AnnotationsSchema } from './meta.js';
import * as z from './schema.js';

export const ACTIONS = ['Allow', 'Deny', 'Log', 'Pass'] as const;
export const ActionSchema = z.enum(ACTIONS);
export type Action = z.infer<typeof ActionSchema>;

export const MAX_RULES = 1024;
const MAX_NETS = 256;
const MAX_PORTS = 50;
const MAX_HTTP_ITEMS = 20;

/** Port entry: an int, `"min:max"`, or a named port. */
export const PortSchema = portValue();
export type Port = number | string;
export type Ports = Port[];

export const ProtocolSchema = protocolValue();
/** `TCP`, `UDP`, `ICMP`, `ICMPv6`, `SCTP`, `UDPLite`, or a number 1-255 (int or string). */
export type Protocol = number | string;

export const ICMPFieldsSchema = z.strictObject({
  type: z.int().min(0).max(254).optional(),
  code: z.int().min(0).max(255).optional(),
});
export type ICMPFields = z.infer<typeof ICMPFieldsSchema>;

export const ServiceAccountMatchSchema = z.strictObject({
  names: z.array(z.string()).optional(),
  selector: selectorString().optional(),
});
export type ServiceAccountMatch = z.infer<typeof ServiceAccountMatchSchema>;

export const ServiceMatchSchema = z.strictObject({
  name: z.string().min(1),
  namespace: z.string().optional(),
});
export type ServiceMatch = z.infer<typeof ServiceMatchSchema>;

export const EntityRuleSchema = z.strictObject({
  nets: z.array(networkString()).max(MAX_NETS).optional(),
  notNets: z.array(networkString()).max(MAX_NETS).optional(),
  selector: selectorString().optional(),
  notSelector: selectorString().optional(),
  namespaceSelector: selectorString('rule-namespace').optional(),
  ports: z.array(PortSchema).max(MAX_PORTS).optional(),
  notPorts: z.array(PortSchema).max(MAX_PORTS).optional(),
  serviceAccounts: ServiceAccountMatchSchema.optional(),
  services: ServiceMatchSchema.optional(),
});
export type EntityRule = z.infer<typeof EntityRuleSchema>;

export const HTTPPathSchema = z.strictObject({
  exact: z.string().optional(),
  prefix: z.string().optional(),
});
/**
 * Layer-7 match. Accepted for compatibility with Calico manifests; the L3/L4
 * dataplane of calico-ts (like Felix's iptables/nftables renderer) ignores it.
 */
export const HTTPMatchSchema = z.strictObject({
  methods: z.array(z.string()).max(MAX_HTTP_ITEMS).optional(),
  paths: z.array(HTTPPathSchema).max(MAX_HTTP_ITEMS).optional(),
});
export type HTTPMatch = z.infer<typeof HTTPMatchSchema>;

const ruleShape = {
  action: ActionSchema,
  ipVersion: z.literal([4, 6]).optional(),
  protocol: ProtocolSchema.optional(),
  notProtocol: ProtocolSchema.optional(),
  icmp: ICMPFieldsSchema.optional(),
  notICMP: ICMPFieldsSchema.optional(),
  source: EntityRuleSchema.optional(),
  destination: EntityRuleSchema.optional(),
  http: HTTPMatchSchema.optional().meta({
    description: 'Layer-7 match; accepted for compatibility, ignored by the L3/L4 dataplane.',
  }),
  metadata: z.strictObject({ annotations: AnnotationsSchema.optional() }).optional(),
};

export type Rule = z.infer<z.ObjectSchema<typeof ruleShape>>;

export type Direction = 'ingress' | 'egress';

export interface RuleContext {
  direction: Direction;
  /** true on cluster-scoped policies (GNP, staged GNP), where services need a namespace */
  global: boolean;
}

const PORT_PROTOCOLS = new Set([6, 17, 132]);
const ICMP_PROTOCOLS = new Set([1, 58]);

type Ctx = z.RefinementCtx;

function checkIcmp(rule: Rule, ctx: Ctx): void {
  const proto = rule.protocol === undefined ? undefined : protocolNumber(rule.protocol);
  for (const field of ['icmp', 'notICMP'] as const) {
    const icmp = rule[field];
    if (icmp === undefined) continue;
    if (proto === undefined || !ICMP_PROTOCOLS.has(proto))
      addProblem(
        ctx,
        [field],
        'icmp-needs-protocol',
        `${field} is only valid with protocol ICMP or ICMPv6`,
      );
    if (icmp.code !== undefined && icmp.type === undefined)
      addProblem(ctx, [field, 'code'], 'icmp-code-needs-type', `ICMP code needs an ICMP type`);
  }
  for (const field of ['protocol', 'notProtocol'] as const) {
    const p = rule[field];
    if (p === undefined || rule.ipVersion === undefined) continue;
    const n = protocolNumber(p);
    if ((n === 1 && rule.ipVersion === 6) || (n === 58 && rule.ipVersion === 4))
      addProblem(
        ctx,
        ['ipVersion'],
        'icmp-version',
        `${field} ${String(p)} does not exist in IP version ${rule.ipVersion}`,
      );
  }
}

function checkPorts(rule: Rule, ctx: Ctx): void {
  const proto = rule.protocol === undefined ? undefined : protocolNumber(rule.protocol);
  for (const side of ['source', 'destination'] as const) {
    const ent = rule[side];
    if (ent === undefined) continue;
    for (const field of ['ports', 'notPorts'] as const) {
      const list = ent[field];
      if (list === undefined) continue;
      list.forEach((port, i) => {
        const parsed = parsePort(port);
        if (isProblem(parsed)) return;
        if (proto !== undefined && !PORT_PROTOCOLS.has(proto)) {
          addProblem(
            ctx,
            [side, field, i],
            'port-protocol',
            `ports need protocol TCP, UDP or SCTP; protocol ${String(rule.protocol)} has no ports`,
          );
        } else if (proto === undefined) {
          // Calico requires the protocol for named ports too: it picks which of the
          // endpoint's declared ports (each with a protocol) the name means.
          addProblem(
            ctx,
            [side, field, i],
            'port-needs-protocol',
            `${parsed.kind === 'named' ? 'named' : 'numeric'} port ${JSON.stringify(port)} needs protocol TCP, UDP or SCTP to be set on the rule`,
          );
        }
      });
    }
  }
}

function checkNets(rule: Rule, ctx: Ctx): void {
  let family: 4 | 6 | undefined;
  let firstPath = '';
  for (const side of ['source', 'destination'] as const) {
    const ent = rule[side];
    if (ent === undefined) continue;
    for (const field of ['nets', 'notNets'] as const) {
      (ent[field] ?? []).forEach((text, i) => {
        const c = tryParseNetwork(text);
        if (isProblem(c)) return;
        if (field === 'notNets' && c.prefixLength === 0)
          addProblem(
            ctx,
            [side, field, i],
            'not-nets-all',
            `"${text}" in notNets would match no traffic at all; remove it`,
          );
        if (rule.ipVersion !== undefined && c.family !== rule.ipVersion) {
          addProblem(
            ctx,
            [side, field, i],
            'ip-version-mismatch',
            `"${text}" is IPv${c.family} but the rule has ipVersion ${rule.ipVersion}`,
          );
        } else if (family === undefined) {
          family = c.family;
          firstPath = `${side}.${field}[${i}]`;
        } else if (c.family !== family) {
          addProblem(
            ctx,
            [side, field, i],
            'ip-family-mix',
            `"${text}" is IPv${c.family} but ${firstPath} is IPv${family}; a rule can't mix IPv4 and IPv6 nets`,
          );
        }
      });
    }
  }
}

function checkServices(rule: Rule, rc: RuleContext, ctx: Ctx): void {
  for (const side of ['source', 'destination'] as const) {
    const ent = rule[side];
    if (ent?.services === undefined) continue;
    const allowed =
      (rc.direction === 'egress' && side === 'destination') ||
      (rc.direction === 'ingress' && side === 'source');
    if (!allowed)
      addProblem(
        ctx,
        [side, 'services'],
        'services-placement',
        `services may only be used in an egress rule's destination or an ingress rule's source`,
      );
    for (const other of [
      'selector',
      'notSelector',
      'namespaceSelector',
      'nets',
      'notNets',
      'serviceAccounts',
    ] as const) {
      if (ent[other] !== undefined)
        addProblem(
          ctx,
          [side, other],
          'services-exclusive',
          `${other} can't be combined with services`,
        );
    }
    if (side === 'destination') {
      for (const f of ['ports', 'notPorts'] as const) {
        if (ent[f] !== undefined && ent[f].length > 0)
          addProblem(
            ctx,
            [side, f],
            'services-ports',
            `${f} can't be combined with destination services; the service's endpoints define the ports`,
          );
      }
    }
    if (rc.global && (ent.services.namespace === undefined || ent.services.namespace === ''))
      addProblem(
        ctx,
        [side, 'services', 'namespace'],
        'services-namespace',
        `services in a cluster-scoped policy need a namespace`,
      );
  }
}

function checkHttp(rule: Rule, rc: RuleContext, ctx: Ctx): void {
  const http = rule.http;
  if (http === undefined) return;
  if (rule.action !== 'Allow')
    addProblem(ctx, ['http'], 'http-action', `http matches are only allowed on Allow rules`);
  if (rule.protocol !== undefined && protocolNumber(rule.protocol) !== 6)
    addProblem(ctx, ['http'], 'http-protocol', `http matches need protocol TCP or no protocol`);
  if (rc.direction !== 'ingress')
    addProblem(ctx, ['http'], 'http-direction', `http matches are only allowed on ingress rules`);
  const seen = new Set<string>();
  (http.methods ?? []).forEach((m, i) => {
    if (seen.has(m))
      addProblem(ctx, ['http', 'methods', i], 'http-method-duplicate', `duplicate method "${m}"`);
    seen.add(m);
  });
  (http.paths ?? []).forEach((p, i) => {
    const set = [p.exact, p.prefix].filter((x) => x !== undefined);
    if (set.length !== 1) {
      addProblem(
        ctx,
        ['http', 'paths', i],
        'http-path',
        `a path match needs exactly one of exact or prefix`,
      );
      return;
    }
    const v = set[0]!;
    if (!v.startsWith('/') || /[?#\s]/.test(v))
      addProblem(
        ctx,
        ['http', 'paths', i, p.exact !== undefined ? 'exact' : 'prefix'],
        'http-path',
        `path "${v}" must start with '/' and contain no '?', '#' or whitespace`,
      );
  });
}

/** Rule schema for one direction of one policy kind. */
export function ruleSchema(rc: RuleContext) {
  return z.strictObject(ruleShape).superRefine((rule, ctx) => {
    checkIcmp(rule, ctx);
    checkPorts(rule, ctx);
    checkNets(rule, ctx);
    checkServices(rule, rc, ctx);
    checkHttp(rule, rc, ctx);
  });
}

export function rulesSchema(rc: RuleContext) {
  return z.array(ruleSchema(rc)).max(MAX_RULES);
}

export const RuleSchema = ruleSchema({ direction: 'ingress', global: true });
