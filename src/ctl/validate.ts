import { CtlError } from './errors.js';
import { loadResources, readInputs } from './input.js';
import { writeStdout } from './output.js';

/** `calicoctl validate -f`: the same checks as apply, offline. */
export function validate(opts: {
  filename?: string[];
  recursive?: boolean;
  skipEmpty?: boolean;
}): void {
  const resources = loadResources(readInputs(opts.filename ?? [], opts.recursive === true), {
    validateOnly: true,
    ...(opts.skipEmpty ? { skipEmpty: true } : {}),
  });
  if (resources.length === 0 && !opts.skipEmpty) throw new CtlError('No resources to validate');
  writeStdout(`Successfully validated ${resources.length} resource(s)\n`);
}
