// Names derived from the container's identity, so DEL can find everything again
// without reading any state.
import { createHash } from 'node:crypto';

export const HOST_MAC = 'ee:ee:ee:ee:ee:ee';
export const GATEWAY_V4 = '169.254.1.1';
/** EUI-64 link-local of HOST_MAC: the kernel gives it to every host-side veth. */
export const GATEWAY_V6 = 'fe80::ecee:eeff:feee:eeee';

export interface K8sIdentity {
  namespace: string;
  pod: string;
}

export function k8sIdentity(args: Record<string, string>): K8sIdentity | undefined {
  const namespace = args.K8S_POD_NAMESPACE ?? '';
  const pod = args.K8S_POD_NAME ?? '';
  return namespace !== '' && pod !== '' ? { namespace, pod } : undefined;
}

/** `cali` + 11 hex of SHA-1("<ns>.<pod>") (Kubernetes) or of the container id. */
export function hostVethName(containerId: string, k8s: K8sIdentity | undefined): string {
  const basis = k8s === undefined ? containerId : `${k8s.namespace}.${k8s.pod}`;
  return `cali${createHash('sha1').update(basis).digest('hex').slice(0, 11)}`;
}

/** The IPAM handle, as Calico's `k8s-pod-network.<containerID>`. */
export function handleId(network: string, containerId: string): string {
  return `${network}.${containerId}`;
}
