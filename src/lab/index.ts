// calico-lab: a Calico data centre in network namespaces (router, hosts running
// calico-node, workloads through the CNI plugin), its probes and its cleanup.
export {
  type AddWorkloadOptions,
  addWorkload,
  bgpStatusFile,
  birdSocket,
  DEFAULT_POOL,
  DEFAULT_PORTS,
  deleteWorkload,
  down,
  findWorkload,
  LabError,
  type LabStatus,
  requireState,
  status,
  type UpOptions,
  up,
  waitRoutes,
} from './lab.js';
export {
  formatMatrix,
  type ProbeProtocol,
  type ProbeReport,
  type ProbeResult,
  probeAll,
} from './probe.js';
export { createProgress, type Progress } from './progress.js';
export { type LabState, type LabWorkload, labDir, loadState, type PortSpec } from './state.js';
export { endpointName, parseLabels, parsePorts } from './workloads.js';
