// Dispatch for both plugins once the command is known not to be VERSION.
import { readEnv } from './env.js';
import { CNI_CODES, CniError } from './errors.js';
import { calicoAddressesOf, calicoAssign, calicoHandles, calicoRelease } from './ipam.js';
import { k8sIdentity } from './names.js';
import { parseNetConf } from './netconf.js';
import { cmdAdd, cmdCheck, cmdDel, cmdGc, cmdStatus, validAttachments } from './plugin.js';
import { shapeResult } from './result.js';
import { nodeName, openStore } from './store.js';

function needs11(command: string, cniVersion: string): void {
  if ((command === 'GC' || command === 'STATUS') && cniVersion !== '1.1.0')
    throw new CniError(
      CNI_CODES.INCOMPATIBLE_VERSION,
      `${command} needs cniVersion 1.1.0, the config says ${cniVersion}`,
    );
}

export async function calicoCommand(
  stdin: string,
  processEnv: NodeJS.ProcessEnv,
): Promise<unknown> {
  const env = readEnv(processEnv);
  const conf = parseNetConf(stdin, { requireIpam: true });
  needs11(env.command, conf.cniVersion);
  switch (env.command) {
    case 'ADD':
      return cmdAdd(conf, env, processEnv, stdin);
    case 'DEL':
      return cmdDel(conf, env, processEnv, stdin);
    case 'CHECK':
      return cmdCheck(conf, env, processEnv, stdin);
    case 'GC':
      return cmdGc(conf, env, processEnv, stdin);
    case 'STATUS':
      return cmdStatus(conf, processEnv);
    default:
      return undefined;
  }
}

/** calico-ipam on its own: addresses by handle `<network>.<containerID>`, /32 and /128. */
export async function ipamCommand(stdin: string, processEnv: NodeJS.ProcessEnv): Promise<unknown> {
  const env = readEnv(processEnv);
  const conf = parseNetConf(stdin, { requireIpam: false });
  needs11(env.command, conf.cniVersion);
  if (env.command === 'STATUS')
    return cmdStatus({ ...conf, ipam: { ...conf.ipam, type: 'calico-ipam' } }, processEnv);
  const store = await openStore(conf, processEnv);
  try {
    switch (env.command) {
      case 'ADD': {
        const ips = await calicoAssign(
          store,
          conf,
          env,
          nodeName(conf, processEnv),
          k8sIdentity(env.args),
        );
        return shapeResult(conf.cniVersion, { ips: ips.map((i) => ({ address: i.address })) });
      }
      case 'DEL':
        await calicoRelease(store, conf.name, env.containerId);
        return undefined;
      case 'CHECK': {
        const owned = await calicoAddressesOf(store, conf.name, env.containerId);
        if (owned.length === 0)
          throw new CniError(
            CNI_CODES.CHECK_FAILED,
            `no addresses held for container ${env.containerId}`,
          );
        return undefined;
      }
      case 'GC': {
        const valid = validAttachments(conf);
        for (const h of await calicoHandles(store, conf.name)) {
          const id = h.slice(conf.name.length + 1);
          if (!valid.has(id)) await calicoRelease(store, conf.name, id);
        }
        return undefined;
      }
      default:
        return undefined;
    }
  } finally {
    await store.close();
  }
}
