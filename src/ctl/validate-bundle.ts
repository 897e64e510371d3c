// Entry of dist/calicoctl.validate.cjs, the bundle the launcher runs for a `validate` it
// parsed itself (see direct.ts): the validation code without the command tree.
import type { ValidateOptions } from './direct.js';
import { run } from './run.js';
import { validate } from './validate.js';

export function runValidate(options: ValidateOptions): Promise<void> {
  return run(() => validate(options));
}
