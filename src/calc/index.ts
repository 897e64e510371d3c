// The calculation graph: from the cluster's resources to one host's desired dataplane.
export * from './desired-state.js';
export { type LocalEndpointState, localEndpointState, mergeLabels } from './endpoints.js';
export { CalcGraph, type CalcGraphOptions } from './graph.js';
export { computeFromScratch, mergeConfig } from './oracle.js';
export {
  keyOfResource,
  keyOfUpdate,
  type ResourceUpdate,
  resourceKey,
} from './resources.js';
export { namedPortSetId, policyIdOf } from './rules.js';
