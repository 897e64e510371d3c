// The calculation graph: from the cluster's resources to one host's desired dataplane.
export * from './desired-state.js';
