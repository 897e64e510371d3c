// The CNI plugins `calico` and `calico-ipam` (issue 10): workload plumbing, the
// WorkloadEndpoint, IPAM by handle, CNI 1.0.0/1.1.0 commands and error codes.
export { type CniCommand, type CniEnv, parseCniArgs, readEnv } from './env.js';
export { CNI_CODES, CniError, errorJson } from './errors.js';
export { GATEWAY_V4, GATEWAY_V6, HOST_MAC, handleId, hostVethName } from './names.js';
export { type NetConf, parseNetConf, SUPPORTED_VERSIONS } from './netconf.js';
