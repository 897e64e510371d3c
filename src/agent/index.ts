// calico-node, the per-host agent: datastore → calculation graph → dataplane, with Node
// registration, health, metrics and endpoint status.
export { AGENT_VERSION, Agent, type AgentOptions } from './agent.js';
export { autodetectAddress } from './autodetect.js';
export {
  type AddressSetting,
  type AgentConfig,
  AgentConfigError,
  felixOverridesFromEnv,
  felixValue,
  loadAgentConfig,
  parseDurationMs,
} from './config.js';
export { createLogger, pinoLevel, prettyLine } from './log.js';
export {
  BuiltinNetworking,
  type BuiltinNetworkingOptions,
  type NetworkingBackend,
  type NetworkingHealth,
  NoNetworking,
  selfSpeakerArgv,
} from './networking.js';
export { type EndpointStatus, hostStatusKey, statusFileName } from './status.js';
export { Syncer, type SyncerCallbacks, type SyncStatus, toResource } from './syncer.js';
