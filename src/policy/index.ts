// Public face of src/policy: Calico's policy semantics as a reference engine.
//  - conversion: v3 / Kubernetes resources -> normalised backend model (convert.ts, k8s.ts)
//  - ordering: tiers, policies, and which policies apply to an endpoint (order.ts)
//  - snapshot: an indexed, load-order-independent view of a resource set (snapshot.ts)
//  - evaluator: verdict plus explanation for one flow (evaluate.ts, match.ts)
//  - matrix: reachability truth table for many endpoints (matrix.ts)
export {
  applyFelixConfiguration,
  convertHostEndpoint,
  convertNamedPorts,
  convertNetworkSet,
  convertPolicy,
  convertPolicyDeferred,
  convertProfile,
  convertRule,
  convertRules,
  convertTier,
  convertWorkloadEndpoint,
  DEFAULT_HOST_CONFIG,
  type DeferredPolicy,
  effectiveLabels,
  expandEntityRule,
  type ParsedPorts,
  PORT_PROTOCOLS,
  parsePorts,
  parseProtocol,
  policySelector,
  protocolName,
  RESERVED_TIERS,
  type RuleContext,
  v3Action,
  workloadLabelsAndProfiles,
} from './convert.js';
export { PolicyError, type PolicyErrorCode } from './errors.js';
export {
  decide,
  evaluateFlow,
  type Flow,
  type NormalisedFlow,
  type ParsedFlow,
  parseFlow,
  policingHostEndpoint,
  promoteStaged,
  type RuleAction,
  type SideTrace,
  type StagedTrace,
  type StageName,
  type StageTrace,
  type StageVerdict,
  type Step,
  type Trace,
  type Verdict,
} from './evaluate.js';
export type * from './input.js';
export {
  convertK8sNamespace,
  convertK8sNetworkPolicy,
  convertK8sServiceAccount,
  k8sNamespaceSelectorToCalico,
  k8sPodSelectorToCalico,
  simplifyK8sPorts,
} from './k8s.js';
export { entityMatches, l4Matches, type Packet, type PacketSide, ruleMatches } from './match.js';
export { computeMatrix, type Matrix, type MatrixOptions, type MatrixPort } from './matrix.js';
export * from './model.js';
export {
  comparePolicies,
  compareTiers,
  governs,
  type PoliciesForEndpointOptions,
  type PolicyChain,
  policiesForEndpoint,
  policyInChain,
  sortPolicies,
  sortTiers,
  type TierPolicies,
} from './order.js';
export {
  buildSnapshot,
  type Contributor,
  policyKeyId,
  type ResolvedEndpoint,
  type ResolvedNetworkSet,
  Snapshot,
  type SnapshotOptions,
  stagedTarget,
} from './snapshot.js';
