import pkg from '../../package.json' with { type: 'json' };

/** What `calicoctl version` prints. */
export function versionText(): string {
  return `Client Version:    v${pkg.version}\nAPI Version:       projectcalico.org/v3\n`;
}
